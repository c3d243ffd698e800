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
}
