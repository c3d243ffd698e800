import BerthJSON

/// A TOML document that cannot be read: the line and what is wrong there.
public struct TOMLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// TOML 1.0 (berthd's config file, as containerd and CRI-O use TOML) read into a JSON
/// value: tables become objects in document order, integers and floats numbers, dates and
/// times their text. Redefined keys and tables are errors, as the spec says.
public struct TOMLParser {
    private let bytes: [UInt8]
    private var position = 0
    private var line = 1
    private var root = TableNode()
    /// The table `key = value` lines go into: the path from the root.
    private var currentPath: [String] = []

    public static func parse(_ text: String) throws(TOMLSyntaxError) -> JSONValue {
        var parser = TOMLParser(bytes: Array(text.utf8))
        try parser.parseDocument()
        return parser.root.json
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Document structure

    private mutating func parseDocument() throws(TOMLSyntaxError) {
        while true {
            skipWhitespace()
            guard let byte = peek() else { return }
            switch byte {
            case UInt8(ascii: "#"): skipComment()
            case UInt8(ascii: "\n"): advanceLine()
            case UInt8(ascii: "\r"): position += 1
            case UInt8(ascii: "["): try parseTableHeader()
            default:
                let (key, value) = try parseKeyValue()
                try root.assign(key, value, in: currentPath, line: line)
                try endOfLine()
            }
        }
    }

    private mutating func parseTableHeader() throws(TOMLSyntaxError) {
        position += 1
        let isArray = peek() == UInt8(ascii: "[")
        if isArray { position += 1 }
        skipWhitespace()
        let path = try parseKey()
        skipWhitespace()
        try expect("]")
        if isArray { try expect("]") }
        let headerLine = line
        if isArray {
            try root.appendArrayTable(at: path, line: headerLine)
        } else {
            try root.defineTable(at: path, line: headerLine)
        }
        currentPath = path
        try endOfLine()
    }

    private mutating func parseKeyValue() throws(TOMLSyntaxError) -> ([String], ValueNode) {
        let key = try parseKey()
        skipWhitespace()
        try expect("=")
        skipWhitespace()
        return (key, try parseValue())
    }

    /// A dotted key: bare, "basic" and 'literal' parts.
    private mutating func parseKey() throws(TOMLSyntaxError) -> [String] {
        var parts: [String] = []
        while true {
            skipWhitespace()
            guard let byte = peek() else { throw error("a key is missing") }
            if byte == UInt8(ascii: "\"") {
                parts.append(try parseBasicString())
            } else if byte == UInt8(ascii: "'") {
                parts.append(try parseLiteralString())
            } else {
                let start = position
                while let next = peek(), Self.isBareKey(next) { position += 1 }
                guard position > start else { throw error("unexpected \(describe(byte)) where a key should be") }
                parts.append(String(decoding: bytes[start..<position], as: UTF8.self))
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ".") else { return parts }
            position += 1
        }
    }

    // MARK: Values

    private mutating func parseValue() throws(TOMLSyntaxError) -> ValueNode {
        guard let byte = peek() else { throw error("a value is missing") }
        switch byte {
        case UInt8(ascii: "\""):
            if starts(with: "\"\"\"") { return .value(.string(try parseMultilineBasicString())) }
            return .value(.string(try parseBasicString()))
        case UInt8(ascii: "'"):
            if starts(with: "'''") { return .value(.string(try parseMultilineLiteralString())) }
            return .value(.string(try parseLiteralString()))
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "{"): return try parseInlineTable()
        default:
            if starts(with: "true") && !isBareKeyAt(position + 4) {
                position += 4
                return .value(.bool(true))
            }
            if starts(with: "false") && !isBareKeyAt(position + 5) {
                position += 5
                return .value(.bool(false))
            }
            return .value(try parseNumberOrDate())
        }
    }

    private mutating func parseArray() throws(TOMLSyntaxError) -> ValueNode {
        position += 1
        var items: [ValueNode] = []
        while true {
            skipWhitespaceCommentsAndNewlines()
            if peek() == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            items.append(try parseValue())
            skipWhitespaceCommentsAndNewlines()
            if peek() == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect("]")
            return .array(items)
        }
    }

    private mutating func parseInlineTable() throws(TOMLSyntaxError) -> ValueNode {
        position += 1
        var table = TableNode()
        table.isInline = true
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .table(table)
        }
        while true {
            skipWhitespace()
            let (key, value) = try parseKeyValue()
            try table.assign(key, value, in: [], line: line)
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect("}")
            return .table(table)
        }
    }

    private mutating func parseNumberOrDate() throws(TOMLSyntaxError) -> JSONValue {
        let start = position
        while let byte = peek(), !Self.endsScalar(byte) {
            // A date-time may hold one space between date and time: "1979-05-27 07:32:00".
            position += 1
        }
        if position - start == 10, peek() == UInt8(ascii: " "), position + 1 < bytes.count, Self.isDigit(bytes[position + 1]) {
            position += 1
            while let byte = peek(), !Self.endsScalar(byte) { position += 1 }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard !text.isEmpty else { throw error("a value is missing") }
        if let number = Self.number(text) { return .number(number) }
        if ["inf", "+inf", "-inf", "nan", "+nan", "-nan"].contains(text) { throw error("\(text): infinities and NaN have no use in this file") }
        if Self.isIntegerShaped(text) { throw error("integer \(text) does not fit in 64 bits") }
        if Self.looksLikeDate(text) { return .string(text) }
        throw error("\"\(text)\" is not a TOML value (strings need quotes)")
    }

    static func number(_ text: String) -> JSONNumber? {
        switch text {
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan": return nil
        default: break
        }
        var digits = text
        let isPrefixed = text.hasPrefix("0x") || text.hasPrefix("0o") || text.hasPrefix("0b")
        if digits.contains("_") {
            // Underscores only between digits (hex digits after 0x).
            let characters = Array(digits)
            let isDigit: (Character) -> Bool = { isPrefixed && text.hasPrefix("0x") ? $0.isHexDigit : ($0.isASCII && $0.isNumber) }
            for (index, character) in characters.enumerated() where character == "_" {
                guard index > 0, index < characters.count - 1, isDigit(characters[index - 1]), isDigit(characters[index + 1]) else { return nil }
            }
            digits.removeAll { $0 == "_" }
        }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            let body = digits.dropFirst(2)
            // Swift's radix parser would take a sign; TOML does not.
            guard !body.isEmpty, body.allSatisfy({ $0.isHexDigit && Int(String($0), radix: radix) != nil }) else { return nil }
            return Int64(body, radix: radix).map { JSONNumber($0) }
        }
        var unsigned = Substring(digits)
        if unsigned.first == "+" || unsigned.first == "-" { unsigned = unsigned.dropFirst() }
        guard let first = unsigned.first, first.isNumber else { return nil }
        // No leading zeros in integers ("0" itself, "0.5" and "0e1" are fine).
        if unsigned.count > 1, first == "0", let second = unsigned.dropFirst().first, second.isNumber { return nil }
        if let integer = Int64(digits) { return JSONNumber(integer) }
        // Too big for 64 bits: an error, not a float.
        if isIntegerShaped(digits) { return nil }
        guard unsigned.allSatisfy({ $0.isNumber || "eE.+-".contains($0) }), !unsigned.hasSuffix("."), !unsigned.contains(".e"), !unsigned.contains(".E"),
            let value = Double(digits)
        else { return nil }
        return JSONNumber(value)
    }

    /// An optional sign and decimal digits (with underscores): an integer, whatever its size.
    static func isIntegerShaped(_ text: String) -> Bool {
        var body = Substring(text)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        return !body.isEmpty && body.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "_" }
    }

    static func looksLikeDate(_ text: String) -> Bool {
        let characters = Array(text.utf8)
        let isDate = characters.count >= 10 && characters[4] == UInt8(ascii: "-") && characters[7] == UInt8(ascii: "-") && characters[0..<4].allSatisfy(isDigit)
        let isTime = characters.count >= 8 && characters[2] == UInt8(ascii: ":") && characters[5] == UInt8(ascii: ":") && characters[0..<2].allSatisfy(isDigit)
        return isDate || isTime
    }

    // MARK: Strings

    private mutating func parseBasicString() throws(TOMLSyntaxError) -> String {
        position += 1
        var output: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("a string is not closed") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: output, as: UTF8.self)
            case UInt8(ascii: "\\"): try parseEscape(into: &output)
            case UInt8(ascii: "\n"): throw error("a string is not closed before the end of the line")
            default:
                if byte < 0x20 && byte != UInt8(ascii: "\t") { throw error("control character \(describe(byte)) in a string") }
                output.append(byte)
            }
        }
    }

    private mutating func parseMultilineBasicString() throws(TOMLSyntaxError) -> String {
        position += 3
        skipFirstNewline()
        var output: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("a \"\"\" string is not closed") }
            if starts(with: "\"\"\"") {
                position += 3
                // Up to two quotes right before the closing delimiter belong to the string.
                while peek() == UInt8(ascii: "\"") {
                    output.append(UInt8(ascii: "\""))
                    position += 1
                }
                return String(decoding: output, as: UTF8.self)
            }
            position += 1
            if byte == UInt8(ascii: "\\") {
                // A backslash at the end of a line trims the newline and following space.
                var lookahead = position
                while lookahead < bytes.count, bytes[lookahead] == UInt8(ascii: " ") || bytes[lookahead] == UInt8(ascii: "\t") { lookahead += 1 }
                if lookahead < bytes.count, bytes[lookahead] == UInt8(ascii: "\n") || bytes[lookahead] == UInt8(ascii: "\r") {
                    position = lookahead
                    while let next = peek(), next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\n") || next == UInt8(ascii: "\r") {
                        if next == UInt8(ascii: "\n") { line += 1 }
                        position += 1
                    }
                    continue
                }
                try parseEscape(into: &output)
                continue
            }
            if byte == UInt8(ascii: "\n") { line += 1 }
            output.append(byte)
        }
    }

    private mutating func parseLiteralString() throws(TOMLSyntaxError) -> String {
        position += 1
        let start = position
        while let byte = peek(), byte != UInt8(ascii: "'") {
            if byte == UInt8(ascii: "\n") { throw error("a string is not closed before the end of the line") }
            position += 1
        }
        guard peek() != nil else { throw error("a string is not closed") }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        position += 1
        return text
    }

    private mutating func parseMultilineLiteralString() throws(TOMLSyntaxError) -> String {
        position += 3
        skipFirstNewline()
        let start = position
        while position < bytes.count, !starts(with: "'''") {
            if bytes[position] == UInt8(ascii: "\n") { line += 1 }
            position += 1
        }
        guard position < bytes.count else { throw error("a ''' string is not closed") }
        var end = position
        position += 3
        while peek() == UInt8(ascii: "'") {
            position += 1
            end += 1
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private mutating func parseEscape(into output: inout [UInt8]) throws(TOMLSyntaxError) {
        guard let escape = peek() else { throw error("a string ends in a backslash") }
        position += 1
        switch escape {
        case UInt8(ascii: "b"): output.append(8)
        case UInt8(ascii: "t"): output.append(9)
        case UInt8(ascii: "n"): output.append(10)
        case UInt8(ascii: "f"): output.append(12)
        case UInt8(ascii: "r"): output.append(13)
        case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = escape == UInt8(ascii: "u") ? 4 : 8
            let digits = position + count <= bytes.count ? String(decoding: bytes[position..<position + count], as: UTF8.self) : ""
            guard digits.count == count, digits.allSatisfy(\.isHexDigit), let code = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(code)
            else { throw error("invalid \\\(Character(Unicode.Scalar(escape))) escape") }
            position += count
            output.append(contentsOf: Array(String(Character(scalar)).utf8))
        default: throw error("unknown escape \\\(Character(Unicode.Scalar(escape)))")
        }
    }

    // MARK: Lexing

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private func starts(with text: String) -> Bool {
        let pattern = Array(text.utf8)
        return position + pattern.count <= bytes.count && Array(bytes[position..<position + pattern.count]) == pattern
    }

    private func isBareKeyAt(_ index: Int) -> Bool { index < bytes.count && Self.isBareKey(bytes[index]) }

    private mutating func expect(_ character: Character) throws(TOMLSyntaxError) {
        guard let byte = peek(), byte == character.asciiValue else {
            throw error("expected \"\(character)\", found \(peek().map(describe) ?? "the end")")
        }
        position += 1
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { position += 1 }
    }

    private mutating func skipComment() {
        while let byte = peek(), byte != UInt8(ascii: "\n") { position += 1 }
    }

    private mutating func advanceLine() {
        position += 1
        line += 1
    }

    private mutating func skipFirstNewline() {
        if starts(with: "\r\n") { position += 2; line += 1 } else if peek() == UInt8(ascii: "\n") { advanceLine() }
    }

    private mutating func skipWhitespaceCommentsAndNewlines() {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): position += 1
            case UInt8(ascii: "\n"): advanceLine()
            case UInt8(ascii: "#"): skipComment()
            default: return
            }
        }
    }

    /// After a key/value or a header only a comment may follow on the line.
    private mutating func endOfLine() throws(TOMLSyntaxError) {
        skipWhitespace()
        if peek() == UInt8(ascii: "#") { skipComment() }
        if peek() == UInt8(ascii: "\r") { position += 1 }
        guard let byte = peek() else { return }
        guard byte == UInt8(ascii: "\n") else { throw error("unexpected \(describe(byte)) after a value (one key = value per line)") }
        advanceLine()
    }

    private func error(_ reason: String) -> TOMLSyntaxError { TOMLSyntaxError(line: line, reason: reason) }

    private func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7f ? "\"\(Character(Unicode.Scalar(byte)))\"" : "byte 0x\(String(byte, radix: 16))"
    }

    static func isBareKey(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || isDigit(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    static func endsScalar(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: ",")
            || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "#")
    }
}
