import BerthCgroups
import BerthJSON
import BerthRuntimeSpec
import BerthSeccomp
import BerthSystem
import CBerth
import Glibc

extension Runtime {
    /// `exec`: runs another process in a created or running container: in every namespace
    /// of its init, in its cgroups, with the container's seccomp filter, capabilities and
    /// LSM settings unless the request overrides them. In the foreground it returns the
    /// process's exit code (128+N when killed by signal N); detached, 0 once it runs.
    ///
    ///     berth exec (parent)                     child (clone, in the container's pid ns)
    ///     opens /proc/<init>/ns/*, enters the pid namespace, clones, leaves it
    ///                                             joins the other namespaces (user last)
    ///     writes the child's pid to cgroup.procs
    ///     go ───────────────────────────────────▶ terminal, user, capabilities, seccomp
    ///        ◀─────────────────────────────────── terminal (pty master), ready
    ///     end-of-file: the program is executing ◀ exec (or failed + the reason)
    public func exec(id: String, request: ExecRequest) throws(RuntimeError) -> Int32 {
        try ContainerID.validate(id)
        let record = try store.load(id)
        switch record.status(store: store) {
        case .stopped: throw RuntimeError(.invalidState, "cannot exec in a stopped container")
        case .paused where !request.ignorePaused: throw RuntimeError(.invalidState, "cannot exec in a paused container (use --ignore-paused to override)")
        default: break
        }
        var spec = try store.loadConfig(id)
        var process = try request.process(from: spec)
        try ContainerSetup.checkTerminal(process, consoleSocket: request.consoleSocket, proxied: !request.detach)
        if !request.detach { process = ContainerTerminal.sizedForCaller(process, consoleSocket: request.consoleSocket) }
        spec.process = process
        try SecurityModules.validate(process, member: "exec process")
        try ProcessAttributes.validate(spec)
        let seccomp = try ContainerSetup.seccompProfile(of: spec, source: store.configPath(id), logger: logger(for: id))
        for fd in 3..<Int32(3 + request.preserveFds) where fcntl(fd, F_GETFD) < 0 {
            throw RuntimeError(.invalidArgument, "--preserve-fds \(request.preserveFds): descriptor \(fd) is not open")
        }

        var execution = ExecSetup(runtime: self, record: record, spec: spec, request: request, seccomp: seccomp)
        defer { execution.descriptors.closeAll() }
        var forwarded = sigset_t()
        sigemptyset(&forwarded)
        if !request.detach {
            for signal in Signals.forwarded { sigaddset(&forwarded, signal) }
            sigaddset(&forwarded, SIGCHLD)
            sigprocmask(SIG_BLOCK, &forwarded, nil)
        }
        let started = try execution.start()
        if request.detach { return 0 }
        defer { if let master = started.terminal { close(master) } }
        var foreground = ForegroundProcess(pid: started.pid, signals: forwarded, master: started.terminal)
        return foreground.wait()
    }
}

/// The parent's side of one `exec`.
struct ExecSetup {
    let runtime: Runtime
    let record: ContainerRecord
    let spec: Spec
    let request: ExecRequest
    let seccomp: SeccompProfile?
    var descriptors: ParentDescriptors

    init(runtime: Runtime, record: ContainerRecord, spec: Spec, request: ExecRequest, seccomp: SeccompProfile?) {
        self.runtime = runtime
        self.record = record
        self.spec = spec
        self.request = request
        self.seccomp = seccomp
        self.descriptors = ParentDescriptors(preserveFds: request.preserveFds)
    }

    mutating func start() throws(RuntimeError) -> (pid: Int32, terminal: Int32?) {
        let logger = runtime.logger(for: record.id)
        // Every namespace the config names, taken from the init (so one joined by path is
        // joined again); those berth is in already are skipped (setns to one's own user
        // namespace fails).
        var namespaces: [(NamespaceKind, Int32)] = []
        var pidNamespace: Int32 = -1
        for namespace in spec.linux?.namespaces ?? [] {
            guard let kind = NamespaceKind(specName: namespace.type) else { continue }
            let path = "/proc/\(record.pid)/ns/\(kind.procName)"
            let fd = try descriptors.take(open(path, O_RDONLY | O_CLOEXEC), "open", path)
            var target = stat()
            var own = stat()
            if fstat(fd, &target) == 0, stat("/proc/self/ns/\(kind.procName)", &own) == 0, target.st_ino == own.st_ino, target.st_dev == own.st_dev {
                continue
            }
            if kind == .pid { pidNamespace = fd } else { namespaces.append((kind, fd)) }
        }
        // The descriptors are of the process berth recorded, not of one that took its pid.
        guard let status = ProcessStatus.read(pid: record.pid), status.startTime == record.startTime, !status.hasExited else {
            throw RuntimeError(.invalidState, "cannot exec in a stopped container")
        }
        var trampoline: Int32 = -1
        if berth_trampoline_image_size > 0 {
            trampoline = try descriptors.take(berth_trampoline_memfd(), "create", "exec trampoline memfd")
        }
        let (parentChannel, childChannel) = try SyncChannel.pair()
        let parentEnd = try descriptors.take(parentChannel.descriptor, "move", "sync socket")
        let childEnd = try descriptors.take(childChannel.descriptor, "move", "sync socket")
        let channel = SyncChannel(descriptor: parentEnd)
        // Entering a pid namespace takes CAP_SYS_ADMIN in one's own user namespace as well
        // as in the namespace's: rootless, the child joins it after the user namespace.
        let forkInside = runtime.rootless && pidNamespace >= 0
        if forkInside {
            namespaces.append((.pid, pidNamespace))
            pidNamespace = -1
            if berth_set_child_subreaper() != 0 { throw RuntimeError(.system, "\(SystemError.last("become a child subreaper"))") }
        }
        let child = ExecProcess(
            spec: spec, channel: SyncChannel(descriptor: childEnd), namespaces: namespaces, trampoline: trampoline, seccomp: seccomp,
            preserveFds: request.preserveFds, forkInsidePidNamespace: forkInside,
            setgroupsDenied: (try? FileSystem.readText("/proc/\(record.pid)/setgroups"))?.hasPrefix("deny") == true)

        var pid = try ChildClone.clone(flags: 0, pidNamespace: pidNamespace, describing: "exec process") { child.run() }
        descriptors.close(childEnd)
        if forkInside {
            let intermediate = pid
            let message = try? channel.receive()
            _ = ProcessWaiting.reap(child: intermediate)
            guard case .forked(let inside)? = message else {
                if case .failed(let text)? = message { throw RuntimeError(.system, "unable to start container process: \(text)") }
                throw RuntimeError(.system, "exec process exited while joining the container's namespaces")
            }
            pid = inside
        }
        logger.debug("exec process cloned", metadata: ["pid": "\(pid)"])

        var terminal: Int32?
        do throws(RuntimeError) {
            try ProcessLimits.apply(spec.process, to: pid)
            try joinCgroups(pid)
            try channel.sendGo()
            var ready = false
            while true {
                guard let message = try channel.receive() else {
                    if ready { break }
                    throw RuntimeError(.system, "exec process exited during setup")
                }
                switch message {
                case .terminal(let master):
                    if let socket = request.consoleSocket {
                        defer { close(master) }
                        try ConsoleSocket.send(master: master, to: socket)
                    } else {
                        terminal = master
                    }
                case .seccompNotify(let descriptor):
                    defer { close(descriptor) }
                    var state = record.state(store: runtime.store)
                    state.status = .running
                    try SeccompListener.send(descriptor, to: seccomp?.listenerPath ?? "", metadata: seccomp?.listenerMetadata, state: state.hookJSON(), pid: pid, ociVersion: spec.ociVersion)
                case .ready: ready = true
                case .failed(let text):
                    throw RuntimeError(.system, "unable to start container process: \(text)")
                default: throw RuntimeError(.system, "sync: unexpected message from the exec process")
                }
            }
        } catch {
            // Not reaped yet, so the pid cannot belong to anyone else.
            kill(pid, SIGKILL)
            _ = ProcessWaiting.reap(child: pid)
            if let terminal { close(terminal) }
            throw error
        }
        if let pidFile = request.pidFile {
            do {
                try FileSystem.writeAtomically(FileSystem.absolutePath(pidFile), Array(String(pid).utf8), mode: 0o644)
            } catch {
                // Nobody would know of the process: end it, as runc does.
                kill(pid, SIGKILL)
                _ = ProcessWaiting.reap(child: pid)
                if let terminal { close(terminal) }
                throw RuntimeError(.system, "write pid file: \(error)")
            }
        }
        logger.debug("exec process started", metadata: ["pid": "\(pid)"])
        return (pid, terminal)
    }

    /// Puts the exec process into the container's cgroups. Where the container's cgroup v2
    /// directory cannot take processes (it has enabled controllers for sub-cgroups: a
    /// systemd inside), it joins the init's own cgroup there instead, as runc does.
    private func joinCgroups(_ pid: Int32) throws(RuntimeError) {
        let initCgroups = CgroupPaths.parseProcCgroup((try? FileSystem.readText("/proc/\(record.pid)/cgroup")) ?? "")
        for directory in record.cgroupDirectories {
            do {
                try FileSystem.writeValue("\(directory)/cgroup.procs", String(pid))
            } catch {
                if error.errno == EBUSY, let path = initCgroups[""], let layout = try? CgroupLayout.current(),
                    let unified = layout.hierarchies.first(where: { $0.version == .v2 && directory.hasPrefix($0.mountPoint) })
                {
                    let fallback = unified.directory(for: path)
                    if (try? FileSystem.writeValue("\(fallback)/cgroup.procs", String(pid))) != nil { continue }
                }
                throw RuntimeError(.system, "add exec process \(pid) to cgroup \(directory): \(error)")
            }
        }
    }
}
