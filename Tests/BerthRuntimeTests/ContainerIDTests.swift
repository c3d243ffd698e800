import BerthRuntime
import Testing

private func refusalCode(_ id: String) -> RuntimeError.Code? {
    do {
        try ContainerID.validate(id)
        return nil
    } catch {
        return error.code
    }
}

@Suite("ContainerID.validate")
struct ContainerIDTests {
    @Test("ids of letters, digits and _ + , - . are accepted", arguments: [
        "a", "a.b_c-d+e", "a,b", "ABC123", "0", "...", ".a", "a..b", "-",
    ])
    func accepted(id: String) {
        #expect(refusalCode(id) == nil)
    }

    @Test("ids that are empty, a dot entry, or hold other characters are refused", arguments: [
        "", ".", "..", "../x", "a/b", "/a", "a b", "a:b", "é", "a*", "a@b", "a\\b",
    ])
    func refused(id: String) {
        #expect(refusalCode(id) == .invalidID)
    }

    @Test("an id may be 1024 bytes long but not 1025")
    func length() {
        #expect(refusalCode(String(repeating: "x", count: 1024)) == nil)
        #expect(refusalCode(String(repeating: "x", count: 1025)) == .invalidID)
    }

    @Test("ids holding a control character are refused")
    func controlCharacters() {
        for scalar in (0..<0x20).compactMap(Unicode.Scalar.init) + ["\u{7F}"] {
            #expect(refusalCode("a\(Character(scalar))b") == .invalidID, "U+\(String(scalar.value, radix: 16)) accepted")
        }
    }

    @Test("the refusal of a bad id quotes it")
    func message() {
        do {
            try ContainerID.validate("a/b")
            Issue.record("accepted a/b")
        } catch {
            #expect(error.message.contains("\"a/b\""))
        }
    }
}
