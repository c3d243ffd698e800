import BerthRuntimeSpec
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

    /// Enables every available controller down the v2 hierarchy to the container's cgroup,
    /// so its resource files exist (cgroup v2 only offers a child the controllers listed in
    /// its parent's cgroup.subtree_control). Best effort: a controller that cannot be
    /// enabled shows up as a missing file when a resource needs it.
    public func enableControllers() {
        for (hierarchy, directory) in paths.directories where hierarchy.version == .v2 {
            var level = hierarchy.mountPoint
            for component in directory.dropFirst(hierarchy.mountPoint.count).split(separator: "/") {
                let controllers = ((try? FileSystem.readText("\(level)/cgroup.controllers")) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
                if !controllers.isEmpty {
                    try? FileSystem.writeValue("\(level)/cgroup.subtree_control", controllers.map { "+\($0)" }.joined(separator: " "))
                }
                level += "/\(component)"
            }
        }
    }

    /// The writes that enforce `resources` on this host's layout: v2 writes on a unified
    /// host; v1 writes otherwise, except hugetlb, which a hybrid host may keep in its
    /// cgroup2 mount (this project's machines do).
    public func writes(for resources: LinuxResources, allowedDevices: [String]) throws(CgroupError) -> [CgroupWrite] {
        let hierarchies = paths.directories.map(\.hierarchy)
        let hasV1 = hierarchies.contains { $0.version == .v1 }
        guard hasV1 else { return try ResourceWrites.v2(resources) }
        var v1 = try ResourceWrites.v1(resources, allowedDevices: allowedDevices)
        let v1Controllers = Set(hierarchies.filter { $0.version == .v1 }.flatMap(\.controllers))
        let unifiedControllers = Set(hierarchies.filter { $0.version == .v2 }.flatMap(\.controllers))
        if !v1Controllers.contains("hugetlb") && unifiedControllers.contains("hugetlb") {
            v1.removeAll { $0.controller == "hugetlb" }
            var hugetlbOnly = LinuxResources()
            hugetlbOnly.hugepageLimits = resources.hugepageLimits
            v1 += try ResourceWrites.v2(hugetlbOnly)
        }
        return v1
    }

    /// On a cgroup v2 host, device rules become an eBPF program on the container's cgroup
    /// (v1 hosts enforce them through the devices controller, in `writes`).
    public func applyDevices(_ rules: [LinuxResources.DeviceRule]?, allowed: [String]) throws(CgroupError) {
        guard let rules, !rules.isEmpty, !paths.directories.contains(where: { $0.hierarchy.version == .v1 }),
            let directory = directory(for: "")
        else { return }
        try DeviceFilter.attach(rules, allowed: allowed, to: directory)
    }

    /// Performs `writes` in order. A lowered memory limit can be refused while
    /// memory+swap is still higher, and a raised memory+swap while the limit is lower
    /// (v1 keeps memsw >= memory), so a refused memsw write is retried after the others.
    public func apply(_ writes: [CgroupWrite]) throws(CgroupError) {
        var retry: [CgroupWrite] = []
        for write in writes {
            do {
                try perform(write)
            } catch {
                if write.file == "memory.memsw.limit_in_bytes" && retry.isEmpty {
                    retry.append(write)
                    continue
                }
                throw error
            }
        }
        for write in retry { try perform(write) }
    }

    private func perform(_ write: CgroupWrite) throws(CgroupError) {
        guard let directory = directory(for: write.controller) else {
            throw CgroupError("\(write.field): the \(write.controller) controller is not mounted on this host")
        }
        let path = "\(directory)/\(write.file)"
        do {
            try FileSystem.writeValue(path, write.value)
        } catch {
            throw CgroupError("\(write.field)=\(write.value): write \(path): \(SystemError.describe(errno: error.errno))")
        }
    }

    /// The container's directory in the hierarchy of `controller` ("" for the unified one).
    public func directory(for controller: String) -> String? {
        if controller.isEmpty { return paths.directories.first { $0.hierarchy.version == .v2 }?.directory }
        return paths.directories.first { $0.hierarchy.version == .v1 && $0.hierarchy.controllers.contains(controller) }?.directory
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
