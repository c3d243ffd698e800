import BerthJSON

/// How crictl prints `info`, `inspecti` and `imagefsinfo`: the response under "status",
/// each entry of its verbose `info` map beside it (values that are JSON objects parsed),
/// keys sorted at every level; several results as an array.
public enum StatusOutput {
    public static func document(status: JSONValue, info: [String: String] = [:], extra: [(String, JSONValue)] = []) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("status", status)] + extra
        for (key, text) in info {
            if text.hasPrefix("{"), let parsed = try? JSONParser.parse(text) {
                members.append((key, parsed))
            } else {
                var trimmed = Substring(text)
                while trimmed.first == "\"" { trimmed = trimmed.dropFirst() }
                while trimmed.last == "\"" { trimmed = trimmed.dropLast() }
                members.append((key, .string(String(trimmed))))
            }
        }
        return sortedKeys(.object(JSONObject(members)))
    }

    /// The verbose info as `-o table` prints it: Go's `%v` of a map, `Info: map[k:v k:v]`.
    static func infoLine(_ info: [String: String]) -> String {
        "Info: map[" + info.keys.sorted().map { "\($0):\(info[$0] ?? "")" }.joined(separator: " ") + "]\n"
    }

    public static func render(_ documents: [JSONValue], as format: OutputFormat) -> String {
        guard let first = documents.first else { return "" }
        return MessageOutput.render(documents.count == 1 ? first : .array(documents), as: format)
    }

    static func sortedKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object): .object(JSONObject(object.members.sorted { $0.key < $1.key }.map { ($0.key, sortedKeys($0.value)) }))
        case .array(let items): .array(items.map(sortedKeys))
        default: value
        }
    }
}
