/// A `WWW-Authenticate` header of a registry's 401: `Basic realm="…"` or
/// `Bearer realm="…",service="…",scope="…"` (the distribution token-auth spec).
struct AuthenticationChallenge: Equatable {
    enum Scheme: Equatable {
        case basic, bearer
    }

    let scheme: Scheme
    let parameters: [String: String]

    var realm: String? { parameters["realm"] }

    init?(header: String) {
        let trimmed = header.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " ") else {
            guard trimmed.lowercased() == "basic" else { return nil }
            scheme = .basic
            parameters = [:]
            return
        }
        switch trimmed[..<space].lowercased() {
        case "basic": scheme = .basic
        case "bearer": scheme = .bearer
        default: return nil
        }
        parameters = Self.parameters(String(trimmed[trimmed.index(after: space)...]))
    }

    /// `key="value", key2=value2`: quoted values may hold commas and escaped quotes.
    static func parameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            while index < text.endIndex, text[index] == " " || text[index] == "," { index = text.index(after: index) }
            guard let equals = text[index...].firstIndex(of: "=") else { break }
            let key = text[index..<equals].trimmingCharacters(in: " ").lowercased()
            index = text.index(after: equals)
            var value = ""
            if index < text.endIndex, text[index] == "\"" {
                index = text.index(after: index)
                while index < text.endIndex, text[index] != "\"" {
                    if text[index] == "\\" {
                        index = text.index(after: index)
                        guard index < text.endIndex else { break }
                    }
                    value.append(text[index])
                    index = text.index(after: index)
                }
                if index < text.endIndex { index = text.index(after: index) }
            } else {
                while index < text.endIndex, text[index] != "," {
                    value.append(text[index])
                    index = text.index(after: index)
                }
                value = value.trimmingCharacters(in: " ")
            }
            if !key.isEmpty { result[key] = value }
        }
        return result
    }
}

extension StringProtocol {
    func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}
