import BerthJSON
import CBerth
import Glibc

/// The device nodes of the host's /dev, which a privileged container gets as its own (as
/// containerd and CRI-O give them, so that `privileged: true` can reach disks, loop devices
/// or /dev/kmsg).
enum HostDevices {
    /// One device node.
    struct Node: Equatable {
        var path: String
        var type: String
        var major: UInt32
        var minor: UInt32
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32

        /// The node `info` (from stat or lstat) describes, named `path`; nil for anything
        /// but a character or block device.
        init?(path: String, info: stat) {
            let kind = info.st_mode & S_IFMT
            guard kind == S_IFCHR || kind == S_IFBLK else { return nil }
            self.init(
                path: path, type: kind == S_IFCHR ? "c" : "b", major: berth_major(info.st_rdev), minor: berth_minor(info.st_rdev),
                mode: info.st_mode & 0o777, uid: info.st_uid, gid: info.st_gid)
        }

        /// As an entry of config.json's `linux.devices`.
        var ociDevice: JSONValue {
            ["path": .string(path), "type": .string(type), "major": .int(major), "minor": .int(minor), "fileMode": .int(mode), "uid": .int(uid), "gid": .int(gid)]
        }

        init(path: String, type: String, major: UInt32, minor: UInt32, mode: UInt32, uid: UInt32, gid: UInt32) {
            (self.path, self.type, self.major, self.minor, self.mode, self.uid, self.gid) = (path, type, major, minor, mode, uid, gid)
        }
    }

    /// Directories that are not devices of the host's but the container's own (its ptys,
    /// shm, mqueue) or links into /proc (fd), and container managers' private trees: never
    /// copied, as runc's device walk skips them.
    static let skippedDirectories: Set<String> = ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]

    /// Every character and block device under `root` (recursively, without following
    /// symlinks), named as under /dev; /dev/console is the container's own pty and is
    /// skipped. A node that vanishes during the walk is skipped.
    static func list(root: String = "/dev") -> [Node] {
        var nodes: [Node] = []
        walk(root, name: "/dev", into: &nodes)
        return nodes.sorted { $0.path < $1.path }
    }

    private static func walk(_ directory: String, name: String, into nodes: inout [Node]) {
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if entryName == "." || entryName == ".." { continue }
            let path = "\(directory)/\(entryName)"
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                if !skippedDirectories.contains(entryName) { walk(path, name: "\(name)/\(entryName)", into: &nodes) }
            } else if !(name == "/dev" && entryName == "console"), let node = Node(path: "\(name)/\(entryName)", info: info) {
                nodes.append(node)
            }
        }
    }
}
