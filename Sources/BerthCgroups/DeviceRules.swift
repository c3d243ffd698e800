import BerthRuntimeSpec

/// The device allow/deny list (the v1 devices controller).
public enum DeviceRules {
    /// What every container may use, allowed after the config's own rules as runc does:
    /// mknod of any node, and the default devices berth creates (null, zero, full, tty,
    /// random, urandom, ptmx and the pty slaves).
    public static let defaultAllowed = [
        "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:2 rwm", "c 136:* rwm",
    ]

    /// The lines to write, in order: each rule to `devices.allow` or `devices.deny`,
    /// then `allowed` to `devices.allow`.
    public static func v1Lines(_ rules: [LinuxResources.DeviceRule], allowed: [String]) -> [(file: String, line: String)] {
        var lines: [(file: String, line: String)] = []
        for rule in rules {
            let type = rule.type ?? "a"
            let access = rule.access ?? "rwm"
            let line = type == "a" ? "a" : "\(type) \(ResourceWrites.device(rule.major, rule.minor)) \(access)"
            lines.append((rule.allow ? "devices.allow" : "devices.deny", line))
        }
        for line in allowed { lines.append(("devices.allow", line)) }
        return lines
    }
}
