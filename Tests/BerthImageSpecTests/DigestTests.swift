import BerthImageSpec
import BerthJSON
import Testing

@Suite("digests parse only in their canonical form")
struct DigestTests {
    @Test("sha256 and sha512 digests parse into algorithm and encoded parts")
    func parses() throws {
        let sha256 = try Digest(parsing: "sha256:\(Fixtures.configHex)")
        #expect(sha256.algorithm == .sha256)
        #expect(sha256.encoded == Fixtures.configHex)
        #expect(sha256.description == "sha256:\(Fixtures.configHex)")

        let sha512 = try Digest(parsing: "sha512:\(Fixtures.sha512Hex)")
        #expect(sha512.algorithm == .sha512)
        #expect(sha512.encoded.count == 128)
        #expect(try Digest(algorithm: .sha256, encoded: Fixtures.configHex) == sha256)
    }

    @Test(
        "a malformed digest is refused",
        arguments: [
            "", "sha256", ":\(Fixtures.configHex)", "sha256:", "sha256:abc",
            "sha256:\(Fixtures.configHex)0", "sha256:\(Fixtures.configHex.uppercased())",
            "sha256:\(String(Fixtures.configHex.dropLast()))g", "SHA256:\(Fixtures.configHex)",
            "md5:d41d8cd98f00b204e9800998ecf8427e", "sha384:\(Fixtures.configHex)",
            "sha512:\(Fixtures.configHex)", "sha256:\(Fixtures.configHex) ",
        ]
    )
    func refuses(_ text: String) {
        #expect {
            try Digest(parsing: text)
        } throws: { error in
            (error as? ImageSpecError)?.code == .invalidDigest
        }
    }

    @Test("refusals name the digest and the rule")
    func messages() {
        #expect(throws: ImageSpecError(.invalidDigest, "invalid digest \"md5:00\": unsupported algorithm \"md5\" (berth verifies sha256, sha512)")) {
            try Digest(parsing: "md5:00")
        }
        #expect(throws: ImageSpecError(.invalidDigest, "invalid digest \"sha256:ABC\": \"A\" is not a lowercase hexadecimal digit")) {
            try Digest(parsing: "sha256:ABC")
        }
        #expect(throws: ImageSpecError(.invalidDigest, "invalid digest \"nocolon\": expected algorithm:hex")) {
            try Digest(parsing: "nocolon")
        }
    }

    @Test("digests are hashable, ordered by their text, and decode from JSON strings")
    func valueSemantics() throws {
        let low = try Digest(parsing: "sha256:\(Fixtures.diff1Hex)")
        let high = try Digest(parsing: "sha256:\(Fixtures.diff2Hex)")
        let long = try Digest(parsing: "sha512:\(Fixtures.sha512Hex)")
        #expect([high, long, low].sorted() == [low, high, long])
        #expect(Set([low, high, low]).count == 2)
        let decoded = try JSONValueDecoder.decode([Digest].self, from: JSONParser.parse("[\"sha256:\(Fixtures.diff1Hex)\"]"))
        #expect(decoded == [low])
        #expect(throws: (any Error).self) {
            try JSONValueDecoder.decode([Digest].self, from: JSONParser.parse("[\"sha256:nothex\"]"))
        }
    }
}
