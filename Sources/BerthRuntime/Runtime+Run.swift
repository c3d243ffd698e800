import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

extension Runtime {
    /// `run`: create and start. Detached, it returns once the container runs. In the
    /// foreground, berth stays the init's parent: it forwards every signal it gets to the
    /// container, waits, deletes the container (unless `keep`) and returns the exit code
    /// (128+N when the container was killed by signal N).
    public func run(id: String, options: CreateOptions, detach: Bool, keep: Bool) throws(RuntimeError) -> Int32 {
        // Signals are blocked before the clone, so none is lost between the clone and the
        // wait loop; the init unblocks them for itself.
        var forwarded = sigset_t()
        sigemptyset(&forwarded)
        if !detach {
            for signal in Signals.forwarded { sigaddset(&forwarded, signal) }
            sigaddset(&forwarded, SIGCHLD)
            sigprocmask(SIG_BLOCK, &forwarded, nil)
        }
        let container = try create(id: id, options: options, keepTerminal: !detach)
        let record = container.record
        var notify: Int32?
        defer { if let notify { close(notify) } }
        do {
            if options.notifySocket != nil { notify = try NotifySocket.listen(stateDirectory: store.directory(id)) }
            try releaseInit(record)
            try runPoststart(record)
            // Detached, run returns only once READY=1 is passed on (or the container ended).
            if detach, let notify, let hostSocket = options.notifySocket {
                try NotifySocket.forwardReady(from: notify, to: hostSocket, pid: record.pid, startTime: record.startTime)
            }
        } catch {
            if let terminal = container.terminal { close(terminal) }
            try? delete(id: id, force: true)
            throw error
        }
        if detach { return 0 }

        var foreground = ForegroundProcess(pid: container.pid, signals: forwarded, master: container.terminal)
        if let notify, let hostSocket = options.notifySocket {
            foreground.notify = .init(socket: notify, hostSocket: hostSocket, mainPid: record.pid)
        }
        let code = foreground.wait()
        if let master = container.terminal { close(master) }
        if !keep {
            try delete(id: id, force: true)
        }
        return code
    }
}
