import BerthJSON
import CSeccomp
import Glibc

/// `linux.seccomp` of config.json, loaded with libseccomp.
public struct SeccompProfile: Decodable, Sendable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var flags: [String]?
    public var syscalls: [Rule]?

    public struct Rule: Decodable, Sendable {
        public var names: [String]
        public var action: String
        public var errnoRet: UInt32?
        public var args: [Argument]?
    }

    public struct Argument: Decodable, Sendable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String
    }
}

/// A seccomp profile that cannot be loaded, naming the member at fault.
public struct SeccompError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public enum SeccompFilter {
    /// The actions berth supports, for `berth features`.
    public static let actions = [
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
    ]
    public static let operators = ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"]

    static func action(_ name: String, errno: UInt32?, field: String) throws(SeccompError) -> UInt32 {
        switch name {
        case "SCMP_ACT_ALLOW": return berth_scmp_act_allow()
        case "SCMP_ACT_ERRNO": return berth_scmp_act_errno(UInt16(truncatingIfNeeded: errno ?? UInt32(EPERM)))
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return berth_scmp_act_kill_thread()
        case "SCMP_ACT_KILL_PROCESS": return berth_scmp_act_kill_process()
        case "SCMP_ACT_TRAP": return berth_scmp_act_trap()
        case "SCMP_ACT_LOG": return berth_scmp_act_log()
        case "SCMP_ACT_TRACE": return berth_scmp_act_trace(UInt16(truncatingIfNeeded: errno ?? UInt32(EPERM)))
        default: throw SeccompError(message: "\(field): unsupported action \(name)")
        }
    }

    static func compare(_ name: String) -> Int32? {
        // enum scmp_compare: NE 1, LT 2, LE 3, EQ 4, GE 5, GT 6, MASKED_EQ 7.
        ["SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7][name]
    }

    /// Builds the filter; `load` installs it into this process (irreversibly). Syscall
    /// names this kernel or libseccomp does not know are skipped, as runc does.
    public static func load(_ profile: SeccompProfile, install: Bool = true) throws(SeccompError) {
        let defaultAction = try action(profile.defaultAction, errno: profile.defaultErrnoRet, field: "linux.seccomp.defaultAction")
        guard let context = seccomp_init(defaultAction) else {
            throw SeccompError(message: "linux.seccomp: seccomp_init failed")
        }
        defer { seccomp_release(context) }
        for architecture in profile.architectures ?? [] {
            let name = architecture.hasPrefix("SCMP_ARCH_") ? String(architecture.dropFirst(10)).lowercased() : architecture.lowercased()
            let token = seccomp_arch_resolve_name(name)
            if token == 0 { throw SeccompError(message: "linux.seccomp.architectures: unknown architecture \(architecture)") }
            let result = seccomp_arch_add(context, token)
            if result != 0 && result != -EEXIST {
                throw SeccompError(message: "linux.seccomp.architectures: add \(architecture): \(String(cString: strerror(-result)))")
            }
        }
        for flag in profile.flags ?? [] {
            switch flag {
            case "SECCOMP_FILTER_FLAG_LOG": _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_LOG, 1)
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_SSB, 1)
            case "SECCOMP_FILTER_FLAG_TSYNC": _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_TSYNC, 1)
            default: throw SeccompError(message: "linux.seccomp.flags: unsupported flag \(flag)")
            }
        }
        for (index, rule) in (profile.syscalls ?? []).enumerated() {
            let field = "linux.seccomp.syscalls[\(index)]"
            let ruleAction = try action(rule.action, errno: rule.errnoRet, field: field)
            if ruleAction == defaultAction { continue }
            var comparisons: [scmp_arg_cmp] = []
            for argument in rule.args ?? [] {
                guard let op = compare(argument.op) else { throw SeccompError(message: "\(field): unknown operator \(argument.op)") }
                var comparison = scmp_arg_cmp()
                _ = berth_scmp_arg(&comparison, argument.index, op, argument.value, argument.valueTwo ?? 0)
                comparisons.append(comparison)
            }
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR { continue }
                let result = comparisons.withUnsafeBufferPointer { buffer in
                    seccomp_rule_add_array(context, ruleAction, number, UInt32(buffer.count), buffer.baseAddress)
                }
                if result != 0 {
                    throw SeccompError(message: "\(field): add \(name): \(String(cString: strerror(-result)))")
                }
            }
        }
        if install {
            let result = seccomp_load(context)
            if result != 0 { throw SeccompError(message: "linux.seccomp: load the filter: \(String(cString: strerror(-result)))") }
        }
    }
}
