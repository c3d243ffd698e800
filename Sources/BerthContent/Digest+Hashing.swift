import BerthImageSpec
import Crypto

extension BerthImageSpec.Digest {
    /// The sha256 digest of `bytes`.
    public static func sha256(of bytes: [UInt8]) -> BerthImageSpec.Digest {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return BerthImageSpec.Digest(finalizing: hasher)
    }

    /// The digest a running hash has reached.
    init(finalizing hasher: SHA256) {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in hasher.finalize() {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        // A sha256 hash is always 64 lowercase hex digits.
        self = try! BerthImageSpec.Digest(algorithm: .sha256, encoded: String(decoding: text, as: UTF8.self))
    }
}

/// A sha256 digest computed over bytes as they stream by (a layer's diff id while it is
/// unpacked).
public struct StreamingDigest {
    private var hasher = SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    public func finalize() -> BerthImageSpec.Digest {
        BerthImageSpec.Digest(finalizing: hasher)
    }
}
