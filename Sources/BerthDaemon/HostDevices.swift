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
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if !skippedDirectories.contains(entryName) { walk(path, name: "\(name)/\(entryName)", into: &nodes) }
            case S_IFCHR, S_IFBLK:
                if name == "/dev" && entryName == "console" { continue }
                nodes.append(
                    Node(
                        path: "\(name)/\(entryName)", type: info.st_mode & S_IFMT == S_IFCHR ? "c" : "b",
                        major: berth_major(info.st_rdev), minor: berth_minor(info.st_rdev), mode: info.st_mode & 0o777,
                        uid: info.st_uid, gid: info.st_gid))
            default:
                continue
            }
        }
    }
}
