import BerthImageSpec
import BerthSystem
import Crypto
import Glibc

/// One blob being written: `<root>/ingest/<key>/data`, hashed as it grows. Opening an
/// ingest whose data already exists resumes it: the bytes there are hashed again (the
/// hash state is not saved), and `offset` says where the download continues (HTTP Range).
/// `commit` files the blob only when size and digest match; a mismatch removes the ingest
/// and stores nothing.
public final class Ingest: @unchecked Sendable {
    public let store: ContentStore
    public let key: String
    public let expected: BerthImageSpec.Digest
    /// The size the descriptor promised, when known: a blob can then never grow past it.
    public let expectedSize: Int64?
    public private(set) var offset: Int64 = 0
    private var hasher = SHA256()
    private var descriptor: Int32

    var directory: String { "\(store.root)/ingest/\(key)" }
    var dataPath: String { "\(directory)/data" }

    /// `key` names the ingest (the digest's hex is the natural one: two pulls of one blob
    /// then meet at the same ingest, which the caller must serialise).
    public init(store: ContentStore, key: String, expected: BerthImageSpec.Digest, expectedSize: Int64?) throws(ContentError) {
        guard expected.algorithm == .sha256 else {
            throw ContentError(.invalidDigest, "blob \(expected): berth's content store verifies sha256 digests only")
        }
        guard !key.isEmpty, !key.contains("/"), key != ".", key != ".." else {
            throw ContentError(.io, "ingest key \"\(key)\" is not a plain name")
        }
        self.store = store
        self.key = key
        self.expected = expected
        self.expectedSize = expectedSize
        let directory = "\(store.root)/ingest/\(key)"
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw ContentError(.io, "ingest \(key): create \(directory): \(SystemError.describe(errno: errno))")
        }
        descriptor = open("\(directory)/data", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if descriptor < 0 { throw ContentError(.io, "ingest \(key): open: \(SystemError.describe(errno: errno))") }
        try resume()
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Hashes what an earlier attempt wrote, and positions at its end.
    private func resume() throws(ContentError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ContentError(.io, "ingest \(key): read: \(SystemError.describe(errno: errno))")
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            offset += Int64(count)
        }
        if let expectedSize, offset > expectedSize {
            // Longer than the blob can be: start over.
            _ = ftruncate(descriptor, 0)
            _ = lseek(descriptor, 0, SEEK_SET)
            offset = 0
            hasher = SHA256()
        }
    }

    /// Appends bytes (from a download); past the expected size is an error.
    public func append(_ bytes: [UInt8]) throws(ContentError) {
        let failure = bytes.withUnsafeBytes { raw -> ContentError? in
            do throws(ContentError) {
                try append(raw)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws(ContentError) {
        if let expectedSize, offset + Int64(bytes.count) > expectedSize {
            discard()
            throw ContentError(.sizeMismatch, "blob \(expected): more data than its descriptor's size \(expectedSize) (nothing stored)")
        }
        var written = 0
        while written < bytes.count {
            let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw ContentError(.io, "ingest \(key): write: \(SystemError.describe(errno: errno))")
            }
            written += result
        }
        hasher.update(bufferPointer: bytes)
        offset += Int64(bytes.count)
    }

    /// Files the blob under its digest if size and digest match; otherwise removes the
    /// ingest and says which digest was expected and which arrived.
    public func commit() throws(ContentError) {
        if let expectedSize, offset != expectedSize {
            discard()
            throw ContentError(.sizeMismatch, "blob \(expected): size mismatch: expected \(expectedSize) bytes, got \(offset) (nothing stored)")
        }
        let actual = BerthImageSpec.Digest(finalizing: hasher)
        guard actual == expected else {
            discard()
            throw ContentError(.digestMismatch, "blob \(expected): digest mismatch: expected \(expected), got \(actual) (nothing stored)")
        }
        guard fsync(descriptor) == 0 else { throw ContentError(.io, "ingest \(key): fsync: \(SystemError.describe(errno: errno))") }
        if rename(dataPath, store.path(of: expected)) != 0 {
            throw ContentError(.io, "blob \(expected): file into the store: \(SystemError.describe(errno: errno))")
        }
        close(descriptor)
        descriptor = -1
        rmdir(directory)
    }

    /// Starts over from byte 0 (a server that ignored a Range request sends the whole blob).
    public func restart() {
        _ = ftruncate(descriptor, 0)
        _ = lseek(descriptor, 0, SEEK_SET)
        offset = 0
        hasher = SHA256()
    }

    /// Drops the ingest and what it holds.
    public func discard() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        unlink(dataPath)
        rmdir(directory)
    }
}
