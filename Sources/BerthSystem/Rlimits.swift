import CBerth
import Glibc

/// Resource-limit names as the OCI spec writes them (`RLIMIT_NOFILE`).
public enum Rlimits {
    /// Resource numbers as in <asm-generic/resource.h> (x86_64 and arm64 share them).
    public static let table: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]

    /// Sets one limit on process `pid` (0: this one); a refusal says which limit and what the
    /// hard limit is.
    public static func set(name: String, soft: UInt64, hard: UInt64, pid: Int32 = 0) throws(SystemError) {
        guard let resource = table[name] else {
            throw SystemError(stage: "set rlimit", subject: name, errno: EINVAL, detail: "unknown rlimit type")
        }
        var currentHard: UInt64 = 0
        if berth_set_rlimit(pid, resource, soft, hard, &currentHard) != 0 {
            let saved = Glibc.errno
            throw SystemError(
                stage: "set rlimit", subject: "\(name) soft=\(soft) hard=\(hard)", errno: saved,
                detail: saved == EPERM ? "the hard limit here is \(currentHard) and cannot be raised without CAP_SYS_RESOURCE" : nil)
        }
    }
}
