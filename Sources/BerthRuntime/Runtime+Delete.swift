import BerthCgroups
import BerthRuntimeSpec
import BerthSystem
import Glibc

extension Runtime {
    /// `delete [--force] ID`. A created container is killed and deleted (as runc does); a
    /// running or paused one only with `force`. Cgroups berth made are removed, then the
    /// poststop hooks run (a failing one is reported but does not stop the delete), then
    /// the state directory goes.
    public func delete(id: String, force: Bool) throws(RuntimeError) {
        try ContainerID.validate(id)
        let lock: FileLock
        do {
            lock = try store.lock(id)
        } catch {
            if error.code == .notFound && force { return }
            throw error
        }
        defer { lock.release() }
        let record: ContainerRecord
        do {
            record = try store.load(id)
        } catch {
            // A directory without state is what a create killed midway leaves; with
            // --force it goes, so the id can be used again (as runc does).
            if error.code == .notFound && force {
                try store.remove(id)
                return
            }
            throw error
        }
        let status = record.status(store: store)
        switch status {
        case .stopped: break
        case .created:
            try stop(record)
        case .running, .paused, .creating:
            guard force else { throw RuntimeError(.invalidState, "cannot delete container \(id) that is not stopped: \(status.rawValue)") }
            try stop(record)
        }
        try destroy(record)
    }

    /// SIGKILLs the container (every process of it when it shares a pid namespace, or is
    /// frozen) and waits for the init to be gone.
    func stop(_ record: ContainerRecord) throws(RuntimeError) {
        if !record.ownPidNamespace || record.isFrozen {
            signalAll(record, signal: SIGKILL)
        } else {
            try? ProcessWaiting.signal(pid: record.pid, startTime: record.startTime, signal: SIGKILL)
        }
        thaw(record)
        guard ProcessWaiting.waitForExit(pid: record.pid, startTime: record.startTime, timeout: 10) else {
            throw RuntimeError(.system, "container \(record.id): init process \(record.pid) did not exit within 10s of SIGKILL")
        }
    }

    /// A frozen cgroup must be thawed for SIGKILL to take effect.
    func thaw(_ record: ContainerRecord) {
        try? CgroupFreezer.set(record.cgroupDirectories, frozen: false, wait: false)
    }

    func destroy(_ record: ContainerRecord) throws(RuntimeError) {
        let logger = logger(for: record.id)
        var failure: RuntimeError?
        // Processes left in a shared-pid-namespace container keep the cgroup busy.
        if !record.ownPidNamespace { signalAll(record, signal: SIGKILL) }
        let manager = CgroupManager(paths: CgroupPaths(directories: []), created: record.cgroupCreated)
        do {
            try manager.destroy(leaves: Set(record.cgroupDirectories))
        } catch {
            failure = RuntimeError(.system, "delete \(record.id): \(error)")
        }
        if let hooks = record.poststop, !hooks.isEmpty {
            var state = record.state(store: store)
            state.status = .stopped
            do {
                try HookRunner.run(hooks, kind: "poststop", state: state.hookJSON(), workingDirectory: record.bundle)
            } catch {
                logger.warning("\(error.message)")
            }
        }
        try store.remove(record.id)
        if let failure { throw failure }
    }
}
