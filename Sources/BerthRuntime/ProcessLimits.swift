import BerthRuntimeSpec
import BerthSystem
import Glibc

/// `process.rlimits` and `process.oomScoreAdj`, set by the parent on the child through
/// prlimit and /proc/<pid>/oom_score_adj (on the host's procfs), before the child runs on:
/// inside a user namespace the child could no longer raise a hard limit or lower its score
/// (both take CAP_SYS_RESOURCE in the host's user namespace), and runc does it the same way.
enum ProcessLimits {
    static func apply(_ process: Spec.Process?, to pid: Int32) throws(RuntimeError) {
        guard let process else { return }
        for limit in process.rlimits ?? [] {
            do {
                try Rlimits.set(name: limit.type, soft: limit.soft, hard: limit.hard, pid: pid)
            } catch {
                throw RuntimeError(.system, "unable to start container process: process.rlimits: \(error)")
            }
        }
        if let score = process.oomScoreAdj {
            do {
                try FileSystem.writeValue("/proc/\(pid)/oom_score_adj", String(score))
            } catch {
                let detail = score < 0 ? "lowering the oom score needs CAP_SYS_RESOURCE, which this host refuses" : nil
                throw RuntimeError(.system, "unable to start container process: \(SystemError(stage: "set process.oomScoreAdj", subject: String(score), errno: error.errno, detail: detail))")
            }
        }
    }
}
