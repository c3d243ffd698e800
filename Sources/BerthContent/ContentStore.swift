import BerthImageSpec
import BerthSystem
import Glibc

/// Content-addressed blobs under `<root>/blobs/sha256/<hex>`, written through
/// `<root>/ingest/<key>/` while being hashed, and filed by an atomic rename only when size
/// and digest match (DESIGN.md §5). A blob in `blobs/` is therefore always whole and right;
/// an interrupted download stays in `ingest/` and resumes from where it stopped.
public struct ContentStore: Sendable {
    public let root: String

    public init(root: String) throws(ContentError) {
        self.root = root
        for directory in ["\(root)/blobs/sha256", "\(root)/ingest"] {
            do {
                _ = try FileSystem.makeDirectories(directory, mode: 0o700)
            } catch {
                throw ContentError(.io, "content store: create \(directory): \(error)")
            }
        }
    }

    /// Blobs are filed by algorithm: `blobs/sha256/<hex>`, `blobs/sha512/<hex>`.
    public func path(of digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)" }

    public func contains(_ digest: Digest) -> Bool { FileSystem.exists(path(of: digest)) }

    /// The stored size of a blob.
    public func size(of digest: Digest) throws(ContentError) -> Int64 {
        var info = stat()
        guard stat(path(of: digest), &info) == 0 else {
            throw ContentError(.notFound, "blob \(digest): not in the content store")
        }
        return Int64(info.st_size)
    }

    /// A whole blob (manifests, configs: small documents).
    public func read(_ digest: Digest) throws(ContentError) -> [UInt8] {
        do {
            return try FileSystem.read(path(of: digest))
        } catch {
            if error.errno == ENOENT { throw ContentError(.notFound, "blob \(digest): not in the content store") }
            throw ContentError(.io, "blob \(digest): \(error)")
        }
    }

    /// Stores `bytes` that must have `digest` (a document fetched whole). Whatever an
    /// earlier, interrupted write left in this digest's ingest is dropped first: the whole
    /// document is in hand, and appending to a leftover would overflow its size.
    @discardableResult
    public func write(_ bytes: [UInt8], expecting digest: Digest) throws(ContentError) -> Digest {
        let ingest = try Ingest(store: self, key: digest.encoded, expected: digest, expectedSize: Int64(bytes.count))
        ingest.restart()
        try ingest.append(bytes)
        try ingest.commit()
        return digest
    }

    /// Every stored blob.
    public func list() -> [Digest] {
        ((try? FileSystem.listDirectory("\(root)/blobs/sha256")) ?? []).compactMap { try? Digest(algorithm: .sha256, encoded: $0) }.sorted()
    }

    /// Removes a blob; removing one that is not there is not an error.
    public func delete(_ digest: Digest) throws(ContentError) {
        if unlink(path(of: digest)) != 0 && errno != ENOENT {
            throw ContentError(.io, "blob \(digest): remove: \(SystemError.describe(errno: errno))")
        }
    }

    /// Removes partial downloads not written to for `seconds`; their keys.
    public func removeIngests(olderThan seconds: Int) -> [String] {
        var removed: [String] = []
        let now = time(nil)
        for key in (try? FileSystem.listDirectory("\(root)/ingest")) ?? [] {
            let directory = "\(root)/ingest/\(key)"
            var info = stat()
            let modified = stat("\(directory)/data", &info) == 0 || stat(directory, &info) == 0 ? info.st_mtim.tv_sec : 0
            if now - modified > seconds, (try? FileSystem.removeTree(directory)) != nil { removed.append(key) }
        }
        return removed
    }

    /// Bytes used by all blobs, and their count (for ImageFsInfo).
    public func usage() -> (bytes: Int64, inodes: Int64) {
        var bytes: Int64 = 0
        var inodes: Int64 = 0
        for digest in list() {
            var info = stat()
            if stat(path(of: digest), &info) == 0 {
                bytes += Int64(info.st_blocks) * 512
                inodes += 1
            }
        }
        return (bytes, inodes)
    }
}
