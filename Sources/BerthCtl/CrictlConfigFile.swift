/// crictl's config file (/etc/crictl.yaml): a flat YAML mapping of scalars, e.g.
///
///     runtime-endpoint: unix:///run/berth/berth.sock
///     image-endpoint: unix:///run/berth/berth.sock
///     timeout: 10
///     debug: false
///
/// Only that shape is read; anything else is refused with the line named.
public enum CrictlConfigFile {
    public static let keys: Set<String> = ["runtime-endpoint", "image-endpoint", "timeout", "debug", "pull-image-on-create", "disable-pull-on-run"]

    public static func parse(_ text: String, path: String) throws(CommandError) -> [String: String] {
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if let hash = commentStart(line) { line = line[..<hash] }
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed == "---" { continue }
            guard !line.hasPrefix(" "), !line.hasPrefix("\t"), let colon = trimmed.firstIndex(of: ":") else {
                throw CommandError("config file \(path) line \(number + 1): expected \"key: value\", got \"\(trimmed)\"")
            }
            let key = String(trimmed[..<colon]).trimmingSpaces
            var value = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            guard keys.contains(key) else {
                throw CommandError("config file \(path) line \(number + 1): unknown key \"\(key)\" (known: \(keys.sorted().joined(separator: ", ")))")
            }
            values[key] = value
        }
        return values
    }

    /// Where a `#` comment starts: at the line start or after a space, outside quotes.
    static func commentStart(_ line: Substring) -> Substring.Index? {
        var quote: Character?
        var previous: Character = " "
        for index in line.indices {
            let character = line[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" && (previous == " " || previous == "\t") {
                return index
            }
            previous = character
        }
        return nil
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
