import BerthSystem
import Glibc

/// Which cgroup hierarchies the host mounts: pure v2 (unified), pure v1, or hybrid (v1
/// hierarchies plus a cgroup2 mount, often at /sys/fs/cgroup/unified, as on this project's
/// CI machines). Read from /proc/self/mountinfo.
public struct CgroupLayout: Sendable, Equatable {
    public var hierarchies: [CgroupHierarchy]

    public init(hierarchies: [CgroupHierarchy]) { self.hierarchies = hierarchies }

    public enum Mode: String, Sendable { case unified, legacy, hybrid }

    public var mode: Mode {
        let hasV1 = hierarchies.contains { $0.version == .v1 }
        let hasV2 = hierarchies.contains { $0.version == .v2 }
        return hasV1 ? (hasV2 ? .hybrid : .legacy) : .unified
    }

    public var v1: [CgroupHierarchy] { hierarchies.filter { $0.version == .v1 } }
    public var unified: CgroupHierarchy? { hierarchies.first { $0.version == .v2 } }

    /// Every cgroup v1 controller the kernel has had.
    static let knownV1Controllers: Set<String> = [
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio", "perf_event",
        "hugetlb", "pids", "rdma", "misc", "debug",
    ]

    /// The layout of this host.
    public static func current() throws(SystemError) -> CgroupLayout {
        let text = try FileSystem.readText("/proc/self/mountinfo")
        var layout = parse(mountinfo: text)
        if let index = layout.hierarchies.firstIndex(where: { $0.version == .v2 }) {
            let controllersFile = "\(layout.hierarchies[index].mountPoint)/cgroup.controllers"
            let controllers = (try? FileSystem.readText(controllersFile)) ?? ""
            layout.hierarchies[index].controllers = controllers.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        }
        return layout
    }

    /// Parses /proc/self/mountinfo, keeping the first mount of each hierarchy.
    public static func parse(mountinfo: String) -> CgroupLayout {
        var hierarchies: [CgroupHierarchy] = []
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard let separator = fields.firstIndex(of: "-"), fields.count > separator + 3, fields.count > 4 else { continue }
            let type = fields[separator + 1]
            let root = MountInfo.unescape(fields[3])
            let mountPoint = MountInfo.unescape(fields[4])
            if type == "cgroup2" {
                if !hierarchies.contains(where: { $0.version == .v2 }) {
                    hierarchies.append(CgroupHierarchy(version: .v2, mountPoint: mountPoint, mountRoot: root, controllers: []))
                }
            } else if type == "cgroup" {
                let superOptions = fields[separator + 3].split(separator: ",").map(String.init)
                // Super options mix controllers with flags (rw, xattr, favordynmods...): keep
                // only controller names and named hierarchies.
                let controllers = superOptions.filter { knownV1Controllers.contains($0) || $0.hasPrefix("name=") }
                guard !controllers.isEmpty, !hierarchies.contains(where: { $0.controllers == controllers }) else { continue }
                hierarchies.append(CgroupHierarchy(version: .v1, mountPoint: mountPoint, mountRoot: root, controllers: controllers))
            }
        }
        return CgroupLayout(hierarchies: hierarchies)
    }
}

/// Helpers for /proc/self/mountinfo fields.
public enum MountInfo {
    /// Undoes the octal escapes (`\040` for a space) mountinfo uses in paths.
    public static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let source = Array(field.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 3 < source.count,
                let value = UInt8(String(decoding: source[(index + 1)...(index + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
