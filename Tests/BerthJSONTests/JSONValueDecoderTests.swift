import BerthJSON
import Testing

private struct Config: Decodable, Equatable {
    struct Process: Decodable, Equatable {
        struct User: Decodable, Equatable {
            var uid: UInt32
            var gid: UInt32
            var umask: UInt32?
        }
        var user: User
        var args: [String]
        var terminal: Bool?
    }
    enum Kind: String, Decodable { case alpha, beta }

    var ociVersion: String
    var process: Process
    var annotations: [String: String]?
    var kind: Kind?
    var ratio: Double?
    var raw: JSONValue?
}

private struct Small: Decodable {
    var value: UInt8
}

private struct Signed: Decodable {
    var a: Int8
    var b: Int64
    var c: UInt64
}

private func decodingError<T: Decodable>(_ type: T.Type, _ text: String) -> JSONDecodingError? {
    do {
        _ = try JSONValueDecoder.decode(type, from: Array(text.utf8))
        return nil
    } catch let error as JSONDecodingError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

private let valid = #"""
    {
      "ociVersion": "1.2.0",
      "future": {"anything": [1, 2]},
      "process": {
        "user": {"uid": 1000, "gid": 100, "unknown": true},
        "args": ["sh", "-c", "true"],
        "somethingNew": null
      },
      "annotations": {"b": "2", "a": "1"},
      "kind": "beta",
      "ratio": 0.5,
      "raw": {"kept": [true]}
    }
    """#

@Suite("JSONValueDecoder")
struct JSONValueDecoderTests {
    @Test("a Decodable struct is decoded and unknown members are ignored")
    func decodesStruct() throws {
        let config = try JSONValueDecoder.decode(Config.self, from: Array(valid.utf8))
        #expect(config.ociVersion == "1.2.0")
        #expect(config.process.user == .init(uid: 1000, gid: 100, umask: nil))
        #expect(config.process.args == ["sh", "-c", "true"])
        #expect(config.process.terminal == nil)
        #expect(config.annotations == ["a": "1", "b": "2"])
        #expect(config.kind == .beta)
        #expect(config.ratio == 0.5)
        #expect(config.raw == ["kept": [true]])
    }

    @Test("an optional member that is null decodes as nil")
    func nullOptional() throws {
        let text = #"{"ociVersion":"1","process":{"user":{"uid":0,"gid":0,"umask":null},"args":[],"terminal":null}}"#
        let config = try JSONValueDecoder.decode(Config.self, from: Array(text.utf8))
        #expect(config.process.user.umask == nil)
        #expect(config.process.terminal == nil)
    }

    @Test("a missing required member names its full path")
    func missingMember() throws {
        let error = try #require(decodingError(Config.self, #"{"ociVersion":"1","process":{"user":{"gid":0},"args":[]}}"#))
        #expect(error.path == "process.user.uid")
        #expect(error.description.contains("process.user.uid"))
        #expect(error.description.contains("missing"))
    }

    @Test("a missing top-level member names just that member")
    func missingTopLevel() throws {
        let error = try #require(decodingError(Config.self, #"{"ociVersion":"1"}"#))
        #expect(error.path == "process")
    }

    @Test("a type mismatch names the member's path and both types")
    func typeMismatch() throws {
        let error = try #require(decodingError(Config.self, #"{"ociVersion":"1","process":{"user":{"uid":"zero","gid":0},"args":[]}}"#))
        #expect(error.path == "process.user.uid")
        #expect(error.description.contains("process.user.uid"))
        #expect(error.reason.contains("a string"))
    }

    @Test("a type mismatch inside an array names the index")
    func arrayIndexPath() throws {
        let error = try #require(decodingError(Config.self, #"{"ociVersion":"1","process":{"user":{"uid":0,"gid":0},"args":["sh",7]}}"#))
        #expect(error.path == "process.args[1]")
    }

    @Test("an object where an array belongs is a mismatch")
    func objectForArray() throws {
        let error = try #require(decodingError(Config.self, #"{"ociVersion":"1","process":{"user":{"uid":0,"gid":0},"args":{}}}"#))
        #expect(error.path == "process.args")
        #expect(error.reason.contains("an array"))
    }

    @Test("an unknown enum value is refused with its path")
    func unknownEnumValue() throws {
        let error = try #require(decodingError(Config.self, #"{"ociVersion":"1","process":{"user":{"uid":0,"gid":0},"args":[]},"kind":"gamma"}"#))
        #expect(error.path == "kind")
    }

    @Test("an integer too large for UInt8 is refused")
    func uint8Overflow() throws {
        let error = try #require(decodingError(Small.self, #"{"value":256}"#))
        #expect(error.path == "value")
        #expect(error.reason.contains("256"))
        #expect(error.reason.contains("UInt8"))
    }

    @Test("a negative number for an unsigned integer is refused")
    func negativeUnsigned() throws {
        #expect(decodingError(Small.self, #"{"value":-1}"#)?.path == "value")
    }

    @Test("a fractional number for an integer is refused")
    func fractionalInteger() throws {
        #expect(decodingError(Small.self, #"{"value":1.5}"#)?.path == "value")
    }

    @Test("UInt8 max is accepted")
    func uint8Max() throws {
        #expect(try JSONValueDecoder.decode(Small.self, from: Array(#"{"value":255}"#.utf8)).value == 255)
    }

    @Test("64-bit integer limits decode exactly")
    func integerLimits() throws {
        let text = #"{"a":-128,"b":-9223372036854775808,"c":18446744073709551615}"#
        let value = try JSONValueDecoder.decode(Signed.self, from: Array(text.utf8))
        #expect(value.a == Int8.min)
        #expect(value.b == Int64.min)
        #expect(value.c == UInt64.max)
    }

    @Test("Int8 below its minimum is refused")
    func int8Underflow() throws {
        #expect(decodingError(Signed.self, #"{"a":-129,"b":0,"c":0}"#)?.path == "a")
    }

    @Test("invalid JSON text surfaces as a syntax error")
    func syntaxErrors() {
        #expect(throws: JSONSyntaxError.self) {
            try JSONValueDecoder.decode(Small.self, from: Array("{bad".utf8))
        }
    }

    @Test("a top-level array decodes element by element")
    func topLevelArray() throws {
        let value: JSONValue = [1, 2, 3]
        #expect(try JSONValueDecoder.decode([Int].self, from: value) == [1, 2, 3])
    }

    @Test("a JSONValue decodes as itself")
    func jsonValueItself() throws {
        let value: JSONValue = ["a": [1, nil, "x"]]
        #expect(try JSONValueDecoder.decode(JSONValue.self, from: value) == value)
    }
}
