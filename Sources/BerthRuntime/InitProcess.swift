import BerthCgroups
import BerthJSON
import BerthRuntimeSpec
import BerthSeccomp
import BerthSystem
import CBerth
import Glibc

/// The container's init process: the child of `clone3` that sets the container up from
/// the inside and finally executes the user program. It runs the same Swift code as the
/// parent (no re-exec); it never returns, it exits or execs.
struct InitProcess {
    let spec: Spec
    let id: String
    let bundle: String
    let rootfs: String
    let channel: SyncChannel
    /// The listening exec socket (see `ExecSocket`), bound by the parent before clone: it
    /// lies outside the rootfs, where the init cannot reach after pivot_root.
    let execListener: Int32
    /// The exec trampoline memfd, or -1 where it is not available.
    let trampoline: Int32
    let namespaceDescriptors: [(NamespaceKind, Int32)]
    let newNamespaces: Set<NamespaceKind>
    let cgroupPaths: CgroupPaths
    let options: CreateOptions
    let hasParentHooks: Bool
    /// `linux.seccomp`, checked by the parent (it builds the filter once without loading it).
    let seccomp: SeccompProfile?
    /// Namespaces the child creates itself after joining a user namespace by path (so that
    /// the user namespace owns them): CLONE_NEW* flags for unshare.
    let unshareAfterJoining: Int32
    /// An unprivileged parent can write the maps only while the child is dumpable: the
    /// child becomes non-dumpable itself, once mapped.
    let rootless: Bool
    /// Bind mounts the parent prepared: index in `mounts` -> detached mount tree (see
    /// `DetachedMounts`).
    let detachedMounts: [Int: Int32]

    /// Runs the setup script; on any error reports it to the parent and exits.
    func run() -> Never {
        ChildClone.closeInheritedDescriptors(preserveFds: options.preserveFds, keeping: [channel.descriptor, execListener, trampoline] + namespaceDescriptors.map(\.1) + Array(detachedMounts.values))
        // As pid 1 of its pid namespace, the init would ignore every signal it has no
        // handler for; runc's init dies on these, and callers (podman's stop of a created
        // container) expect it. exec resets the handlers.
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGTERM] {
            Glibc.signal(signal) { number in _exit(128 + number) }
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        // Die with `berth create` while setting up; cleared just before "ready".
        _ = berth_set_pdeathsig(SIGKILL)
        _ = berth_set_name("berth:init")
        do {
            try setUp()
        } catch {
            try? channel.send(.failed(error.message))
            _exit(1)
        }
        _exit(1)
    }

    private func stage<T>(_ name: String, _ body: () throws -> T) throws(RuntimeError) -> T {
        do {
            return try body()
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.system, "\(name): \(error)")
        }
    }

    /// What the child knows of the parent's cgroup work.
    private struct CgroupProgress {
        var created = false
        var placed = false
    }

    /// Reads the parent's messages until `wanted` has arrived ("go" implies
    /// "cgroupsCreated"). The parent's first write to a v1 cgroup.procs waits out an RCU
    /// grace period (about 10 ms here), so the child builds its rootfs meanwhile and waits
    /// only where it must: for the directories before the cgroup mounts, for "go" before
    /// the cgroup namespace.
    private func waitForParent(_ progress: inout CgroupProgress, placed wanted: Bool) throws(SystemError) {
        while !(wanted ? progress.placed : progress.created) {
            let message: SyncMessage?
            do {
                message = try channel.receive()
            } catch {
                throw SystemError(stage: "sync", errno: EIO, detail: error.message)
            }
            switch message {
            case .cgroupsCreated: progress.created = true
            case .go:
                progress.created = true
                progress.placed = true
            default: throw SystemError(stage: "sync", errno: EIO, detail: "unexpected message while waiting for the cgroups")
            }
        }
    }

    /// Waits for "go", then creates the cgroup namespace, rooted at the container's cgroup.
    /// Needs CAP_SYS_ADMIN, so it comes before the switch to the container's user.
    private func enterCgroup(_ progress: inout CgroupProgress) throws(RuntimeError) {
        if progress.placed { return }
        do {
            try waitForParent(&progress, placed: true)
        } catch {
            throw RuntimeError(.system, "wait for cgroup placement: \(error)")
        }
        if newNamespaces.contains(.cgroup), berth_unshare(Int32(berth_clone_newcgroup)) != 0 {
            throw RuntimeError(.system, "\(SystemError.last("unshare", "cgroup namespace"))")
        }
    }

    private func setUp() throws(RuntimeError) {
        var progress = CgroupProgress()

        if newNamespaces.contains(.user) {
            try stage("user namespace") { try becomeRootInUserNamespace() }
        }
        // Joined namespaces; the pid namespace was joined by the parent before clone.
        try stage("join namespaces") { try NamespaceJoining.join(namespaceDescriptors.filter { $0.0 != .pid }) }
        if unshareAfterJoining != 0 {
            try stage("create namespaces in the joined user namespace") {
                if berth_unshare(unshareAfterJoining) != 0 { throw SystemError.last("unshare", "namespaces") }
            }
        }
        if newNamespaces.contains(.time) {
            try stage("time namespace") { try setUpTimeNamespace() }
        }
        if newNamespaces.contains(.uts) {
            try stage("set hostname") {
                if let hostname = spec.hostname, sethostname(hostname, hostname.utf8.count) != 0 {
                    throw SystemError.last("sethostname", hostname)
                }
                if let domainname = spec.domainname, setdomainname(domainname, domainname.utf8.count) != 0 {
                    throw SystemError.last("setdomainname", domainname)
                }
            }
        }

        var setup = RootfsSetup(spec: spec, rootfs: rootfs, bundle: bundle, cgroupPaths: cgroupPaths)
        setup.inUserNamespace = newNamespaces.contains(.user) || namespaceDescriptors.contains { $0.0 == .user }
        setup.detachedMounts = detachedMounts
        try stage("prepare rootfs") { try setup.prepare() }
        do {
            let root = try RootPath(rootfs)
            try setup.mountAll(root: root) { () throws(SystemError) in try waitForParent(&progress, placed: false) }
            try setup.createDevices(root: root)
        } catch {
            throw RuntimeError(.system, "rootfs setup: \(error)")
        }

        // Hooks may look at the container's cgroup: it must be in place before them.
        let hasCreateContainerHooks = !(spec.hooks?.createContainer ?? []).isEmpty
        if hasParentHooks || hasCreateContainerHooks { try enterCgroup(&progress) }

        // prestart and createRuntime run in the runtime namespace: the parent runs them.
        if hasParentHooks {
            try channel.send(.runHooks)
            switch try channel.receive() {
            case .hooksDone: break
            case .hooksFailed(let message): throw RuntimeError(.hook, message)
            default: throw RuntimeError(.system, "sync: expected the hooks' result")
            }
        }
        // createContainer: in the container's namespaces, before pivot_root; the path
        // resolves on the host filesystem, as the spec says.
        if hasCreateContainerHooks, let hooks = spec.hooks?.createContainer {
            let state = ContainerState(id: id, status: .creating, pid: getpid(), bundle: bundle, rootfs: rootfs, created: "", annotations: spec.annotations ?? [:])
            try HookRunner.run(hooks, kind: "createContainer", state: state.hookJSON(), workingDirectory: rootfs)
        }

        try stage("enter rootfs") { try RootfsSetup.enterRoot(rootfs, noPivot: options.noPivot) }
        try stage("finish rootfs") { try setup.finish() }
        try enterCgroup(&progress)

        var processSetup = ProcessSetup(spec: spec, seccomp: seccomp, sessionKeyring: options.noNewKeyring ? nil : "_ses.\(id)", channel: channel)
        processSetup.setgroupsDenied = rootless && newNamespaces.contains(.user)
        let launch = try stage("prepare process") { try processSetup.prepare() }

        // Ready: from here the parent may exit, so stop dying with it.
        _ = berth_set_pdeathsig(0)
        try channel.send(.ready)
        channel.close()

        // Wait for `berth start`; answer it once the startContainer hooks have passed.
        let connection = ExecSocket.awaitStart(execListener, minimum: Int32(3 + options.preserveFds))
        close(execListener)
        if let hooks = spec.hooks?.startContainer, !hooks.isEmpty {
            let state = ContainerState(id: id, status: .created, pid: getpid(), bundle: bundle, rootfs: rootfs, created: "", annotations: spec.annotations ?? [:])
            do {
                try HookRunner.run(hooks, kind: "startContainer", state: state.hookJSON(), workingDirectory: "/")
            } catch {
                let reply = [UInt8(ascii: "e")] + Array(error.message.utf8)
                _ = reply.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                _exit(1)
            }
        }
        // With no_new_privs, the filter goes in last, so that it only has to allow the
        // exec (of the trampoline, then of the program) and what leads to it.
        if let seccomp, spec.process?.noNewPrivileges == true, !seccomp.usesNotify {
            do {
                try SeccompFilter.load(seccomp)
            } catch {
                let reply = [UInt8(ascii: "e")] + Array(error.message.utf8)
                _ = reply.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                _exit(1)
            }
        }
        var ok = UInt8(ascii: "k")
        _ = send(connection, &ok, 1, Int32(MSG_NOSIGNAL))
        launch.exec(trampoline: trampoline, preserveFds: options.preserveFds)
    }

    /// Waits until the parent has written the maps, then takes uid and gid 0 inside (if
    /// mapped), so that what the setup creates belongs to the container's root.
    private func becomeRootInUserNamespace() throws {
        guard case .mapped? = try channel.receive() else {
            throw SystemError(stage: "sync", errno: EIO, detail: "expected the user namespace maps")
        }
        if rootless { _ = berth_set_dumpable(0) }
        let uidMappings = spec.linux?.uidMappings ?? []
        let gidMappings = spec.linux?.gidMappings ?? []
        if UserNamespace.maps(0, in: gidMappings), berth_setresgid(0) != 0 { throw SystemError.last("setgid", "0 in the user namespace") }
        if UserNamespace.maps(0, in: uidMappings), berth_setresuid(0) != 0 { throw SystemError.last("setuid", "0 in the user namespace") }
    }

    private func setUpTimeNamespace() throws(SystemError) {
        if berth_unshare(Int32(berth_clone_newtime)) != 0 { throw SystemError.last("unshare", "time") }
        var lines: [String] = []
        for (clock, offset) in (spec.linux?.timeOffsets ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard clock == "monotonic" || clock == "boottime" else {
                throw SystemError(stage: "linux.timeOffsets", subject: clock, errno: EINVAL, detail: "only monotonic and boottime can be offset")
            }
            lines.append("\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)")
        }
        if !lines.isEmpty {
            try FileSystem.writeValue("/proc/self/timens_offsets", lines.joined(separator: "\n"))
        }
    }
}
