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

    /// Runs the setup script; on any error reports it to the parent and exits.
    func run() -> Never {
        closeInheritedDescriptors()
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

    /// Closes what the caller of berth left open (beyond stdio and --preserve-fds) at
    /// once: the init may wait a long time for `start`, and an inherited pipe or socket
    /// held that long keeps its reader from ever seeing end-of-file.
    private func closeInheritedDescriptors() {
        let keep = Set([channel.descriptor, execListener, trampoline] + namespaceDescriptors.map(\.1)).filter { $0 >= 0 }.sorted()
        var first = UInt32(3 + options.preserveFds)
        for fd in keep {
            if UInt32(fd) > first { _ = berth_close_range(first, UInt32(fd) - 1) }
            first = max(first, UInt32(fd) + 1)
        }
        _ = berth_close_range(first, UInt32.max)
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

        // Joined namespaces; the pid namespace was joined by the parent before clone.
        for (kind, descriptor) in namespaceDescriptors where kind != .pid {
            try stage("join \(kind.rawValue) namespace") {
                if berth_setns(descriptor, 0) != 0 { throw SystemError.last("setns", kind.rawValue) }
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

        let setup = RootfsSetup(spec: spec, rootfs: rootfs, bundle: bundle, cgroupPaths: cgroupPaths)
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

        let launch = try stage("prepare process") { try prepareProcess() }

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
        if let seccomp, spec.process?.noNewPrivileges == true {
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

    /// Everything about the process that must happen as root, in this order: keyring,
    /// working directory, rlimits, oom score, then groups, gid and uid, umask and
    /// no_new_privs last; the executable is looked up as the final user.
    private func prepareProcess() throws -> ProcessLaunch {
        let process = spec.process!
        if !options.noNewKeyring {
            if berth_join_session_keyring("_ses.\(id)") < 0 && errno != ENOSYS && errno != EACCES {
                throw SystemError.last("join session keyring", "_ses.\(id)")
            }
        }
        let cwdRoot = try RootPath("/")
        let cwd = try cwdRoot.openCreating(process.cwd, kind: .directory)
        if fchdir(cwd) != 0 {
            close(cwd)
            throw SystemError.last("chdir", process.cwd)
        }
        close(cwd)
        for limit in process.rlimits ?? [] {
            try Rlimits.set(name: limit.type, soft: limit.soft, hard: limit.hard)
        }
        if let score = process.oomScoreAdj {
            do {
                try FileSystem.writeValue("/proc/self/oom_score_adj", String(score))
            } catch {
                throw SystemError(stage: "set process.oomScoreAdj", subject: String(score), errno: error.errno, detail: score < 0 ? "lowering the oom score needs CAP_SYS_RESOURCE, which this host refuses" : nil)
            }
        }
        // Capabilities, around the switch of user: the bounding set shrinks first (that
        // needs CAP_SETPCAP), the permitted set survives setuid through PR_SET_KEEPCAPS, and
        // the sets are set after it; ambient ones last, as they must be permitted and
        // inheritable already.
        // Scheduler, I/O priority, affinity (now that the cpuset cgroup applies) and
        // personality, while still root: a realtime policy needs CAP_SYS_NICE.
        try ProcessAttributes.apply(spec)
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the drop.
        if let seccomp, process.noNewPrivileges != true { try SeccompFilter.load(seccomp) }
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
        if setgroups(groups.count, &groups) != 0 { throw SystemError.last("setgroups", groups.map(String.init).joined(separator: ",")) }
        if berth_setresgid(user.gid) != 0 { throw SystemError.last("setgid", String(user.gid)) }
        if berth_setresuid(user.uid) != 0 { throw SystemError.last("setuid", String(user.uid)) }
        if let capabilities {
            _ = berth_set_keepcaps(0)
            if berth_capset(capabilities.effective, capabilities.permitted, capabilities.inheritable) != 0 {
                throw SystemError.last("set capabilities", "effective, permitted, inheritable")
            }
            _ = berth_cap_ambient_clear_all()
            for capability in 0..<64 where capabilities.ambient & (1 << UInt64(capability)) != 0 {
                if berth_cap_ambient_raise(Int32(capability)) != 0 {
                    throw SystemError.last("raise ambient capability", CapabilitySets.names[capability], detail: "an ambient capability must also be permitted and inheritable")
                }
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

/// The final exec, prepared before "ready" so that nothing can fail after `start`.
struct ProcessLaunch {
    let path: String
    let args: [String]
    let env: [String]

    /// Closes every descriptor above stdio and the preserved ones (close-on-exec, so the
    /// trampoline descriptor still works for execveat), resets signals and executes.
    func exec(trampoline: Int32, preserveFds: Int) -> Never {
        let firstClosed = 3 + Int32(preserveFds)
        _ = berth_close_range_cloexec(UInt32(firstClosed))
        for fd in 3..<firstClosed { _ = fcntl(fd, F_SETFD, 0) }
        for signal in 1..<Int32(32) where signal != SIGKILL && signal != SIGSTOP { Glibc.signal(signal, SIG_DFL) }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        let cEnv = env.map { strdup($0) } + [nil]
        if trampoline >= 0 {
            let cArgs = (["\u{1}berth-trampoline", path] + args).map { strdup($0) } + [nil]
            _ = berth_execveat(trampoline, cArgs, cEnv)
        } else {
            let cArgs = args.map { strdup($0) } + [nil]
            _ = execve(path, cArgs, cEnv)
        }
        let message = "berth: exec \(path): \(SystemError.describe(errno: errno))\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        _exit(127)
    }
}

/// `$PATH` lookup inside the container, with runc's messages.
enum ExecutableLookup {
    static func find(_ name: String, env: [String]) throws(RuntimeError) -> String {
        if name.contains("/") {
            try check(name, display: name)
            return name
        }
        let pathValue = env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in pathValue.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            if (try? check(candidate, display: name)) != nil { return candidate }
        }
        throw RuntimeError(.invalidConfig, "exec: \"\(name)\": executable file not found in $PATH")
    }

    static func check(_ path: String, display: String) throws(RuntimeError) {
        var info = stat()
        if stat(path, &info) != 0 {
            throw RuntimeError(.invalidConfig, "exec: \"\(display)\": stat \(path): \(SystemError.describe(errno: errno))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw RuntimeError(.invalidConfig, "exec: \"\(display)\": \(path) is a directory")
        }
        if access(path, X_OK) != 0 {
            throw RuntimeError(.invalidConfig, "exec: \"\(display)\": \(path): \(SystemError.describe(errno: errno))")
        }
    }
}

/// Home directories from the container's /etc/passwd.
enum Passwd {
    /// The container's /etc/passwd, if it is a regular file of sane size: an image could
    /// make it a fifo (which would hang create) or a link to /dev/zero.
    static func containerFile() -> String? {
        let fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 4 << 20 else { return nil }
        return (try? FileSystem.readAll(fd, path: "/etc/passwd")).map { String(decoding: $0, as: UTF8.self) }
    }

    static func home(uid: UInt32) -> String {
        guard let text = containerFile() else { return "/" }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == uid { return fields[5].isEmpty ? "/" : String(fields[5]) }
        }
        return "/"
    }

    /// The user name for `uid` in the host's /etc/passwd, for `list`'s OWNER column.
    static func name(uid: UInt32) -> String {
        guard let text = try? FileSystem.readText("/etc/passwd") else { return String(uid) }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, UInt32(fields[2]) == uid { return String(fields[0]) }
        }
        return String(uid)
    }
}
