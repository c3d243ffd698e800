import BerthRuntimeSpec
import BerthSystem
import Glibc

extension Runtime {
    /// `start`: lets a created container's init run the user program, then runs the
    /// poststart hooks. A failing poststart hook stops the container and fails `start`
    /// (the runtime spec since 1.2; runc 1.1 runs these hooks during create instead).
    public func start(id: String) throws(RuntimeError) {
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
        try releaseInit(record)
        try runPoststart(record)
    }

    /// Writes one byte into exec.fifo, which wakes the init, then waits until the init's
    /// read end closes: it is close-on-exec, so that moment is the exec of the user program
    /// (or the init's death, if a startContainer hook failed). A fifo without a reader
    /// means the init is gone.
    func releaseInit(_ record: ContainerRecord) throws(RuntimeError) {
        let fifoPath = store.fifoPath(record.id)
        let fifo = open(fifoPath, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if fifo < 0 {
            if errno == ENXIO { throw RuntimeError(.invalidState, "cannot start a container that has stopped") }
            throw RuntimeError(.system, "\(SystemError.last("open", fifoPath))")
        }
        defer { close(fifo) }
        var byte: UInt8 = 0x30
        if write(fifo, &byte, 1) != 1 { throw RuntimeError(.system, "\(SystemError.last("write", fifoPath))") }
        unlink(fifoPath)
        while true {
            var entry = pollfd(fd: fifo, events: 0, revents: 0)
            let ready = poll(&entry, 1, -1)
            if ready < 0 && errno != EINTR { break }
            if entry.revents & Int16(POLLERR | POLLHUP) != 0 { break }
        }
        if record.status(store: store) == .stopped {
            throw RuntimeError(.invalidState, "container \(record.id) stopped before its process started (a failed startContainer hook or exec)")
        }
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
