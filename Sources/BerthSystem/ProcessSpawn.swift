import CBerth
import Glibc

/// Starting a helper program (a runtime, a CNI plugin) with posix_spawn: the given
/// descriptors as its 0, 1 and 2 (everything else the caller holds must be close-on-exec),
/// an empty signal mask, and `environment` (nil: this process's).
public enum ProcessSpawn {
    public static func spawn(
        _ arguments: [String], environment: [String: String]? = nil, input: Int32, output: Int32, error: Int32
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, error, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The caller may block signals (a shim's signalfd); its helpers must not inherit that.
        // ...nor signals it ignores (berthd's SIGTERM, a shim's SIGPIPE): ignored
        // dispositions survive exec, so every signal is set back to its default.
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = argv.withUnsafeBufferPointer { argvPointer in
            if let envp {
                return envp.withUnsafeBufferPointer { posix_spawn(&pid, arguments[0], &actions, &attributes, argvPointer.baseAddress!, $0.baseAddress!) }
            }
            return posix_spawn(&pid, arguments[0], &actions, &attributes, argvPointer.baseAddress!, environ)
        }
        guard result == 0 else { throw SystemError(stage: "start \(arguments[0])", errno: result) }
        return pid
    }

    /// A pipe with both ends close-on-exec from the start (a concurrent spawn in another
    /// thread must never inherit an end).
    public static func pipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard berth_pipe2_cloexec(&ends) == 0 else { throw SystemError(stage: "pipe", errno: errno) }
        return (ends[0], ends[1])
    }

    /// What a helper run to its end printed, and how it ended.
    public struct Outcome: Sendable {
        /// The exit code, or 128+N for signal N.
        public let status: Int32
        public let output: [UInt8]
    }

    /// Runs `arguments` with `input` on its stdin and its stdout (and stderr too, with
    /// `mergingErrors`) captured; killed after `timeout` seconds.
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil, input: [UInt8] = [], mergingErrors: Bool = false, timeout: Double
    ) throws(SystemError) -> Outcome {
        let stdinPipe = try pipe()
        let stdoutPipe: (read: Int32, write: Int32)
        do {
            stdoutPipe = try pipe()
        } catch {
            close(stdinPipe.read)
            close(stdinPipe.write)
            throw error
        }
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let spawned = Result { () throws(SystemError) in
            try spawn(arguments, environment: environment, input: stdinPipe.read, output: stdoutPipe.write, error: mergingErrors ? stdoutPipe.write : null)
        }
        close(stdinPipe.read)
        close(stdoutPipe.write)
        defer { close(stdoutPipe.read) }
        let pid: pid_t
        switch spawned {
        case .success(let started): pid = started
        case .failure(let error):
            close(stdinPipe.write)
            throw error
        }
        // Small inputs fit the pipe; a helper that never reads its stdin cannot block us.
        try? FileSystem.writeAll(stdinPipe.write, input, path: arguments[0])
        close(stdinPipe.write)
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        let deadline = Clock.monotonicNanoseconds() + Int64(timeout * 1e9)
        while true {
            let remaining = Int32(max(0, (deadline - Clock.monotonicNanoseconds()) / 1_000_000))
            var entry = pollfd(fd: stdoutPipe.read, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 {
                kill(pid, SIGKILL)
                _ = waitStatus(pid)
                throw SystemError(stage: "run \(arguments[0])", errno: ETIMEDOUT, detail: "no end within \(Int(timeout)) s; killed")
            }
            let count = read(stdoutPipe.read, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        return Outcome(status: waitStatus(pid), output: output)
    }

    /// Reaps `pid`: its exit code, or 128+N for signal N.
    public static func waitStatus(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return berth_wifexited(status) != 0 ? berth_wexitstatus(status) : 128 + berth_wtermsig(status)
    }
}
