import BerthRuntimeSpec
import BerthSeccomp
import BerthSystem
import CBerth
import Glibc

/// The child of `berth exec`: a clone of berth already in the container's pid namespace
/// (the parent entered it for the clone). It joins the container's other namespaces, waits
/// until the parent has put it in the container's cgroups, becomes the process and execs.
struct ExecProcess {
    /// The container's configuration with `process` the one to run.
    let spec: Spec
    let channel: SyncChannel
    /// The container's namespaces other than pid, as descriptors of /proc/<init>/ns/*.
    let namespaces: [(NamespaceKind, Int32)]
    let trampoline: Int32
    let seccomp: SeccompProfile?
    let preserveFds: Int
    /// Whether the pid namespace is among `namespaces`: the parent could not enter it for
    /// the clone (entering one needs CAP_SYS_ADMIN in one's own user namespace too, which
    /// rootless berth lacks), so this process joins it after the user namespace and forks
    /// the real exec process inside it, reports its pid and exits (the parent is a child
    /// subreaper and inherits it).
    let forkInsidePidNamespace: Bool
    /// Whether the container's user namespace denies setgroups (read by the parent from the
    /// host's /proc/<init>/setgroups).
    let setgroupsDenied: Bool

    func run() -> Never {
        ChildClone.closeInheritedDescriptors(preserveFds: preserveFds, keeping: [channel.descriptor, trampoline] + namespaces.map(\.1))
        // The parent blocked every signal it forwards; this process wants them.
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        _ = berth_set_pdeathsig(SIGKILL)
        _ = berth_set_name("berth:exec")
        do {
            let launch = try prepare()
            _ = berth_set_pdeathsig(0)
            try channel.send(.ready)
            launch.exec(trampoline: trampoline, preserveFds: preserveFds) { message in try? channel.send(.failed(message)) }
        } catch {
            try? channel.send(.failed("\(error)"))
            _exit(1)
        }
    }

    private func prepare() throws -> ProcessLaunch {
        try NamespaceJoining.join(namespaces)
        for (_, descriptor) in namespaces { close(descriptor) }
        if namespaces.contains(where: { $0.0 == .user }) {
            // Root of the user namespace (when mapped), as the init became: what setup
            // touches is then the container root's. The process's own user comes later.
            _ = berth_setresgid(0)
            _ = berth_setresuid(0)
        }
        if forkInsidePidNamespace {
            let pid = berth_clone3(0, -1)
            if pid < 0 { throw SystemError.last("fork in the container's pid namespace") }
            if pid > 0 {
                // The parent must learn the pid, or it would wait for a process it cannot see.
                if (try? channel.send(.forked(pid))) == nil { kill(pid, SIGKILL) }
                _exit(0)
            }
            // Its parent exits now: dying with it would end the exec at once.
            _ = berth_set_pdeathsig(0)
        }
        switch try channel.receive() {
        case .go: break
        case .failed(let text): throw RuntimeError(.system, text)
        default: throw RuntimeError(.system, "sync: expected the cgroup placement")
        }
        var setup = ProcessSetup(spec: spec, seccomp: seccomp, sessionKeyring: nil, channel: channel)
        setup.setgroupsDenied = setgroupsDenied
        setup.createsWorkingDirectory = false
        let launch = try setup.prepare()
        if let seccomp, spec.process?.noNewPrivileges == true, !seccomp.usesNotify { try SeccompFilter.load(seccomp) }
        return launch
    }
}
