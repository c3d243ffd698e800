import BerthCgroups
import BerthJSON
import BerthRuntimeSpec
import BerthSeccomp
import BerthSystem
import CBerth
import Glibc

/// A container that `create` left in the `created` state.
public struct CreatedContainer: Sendable {
    public let id: String
    public let pid: Int32
    /// What `create` saved in state.json.
    public let record: ContainerRecord
}

extension Runtime {
    /// `create`: sets the container up and leaves its init waiting on exec.sock. Returns
    /// only once the container is `created`; on any failure, everything made so far
    /// (process, cgroups, state directory) is undone and poststop hooks run.
    public func create(id: String, options: CreateOptions) throws(RuntimeError) -> CreatedContainer {
        try ContainerID.validate(id)
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
        let spec: Spec
        do {
            spec = try Spec.parse(configBytes, source: configPath)
        } catch {
            throw RuntimeError(.invalidConfig, error.message)
        }
        if options.consoleSocket != nil {
            throw RuntimeError(.invalidArgument, "cannot use console socket if berth will not allocate a tty (process.terminal is false)")
        }
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
        var container = ContainerSetup(runtime: self, id: id, spec: spec, bundle: bundle, rootfs: rootfs, options: options)
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
    let bundle: String
    let rootfs: String
    let options: CreateOptions

    var childPid: Int32 = 0
    var cgroups: CgroupManager?
    var descriptors: [Int32] = []
    /// Whether prestart, createRuntime or createContainer hooks may have run, in which case
    /// a failure continues at "delete" and the poststop hooks run, as the spec says.
    var hooksMayHaveRun = false

    init(runtime: Runtime, id: String, spec: Spec, bundle: String, rootfs: String, options: CreateOptions) {
        self.runtime = runtime
        self.id = id
        self.spec = spec
        self.bundle = bundle
        self.rootfs = rootfs
        self.options = options
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
                let fd = try moved(opened, "open", path, Int32(3 + options.preserveFds))
                joined.append((kind, fd))
            } else {
                newNamespaces.insert(kind)
            }
        }

        try refuseHostSysctls(joined: joined)

        // Cgroup paths are resolved now (a bad cgroupsPath fails before anything exists);
        // the directories are made after the clone, while the child builds the rootfs.
        let layout: CgroupLayout
        let paths: CgroupPaths
        do {
            layout = try CgroupLayout.current()
            let own = CgroupPaths.parseProcCgroup(try FileSystem.readText("/proc/self/cgroup"))
            paths = try CgroupPaths.resolve(cgroupsPath: spec.linux?.cgroupsPath, containerID: id, layout: layout, ownCgroups: own)
        } catch {
            throw RuntimeError(.system, "cgroups: \(error)")
        }
        var manager = CgroupManager(paths: paths)

        // exec.sock: the init waits on it until `start` connects.
        let minimum = Int32(3 + options.preserveFds)
        let execListener: Int32
        do {
            execListener = try moved(try ExecSocket.listen(in: store.directory(id)), "listen", "exec socket", minimum)
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
            trampoline = try moved(memfd, "create", "exec trampoline memfd", minimum)
        }
        let (parentChannel, childChannel) = try SyncChannel.pair()
        let parentEnd = try moved(parentChannel.descriptor, "move", "sync socket", minimum)
        let childEnd = try moved(childChannel.descriptor, "move", "sync socket", minimum)
        let channel = SyncChannel(descriptor: parentEnd)

        var flags: UInt64 = 0
        for kind in newNamespaces {
            switch kind {
            case .pid: flags |= berth_clone_newpid
            case .network: flags |= berth_clone_newnet
            case .mount: flags |= berth_clone_newns
            case .ipc: flags |= berth_clone_newipc
            case .uts: flags |= berth_clone_newuts
            case .user, .cgroup, .time: break  // cgroup and time: unshared by the child
            }
        }

        try ProcessAttributes.validate(spec)
        let hasParentHooks = !(spec.hooks?.prestart ?? []).isEmpty || !(spec.hooks?.createRuntime ?? []).isEmpty
        var seccomp: SeccompProfile?
        if let value = spec.linux?.seccomp, value != .null {
            do {
                let profile = try JSONValueDecoder.decode(SeccompProfile.self, from: value)
                try SeccompFilter.load(profile, install: false)
                seccomp = profile
            } catch {
                throw RuntimeError(.invalidConfig, "\(bundle)/config.json: linux.seccomp: \(error)")
            }
        }
        let initProcess = InitProcess(
            spec: spec, id: id, bundle: bundle, rootfs: rootfs, channel: SyncChannel(descriptor: childEnd), execListener: execListener,
            trampoline: trampoline, namespaceDescriptors: joined, newNamespaces: newNamespaces, cgroupPaths: paths, options: options,
            hasParentHooks: hasParentHooks, seccomp: seccomp)

        // A pid namespace joined by path applies to children only: switch to it for the
        // clone and straight back.
        var ownPidNamespace: Int32 = -1
        if let (_, descriptor) = joined.first(where: { $0.0 == .pid }) {
            ownPidNamespace = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)
            if ownPidNamespace < 0 { throw RuntimeError(.system, "\(SystemError.last("open", "/proc/self/ns/pid"))") }
            if berth_setns(descriptor, 0) != 0 {
                let error = SystemError.last("setns", "pid namespace")
                close(ownPidNamespace)
                throw RuntimeError(.system, "\(error)")
            }
        }
        _ = berth_set_dumpable(0)
        let pid = berth_clone3(flags, -1)
        if pid == 0 { initProcess.run() }
        let cloneErrno = errno
        if ownPidNamespace >= 0 {
            _ = berth_setns(ownPidNamespace, 0)
            close(ownPidNamespace)
        }
        close(childEnd)
        descriptors.removeAll { $0 == childEnd }
        if pid < 0 {
            channel.close()
            descriptors.removeAll { $0 == parentEnd }
            throw RuntimeError(.system, "clone3 with namespaces \(newNamespaces.map(\.rawValue).sorted()): \(SystemError.describe(errno: cloneErrno))")
        }
        childPid = pid
        try ProcessAttributes.applyInitialAffinity(spec, pid: pid)
        hooksMayHaveRun = hasParentHooks || !(spec.hooks?.createContainer ?? []).isEmpty
        defer {
            channel.close()
            descriptors.removeAll { $0 == parentEnd }
        }
        logger.debug("init process cloned", metadata: ["pid": "\(pid)"])

        do {
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
        }
        do {
            try channel.send(.go)
        } catch {
            // The init failed before it read "go": its report is waiting in the socket.
            if case .failed(let text)? = try? channel.receive() {
                throw RuntimeError(.system, "unable to start container process: \(text)")
            }
            throw error
        }

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
            case .ready:
                guard let status = ProcessStatus.read(pid: pid) else {
                    throw RuntimeError(.system, "container init \(pid) vanished after setup")
                }
                let record = ContainerRecord(
                    id: id, pid: pid, startTime: status.startTime, bundle: bundle, rootfs: rootfs, created: created, ociVersion: spec.ociVersion,
                    annotations: spec.annotations, cgroupDirectories: manager.directories, cgroupCreated: manager.created,
                    ownPidNamespace: newNamespaces.contains(.pid), poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop)
                try store.save(record)
                if let pidFile = options.pidFile {
                    do {
                        try FileSystem.writeAtomically(FileSystem.absolutePath(pidFile), Array(String(pid).utf8), mode: 0o644)
                    } catch {
                        throw RuntimeError(.system, "write pid file: \(error)")
                    }
                }
                closeDescriptors()
                logger.debug("container created", metadata: ["pid": "\(pid)"])
                return CreatedContainer(id: id, pid: pid, record: record)
            default:
                throw RuntimeError(.system, "sync: unexpected message from init")
            }
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

    private mutating func moved(_ fd: Int32, _ stage: String, _ subject: String, _ minimum: Int32) throws(RuntimeError) -> Int32 {
        if fd < 0 { throw RuntimeError(.system, "\(SystemError.last(stage, subject))") }
        do {
            let result = try FileSystem.moveAbove(fd, minimum: minimum)
            descriptors.append(result)
            return result
        } catch {
            throw RuntimeError(.system, "\(error)")
        }
    }

    private mutating func closeDescriptors() {
        for fd in descriptors { close(fd) }
        descriptors = []
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
        for fd in descriptors { close(fd) }
        descriptors = []
        do { try store.remove(id) } catch { logger.warning("cleanup after failed create: \(error)") }
    }
}
