import BerthJSON

/// A JSON document as YAML the way crictl prints `-o yaml` (sigs.k8s.io/yaml over go-yaml):
/// keys sorted, two-space indentation, list items at their key's indentation, strings
/// quoted only where YAML would read them as something else.
public enum YAMLEmitter {
    public static func emit(_ value: JSONValue) -> String {
        var output = ""
        switch value {
        case .object(let object) where !object.members.isEmpty:
            emitObject(object, indent: 0, into: &output)
        case .array(let items) where !items.isEmpty:
            emitArray(items, indent: 0, into: &output)
        default:
            output = scalar(value) + "\n"
        }
        return output
    }

    static func emitObject(_ object: JSONObject, indent: Int, into output: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in object.members.sorted(by: { $0.key < $1.key }) {
            output += pad + quoted(key) + ":"
            emitValue(value, indent: indent, into: &output)
        }
    }

    static func emitArray(_ items: [JSONValue], indent: Int, into output: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .object(let object) where !object.members.isEmpty:
                // The first key on the dash's line, the rest below it.
                var nested = ""
                emitObject(object, indent: indent + 2, into: &nested)
                output += pad + "- " + nested.dropFirst(indent + 2)
            case .array(let inner) where !inner.isEmpty:
                var nested = ""
                emitArray(inner, indent: indent + 2, into: &nested)
                output += pad + "- " + nested.dropFirst(indent + 2)
            default:
                output += pad + "- " + scalar(item) + "\n"
            }
        }
    }

    /// After "key:": a scalar on the same line, a mapping indented below, a list below at
    /// the key's own indentation (go-yaml's style).
    static func emitValue(_ value: JSONValue, indent: Int, into output: inout String) {
        switch value {
        case .object(let object) where !object.members.isEmpty:
            output += "\n"
            emitObject(object, indent: indent + 2, into: &output)
        case .array(let items) where !items.isEmpty:
            output += "\n"
            emitArray(items, indent: indent, into: &output)
        default:
            output += " " + scalar(value) + "\n"
        }
    }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number): number.text
        case .string(let text): quoted(text)
        case .array: "[]"
        case .object: "{}"
        }
    }

    /// Plain when YAML reads it back as the same string; else double-quoted.
    static func quoted(_ text: String) -> String {
        if needsQuotes(text) { return JSONValue.string(text).serialized() }
        return text
    }

    static let reserved: Set<String> = ["", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", ".inf", ".Inf", "-.inf", ".nan", ".NaN"]

    static func needsQuotes(_ text: String) -> Bool {
        if reserved.contains(text) || looksLikeNumber(text) || looksLikeTimestamp(text) { return true }
        guard let first = text.first, let last = text.last else { return true }
        if " \t".contains(last) || " \t".contains(first) { return true }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
            // "-foo" and ":foo" are fine as plain scalars only when not followed by a space.
            if !(first == "-" || first == "?" || first == ":") || text.count == 1 || text.dropFirst().first == " " { return true }
        }
        if text.contains(": ") || text.contains(" #") || text.hasSuffix(":") { return true }
        return text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }

    /// What YAML 1.1 (go-yaml v2) reads as a number: decimal, 0x/0o/0b, underscores,
    /// sexagesimal (1:20), floats with exponents. Words like "inf" and "nan" stay strings.
    static func looksLikeNumber(_ text: String) -> Bool {
        var body = Substring(text)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        guard let first = body.first, first.isASCII, first.isNumber || first == "." else { return false }
        let digits = String(body.filter { $0 != "_" })
        if digits.hasPrefix("0x") { return digits.count > 2 && digits.dropFirst(2).allSatisfy(\.isHexDigit) }
        if digits.hasPrefix("0o") || digits.hasPrefix("0b") { return digits.count > 2 && digits.dropFirst(2).allSatisfy { $0.isASCII && $0.isNumber } }
        if digits.contains(":") { return digits.split(separator: ":", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } } }
        return digits.allSatisfy { $0.isASCII && ($0.isNumber || "eE.+-".contains($0)) } && Double(digits) != nil
    }

    /// YAML 1.1 timestamps: 2001-12-14, 2001-12-14t21:59:43.10-05:00, 2024-01-01T00:00:00Z.
    static func looksLikeTimestamp(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 8, bytes[4] == UInt8(ascii: "-"), bytes[0..<4].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return false }
        return bytes.count == 10 ? bytes[7] == UInt8(ascii: "-") : bytes.count > 10 && "Tt ".utf8.contains(bytes[10]) || bytes[6] == UInt8(ascii: "-") || bytes[7] == UInt8(ascii: "-")
    }
}
