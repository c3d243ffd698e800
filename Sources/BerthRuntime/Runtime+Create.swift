import BerthCgroups
import BerthJSON
import BerthRuntimeSpec
import BerthSeccomp
import BerthSystem
import CBerth
import Glibc
import Logging

/// A container that `create` left in the `created` state.
public struct CreatedContainer: Sendable {
    public let id: String
    public let pid: Int32
    /// What `create` saved in state.json.
    public let record: ContainerRecord
    /// The pty master, when `process.terminal` is set and the caller proxies it.
    public let terminal: Int32?
}

extension Runtime {
    /// `create`: sets the container up and leaves its init waiting on exec.sock. Returns
    /// only once the container is `created`; on any failure, everything made so far
    /// (process, cgroups, state directory) is undone and poststop hooks run.
    public func create(id: String, options: CreateOptions) throws(RuntimeError) -> CreatedContainer {
        try create(id: id, options: options, keepTerminal: false)
    }

    /// `keepTerminal`: a foreground `run` proxies the container's terminal itself, so the
    /// pty master comes back in the result instead of going to a console socket.
    func create(id: String, options requested: CreateOptions, keepTerminal: Bool) throws(RuntimeError) -> CreatedContainer {
        try ContainerID.validate(id)
        var options = requested
        options.preserveFds += options.listenFds
        let bundle: String
        do {
            bundle = try FileSystem.canonicalPath(FileSystem.absolutePath(options.bundle))
        } catch {
            throw RuntimeError(.invalidConfig, "bundle \(options.bundle): \(SystemError.describe(errno: error.errno))")
        }
        let configPath = "\(bundle)/config.json"
        let configBytes: [UInt8]
        do {
            configBytes = try FileSystem.read(configPath)
        } catch {
            if error.errno == ENOENT { throw RuntimeError(.invalidConfig, "JSON specification file \(configPath) not found") }
            throw RuntimeError(.invalidConfig, "read \(configPath): \(SystemError.describe(errno: error.errno))")
        }
        var spec: Spec
        do {
            spec = try Spec.parse(configBytes, source: configPath)
        } catch {
            throw RuntimeError(.invalidConfig, error.message)
        }
        try ContainerSetup.checkTerminal(spec.process, consoleSocket: options.consoleSocket, proxied: keepTerminal)
        if keepTerminal, let process = spec.process { spec.process = ContainerTerminal.sizedForCaller(process, consoleSocket: options.consoleSocket) }
        try SecurityModules.validate(spec.process)
        let rootPath = spec.root!.path.hasPrefix("/") ? spec.root!.path : "\(bundle)/\(spec.root!.path)"
        let rootfs: String
        do {
            rootfs = try FileSystem.canonicalPath(rootPath)
        } catch {
            throw RuntimeError(.invalidConfig, "invalid rootfs: \(rootPath): \(SystemError.describe(errno: error.errno))")
        }
        guard FileSystem.isDirectory(rootfs) else { throw RuntimeError(.invalidConfig, "invalid rootfs: \(rootfs) is not a directory") }

        for fd in 3..<Int32(3 + options.preserveFds) where fcntl(fd, F_GETFD) < 0 {
            throw RuntimeError(.invalidArgument, "--preserve-fds \(options.preserveFds): descriptor \(fd) is not open (berth passes exactly fds 3 to \(2 + options.preserveFds), so there must be no gaps)")
        }
        let lock = try store.claim(id)
        defer { lock.release() }
        if options.listenFds > 0 {
            let env = (spec.process?.env ?? []) + ["LISTEN_FDS=\(options.listenFds)", "LISTEN_PID=1"]
            spec.process?.env = env
        }
        if options.notifySocket != nil {
            do {
                try NotifySocket.prepare(&spec, stateDirectory: store.directory(id))
            } catch {
                try? store.remove(id)
                throw error
            }
        }
        var container = ContainerSetup(runtime: self, id: id, spec: spec, configBytes: configBytes, bundle: bundle, rootfs: rootfs, options: options)
        do {
            return try container.create()
        } catch {
            container.undo()
            throw error
        }
    }
}

/// The parent's side of one `create`, holding what must be undone if it fails.
struct ContainerSetup {
    let runtime: Runtime
    let id: String
    let spec: Spec
    /// config.json as read, kept in the state directory for `exec`.
    let configBytes: [UInt8]
    let bundle: String
    let rootfs: String
    let options: CreateOptions

    /// The pty master the init sent, until it is handed on.
    var terminalMaster: Int32 = -1
    var childPid: Int32 = 0
    var cgroups: CgroupManager?
    var descriptors: ParentDescriptors
    /// Whether prestart, createRuntime or createContainer hooks may have run, in which case
    /// a failure continues at "delete" and the poststop hooks run, as the spec says.
    var hooksMayHaveRun = false

    init(runtime: Runtime, id: String, spec: Spec, configBytes: [UInt8], bundle: String, rootfs: String, options: CreateOptions) {
        self.runtime = runtime
        self.id = id
        self.spec = spec
        self.configBytes = configBytes
        self.bundle = bundle
        self.rootfs = rootfs
        self.options = options
        self.descriptors = ParentDescriptors(preserveFds: options.preserveFds)
    }

    var store: StateStore { runtime.store }

    mutating func create() throws(RuntimeError) -> CreatedContainer {
        let logger = runtime.logger(for: id)
        let created = Clock.rfc3339(nanoseconds: Clock.nowNanoseconds())
        let namespaces = spec.linux?.namespaces ?? []
        guard namespaces.contains(where: { $0.type == "mount" }) else {
            throw RuntimeError(.invalidConfig, "\(bundle)/config.json: linux.namespaces must include a mount namespace (berth never builds a rootfs in the host's mount namespace)")
        }
        var newNamespaces = Set<NamespaceKind>()
        var joined: [(NamespaceKind, Int32)] = []
        for namespace in namespaces {
            let kind = NamespaceKind(specName: namespace.type)!
            if let path = namespace.path, !path.isEmpty {
                let opened = open(path, O_RDONLY | O_CLOEXEC)
                if opened < 0 { throw RuntimeError(.invalidConfig, "linux.namespaces \(namespace.type): open \(path): \(SystemError.describe(errno: errno))") }
                // Above the --preserve-fds range, like every descriptor of berth's own: a
                // host namespace descriptor must never be passed into the container.
                let fd = try descriptors.take(opened, "open", path)
                joined.append((kind, fd))
            } else {
                newNamespaces.insert(kind)
            }
        }

        try refuseHostSysctls(joined: joined)

        // Cgroup paths are resolved now (a bad cgroupsPath fails before anything exists);
        // the directories are made after the clone, while the child builds the rootfs.
        let layout: CgroupLayout
        var paths: CgroupPaths
        var skipCgroups = false
        do {
            layout = try CgroupLayout.current()
            let own = CgroupPaths.parseProcCgroup(try FileSystem.readText("/proc/self/cgroup"))
            paths = try CgroupPaths.resolve(cgroupsPath: spec.linux?.cgroupsPath, containerID: id, layout: layout, ownCgroups: own)
            // Rootless: cgroups the user cannot write are skipped, and the container stays
            // in berth's own (which its cgroup mount then shows), as runc does.
            if runtime.rootless, let unwritable = paths.directories.map(\.directory).first(where: { !Self.canCreate($0) }) {
                if let resources = spec.linux?.resources, resources.hasLimits {
                    throw RuntimeError(.invalidConfig, "rootless: linux.resources asks for limits, but the cgroup \(unwritable) cannot be created by uid \(geteuid()); remove the limits or delegate a writable cgroup (linux.cgroupsPath)")
                }
                logger.warning("rootless: cannot create cgroup \(unwritable) as uid \(geteuid()); the container stays in berth's own cgroups, without limits")
                paths = CgroupPaths(directories: layout.hierarchies.map { ($0, $0.directory(for: own[$0.procKey] ?? "/")) })
                skipCgroups = true
            }
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.system, "cgroups: \(error)")
        }
        var manager = CgroupManager(paths: paths)

        // exec.sock: the init waits on it until `start` connects.
        let execListener: Int32
        do {
            execListener = try descriptors.take(try ExecSocket.listen(in: store.directory(id)), "listen", "exec socket")
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.system, "\(error)")
        }
        var trampoline: Int32 = -1
        if berth_trampoline_image_size > 0 {
            let memfd = berth_trampoline_memfd()
            if memfd < 0 && errno == EACCES {
                throw RuntimeError(.system, "create the exec trampoline memfd: permission denied (vm.memfd_noexec=2 forbids executable memfds, which berth needs to keep its own binary out of the container)")
            }
            trampoline = try descriptors.take(memfd, "create", "exec trampoline memfd")
        }
        let (parentChannel, childChannel) = try SyncChannel.pair()
        let parentEnd = try descriptors.take(parentChannel.descriptor, "move", "sync socket")
        let childEnd = try descriptors.take(childChannel.descriptor, "move", "sync socket")
        let channel = SyncChannel(descriptor: parentEnd)

        var flags: UInt64 = 0
        for kind in newNamespaces {
            switch kind {
            case .pid: flags |= berth_clone_newpid
            case .network: flags |= berth_clone_newnet
            case .mount: flags |= berth_clone_newns
            case .ipc: flags |= berth_clone_newipc
            case .uts: flags |= berth_clone_newuts
            case .user: flags |= berth_clone_newuser
            case .cgroup, .time: break  // cgroup and time: unshared by the child
            }
        }
        // A user namespace joined by path must own the new namespaces: the child joins it,
        // then creates them (a new pid namespace is refused with it, see Spec.validate).
        var unshareAfterJoining: Int32 = 0
        if joined.contains(where: { $0.0 == .user }) {
            unshareAfterJoining = Int32(truncatingIfNeeded: flags & ~berth_clone_newpid)
            flags &= berth_clone_newpid
        }
        let uidMappings = spec.linux?.uidMappings ?? []
        let gidMappings = spec.linux?.gidMappings ?? []
        if runtime.rootless && newNamespaces.contains(.user) {
            try UserNamespace.validateRootless(uid: uidMappings, gid: gidMappings)
        }
        if runtime.rootless && !newNamespaces.contains(.user) && !joined.contains(where: { $0.0 == .user }) {
            throw RuntimeError(.invalidConfig, "rootless: berth runs as uid \(geteuid()) and needs a user namespace in linux.namespaces (with uidMappings/gidMappings mapping your uid to root); `berth spec --rootless` writes one")
        }

        try ProcessAttributes.validate(spec)
        let hasParentHooks = !(spec.hooks?.prestart ?? []).isEmpty || !(spec.hooks?.createRuntime ?? []).isEmpty
        let seccomp = try Self.seccompProfile(of: spec, source: "\(bundle)/config.json", logger: logger)
        let inUserNamespace = newNamespaces.contains(.user) || joined.contains { $0.0 == .user }
        let detachedMounts = try DetachedMounts.prepare(spec, bundle: bundle, rootless: runtime.rootless, inUserNamespace: inUserNamespace, descriptors: &descriptors)
        let initProcess = InitProcess(
            spec: spec, id: id, bundle: bundle, rootfs: rootfs, channel: SyncChannel(descriptor: childEnd), execListener: execListener,
            trampoline: trampoline, namespaceDescriptors: joined, newNamespaces: newNamespaces, cgroupPaths: paths, options: options,
            hasParentHooks: hasParentHooks, seccomp: seccomp, unshareAfterJoining: unshareAfterJoining, rootless: runtime.rootless,
            detachedMounts: detachedMounts)

        let pid = try ChildClone.clone(flags: flags, pidNamespace: joined.first(where: { $0.0 == .pid })?.1 ?? -1, describing: "namespaces \(newNamespaces.map(\.rawValue).sorted())", nonDumpable: !(geteuid() != 0 && newNamespaces.contains(.user))) {
            initProcess.run()
        }
        descriptors.close(childEnd)
        childPid = pid
        try ProcessAttributes.applyInitialAffinity(spec, pid: pid)
        try ProcessLimits.apply(spec.process, to: pid)
        hooksMayHaveRun = hasParentHooks || !(spec.hooks?.createContainer ?? []).isEmpty
        defer { descriptors.close(parentEnd) }
        logger.debug("init process cloned", metadata: ["pid": "\(pid)"])
        if newNamespaces.contains(.user) {
            try UserNamespace.writeMappings(pid: pid, uid: uidMappings, gid: gidMappings, denySetgroups: runtime.rootless)
            try channel.send(.mapped)
        }

        if skipCgroups {
            try? channel.send(.cgroupsCreated)
        } else { do {
            defer { cgroups = manager }
            try manager.create()
            manager.enableControllers()
            logger.debug("cgroups created", metadata: ["paths": "\(manager.directories)"])
            try? channel.send(.cgroupsCreated)
            // Limits are in place before the process joins.
            if let resources = spec.linux?.resources {
                try manager.apply(try manager.writes(for: resources, allowedDevices: allowedDevices))
                try manager.applyDevices(resources.devices, allowed: allowedDevices)
            }
            try manager.join(pid: pid)
        } catch {
            throw RuntimeError(.system, "\(error)")
        } }
        try channel.sendGo()

        while true {
            guard let message = try channel.receive() else {
                let code = ProcessWaiting.reap(child: pid)
                childPid = 0
                throw RuntimeError(.system, "container init exited during setup (status \(code))")
            }
            switch message {
            case .runHooks:
                let state = ContainerState(id: id, status: .creating, pid: pid, bundle: bundle, rootfs: rootfs, created: created, annotations: spec.annotations ?? [:])
                do {
                    try HookRunner.run(spec.hooks?.prestart ?? [], kind: "prestart", state: state.hookJSON(), workingDirectory: bundle)
                    try HookRunner.run(spec.hooks?.createRuntime ?? [], kind: "createRuntime", state: state.hookJSON(), workingDirectory: bundle)
                    try channel.send(.hooksDone)
                } catch {
                    try? channel.send(.hooksFailed(error.message))
                    throw error
                }
            case .failed(let text):
                throw RuntimeError(.system, "unable to start container process: \(text)")
            case .seccompNotify(let descriptor):
                defer { close(descriptor) }
                let state = ContainerState(ociVersion: spec.ociVersion, id: id, status: .creating, pid: pid, bundle: bundle, rootfs: rootfs, created: created, annotations: spec.annotations ?? [:])
                try SeccompListener.send(descriptor, to: seccomp?.listenerPath ?? "", metadata: seccomp?.listenerMetadata, state: state.hookJSON(), pid: pid, ociVersion: spec.ociVersion)
            case .terminal(let master):
                terminalMaster = master
                if let socket = options.consoleSocket {
                    try ConsoleSocket.send(master: master, to: socket)
                    close(master)
                    terminalMaster = -1
                }
            case .ready:
                guard let status = ProcessStatus.read(pid: pid) else {
                    throw RuntimeError(.system, "container init \(pid) vanished after setup")
                }
                let record = ContainerRecord(
                    id: id, pid: pid, startTime: status.startTime, bundle: bundle, rootfs: rootfs, created: created, ociVersion: spec.ociVersion,
                    annotations: spec.annotations, cgroupDirectories: skipCgroups ? [] : manager.directories, cgroupCreated: manager.created,
                    ownPidNamespace: newNamespaces.contains(.pid), poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop)
                try store.saveConfig(id, configBytes)
                try store.save(record)
                if let pidFile = options.pidFile {
                    do {
                        try FileSystem.writeAtomically(FileSystem.absolutePath(pidFile), Array(String(pid).utf8), mode: 0o644)
                    } catch {
                        throw RuntimeError(.system, "write pid file: \(error)")
                    }
                }
                descriptors.closeAll()
                logger.debug("container created", metadata: ["pid": "\(pid)"])
                let terminal = terminalMaster >= 0 ? terminalMaster : nil
                terminalMaster = -1
                return CreatedContainer(id: id, pid: pid, record: record, terminal: terminal)
            default:
                throw RuntimeError(.system, "sync: unexpected message from init")
            }
        }
    }

    /// Whether this user could make `directory`: its deepest existing ancestor is writable.
    static func canCreate(_ directory: String) -> Bool {
        var path = directory
        while !path.isEmpty && !FileSystem.exists(path) {
            path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        }
        if path == directory { return access("\(directory)/cgroup.procs", W_OK) == 0 }
        return access(path.isEmpty ? "/" : path, W_OK) == 0
    }

    /// `linux.seccomp`, decoded and built once without loading it, so that a bad profile
    /// fails before anything exists.
    /// Syscall names unknown here are skipped with a debug line each, as runc does.
    static func seccompProfile(of spec: Spec, source: String, logger: Logger) throws(RuntimeError) -> SeccompProfile? {
        guard let value = spec.linux?.seccomp, value != .null else { return nil }
        do {
            let profile = try JSONValueDecoder.decode(SeccompProfile.self, from: value)
            let checked = try SeccompFilter.load(profile, install: false)
            for name in checked.skippedNames {
                logger.debug("seccomp: skipping syscall \(name): unknown to this kernel or libseccomp")
            }
            return profile
        } catch {
            throw RuntimeError(.invalidConfig, "\(source): linux.seccomp: \(error)")
        }
    }

    /// runc's rules: a terminal for a process nobody proxies needs a console socket, and a
    /// console socket needs a terminal.
    static func checkTerminal(_ process: Spec.Process?, consoleSocket: String?, proxied: Bool) throws(RuntimeError) {
        let terminal = process?.terminal == true
        if terminal && !proxied && consoleSocket == nil {
            throw RuntimeError(.invalidArgument, "cannot allocate tty if berth will detach without setting console socket (process.terminal is true: pass --console-socket)")
        }
        if !terminal && consoleSocket != nil {
            throw RuntimeError(.invalidArgument, "cannot use console socket if berth will not allocate a tty (process.terminal is false)")
        }
    }

    /// The device rules every container gets after its own: the defaults, and each node
    /// of `linux.devices`.
    private var allowedDevices: [String] {
        DeviceRules.defaultAllowed + (spec.linux?.devices ?? []).map { device in
            "\(device.type == "u" ? "c" : device.type) \(device.major ?? 0):\(device.minor ?? 0) rwm"
        }
    }

    /// Sysctls are written in the container's namespaces; when one of those is joined by
    /// path and is in fact berth's own (the host's), the write would change the host.
    private func refuseHostSysctls(joined: [(NamespaceKind, Int32)]) throws(RuntimeError) {
        for key in (spec.linux?.sysctl ?? [:]).keys.sorted() {
            guard let kind = Spec.sysctlNamespace(key), let (_, fd) = joined.first(where: { $0.0 == kind }) else { continue }
            var joinedInfo = stat()
            var ownInfo = stat()
            if fstat(fd, &joinedInfo) == 0, stat("/proc/self/ns/\(kind.procName)", &ownInfo) == 0,
                joinedInfo.st_ino == ownInfo.st_ino, joinedInfo.st_dev == ownInfo.st_dev
            {
                throw RuntimeError(.invalidConfig, "linux.sysctl: \"\(key)\" would be set in the host's \(kind.rawValue) namespace (joined by path); it is refused")
            }
        }
    }

    /// Undoes a failed create: kill and reap the init, remove cgroups, run poststop hooks
    /// (the spec's "continue at delete"), remove the state directory.
    mutating func undo() {
        let logger = runtime.logger(for: id)
        if childPid > 0 {
            kill(childPid, SIGKILL)
            _ = ProcessWaiting.reap(child: childPid)
            childPid = 0
        }
        if let cgroups {
            do { try cgroups.destroy() } catch { logger.warning("cleanup after failed create: \(error)") }
        }
        if hooksMayHaveRun, let hooks = spec.hooks?.poststop, !hooks.isEmpty {
            let state = ContainerState(id: id, status: .stopped, pid: 0, bundle: bundle, rootfs: rootfs, created: "", annotations: spec.annotations ?? [:])
            do { try HookRunner.run(hooks, kind: "poststop", state: state.hookJSON(), workingDirectory: bundle) } catch { logger.warning("\(error)") }
        }
        descriptors.closeAll()
        if terminalMaster >= 0 { close(terminalMaster) }
        terminalMaster = -1
        do { try store.remove(id) } catch { logger.warning("cleanup after failed create: \(error)") }
    }
}
