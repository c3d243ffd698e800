import BerthJSON

/// The YAML that crictl's pod and container config files are written in, read into a JSON
/// value (crictl reads them with sigs.k8s.io/yaml, which turns YAML into JSON first):
/// block mappings and sequences by indentation (a sequence may sit at its key's
/// indentation), `- key: value` items, flow collections (`[a, b]`, `{k: v}`), plain,
/// single- and double-quoted scalars, comments and a leading `---`. Plain scalars become
/// booleans, null or numbers as crictl's reader (YAML 1.1) makes them, strings otherwise.
/// Anchors, tags, block scalars (`|`, `>`) and multi-document files are refused with the
/// line they are on.
struct YAMLDocument {
    struct ParseError: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "line \(line): \(message)" }
    }

    private struct Line {
        var number: Int
        var indent: Int
        var content: String
    }

    private var lines: [Line]
    private var position = 0

    /// Parses `text`; an empty document is null.
    static func parse(_ text: String) throws(ParseError) -> JSONValue {
        var document = YAMLDocument(lines: try Self.lines(of: text))
        guard let first = document.current else { return .null }
        let value = try document.block(indent: first.indent)
        if let extra = document.current { throw ParseError(line: extra.number, message: "unexpected indentation or content \"\(extra.content)\"") }
        return value
    }

    private var current: Line? { position < lines.count ? lines[position] : nil }

    /// Meaningful lines: comments and blank lines dropped, the indentation counted.
    private static func lines(of text: String) throws(ParseError) -> [Line] {
        var result: [Line] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            let content = withoutComment(line)
            let trimmed = content.drop { $0 == " " }
            if trimmed.isEmpty { continue }
            if trimmed.first == "\t" { throw ParseError(line: number, message: "tabs cannot indent YAML") }
            if trimmed == "---" && result.isEmpty { continue }
            if trimmed == "---" || trimmed == "..." { throw ParseError(line: number, message: "one document per file") }
            var text = String(trimmed)
            while text.last == " " { text.removeLast() }
            result.append(Line(number: number, indent: content.count - trimmed.count, content: text))
        }
        return result
    }

    /// The line without a `#` comment (one at the start or after a space, outside quotes).
    private static func withoutComment(_ line: String) -> String {
        let text = Substring(line)
        return String(CrictlConfigFile.commentStart(text).map { text[..<$0] } ?? text)
    }

    // MARK: Blocks

    private mutating func block(indent: Int) throws(ParseError) -> JSONValue {
        guard let line = current else { return .null }
        if line.content == "-" || line.content.hasPrefix("- ") { return try sequence(indent: indent) }
        return try mapping(indent: indent)
    }

    private mutating func mapping(indent: Int) throws(ParseError) -> JSONValue {
        var object = JSONObject()
        while let line = current, line.indent == indent, !(line.content == "-" || line.content.hasPrefix("- ")) {
            guard let (key, rest) = try Self.splitEntry(line.content, line: line.number) else {
                throw ParseError(line: line.number, message: "expected \"key: value\", found \"\(line.content)\"")
            }
            if object[key] != nil { throw ParseError(line: line.number, message: "key \"\(key)\" appears twice") }
            position += 1
            if rest.isEmpty {
                if let next = current, next.indent > indent {
                    object[key] = try block(indent: next.indent)
                } else if let next = current, next.indent == indent, next.content == "-" || next.content.hasPrefix("- ") {
                    object[key] = try sequence(indent: indent)
                } else {
                    object[key] = .null
                }
            } else {
                object[key] = try Self.inline(rest, line: line.number)
            }
        }
        return .object(object)
    }

    private mutating func sequence(indent: Int) throws(ParseError) -> JSONValue {
        var items: [JSONValue] = []
        while let line = current, line.indent == indent, line.content == "-" || line.content.hasPrefix("- ") {
            let rest = line.content.dropFirst().drop { $0 == " " }
            // `- key: value` or `- - item`: a mapping or sequence whose first entry sits on
            // the dash's line, the rest at the same column below it.
            let opensBlock: Bool
            if rest.isEmpty || "[{\"'".contains(rest.first!) {
                opensBlock = false
            } else if rest == "-" || rest.hasPrefix("- ") {
                opensBlock = true
            } else {
                opensBlock = try Self.splitEntry(String(rest), line: line.number) != nil
            }
            if rest.isEmpty {
                position += 1
                if let next = current, next.indent > indent { items.append(try block(indent: next.indent)) } else { items.append(.null) }
            } else if opensBlock {
                lines[position] = Line(number: line.number, indent: line.indent + (line.content.count - rest.count), content: String(rest))
                items.append(try block(indent: lines[position].indent))
            } else {
                position += 1
                items.append(try Self.inline(String(rest), line: line.number))
            }
        }
        return .array(items)
    }

    /// `key: rest` or `key:` (rest empty); nil when the line is not a mapping entry.
    private static func splitEntry(_ content: String, line: Int) throws(ParseError) -> (String, String)? {
        var key: String
        var remainder: Substring
        if let quote = content.first, quote == "\"" || quote == "'" {
            var scanner = FlowScanner(text: Array(content), line: line)
            key = try scanner.quoted()
            remainder = Substring(String(scanner.rest))
            guard remainder.first == ":" else { return nil }
            remainder = remainder.dropFirst()
        } else {
            guard let colon = content.indices.first(where: { content[$0] == ":" && (content.index(after: $0) == content.endIndex || content[content.index(after: $0)] == " ") }) else {
                return nil
            }
            key = String(content[..<colon])
            remainder = content[content.index(after: colon)...]
        }
        while key.last == " " { key.removeLast() }
        return (key, String(remainder.drop { $0 == " " }))
    }

    // MARK: Values on one line

    private static func inline(_ text: String, line: Int) throws(ParseError) -> JSONValue {
        switch text.first {
        case "&", "*", "!": throw ParseError(line: line, message: "anchors, aliases and tags are not supported (\"\(text)\")")
        case "|", ">": throw ParseError(line: line, message: "block scalars (| and >) are not supported: write the value on one line, quoted")
        default: break
        }
        var scanner = FlowScanner(text: Array(text), line: line)
        let value = try scanner.value(inFlow: false)
        scanner.skipSpaces()
        guard scanner.atEnd else { throw ParseError(line: line, message: "unexpected \"\(String(scanner.rest))\" after the value") }
        return value
    }

    /// A plain scalar typed as crictl's YAML reader (go-yaml v2, YAML 1.1) types it:
    /// null, booleans (yes/no/on/off too), integers (0x hex and 0-prefixed octal too),
    /// floats; anything else is a string.
    static func plainScalar(_ text: String) -> JSONValue {
        switch text {
        case "null", "Null", "NULL", "~", "": return .null
        case "true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON": return .bool(true)
        case "false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF": return .bool(false)
        default: break
        }
        let negative = text.first == "-"
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        if digits.hasPrefix("0x"), let value = Int64(digits.dropFirst(2), radix: 16) { return .number(JSONNumber(negative ? -value : value)) }
        if digits.count > 1, digits.hasPrefix("0"), let value = Int64(digits.dropFirst(), radix: 8) { return .number(JSONNumber(negative ? -value : value)) }
        if !digits.isEmpty, digits.allSatisfy(\.isNumber), digits.allSatisfy(\.isASCII) {
            return .number(JSONNumber(text: text.first == "+" ? String(digits) : text))
        }
        if let number = Double(text), number.isFinite, text.allSatisfy({ "0123456789+-.eE".contains($0) }), let value = JSONNumber(number) {
            return .number(value)
        }
        return .string(text)
    }

    /// Characters of one line: flow collections and quoted scalars.
    private struct FlowScanner {
        let text: [Character]
        let line: Int
        var index = 0

        var atEnd: Bool { index >= text.count }
        var rest: ArraySlice<Character> { text[min(index, text.count)...] }

        mutating func skipSpaces() { while index < text.count, text[index] == " " { index += 1 } }

        mutating func value(inFlow: Bool) throws(ParseError) -> JSONValue {
            skipSpaces()
            guard index < text.count else { return .null }
            switch text[index] {
            case "[": return try flowSequence()
            case "{": return try flowMapping()
            case "\"", "'": return .string(try quoted())
            default: return YAMLDocument.plainScalar(plain(inFlow: inFlow, isKey: false))
            }
        }

        mutating func plain(inFlow: Bool, isKey: Bool) -> String {
            var result = ""
            while index < text.count {
                let character = text[index]
                if inFlow && (character == "," || character == "]" || character == "}") { break }
                if isKey && character == ":" && (index + 1 == text.count || text[index + 1] == " " || inFlow) { break }
                result.append(character)
                index += 1
            }
            while result.last == " " { result.removeLast() }
            return result
        }

        mutating func quoted() throws(ParseError) -> String {
            let quote = text[index]
            index += 1
            var result = ""
            while index < text.count {
                let character = text[index]
                index += 1
                if quote == "'" {
                    if character == "'" {
                        if index < text.count, text[index] == "'" { result.append("'"); index += 1; continue }
                        return result
                    }
                    result.append(character)
                } else if character == "\"" {
                    return result
                } else if character == "\\" {
                    guard index < text.count else { break }
                    let escaped = text[index]
                    index += 1
                    switch escaped {
                    case "n": result.append("\n")
                    case "t": result.append("\t")
                    case "r": result.append("\r")
                    case "0": result.append("\0")
                    case "\"", "\\", "/": result.append(escaped)
                    case "u":
                        guard index + 4 <= text.count, let scalar = UInt32(String(text[index..<index + 4]), radix: 16).flatMap(Unicode.Scalar.init) else {
                            throw ParseError(line: line, message: "bad \\u escape in a double-quoted string")
                        }
                        result.unicodeScalars.append(scalar)
                        index += 4
                    default: throw ParseError(line: line, message: "unknown escape \\\(escaped) in a double-quoted string")
                    }
                } else {
                    result.append(character)
                }
            }
            throw ParseError(line: line, message: "a quoted string does not end on its line")
        }

        mutating func flowSequence() throws(ParseError) -> JSONValue {
            index += 1
            var items: [JSONValue] = []
            skipSpaces()
            if index < text.count, text[index] == "]" { index += 1; return .array(items) }
            while true {
                items.append(try value(inFlow: true))
                skipSpaces()
                guard index < text.count else { throw ParseError(line: line, message: "a [ sequence does not end with ] on its line") }
                if text[index] == "]" { index += 1; return .array(items) }
                guard text[index] == "," else { throw ParseError(line: line, message: "expected , or ] in a flow sequence") }
                index += 1
            }
        }

        mutating func flowMapping() throws(ParseError) -> JSONValue {
            index += 1
            var object = JSONObject()
            skipSpaces()
            if index < text.count, text[index] == "}" { index += 1; return .object(object) }
            while true {
                skipSpaces()
                let key = index < text.count && (text[index] == "\"" || text[index] == "'") ? try quoted() : plain(inFlow: true, isKey: true)
                skipSpaces()
                guard index < text.count, text[index] == ":" else { throw ParseError(line: line, message: "expected : after the key \"\(key)\" in a flow mapping") }
                index += 1
                object[key] = try value(inFlow: true)
                skipSpaces()
                guard index < text.count else { throw ParseError(line: line, message: "a { mapping does not end with } on its line") }
                if text[index] == "}" { index += 1; return .object(object) }
                guard text[index] == "," else { throw ParseError(line: line, message: "expected , or } in a flow mapping") }
                index += 1
            }
        }
    }
}
