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
        do {
            if options.notifySocket != nil { notify = try NotifySocket.listen(stateDirectory: store.directory(id)) }
            try releaseInit(record)
            try runPoststart(record)
            if let notify, let hostSocket = options.notifySocket {
                defer { close(notify) }
                try NotifySocket.forwardReady(from: notify, to: hostSocket, pid: record.pid, startTime: record.startTime)
            }
        } catch {
            if let terminal = container.terminal { close(terminal) }
            try? delete(id: id, force: true)
            throw error
        }
        if detach { return 0 }

        let code: Int32
        if let master = container.terminal {
            code = TerminalProxy.run(master: master, child: container.pid, signals: forwarded)
            close(master)
        } else {
            code = forwardSignals(to: container.pid, waiting: forwarded)
        }
        if !keep {
            try delete(id: id, force: true)
        }
        return code
    }

    /// Waits for the child `pid`, passing on every signal in `signals` except SIGCHLD.
    func forwardSignals(to pid: Int32, waiting signals: sigset_t) -> Int32 {
        var set = signals
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return ProcessWaiting.exitCode(fromWaitStatus: status) }
            if reaped < 0 && errno != EINTR { return 255 }
            var info = siginfo_t()
            let signal = sigwaitinfo(&set, &info)
            if signal < 0 || signal == SIGCHLD { continue }
            _ = Glibc.kill(pid, signal)
        }
    }
}
