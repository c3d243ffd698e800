import BerthCgroups
import BerthRuntimeSpec
import BerthSystem

extension ContainerRecord {
    /// The status derived from the kernel, not stored: a container is `stopped` once its
    /// init process is gone, a zombie, or a different process with the same pid; `created`
    /// while the exec socket exists (the init waits on it); `paused` while its freezer is
    /// frozen; otherwise `running`.
    public func status(store: StateStore) -> ContainerState.Status {
        guard let process = ProcessStatus.read(pid: pid), process.startTime == startTime, !process.hasExited else {
            return .stopped
        }
        if FileSystem.exists(store.execSocketPath(id)) { return .created }
        if isFrozen { return .paused }
        return .running
    }

    /// The container's processes: those in its cgroups; without cgroups (rootless, where
    /// they were skipped), those in the init's pid namespace.
    func processes() -> [Int32] {
        if !cgroupDirectories.isEmpty { return CgroupManager.processes(inAnyOf: cgroupDirectories) }
        guard ownPidNamespace, let namespace = FileSystem.readLink("/proc/\(pid)/ns/pid") else { return [pid] }
        return ((try? FileSystem.listDirectory("/proc")) ?? []).compactMap { Int32($0) }.filter { candidate in
            FileSystem.readLink("/proc/\(candidate)/ns/pid") == namespace
        }
    }

    /// Whether a v1 freezer or v2 cgroup.freeze holds the container's cgroup frozen.
    var isFrozen: Bool { CgroupFreezer.isFrozen(cgroupDirectories) }

    public func state(store: StateStore, owner: String = "") -> ContainerState {
        ContainerState(ociVersion: ociVersion, id: id, status: status(store: store), pid: pid, bundle: bundle, rootfs: rootfs, created: created, annotations: annotations ?? [:], owner: owner)
    }
}
