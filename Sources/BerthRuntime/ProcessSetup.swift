import BerthRuntimeSpec
import BerthSeccomp
import BerthSystem
import CBerth
import Glibc

/// Turns the current process (the container's init, or the child of `berth exec`, both
/// already inside the container's namespaces) into `spec.process`, up to the final exec.
struct ProcessSetup {
    /// The container's configuration, with `process` the process to become.
    let spec: Spec
    /// `linux.seccomp`, checked by the parent.
    let seccomp: SeccompProfile?
    /// The session keyring to join (`_ses.<id>`), or nil to keep the current one.
    let sessionKeyring: String?
    /// Where the pty master goes when `process.terminal` is true.
    let channel: SyncChannel
    /// Whether `setgroups` is denied in the user namespace (one an unprivileged berth made),
    /// as berth knows it, not as the container's /proc would say.
    var setgroupsDenied = false
    /// The init creates a missing working directory; `exec`, as runc's, refuses one.
    var createsWorkingDirectory = true

    /// Installs the filter; a notify descriptor goes to the parent, which passes it to the
    /// listener. With SCMP_ACT_NOTIFY rules the filter is loaded here even with
    /// no_new_privs, while the parent still waits (as runc does), not at the last moment.
    static func loadSeccomp(_ profile: SeccompProfile, reportingTo channel: SyncChannel) throws {
        let loaded = try SeccompFilter.load(profile)
        if loaded.notifyDescriptor >= 0 {
            defer { close(loaded.notifyDescriptor) }
            try channel.send(.seccompNotify(loaded.notifyDescriptor))
        }
    }

    /// Everything about the process that must happen as root, in this order: keyring,
    /// terminal, working directory, LSM labels, then groups, gid and uid, umask and
    /// no_new_privs last; the executable is looked up as the final user. (rlimits and the
    /// OOM score were set by the parent, see `ProcessLimits`.)
    func prepare() throws -> ProcessLaunch {
        let process = spec.process!
        if let sessionKeyring {
            if berth_join_session_keyring(sessionKeyring) < 0 && errno != ENOSYS && errno != EACCES {
                throw SystemError.last("join session keyring", sessionKeyring)
            }
        }
        if process.terminal == true {
            try ContainerTerminal.attach(sendingMasterOver: channel, size: ContainerTerminal.size(of: process))
        }
        let cwdRoot = try RootPath("/")
        let cwd = createsWorkingDirectory ? try cwdRoot.openCreating(process.cwd, kind: .directory) : try cwdRoot.openDirectory(process.cwd)
        if fchdir(cwd) != 0 {
            close(cwd)
            throw SystemError.last("chdir", process.cwd)
        }
        close(cwd)
        try SecurityModules.applyOnExec(apparmorProfile: process.apparmorProfile, selinuxLabel: process.selinuxLabel)
        // Scheduler, I/O priority, affinity (now that the cpuset cgroup applies) and
        // personality, while still root: a realtime policy needs CAP_SYS_NICE.
        try ProcessAttributes.apply(spec)
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the drop.
        if let seccomp, process.noNewPrivileges != true || seccomp.usesNotify { try Self.loadSeccomp(seccomp, reportingTo: channel) }
        // Capabilities, around the switch of user: the bounding set shrinks first (that
        // needs CAP_SETPCAP), the permitted set survives setuid through PR_SET_KEEPCAPS, and
        // the sets are set after it; ambient ones last, as they must be permitted and
        // inheritable already.
        let capabilities = try process.capabilities.map { value throws in try CapabilitySets.parse(value) }
        if let capabilities {
            for capability in 0...berth_cap_last() where capabilities.bounding & (1 << UInt64(capability)) == 0 {
                if berth_capbset_drop(capability) != 0 && errno != EINVAL {
                    throw SystemError.last("drop capability from the bounding set", CapabilitySets.names.indices.contains(Int(capability)) ? CapabilitySets.names[Int(capability)] : String(capability))
                }
            }
            if berth_set_keepcaps(1) != 0 { throw SystemError.last("keep capabilities across setuid") }
        }
        let user = process.user
        var groups = (user.additionalGids ?? []).map { gid_t($0) }
        // Where setgroups is denied (a user namespace an unprivileged user made), an empty
        // list is simply not set, as runc does.
        if !(groups.isEmpty && setgroupsDenied), setgroups(groups.count, &groups) != 0 {
            throw SystemError.last("setgroups", groups.map(String.init).joined(separator: ","), detail: errno == EPERM ? "setgroups is denied in this user namespace (/proc/self/setgroups)" : nil)
        }
        if berth_setresgid(user.gid) != 0 { throw SystemError.last("setgid", String(user.gid), detail: errno == EINVAL ? "gid \(user.gid) is not mapped in the container's user namespace" : nil) }
        if berth_setresuid(user.uid) != 0 { throw SystemError.last("setuid", String(user.uid), detail: errno == EINVAL ? "uid \(user.uid) is not mapped in the container's user namespace" : nil) }
        if let capabilities {
            _ = berth_set_keepcaps(0)
            if berth_capset(capabilities.effective, capabilities.permitted, capabilities.inheritable) != 0 {
                throw SystemError.last("set capabilities", "effective, permitted, inheritable")
            }
            _ = berth_cap_ambient_clear_all()
            // An ambient capability that is not also permitted and inheritable cannot be
            // raised; runc goes on without it (`runc spec` itself lists such ones), so berth
            // does too, rather than refuse configs that work elsewhere.
            for capability in 0..<64 where capabilities.ambient & (1 << UInt64(capability)) != 0 {
                _ = berth_cap_ambient_raise(Int32(capability))
            }
        }
        umask(mode_t(user.umask ?? 0o022))
        if process.noNewPrivileges == true, berth_set_no_new_privs() != 0 { throw SystemError.last("set no_new_privs") }

        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=\(Passwd.home(uid: user.uid))") }
        let path = try ExecutableLookup.find(process.args![0], env: env)
        return ProcessLaunch(path: path, args: process.args!, env: env)
    }
}
