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
    /// The unix socket that receives the notify descriptor (SCMP_ACT_NOTIFY).
    public var listenerPath: String?
    /// Passed to the listener as `metadata`.
    public var listenerMetadata: String?

    /// Whether a rule hands syscalls to a listener.
    public var usesNotify: Bool { (syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" } }

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
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
        "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
    ]
    /// The flags berth can set with the libseccomp it was built with.
    public static var flags: [String] {
        ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"] + (waitKillableKnown ? ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] : [])
    }

    /// The architectures this libseccomp resolves, as SCMP_ARCH_* names.
    public static var architectures: [String] {
        let candidates = [
            "x86", "x86_64", "x32", "arm", "aarch64", "mips", "mips64", "mips64n32", "mipsel", "mipsel64", "mipsel64n32", "ppc", "ppc64", "ppc64le",
            "s390", "s390x", "parisc", "parisc64", "riscv64", "loongarch64",
        ]
        return candidates.filter { seccomp_arch_resolve_name($0) != 0 }.map { "SCMP_ARCH_" + $0.uppercased() }
    }

    static var waitKillableKnown: Bool {
        guard let context = seccomp_init(berth_scmp_act_allow()) else { return false }
        defer { seccomp_release(context) }
        return berth_scmp_set_wait_killable(context) == 0
    }

    /// What loading (or checking) a filter found.
    public struct Loaded: Sendable {
        /// The notify descriptor, when a rule uses SCMP_ACT_NOTIFY and the filter was installed.
        public var notifyDescriptor: Int32 = -1
        /// Syscall names this kernel or libseccomp does not know, which were skipped.
        public var skippedNames: [String] = []
    }
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
        case "SCMP_ACT_NOTIFY": return berth_scmp_act_notify()
        default: throw SeccompError(message: "\(field): unsupported action \(name)")
        }
    }

    static func compare(_ name: String) -> Int32? {
        // enum scmp_compare: NE 1, LT 2, LE 3, EQ 4, GE 5, GT 6, MASKED_EQ 7.
        ["SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7][name]
    }

    /// Builds the filter; `load` installs it into this process (irreversibly). Syscall
    /// names this kernel or libseccomp does not know are skipped, as runc does.
    @discardableResult
    public static func load(_ profile: SeccompProfile, install: Bool = true) throws(SeccompError) -> Loaded {
        var loaded = Loaded()
        if profile.defaultAction == "SCMP_ACT_NOTIFY" {
            throw SeccompError(message: "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (the runtime itself would wait on the listener)")
        }
        if profile.usesNotify && (profile.listenerPath ?? "").isEmpty {
            throw SeccompError(message: "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY")
        }
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
            case "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
                if berth_scmp_set_wait_killable(context) != 0 {
                    throw SeccompError(message: "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs libseccomp 2.6 or later (berth was built with \(seccomp_version().pointee.major).\(seccomp_version().pointee.minor).\(seccomp_version().pointee.micro))")
                }
            default: throw SeccompError(message: "linux.seccomp.flags: unsupported flag \(flag)")
            }
        }
        for (index, rule) in (profile.syscalls ?? []).enumerated() {
            let field = "linux.seccomp.syscalls[\(index)]"
            let ruleAction = try action(rule.action, errno: rule.errnoRet, field: field)
            // The runtime itself talks to its parent after the filter is in place (runc
            // forbids write for the same reason); a notified call would wait for a
            // listener that only gets the descriptor through that very call.
            if rule.action == "SCMP_ACT_NOTIFY", let name = rule.names.first(where: { ["write", "sendmsg", "sendto"].contains($0) }) {
                throw SeccompError(message: "\(field): SCMP_ACT_NOTIFY cannot be used for the \(name) syscall (berth reports to its parent with it)")
            }
            if ruleAction == defaultAction { continue }
            var comparisons: [scmp_arg_cmp] = []
            for argument in rule.args ?? [] {
                guard let op = compare(argument.op) else { throw SeccompError(message: "\(field): unknown operator \(argument.op)") }
                var comparison = scmp_arg_cmp()
                _ = berth_scmp_arg(&comparison, argument.index, op, argument.value, argument.valueTwo ?? 0)
                comparisons.append(comparison)
            }
            // libseccomp refuses two comparisons of one argument in a rule (EINVAL). As runc
            // does, such a rule becomes one rule per comparison: the action applies when any
            // of them matches (Docker's profiles rely on this for clone and personality).
            let indexes = (rule.args ?? []).map(\.index)
            let comparesOneArgumentTwice = Set(indexes).count < indexes.count
            let ruleConditions = comparesOneArgumentTwice ? comparisons.map { [$0] } : [comparisons]
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR {
                    loaded.skippedNames.append(name)
                    continue
                }
                for conditions in ruleConditions {
                    let result = conditions.withUnsafeBufferPointer { buffer in
                        seccomp_rule_add_array(context, ruleAction, number, UInt32(buffer.count), buffer.baseAddress)
                    }
                    if result != 0 {
                        throw SeccompError(message: "\(field): add \(name): \(String(cString: strerror(-result)))")
                    }
                }
            }
        }
        if install {
            let result = seccomp_load(context)
            if result != 0 { throw SeccompError(message: "linux.seccomp: load the filter: \(String(cString: strerror(-result)))") }
            if profile.usesNotify {
                loaded.notifyDescriptor = seccomp_notify_fd(context)
                if loaded.notifyDescriptor < 0 { throw SeccompError(message: "linux.seccomp: get the notify descriptor: \(String(cString: strerror(-loaded.notifyDescriptor)))") }
            }
        }
        return loaded
    }
}
