import BerthJSON
import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// The process attributes of config.json that are one system call each: scheduler,
/// I/O priority, CPU affinity and personality. Each error names the member.
enum ProcessAttributes {
    static let policies: [String: UInt32] = [
        "SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3, "SCHED_IDLE": 5, "SCHED_DEADLINE": 6,
    ]
    static let schedulerFlags: [String: UInt64] = [
        "SCHED_FLAG_RESET_ON_FORK": 1, "SCHED_FLAG_RECLAIM": 2, "SCHED_FLAG_DL_OVERRUN": 4, "SCHED_FLAG_KEEP_POLICY": 8,
        "SCHED_FLAG_KEEP_PARAMS": 16, "SCHED_FLAG_UTIL_CLAMP_MIN": 32, "SCHED_FLAG_UTIL_CLAMP_MAX": 64,
    ]
    static let ioClasses: [String: Int32] = ["IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3]
    static let domains: [String: UInt] = ["LINUX": 0x0000, "LINUX32": 0x0008]

    /// Checks the members without applying them (the parent does this before anything exists).
    static func validate(_ spec: Spec) throws(RuntimeError) {
        try apply(spec, dryRun: true)
    }

    /// Applies what the config asks for to this process.
    static func apply(_ spec: Spec, dryRun: Bool = false) throws(RuntimeError) {
        let process = spec.process
        if let scheduler = process?.scheduler, scheduler != .null {
            guard let name = scheduler["policy"]?.stringValue, let policy = policies[name] else {
                throw RuntimeError(.invalidConfig, "process.scheduler.policy: unknown policy \(scheduler["policy"]?.serialized() ?? "(missing)")")
            }
            var flags: UInt64 = 0
            for flag in scheduler["flags"]?.arrayValue ?? [] {
                guard let name = flag.stringValue, let value = schedulerFlags[name] else {
                    throw RuntimeError(.invalidConfig, "process.scheduler.flags: unknown flag \(flag.serialized())")
                }
                flags |= value
            }
            let nice = Int32(scheduler["nice"]?.int64Value ?? 0)
            let priority = UInt32(scheduler["priority"]?.int64Value ?? 0)
            func number(_ key: String) -> UInt64 { UInt64(max(0, scheduler[key]?.int64Value ?? 0)) }
            if !dryRun && berth_sched_setattr(policy, nice, priority, flags, number("runtime"), number("deadline"), number("period")) != 0 {
                throw RuntimeError(.system, "\(SystemError.last("set process.scheduler", "\(name) nice=\(nice) priority=\(priority)"))")
            }
        }
        if let ioPriority = process?.ioPriority, ioPriority != .null {
            guard let name = ioPriority["class"]?.stringValue, let ioClass = ioClasses[name] else {
                throw RuntimeError(.invalidConfig, "process.ioPriority.class: unknown class \(ioPriority["class"]?.serialized() ?? "(missing)")")
            }
            let level = ioPriority["priority"]?.int64Value ?? 0
            guard (0...7).contains(level) else { throw RuntimeError(.invalidConfig, "process.ioPriority.priority \(level) is out of range (0-7)") }
            if !dryRun && berth_ioprio_set(ioClass, Int32(level)) != 0 {
                throw RuntimeError(.system, "\(SystemError.last("set process.ioPriority", "\(name) \(level)"))")
            }
        }
        if let final = process?.execCPUAffinity?["final"]?.stringValue, !final.isEmpty {
            if !dryRun && berth_set_affinity(0, final) != 0 {
                throw RuntimeError(.system, "\(SystemError.last("set process.execCPUAffinity.final", final))")
            }
        }
        if let personality = spec.linux?.personality, personality != .null {
            guard let name = personality["domain"]?.stringValue, let domain = domains[name] else {
                throw RuntimeError(.invalidConfig, "linux.personality.domain: unknown domain \(personality["domain"]?.serialized() ?? "(missing)") (LINUX or LINUX32)")
            }
            if let flags = personality["flags"]?.arrayValue, !flags.isEmpty {
                throw RuntimeError(.invalidConfig, "linux.personality.flags: no flags are supported (as in runc)")
            }
            if !dryRun && berth_personality(domain) != 0 {
                throw RuntimeError(.system, "\(SystemError.last("set linux.personality", name))")
            }
        }
    }

    /// `execCPUAffinity.initial`, applied by the parent to the init right after the clone.
    static func applyInitialAffinity(_ spec: Spec, pid: Int32) throws(RuntimeError) {
        guard let initial = spec.process?.execCPUAffinity?["initial"]?.stringValue, !initial.isEmpty else { return }
        if berth_set_affinity(pid, initial) != 0 {
            throw RuntimeError(.system, "\(SystemError.last("set process.execCPUAffinity.initial", initial))")
        }
    }
}
