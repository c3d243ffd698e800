import BerthJSON
import Testing

@Suite("JSON serialization")
struct JSONSerializerTests {
    static let sample: JSONValue = [
        "name": "berth",
        "count": 3,
        "ratio": .number(JSONNumber(text: "0.25")),
        "flags": [true, false, nil],
        "nested": ["empty": [:], "list": []],
        "big": .int(UInt64.max),
    ]

    @Test("compact output has no spaces and keeps member order")
    func compact() {
        #expect(Self.sample.serialized()
            == #"{"name":"berth","count":3,"ratio":0.25,"flags":[true,false,null],"nested":{"empty":{},"list":[]},"big":18446744073709551615}"#)
    }

    @Test("pretty output indents each level and puts a space after colons")
    func pretty() {
        let value: JSONValue = ["a": 1, "b": [true, ["c": nil]], "d": [], "e": [:]]
        let expected = """
            {
              "a": 1,
              "b": [
                true,
                {
                  "c": null
                }
              ],
              "d": [],
              "e": {}
            }
            """
        #expect(value.prettySerialized() == expected)
    }

    @Test("pretty output uses the indentation it is given")
    func prettyIndentation() {
        let value: JSONValue = ["a": [1]]
        #expect(value.prettySerialized(indentation: "\t") == "{\n\t\"a\": [\n\t\t1\n\t]\n}")
    }

    @Test("compact output parses back to the same value")
    func compactRoundTrip() throws {
        #expect(try JSONParser.parse(Self.sample.serialized()) == Self.sample)
    }

    @Test("pretty output parses back to the same value")
    func prettyRoundTrip() throws {
        #expect(try JSONParser.parse(Self.sample.prettySerialized()) == Self.sample)
    }

    @Test("a parsed document serializes back to its compact text")
    func parseThenSerialize() throws {
        let text = #"{"b":[1,-2.5e3,"x\"y"],"a":{"c":null},"d":9223372036854775807}"#
        #expect(try JSONParser.parse(text).serialized() == text)
    }

    @Test("quotes and backslashes are escaped")
    func quotesAndBackslashes() {
        #expect(JSONValue.string(#"say "hi" \ bye"#).serialized() == #""say \"hi\" \\ bye""#)
    }

    @Test("control characters use short escapes where JSON has them")
    func shortEscapes() {
        #expect(JSONValue.string("\n\r\t\u{08}\u{0C}").serialized() == #""\n\r\t\b\f""#)
    }

    @Test("other control characters are written as lowercase \\u00XX")
    func unicodeEscapes() {
        #expect(JSONValue.string("\u{00}\u{01}\u{1B}\u{1F}").serialized() == #""\u0000\u0001\u001b\u001f""#)
    }

    @Test("slashes, DEL and non-ASCII text are written unescaped")
    func unescaped() {
        #expect(JSONValue.string("/a\u{7F}é😀").serialized() == "\"/a\u{7F}é😀\"")
    }

    @Test("member names are escaped like strings")
    func escapedKeys() {
        let value: JSONValue = ["a\"b\n": 1]
        #expect(value.serialized() == #"{"a\"b\n":1}"#)
    }

    @Test("every control character survives a round trip")
    func controlRoundTrip() throws {
        let text = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
        let value = JSONValue.string(text + "\"\\")
        #expect(try JSONParser.parse(value.serialized()) == value)
    }

    @Test("integral doubles are written without a fraction")
    func integralDoubles() {
        #expect(JSONNumber(3.0)?.text == "3")
        #expect(JSONNumber(-42.0)?.text == "-42")
        #expect(JSONNumber(0.5)?.text == "0.5")
    }

    @Test("a non-finite double is not a JSON number")
    func nonFiniteDoubles() {
        #expect(JSONNumber(Double.infinity) == nil)
        #expect(JSONNumber(Double.nan) == nil)
    }
}

@Suite("JSONObject")
struct JSONObjectTests {
    @Test("setting an existing member replaces it in place")
    func replaceInPlace() {
        var object = JSONObject([("a", 1), ("b", 2)])
        object["a"] = 10
        #expect(object.keys == ["a", "b"])
        #expect(object["a"] == 10)
    }

    @Test("setting a new member appends it and nil removes it")
    func appendAndRemove() {
        var object = JSONObject()
        object["x"] = 1
        object["y"] = 2
        object["x"] = nil
        #expect(object.keys == ["y"])
    }

    @Test("objects with the same members in another order differ")
    func orderMatters() {
        #expect(JSONObject([("a", 1), ("b", 2)]) != JSONObject([("b", 2), ("a", 1)]))
    }
}
