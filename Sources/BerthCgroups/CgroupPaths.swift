import BerthSystem

/// Turns `linux.cgroupsPath` into one directory per hierarchy, the way runc's cgroupfs
/// driver does: an absolute path is taken from each hierarchy's root; a relative or empty
/// one (empty means the container id) is taken from the runtime's own cgroup in that
/// hierarchy, as /proc/self/cgroup lists it.
public struct CgroupPaths: Sendable, Equatable {
    /// One entry per hierarchy: the hierarchy and the container's cgroup directory in it.
    public var directories: [(hierarchy: CgroupHierarchy, directory: String)]

    public init(directories: [(hierarchy: CgroupHierarchy, directory: String)]) { self.directories = directories }

    public static func == (lhs: CgroupPaths, rhs: CgroupPaths) -> Bool {
        lhs.directories.map(\.directory) == rhs.directories.map(\.directory)
    }

    /// - Parameters:
    ///   - cgroupsPath: `linux.cgroupsPath`, or nil.
    ///   - containerID: used when the path is empty.
    ///   - ownCgroups: /proc/self/cgroup of the runtime, parsed by `parseProcCgroup`.
    public static func resolve(cgroupsPath: String?, containerID: String, layout: CgroupLayout, ownCgroups: [String: String]) throws(CgroupError) -> CgroupPaths {
        let requested = (cgroupsPath ?? "").isEmpty ? containerID : cgroupsPath!
        if requested.contains(":") && !requested.hasPrefix("/") {
            throw CgroupError("linux.cgroupsPath \"\(requested)\" looks like a systemd path (slice:prefix:name); use --systemd-cgroup, which needs systemd")
        }
        let components = requested.split(separator: "/")
        if components.contains(where: { $0 == ".." }) {
            throw CgroupError("linux.cgroupsPath \"\(requested)\" must not contain \"..\"")
        }
        var directories: [(CgroupHierarchy, String)] = []
        for hierarchy in layout.hierarchies {
            let path: String
            if requested.hasPrefix("/") {
                path = requested
            } else {
                let base = ownCgroups[hierarchy.procKey] ?? "/"
                path = (base.hasSuffix("/") ? base : base + "/") + requested
            }
            directories.append((hierarchy, hierarchy.directory(for: path)))
        }
        return CgroupPaths(directories: directories)
    }

    /// The hierarchies of recorded container directories, matched against this host's
    /// layout by mount point.
    public static func recorded(_ directories: [String], layout: CgroupLayout) -> CgroupPaths {
        var result: [(hierarchy: CgroupHierarchy, directory: String)] = []
        for directory in directories {
            let match = layout.hierarchies.filter { directory == $0.mountPoint || directory.hasPrefix($0.mountPoint + "/") }
                .max { $0.mountPoint.count < $1.mountPoint.count }
            if let match { result.append((match, directory)) }
        }
        return CgroupPaths(directories: result)
    }

    /// Parses /proc/<pid>/cgroup ("4:memory:/a/b", "0::/x") into hierarchy key -> path.
    public static func parseProcCgroup(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            result[String(parts[1])] = String(parts[2])
        }
        return result
    }
}

/// A cgroup operation that failed, naming the cgroup path or the configuration at fault.
public struct CgroupError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public init(_ error: SystemError) { self.message = error.description }
    public var description: String { message }
}
