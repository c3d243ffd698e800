import BerthRuntimeSpec
import BerthSystem
import Glibc

extension Runtime {
    /// `start`: lets a created container's init run the user program, then runs the
    /// poststart hooks. A failing poststart hook stops the container and fails `start`
    /// (the runtime spec since 1.2; runc 1.1 runs these hooks during create instead).
    ///
    /// With `notifySocket` (berth's NOTIFY_SOCKET) and a container created with one, it
    /// returns once the container has sent READY=1 (passed on) or has exited.
    public func start(id: String, notifySocket: String? = nil) throws(RuntimeError) {
        try ContainerID.validate(id)
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        switch record.status(store: store) {
        case .created: break
        case .running: throw RuntimeError(.invalidState, "cannot start an already running container")
        case .stopped: throw RuntimeError(.invalidState, "cannot start a container that has stopped")
        case .paused: throw RuntimeError(.invalidState, "cannot start a container in the paused state")
        case .creating: throw RuntimeError(.invalidState, "cannot start a container that is still being created")
        }
        let notify = try notifySocket.flatMap { _ throws(RuntimeError) in try NotifySocket.listen(stateDirectory: store.directory(id)) }
        defer { if let notify { close(notify) } }
        try releaseInit(record)
        try runPoststart(record)
        // The wait for READY=1 may be long: `delete`, `pause` and the rest must not wait too.
        lock.release()
        if let notify, let notifySocket {
            try NotifySocket.forwardReady(from: notify, to: notifySocket, pid: record.pid, startTime: record.startTime)
        }
    }

    /// Connects to the init's exec socket, which starts the container, and waits for its
    /// answer: "k" and then end-of-file once the user program is executing, or the reason
    /// it is not (a failed startContainer hook). Nobody listening means the init is gone.
    func releaseInit(_ record: ContainerRecord) throws(RuntimeError) {
        let connection: Int32?
        do {
            connection = try ExecSocket.connect(in: store.directory(record.id))
        } catch {
            throw RuntimeError(.system, "start \(record.id): \(error)")
        }
        guard let connection else { throw RuntimeError(.invalidState, "cannot start a container that has stopped") }
        defer { close(connection) }
        unlink(store.execSocketPath(record.id))
        if case .failure(let error) = ExecSocket.awaitExec(connection) { throw error }
    }

    func runPoststart(_ record: ContainerRecord) throws(RuntimeError) {
        guard let hooks = record.poststart, !hooks.isEmpty else { return }
        var state = record.state(store: store)
        state.status = .running
        do {
            try HookRunner.run(hooks, kind: "poststart", state: state.hookJSON(), workingDirectory: record.bundle)
        } catch {
            try? ProcessWaiting.signal(pid: record.pid, startTime: record.startTime, signal: SIGKILL)
            throw error
        }
    }
}
