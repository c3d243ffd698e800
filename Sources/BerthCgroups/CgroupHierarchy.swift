import BerthSystem

/// One mounted cgroup hierarchy: a v1 hierarchy with its controllers, or the v2 unified one.
public struct CgroupHierarchy: Sendable, Equatable {
    public enum Version: Sendable, Equatable { case v1, v2 }

    public var version: Version
    /// Where it is mounted (`/sys/fs/cgroup/memory`).
    public var mountPoint: String
    /// The cgroup the mount shows as its root (the mountinfo root field, "/" unless the
    /// mount was made inside a cgroup namespace or is a bind of a sub-cgroup).
    public var mountRoot: String
    /// v1 controllers (`memory`, `cpu`, `name=systemd`); for v2, those in cgroup.controllers.
    public var controllers: [String]

    public init(version: Version, mountPoint: String, mountRoot: String = "/", controllers: [String]) {
        self.version = version
        self.mountPoint = mountPoint
        self.mountRoot = mountRoot
        self.controllers = controllers
    }

    /// The key /proc/<pid>/cgroup uses for this hierarchy: its controllers joined by ","
    /// ("cpu,cpuacct", "name=systemd"), or "" for v2.
    public var procKey: String { version == .v2 ? "" : controllers.joined(separator: ",") }

    /// The directory of cgroup `path` (absolute within the hierarchy) on this mount.
    public func directory(for path: String) -> String {
        var relative = path
        if mountRoot != "/", relative == mountRoot || relative.hasPrefix(mountRoot + "/") { relative.removeFirst(mountRoot.count) }
        let trimmed = relative.split(separator: "/").joined(separator: "/")
        return trimmed.isEmpty ? mountPoint : "\(mountPoint)/\(trimmed)"
    }
}
