import BerthCgroups
import BerthRuntimeSpec
import BerthSystem
import Glibc

extension Runtime {
    /// `kill [--all] ID [SIGNAL]`. With `all`, every process in the container's cgroup.
    public func kill(id: String, signal: Int32, all: Bool) throws(RuntimeError) {
        try ContainerID.validate(id)
        let record = try store.load(id)
        let status = record.status(store: store)
        if status == .stopped {
            if all { return }
            throw RuntimeError(.invalidState, "container not running")
        }
        if all {
            signalAll(record, signal: signal)
            return
        }
        try ProcessWaiting.signal(pid: record.pid, startTime: record.startTime, signal: signal)
    }

    /// Signals every process in the container's cgroup and the cgroups below it (init
    /// first).
    func signalAll(_ record: ContainerRecord, signal: Int32) {
        try? ProcessWaiting.signal(pid: record.pid, startTime: record.startTime, signal: signal)
        for pid in record.processes() where pid != record.pid {
            _ = Glibc.kill(pid, signal)
        }
    }
}
