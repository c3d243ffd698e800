import BerthSystem
import Glibc

/// Places a container in its cgroups (cgroupfs driver) and removes them again.
///
/// Creation records which directories berth made, so that `destroy` removes exactly those
/// and never a parent that a kubelet or an administrator created.
public struct CgroupManager: Sendable {
    public let paths: CgroupPaths
    /// Directories berth created, outermost first.
    public private(set) var created: [String]

    public init(paths: CgroupPaths, created: [String] = []) {
        self.paths = paths
        self.created = created
    }

    /// Every container cgroup directory, one per hierarchy.
    public var directories: [String] { paths.directories.map(\.directory) }

    /// Creates the cgroup directories (and missing parents) in every hierarchy. In v1
    /// cpuset, a new group starts with empty cpus and mems, so each created level copies
    /// its parent's before any task can join.
    public mutating func create() throws(CgroupError) {
        for (hierarchy, directory) in paths.directories {
            // An existing cgroup with processes in it belongs to something else: joining it
            // would let `kill --all` and `delete --force` kill those processes.
            if FileSystem.isDirectory(directory), let procs = try? FileSystem.readText("\(directory)/cgroup.procs"), !procs.trimmingSpaces.isEmpty {
                throw CgroupError("cgroup \(directory) already has processes in it; linux.cgroupsPath must name a cgroup of this container's own")
            }
            let made: [String]
            do {
                made = try FileSystem.makeDirectories(directory)
            } catch {
                throw CgroupError("create cgroup \(directory): \(error)")
            }
            created.append(contentsOf: made)
            if hierarchy.version == .v1 && hierarchy.controllers.contains("cpuset") {
                // Every level from the mount point down: a parent made by someone else
                // without cpus or mems would refuse tasks in everything below it.
                var level = hierarchy.mountPoint
                for component in directory.dropFirst(hierarchy.mountPoint.count).split(separator: "/") {
                    level += "/\(component)"
                    try Self.inheritCpuset(level)
                }
            }
        }
    }

    static func inheritCpuset(_ directory: String) throws(CgroupError) {
        let parent = String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)])
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let target = "\(directory)/\(file)"
            guard FileSystem.exists(target) else { continue }
            let current = (try? FileSystem.readText(target))?.trimmingSpaces ?? ""
            if !current.isEmpty { continue }
            let inherited = (try? FileSystem.readText("\(parent)/\(file)"))?.trimmingSpaces ?? ""
            do {
                try FileSystem.writeValue(target, inherited)
            } catch {
                throw CgroupError("write \(target) (copied from the parent cgroup): \(error)")
            }
        }
    }

    /// Moves process `pid` into the container cgroup of every hierarchy.
    public func join(pid: Int32) throws(CgroupError) {
        for directory in directories {
            let procs = "\(directory)/cgroup.procs"
            do {
                try FileSystem.writeValue(procs, String(pid))
            } catch {
                throw CgroupError("add pid \(pid) to cgroup \(procs): \(error)")
            }
        }
    }

    /// The pids in the container's cgroups, sub-cgroups included (from the first hierarchy
    /// that lists them).
    public func processes() -> [Int32] {
        Self.processes(inAnyOf: directories)
    }

    /// The pids in the first of `directories` that can be read, and in every cgroup below it.
    public static func processes(inAnyOf directories: [String]) -> [Int32] {
        for directory in directories where FileSystem.exists("\(directory)/cgroup.procs") {
            var pids: [Int32] = []
            var pending = [directory]
            while let current = pending.popLast() {
                let text = (try? FileSystem.readText("\(current)/cgroup.procs")) ?? ""
                pids.append(contentsOf: text.split(separator: "\n").compactMap { Int32($0) })
                for name in (try? FileSystem.listDirectory(current)) ?? [] where FileSystem.isDirectory("\(current)/\(name)") {
                    pending.append("\(current)/\(name)")
                }
            }
            return pids
        }
        return []
    }

    /// Removes the cgroups a container made below its own (systemd or a nested runtime
    /// inside it does), deepest first, so that its own cgroup can go.
    static func removeSubgroups(of directory: String) {
        for name in (try? FileSystem.listDirectory(directory)) ?? [] where FileSystem.isDirectory("\(directory)/\(name)") {
            removeSubgroups(of: "\(directory)/\(name)")
            rmdir("\(directory)/\(name)")
        }
    }

    /// Removes the directories berth created, innermost first. A container's own cgroup
    /// (a leaf, in `leaves`) can still be busy for a moment after its last task died, so
    /// its removal is retried for up to a second; a parent berth created is left in place
    /// without complaint while other containers' cgroups live under it.
    public func destroy(leaves: Set<String>) throws(CgroupError) {
        var failures: [String] = []
        for directory in created.sorted(by: { $0.count > $1.count }) {
            let isLeaf = leaves.contains(directory)
            if isLeaf { Self.removeSubgroups(of: directory) }
            var attempt = 0
            while rmdir(directory) != 0 {
                let error = errno
                if error == ENOENT { break }
                if !isLeaf && (error == EBUSY || error == ENOTEMPTY) { break }
                attempt += 1
                if error != EBUSY || attempt > 1000 {
                    failures.append("remove cgroup \(directory): \(SystemError.describe(errno: error))")
                    break
                }
                usleep(1_000)
            }
        }
        if !failures.isEmpty { throw CgroupError(failures.joined(separator: "; ")) }
    }

    /// Removes what berth created for this manager's container.
    public func destroy() throws(CgroupError) {
        try destroy(leaves: Set(directories))
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while let last = text.last, last == "\n" || last == " " { text.removeLast() }
        while let first = text.first, first == "\n" || first == " " { text.removeFirst() }
        return String(text)
    }
}
