import BerthJSON
import BerthRuntimeSpec
import BerthSeccomp
import BerthSystem
import CBerth

/// `berth features`: the runtime-spec features document. It lists only what this berth
/// really does.
public enum Features {
    public static let version = "0.1.0"

    public static func document() -> JSONValue {
        var linux = JSONObject()
        linux["namespaces"] = ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]
        linux["capabilities"] = .array(CapabilitySets.names.prefix(Int(berth_cap_last()) + 1).map { .string($0) })
        linux["cgroup"] = ["v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": true]
        // Whether berth can apply a profile or label here: it can whenever the kernel has
        // the module enabled (on a host without it, asking for one is an error, as in runc).
        linux["apparmor"] = ["enabled": .bool(SecurityModules.appArmorEnabled)]
        linux["selinux"] = ["enabled": .bool(SecurityModules.selinuxEnabled)]
        linux["seccomp"] = [
            "enabled": true, "actions": .array(SeccompFilter.actions.map { .string($0) }), "operators": .array(SeccompFilter.operators.map { .string($0) }),
            "archs": .array(SeccompFilter.architectures.map { .string($0) }),
            "knownFlags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            "supportedFlags": .array(SeccompFilter.flags.map { .string($0) }),
        ]
        linux["intelRdt"] = ["enabled": false]
        linux["mountExtensions"] = ["idmap": ["enabled": true]]
        var object = JSONObject()
        object["ociVersionMin"] = .string(Spec.minimumVersion)
        object["ociVersionMax"] = .string(Spec.maximumVersion)
        object["hooks"] = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
        object["mountOptions"] = .array(MountOptions.knownOptions.map { .string($0) })
        object["linux"] = .object(linux)
        object["annotations"] = ["org.berth.version": .string(version)]
        return .object(object)
    }
}
