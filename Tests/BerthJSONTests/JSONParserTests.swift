import BerthJSON
import Testing

/// Parses `text`, expecting a syntax error, and returns it.
private func syntaxError(_ text: String) -> JSONSyntaxError? {
    syntaxError(Array(text.utf8))
}

private func syntaxError(_ bytes: [UInt8]) -> JSONSyntaxError? {
    do {
        _ = try JSONParser.parse(bytes)
        return nil
    } catch {
        return error
    }
}

@Suite("JSONParser reads valid documents")
struct JSONParserValidDocumentTests {
    @Test("objects keep their members in document order")
    func memberOrder() throws {
        let value = try JSONParser.parse(#"{"zebra": 1, "apple": 2, "mango": 3}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["zebra", "apple", "mango"])
    }

    @Test("the last of duplicate keys wins")
    func duplicateKeys() throws {
        let value = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(value["a"]?.int64Value == 3)
        #expect(value["b"]?.int64Value == 2)
    }

    @Test("nested arrays and objects are read as a tree")
    func nesting() throws {
        let value = try JSONParser.parse(#"{"a": [1, {"b": [true, false, null]}, []], "c": {}}"#)
        let expected: JSONValue = ["a": [1, ["b": [true, false, nil]], []], "c": [:]]
        #expect(value == expected)
    }

    @Test("scalars are read at the top level")
    func topLevelScalars() throws {
        #expect(try JSONParser.parse("true") == .bool(true))
        #expect(try JSONParser.parse("false") == .bool(false))
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse(#""x""#) == .string("x"))
        #expect(try JSONParser.parse("-12.5e+3") == .number(JSONNumber(text: "-12.5e+3")))
    }

    @Test("whitespace around and inside the document is skipped")
    func whitespace() throws {
        let value = try JSONParser.parse(" \t\r\n{ \"a\" :\n[ 1 , 2 ] }\n ")
        #expect(value == ["a": [1, 2]])
    }

    @Test("simple escapes in strings are decoded")
    func simpleEscapes() throws {
        let value = try JSONParser.parse(#""q\" b\\ s\/ \b\f\n\r\t""#)
        #expect(value.stringValue == "q\" b\\ s/ \u{08}\u{0C}\n\r\t")
    }

    @Test("unicode escapes are decoded, including a surrogate pair")
    func unicodeEscapes() throws {
        #expect(try JSONParser.parse(#""\u00e9\u00C9""#).stringValue == "éÉ")
        #expect(try JSONParser.parse(#""\u0000""#).stringValue == "\u{0}")
        #expect(try JSONParser.parse(#""\ud83d\ude00""#).stringValue == "😀")
        #expect(try JSONParser.parse(#""a\uD834\uDD1Eb""#).stringValue == "a𝄞b")
    }

    @Test("raw UTF-8 in strings is kept as is")
    func rawUTF8() throws {
        #expect(try JSONParser.parse(#""größe 🚢""#).stringValue == "größe 🚢")
    }

    @Test("numbers keep their source text")
    func numberText() throws {
        let value = try JSONParser.parse("[0, -0, 1.50, 1E10, 2e-3]")
        let texts = try #require(value.arrayValue).compactMap { element -> String? in
            if case .number(let number) = element { return number.text }
            return nil
        }
        #expect(texts == ["0", "-0", "1.50", "1E10", "2e-3"])
    }

    @Test("Int64 max survives exactly")
    func int64Max() throws {
        let value = try JSONParser.parse("9223372036854775807")
        #expect(value.int64Value == Int64.max)
        #expect(value.serialized() == "9223372036854775807")
    }

    @Test("Int64 min survives exactly")
    func int64Min() throws {
        #expect(try JSONParser.parse("-9223372036854775808").int64Value == Int64.min)
    }

    @Test("UInt64 max survives exactly")
    func uint64Max() throws {
        let value = try JSONParser.parse("18446744073709551615")
        guard case .number(let number) = value else {
            Issue.record("not a number: \(value)")
            return
        }
        #expect(number.uint64 == UInt64.max)
        #expect(number.int64 == nil)
        #expect(value.serialized() == "18446744073709551615")
    }

    @Test("a number beyond UInt64 has no integer value")
    func beyondUInt64() throws {
        guard case .number(let number) = try JSONParser.parse("18446744073709551616") else {
            Issue.record("not a number")
            return
        }
        #expect(number.uint64 == nil)
        #expect(number.int64 == nil)
    }

    @Test("integral numbers in fraction or exponent form have integer values")
    func integralFloatingForms() {
        #expect(JSONNumber(text: "1e3").int64 == 1000)
        #expect(JSONNumber(text: "2.0").uint64 == 2)
        #expect(JSONNumber(text: "2.5").int64 == nil)
        #expect(JSONNumber(text: "-1").uint64 == nil)
    }

    @Test("nesting up to 512 levels is accepted")
    func deepestNesting() throws {
        let text = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONParser.parse(text) }
    }
}

@Suite("JSONParser refuses invalid documents with an offset")
struct JSONParserInvalidDocumentTests {
    @Test("an unquoted member name is refused where it starts")
    func unquotedName() throws {
        let error = try #require(syntaxError("{bad"))
        #expect(error.offset == 1)
        #expect(error.description.contains("byte 1"))
    }

    @Test("truncated documents are refused at their end", arguments: [
        #"{"a": 1"#, #"{"a":"#, #"{"a""#, "[1, 2", "[", "{", #""abc"#, "-", "1.", "1e", #""\"#,
    ])
    func truncated(text: String) throws {
        let error = try #require(syntaxError(text))
        #expect(error.offset == text.utf8.count)
    }

    @Test("an empty document is refused")
    func empty() throws {
        #expect(try #require(syntaxError("")).offset == 0)
        #expect(try #require(syntaxError("   ")).offset == 3)
    }

    @Test("trailing garbage after the document is refused")
    func trailingGarbage() throws {
        let error = try #require(syntaxError("{} x"))
        #expect(error.offset == 3)
        #expect(error.reason.contains("after the document"))
        #expect(syntaxError("[1] [2]")?.offset == 4)
        #expect(syntaxError("truex")?.offset == 4)
    }

    @Test("leading zeros are refused", arguments: ["01", "-01", "00", "[007]"])
    func leadingZeros(text: String) throws {
        let error = try #require(syntaxError(text))
        #expect(error.reason.contains("leading zero"))
    }

    @Test("malformed numbers are refused", arguments: ["+1", ".5", "1.e5", "1e+", "-x", "0x10", "NaN", "Infinity"])
    func malformedNumbers(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test("a raw control character inside a string is refused at its byte")
    func controlCharacter() throws {
        let error = try #require(syntaxError("\"ab\u{01}c\""))
        #expect(error.offset == 3)
        #expect(syntaxError("\"a\nb\"")?.offset == 2)
        #expect(syntaxError("\"a\tb\"")?.offset == 2)
    }

    @Test("a lone high surrogate is refused")
    func loneHighSurrogate() throws {
        let error = try #require(syntaxError(#""\ud800""#))
        #expect(error.reason.contains("surrogate"))
        #expect(error.offset == 7)
    }

    @Test("a lone low surrogate is refused")
    func loneLowSurrogate() throws {
        let error = try #require(syntaxError(#""x\udc00""#))
        #expect(error.reason.contains("surrogate"))
    }

    @Test("a high surrogate followed by a non-surrogate escape is refused")
    func highSurrogateThenOther() throws {
        let error = try #require(syntaxError(#""\ud800\u0041""#))
        #expect(error.reason.contains("surrogate"))
    }

    @Test("invalid escapes are refused", arguments: [#""\x""#, #""\u12G4""#, #""\U0041""#, #""\'""#])
    func invalidEscapes(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(syntaxError([0x22, 0xFF, 0x22]) != nil)
        #expect(syntaxError([0x22, 0xC3, 0x22]) != nil)
    }

    @Test("misplaced commas and colons are refused", arguments: [
        "[1,]", "[,1]", #"{"a":1,}"#, "{,}", #"{"a" 1}"#, #"{"a":1 "b":2}"#, "[1 2]", #"{1:2}"#, #"["a":1]"#,
    ])
    func structure(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test("truncated literals and unicode escapes are refused", arguments: ["tru", "nul", "[fals", #""\u12"#])
    func truncatedLiterals(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test("invalid literals are refused", arguments: ["True", "nulL", "fals", "undefined"])
    func literals(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test("nesting deeper than 512 levels is refused")
    func tooDeep() throws {
        let text = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        let error = try #require(syntaxError(text))
        #expect(error.reason.contains("nesting"))
    }
}
