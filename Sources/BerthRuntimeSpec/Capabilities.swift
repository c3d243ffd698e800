import BerthJSON

/// `process.capabilities`: the five sets by name, as numbers.
public struct CapabilitySets: Sendable, Equatable {
    public var bounding: UInt64
    public var effective: UInt64
    public var permitted: UInt64
    public var inheritable: UInt64
    public var ambient: UInt64

    /// Every capability name the kernel has had, by number (capability.h).
    public static let names = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
        "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// The sets named in `value` (config.json's `process.capabilities`). An absent set is
    /// empty, as in runc; an unknown name is an error naming it.
    public static func parse(_ value: JSONValue?) throws(SpecError) -> CapabilitySets {
        func mask(_ set: String) throws(SpecError) -> UInt64 {
            guard let list = value?[set]?.arrayValue else { return 0 }
            var result: UInt64 = 0
            for item in list {
                guard let name = item.stringValue, let number = names.firstIndex(of: name.uppercased().hasPrefix("CAP_") ? name.uppercased() : "CAP_" + name.uppercased()) else {
                    throw SpecError("process.capabilities.\(set): unknown capability \(item.stringValue.map { "\"\($0)\"" } ?? "\(item)")")
                }
                result |= 1 << UInt64(number)
            }
            return result
        }
        return CapabilitySets(
            bounding: try mask("bounding"), effective: try mask("effective"), permitted: try mask("permitted"),
            inheritable: try mask("inheritable"), ambient: try mask("ambient"))
    }
}
