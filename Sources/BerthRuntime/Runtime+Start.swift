import BerthRuntimeSpec
import BerthSystem
import CBerth
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

    /// Opens exec.fifo for reading, which unblocks the init's open for writing, and reads
    /// the byte it writes. The init's pidfd is polled too, so an init that died does not
    /// leave `start` waiting forever.
    func releaseInit(_ record: ContainerRecord) throws(RuntimeError) {
        let fifoPath = store.fifoPath(record.id)
        let fifo = open(fifoPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fifo < 0 { throw RuntimeError(.system, "\(SystemError.last("open", fifoPath))") }
        defer { close(fifo) }
        let pidfd = berth_pidfd_open(record.pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var byte: UInt8 = 0
        while true {
            var entries = [pollfd(fd: fifo, events: Int16(POLLIN), revents: 0), pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&entries, 2, 100)
            if ready < 0 && errno != EINTR { throw RuntimeError(.system, "\(SystemError.last("poll", fifoPath))") }
            if entries[0].revents & Int16(POLLIN) != 0, read(fifo, &byte, 1) == 1 { break }
            if entries[1].revents != 0 || record.status(store: store) == .stopped {
                throw RuntimeError(.invalidState, "cannot start a container that has stopped")
            }
        }
        unlink(fifoPath)
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
