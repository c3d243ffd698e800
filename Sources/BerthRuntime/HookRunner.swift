import BerthJSON
import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// Runs OCI hooks: the container state on stdin, the hook's own env only (the runtime's
/// environment is not passed on), stdout and stderr captured for the error message, and
/// the timeout enforced by SIGKILL.
public enum HookRunner {
    /// Runs `hooks` in order and stops at the first failure.
    public static func run(_ hooks: [Spec.Hook], kind: String, state: JSONValue, workingDirectory: String? = nil) throws(RuntimeError) {
        let input = Array(state.serialized().utf8)
        for (index, hook) in hooks.enumerated() {
            do {
                try runOne(hook, input: input, workingDirectory: workingDirectory)
            } catch {
                throw RuntimeError(.hook, "error running \(kind) hook #\(index) (\(hook.path)): \(error.message)")
            }
        }
    }

    static func runOne(_ hook: Spec.Hook, input: [UInt8], workingDirectory: String?) throws(RuntimeError) {
        var stdinPipe: [Int32] = [0, 0]
        var outputPipe: [Int32] = [0, 0]
        guard berth_pipe2_cloexec(&stdinPipe) == 0 else { throw RuntimeError(.system, "\(SystemError.last("create hook stdin pipe"))") }
        guard berth_pipe2_cloexec(&outputPipe) == 0 else {
            close(stdinPipe[0]); close(stdinPipe[1])
            throw RuntimeError(.system, "\(SystemError.last("create hook output pipe"))")
        }
        let argv = hook.args?.isEmpty == false ? hook.args! : [hook.path]
        let env = hook.env ?? []
        let pid = fork()
        if pid < 0 {
            throw RuntimeError(.system, "\(SystemError.last("fork hook", hook.path))")
        }
        if pid == 0 {
            // Child: only async-signal-safe calls from here to exec.
            dup2(stdinPipe[0], 0)
            dup2(outputPipe[1], 1)
            dup2(outputPipe[1], 2)
            if let workingDirectory { _ = chdir(workingDirectory) }
            _ = berth_close_range_cloexec(3)
            for signal in 1..<Int32(32) where signal != SIGKILL && signal != SIGSTOP { Glibc.signal(signal, SIG_DFL) }
            var signals = sigset_t()
            sigemptyset(&signals)
            sigprocmask(SIG_SETMASK, &signals, nil)
            CStrings.exec(path: hook.path, argv: argv, env: env)
            let message = "exec \(hook.path): \(SystemError.describe(errno: errno))"
            _ = message.withCString { write(2, $0, strlen($0)) }
            _exit(127)
        }
        close(stdinPipe[0])
        close(outputPipe[1])
        // The state goes in from the same loop that reads the output and keeps the
        // timeout, without blocking: large annotations can exceed a pipe buffer, and a
        // hook may never read its stdin (or exit before it does: EPIPE, not SIGPIPE).
        var inputLeft = input[...]
        var stdinOpen = true
        _ = fcntl(stdinPipe[1], F_SETFL, O_NONBLOCK)
        func writeInput() {
            while stdinOpen && !inputLeft.isEmpty {
                let written = inputLeft.withUnsafeBytes { write(stdinPipe[1], $0.baseAddress, $0.count) }
                if written > 0 {
                    inputLeft = inputLeft.dropFirst(written)
                } else {
                    if written < 0 && errno == EAGAIN { return }
                    inputLeft = []
                }
            }
            if stdinOpen && inputLeft.isEmpty {
                close(stdinPipe[1])
                stdinOpen = false
            }
        }
        writeInput()

        let deadline = hook.timeout.map { Clock.monotonicNanoseconds() + Int64($0) * 1_000_000_000 }
        var output: [UInt8] = []
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        let pidfd = berth_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var outputOpen = true
        var exited = false
        // Read output until the hook exits; a grandchild holding the pipe open does not
        // keep us waiting once the hook itself has gone (unlike runc).
        while !exited {
            var entries = [
                pollfd(fd: outputOpen ? outputPipe[0] : -1, events: Int16(POLLIN), revents: 0), pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stdinOpen ? stdinPipe[1] : -1, events: Int16(POLLOUT), revents: 0),
            ]
            var wait: Int32 = -1
            if let deadline {
                let left = (deadline - Clock.monotonicNanoseconds()) / 1_000_000
                if left <= 0 {
                    timedOut = true
                    kill(pid, SIGKILL)
                    break
                }
                wait = Int32(left)
            }
            let ready = poll(&entries, 3, wait)
            if ready < 0 && errno != EINTR { break }
            if entries[0].revents != 0 {
                let count = read(outputPipe[0], &buffer, buffer.count)
                if count > 0 { output.append(contentsOf: buffer[0..<count]) } else { outputOpen = false }
            }
            if entries[2].revents != 0 { writeInput() }
            if entries[1].revents != 0 || pidfd < 0 { exited = true }
        }
        if stdinOpen { close(stdinPipe[1]) }
        // Drain what is already buffered without blocking.
        _ = fcntl(outputPipe[0], F_SETFL, O_NONBLOCK)
        while true {
            let count = read(outputPipe[0], &buffer, buffer.count)
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        close(outputPipe[0])
        let code = ProcessWaiting.reap(child: pid)
        let captured = String(decoding: output.prefix(4096), as: UTF8.self)
        if timedOut {
            throw RuntimeError(.hook, "hook ran past its timeout of \(hook.timeout!)s and was killed")
        }
        if code != 0 {
            let reason = code > 128 ? "killed by signal \(code - 128)" : "exit status \(code)"
            throw RuntimeError(.hook, "\(reason), output: \(captured)")
        }
    }
}

/// exec with argv and envp built from Swift strings (in the forked child, which is a
/// single-threaded copy of berth, so allocating there is safe).
enum CStrings {
    static func exec(path: String, argv: [String], env: [String]) {
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        cArgs.withUnsafeBufferPointer { args in
            cEnv.withUnsafeBufferPointer { envp in
                _ = execve(path, args.baseAddress!, envp.baseAddress!)
            }
        }
    }
}
