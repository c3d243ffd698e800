import BerthCgroups
import BerthSystem

/// The OOM kills counted in a process's memory cgroup: `oom_kill` in memory.oom_control
/// (cgroup v1) or memory.events (v2). Read when the container starts and when it exits:
/// a rise means the kernel's OOM killer struck inside it.
public struct OOMCounter: Sendable {
    /// The file holding the counter, found from /proc/<pid>/cgroup.
    public let file: String?

    public init(pid: Int32, cgroupRoot: String = "/sys/fs/cgroup") {
        var found: String?
        let text = (try? FileSystem.readText("/proc/\(pid)/cgroup")) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[1].split(separator: ",").contains("memory") {
                found = "\(cgroupRoot)/memory\(fields[2])/memory.oom_control"
                break
            }
            if fields[0] == "0" && fields[1].isEmpty && FileSystem.exists("\(cgroupRoot)\(fields[2])/memory.events") {
                found = "\(cgroupRoot)\(fields[2])/memory.events"
            }
        }
        file = found
    }

    /// The current count (0 when unknown).
    public func read() -> UInt64 {
        guard let file else { return 0 }
        return CgroupStats.keyValues(file)["oom_kill"] ?? 0
    }
}
