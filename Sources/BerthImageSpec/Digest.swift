/// A content digest, `algorithm:encoded`, as used by the OCI image and distribution specs.
///
/// Only the algorithms the OCI image spec registers for content addressing are accepted,
/// and the encoded part must be lowercase hexadecimal of exactly the algorithm's length:
/// a digest is a file name in the content store, so there must be one spelling per blob.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A hash algorithm that Berth can verify content with.
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case sha256
        case sha512

        /// The number of hexadecimal characters in an encoded digest of this algorithm.
        public var encodedLength: Int {
            switch self {
            case .sha256: 64
            case .sha512: 128
            }
        }
    }

    /// The hash algorithm.
    public let algorithm: Algorithm
    /// The lowercase hexadecimal hash.
    public let encoded: String

    /// A digest from its parts; throws when `encoded` is not lowercase hexadecimal of the
    /// algorithm's length.
    public init(algorithm: Algorithm, encoded: String) throws(ImageSpecError) {
        try Self.validate(encoded: encoded, algorithm: algorithm, input: "\(algorithm.rawValue):\(encoded)")
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>`.
    public init(parsing text: String) throws(ImageSpecError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw ImageSpecError(.invalidDigest, "invalid digest \"\(text)\": expected algorithm:hex")
        }
        let name = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        guard !name.isEmpty else {
            throw ImageSpecError(.invalidDigest, "invalid digest \"\(text)\": the algorithm is empty")
        }
        guard let algorithm = Algorithm(rawValue: name) else {
            let known = Algorithm.allCases.map(\.rawValue).joined(separator: ", ")
            throw ImageSpecError(.invalidDigest, "invalid digest \"\(text)\": unsupported algorithm \"\(name)\" (berth verifies \(known))")
        }
        try Self.validate(encoded: encoded, algorithm: algorithm, input: text)
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The canonical form, `algorithm:encoded`.
    public var description: String { "\(algorithm.rawValue):\(encoded)" }

    /// Digests order by their text, algorithm first.
    public static func < (lhs: Digest, rhs: Digest) -> Bool {
        (lhs.algorithm.rawValue, lhs.encoded) < (rhs.algorithm.rawValue, rhs.encoded)
    }

    private static func validate(encoded: String, algorithm: Algorithm, input: String) throws(ImageSpecError) {
        let expected = algorithm.encodedLength
        // Uppercase hex is refused rather than lowercased: the digest names a file in the
        // content store and is compared as text by registries.
        if let bad = encoded.unicodeScalars.first(where: { !Self.isLowercaseHex($0) }) {
            throw ImageSpecError(
                .invalidDigest,
                "invalid digest \"\(input)\": \"\(bad)\" is not a lowercase hexadecimal digit"
            )
        }
        guard encoded.utf8.count == expected else {
            throw ImageSpecError(
                .invalidDigest,
                "invalid digest \"\(input)\": \(algorithm.rawValue) needs \(expected) hexadecimal digits, found \(encoded.utf8.count)"
            )
        }
    }

    private static func isLowercaseHex(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar) || ("a"..."f").contains(scalar)
    }
}

extension Digest: Decodable {
    /// Reads a digest string; a malformed digest is a decoding error at its member's path.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }
}
