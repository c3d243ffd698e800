import BerthRuntimeSpec
import BerthSystem
import Glibc

/// AppArmor and SELinux, as runc treats them: a profile or label is applied on exec
/// through /proc/self/attr; asking for one on a kernel that has the module disabled is an
/// error (runc fails the same way), an SELinux mount label is then ignored.
public enum SecurityModules {
    /// Whether the kernel has AppArmor enabled.
    public static var appArmorEnabled: Bool {
        (try? FileSystem.readText("/sys/module/apparmor/parameters/enabled"))?.hasPrefix("Y") ?? false
    }

    /// Whether the kernel has SELinux enabled (selinuxfs mounted).
    public static var selinuxEnabled: Bool {
        FileSystem.exists("/sys/fs/selinux/enforce") || FileSystem.exists("/selinux/enforce")
    }

    /// Checks what `process` asks for against the kernel, before anything is made.
    static func validate(_ process: Spec.Process?, member: String = "process") throws(RuntimeError) {
        if let profile = process?.apparmorProfile, !profile.isEmpty, !appArmorEnabled {
            throw RuntimeError(.invalidConfig, "\(member).apparmorProfile \"\(profile)\": AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled is not Y); remove the profile or enable AppArmor")
        }
        if let label = process?.selinuxLabel, !label.isEmpty, !selinuxEnabled {
            throw RuntimeError(.invalidConfig, "\(member).selinuxLabel \"\(label)\": selinux label is specified in config, but selinux is disabled or not supported")
        }
    }

    /// Sets the profile and label the next exec takes on.
    static func applyOnExec(apparmorProfile: String?, selinuxLabel: String?) throws(SystemError) {
        // Through ProcFiles: in `exec` this runs in the container's mount namespace.
        if let profile = apparmorProfile, !profile.isEmpty {
            let file = ProcFiles.exists("attr/apparmor/exec") ? "attr/apparmor/exec" : "attr/exec"
            do {
                try ProcFiles.write(file, "exec \(profile)")
            } catch {
                throw SystemError(stage: "apply apparmor profile", subject: profile, errno: error.errno, detail: "is the profile loaded? (apparmor_parser)")
            }
        }
        if let label = selinuxLabel, !label.isEmpty {
            do {
                try ProcFiles.write("attr/exec", label)
            } catch {
                throw SystemError(stage: "apply selinux label", subject: label, errno: error.errno)
            }
        }
    }

    /// The SELinux `context=` mount option for `linux.mountLabel`, or nil where SELinux is
    /// off (runc drops the label then).
    static func mountContext(_ label: String?) -> String? {
        guard let label, !label.isEmpty, selinuxEnabled else { return nil }
        return "context=\"\(label)\""
    }
}
