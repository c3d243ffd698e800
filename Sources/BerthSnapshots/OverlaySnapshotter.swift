import BerthSystem
import Glibc

/// Overlay snapshots under `<root>/<id>/{fs,work}` (DESIGN.md §5). A committed snapshot is
/// an unpacked layer; an active one is being written (a layer during unpacking, a
/// container's rootfs). The snapshotter only returns the mounts that make a snapshot
/// visible; it never mounts by itself, so a caller (the runtime, in the container's mount
/// namespace) does it, and nothing is left mounted on the host.
public struct OverlaySnapshotter: Sendable {
    public let root: String

    /// One mount, as config.json's `mounts` and containerd's snapshotters describe it.
    public struct Mount: Sendable, Equatable {
        public var type: String
        public var source: String
        public var options: [String]

        public init(type: String, source: String, options: [String]) {
            self.type = type
            self.source = source
            self.options = options
        }
    }

    public struct SnapshotError: Error, Sendable, CustomStringConvertible, Equatable {
        public let description: String
    }

    public init(root: String) throws(SnapshotError) {
        self.root = root
        do {
            _ = try FileSystem.makeDirectories(root, mode: 0o700)
        } catch {
            throw SnapshotError(description: "snapshots: create \(root): \(error)")
        }
    }

    /// The directory a snapshot's files live in (the overlay upper directory).
    public func directory(_ id: String) -> String { "\(root)/\(id)/fs" }

    /// Makes an empty active snapshot on top of `parents` (nearest first) and returns how
    /// to mount it read-write.
    public func prepare(_ id: String, parents: [String]) throws(SnapshotError) -> [Mount] {
        try Self.validate(id)
        let snapshot = "\(root)/\(id)"
        if mkdir(snapshot, 0o700) != 0 {
            throw SnapshotError(description: "snapshot \(id): \(errno == EEXIST ? "already exists" : SystemError.describe(errno: errno))")
        }
        for sub in ["fs", "work"] where mkdir("\(snapshot)/\(sub)", 0o755) != 0 {
            let reason = SystemError.describe(errno: errno)
            try? FileSystem.removeTree(snapshot)
            throw SnapshotError(description: "snapshot \(id): create \(sub): \(reason)")
        }
        return try mounts(id, parents: parents, readOnly: false)
    }

    /// The mounts of a snapshot: with no parents a bind of its directory; read-only with one
    /// parent and nothing of its own, a read-only bind of the parent; otherwise overlay.
    public func mounts(_ id: String, parents: [String], readOnly: Bool) throws(SnapshotError) -> [Mount] {
        try Self.validate(id)
        for parent in parents { try Self.validate(parent) }
        if parents.isEmpty {
            return [Mount(type: "bind", source: directory(id), options: [readOnly ? "ro" : "rw", "rbind"])]
        }
        if readOnly {
            if parents.count == 1 { return [Mount(type: "bind", source: directory(parents[0]), options: ["ro", "rbind"])] }
            return [Mount(type: "overlay", source: "overlay", options: ["lowerdir=" + parents.map { directory($0) }.joined(separator: ":")])]
        }
        let options = [
            "index=off",
            "upperdir=\(directory(id))",
            "workdir=\(root)/\(id)/work",
            "lowerdir=" + parents.map { directory($0) }.joined(separator: ":"),
        ]
        return [Mount(type: "overlay", source: "overlay", options: options)]
    }

    /// Removes a snapshot and its files; removing one that is gone is not an error.
    public func remove(_ id: String) throws(SnapshotError) {
        try Self.validate(id)
        do {
            try FileSystem.removeTree("\(root)/\(id)")
        } catch {
            if error.errno != ENOENT { throw SnapshotError(description: "snapshot \(id): remove: \(error)") }
        }
    }

    /// Every snapshot directory there is (for garbage collection against the metadata).
    public func list() -> [String] {
        ((try? FileSystem.listDirectory(root)) ?? []).sorted()
    }

    /// Disk space and inodes a snapshot's own files use.
    public func usage(_ id: String) -> (bytes: Int64, inodes: Int64) {
        var total: (bytes: Int64, inodes: Int64) = (0, 0)
        Self.walk(directory(id)) { info in
            total.bytes += Int64(info.st_blocks) * 512
            total.inodes += 1
        }
        return total
    }

    static func walk(_ path: String, _ visit: (stat) -> Void) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        visit(info)
        guard (info.st_mode & S_IFMT) == S_IFDIR, let names = try? FileSystem.listDirectory(path) else { return }
        for name in names { walk("\(path)/\(name)", visit) }
    }

    /// Snapshot ids become directory names and overlay options: letters, digits, `-` and
    /// `_` only (no `/`, `,` or `:`).
    static func validate(_ id: String) throws(SnapshotError) {
        guard !id.isEmpty, id.count <= 80, id.utf8.allSatisfy({ $0 == 45 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
            throw SnapshotError(description: "snapshot id \"\(id)\" must be letters, digits, - and _ only")
        }
    }
}
