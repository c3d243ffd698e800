import BerthCRI
import BerthImageSpec
import BerthImages
import BerthJSON
import BerthMetadata
import BerthShimProtocol
import BerthSnapshots
import BerthSystem
import Glibc
import GRPCCore
import Logging
import Synchronization

/// berthd's containers. Each has a directory `<state>/containers/<id prefix>` with its
/// bundle (config.json, the rootfs where its overlay snapshot is mounted) and its shim's
/// state; a row in the metadata; and a berth-shim that is its parent and keeps its
/// state. CreateContainer's steps each have an undo, run in reverse when a later step
/// fails, so a failed create leaves no mount, snapshot, shim, container, directory or row.
/// Every method blocks: the CRI service calls them through `Blocking.run`.
public final class ContainerManager: Sendable {
    let configuration: DaemonConfiguration
    let images: ImageStore
    let pods: PodSandboxManager
    let logger: Logger
    var metadata: MetadataStore { images.metadata }
    var snapshots: OverlaySnapshotter { images.snapshots }

    public init(configuration: DaemonConfiguration, images: ImageStore, pods: PodSandboxManager, logger: Logger) {
        self.configuration = configuration
        self.images = images
        self.pods = pods
        self.logger = logger
    }

    func directory(_ id: String) -> String { "\(configuration.state)/containers/\(id.prefix(16))" }
    func rootfs(_ id: String) -> String { "\(directory(id))/bundle/rootfs" }
    static func snapshotID(_ id: String) -> String { "c-\(id)" }

    func shim(_ id: String, handler: String) -> ShimHandle {
        configuration.shim(id: id, stateDirectory: "\(directory(id))/shim", handler: handler)
    }

    func shim(_ record: ContainerRecord) -> ShimHandle { shim(record.id, handler: record.runtimeHandler) }

    func log(_ id: String) -> Logger {
        var log = logger
        log[metadataKey: "container"] = "\(id)"
        return log
    }

    // MARK: CreateContainer

    /// `sandboxConfig` (the request's copy of the pod's config) is not used: the stored
    /// pod is the truth.
    public func create(podID: String, config: Runtime_V1_ContainerConfig, sandboxConfig: Runtime_V1_PodSandboxConfig) throws -> String {
        let metadataInfo = config.metadata
        guard !metadataInfo.name.isEmpty else { throw RPCError(code: .invalidArgument, message: "CreateContainer: metadata.name is required") }
        guard PodSandboxManager.isSafeName(metadataInfo.name) else {
            throw RPCError(code: .invalidArgument, message: "CreateContainer: metadata.name \"\(metadataInfo.name)\" may hold letters, digits, '-', '_' and '.' only")
        }
        let what = "CreateContainer \(metadataInfo.name)"
        guard !config.image.image.isEmpty else { throw RPCError(code: .invalidArgument, message: "\(what): image.image is required") }
        guard let podRecord = try pods.find(podID) else { throw RPCError(code: .notFound, message: "\(what): pod sandbox \(podID) not found") }
        // The pod's lock: a StopPodSandbox or RemovePodSandbox waits until this container
        // is whole (and finds it), and a second create of the same name sees the first.
        return try pods.locks.with("pod:\(podRecord.id)") {
            try createInLockedPod(podRecord, config: config, what: what)
        }
    }

    func createInLockedPod(_ podRecord: PodSandboxRecord, config: Runtime_V1_ContainerConfig, what: String) throws -> String {
        let metadataInfo = config.metadata
        // The pod as stored, never the request's copy of its config: a request must not
        // make its pod privileged.
        let (pod, podConfig) = try pods.containerContext(podRecord.id, for: what)
        if let taken = try records().first(where: { $0.podSandboxID == pod.id && $0.name == metadataInfo.name && $0.attempt == Int(metadataInfo.attempt) }) {
            throw RPCError(
                code: .alreadyExists,
                message: "\(what): pod \(pod.id.prefix(13)) already has container \(metadataInfo.name) attempt \(metadataInfo.attempt) (\(taken.id)); remove it or raise the attempt")
        }
        guard let image = try? images.image(config.image.image) else {
            throw RPCError(code: .notFound, message: "\(what): image \(config.image.image) is not pulled; pull it first (berthctl pull \(config.image.image))")
        }
        let handler = podRecord.runtimeHandler
        let logPath = try Self.logPath(podConfig.logDirectory, config.logPath, what: what)
        let id = PodSandboxManager.newID()
        var log = self.log(id)
        log[metadataKey: "name"] = "\(metadataInfo.name)"
        var undo: [() -> Void] = []
        func rollBack() { for step in undo.reversed() { step() } }
        do {
            let layers = try images.layers(of: image)
            // Held from here until the row holds them: RemoveImage must not delete layers
            // this container is being built on.
            images.reservations.reserve(layers.snapshots)
            defer { images.reservations.release(layers.snapshots) }
            for snapshot in layers.snapshots where !FileSystem.isDirectory(snapshots.directory(snapshot)) {
                throw RPCError(code: .notFound, message: "\(what): image \(config.image.image) was removed meanwhile; pull it again")
            }
            // 1. The directory and the rootfs: the image's layers under a new writable
            // snapshot, mounted where the bundle's root is.
            let containerDirectory = directory(id)
            _ = try FileSystem.makeDirectories(rootfs(id), mode: 0o711)
            undo.append { _ = try? FileSystem.removeTree(containerDirectory) }
            try FileSystem.writeAtomically("\(containerDirectory)/handler", Array(handler.utf8))
            let snapshot = Self.snapshotID(id)
            let mounts = try snapshots.prepare(snapshot, parents: layers.snapshots.reversed())
            undo.append { [snapshots] in try? snapshots.remove(snapshot) }
            try RootfsMount.mount(mounts, at: rootfs(id))
            undo.append { [self] in try? Mount.unmount(rootfs(id)) }

            // 2. The OCI spec.
            var builder = ContainerSpecBuilder(
                id: id, config: config, sandbox: podConfig, pod: pod,
                image: layers.configuration.config ?? ImageConfiguration.ExecutionParameters(), imageName: config.image.image, rootfs: rootfs(id),
                minimumOOMScoreAdjustment: Self.ownOOMScoreAdjustment())
            let options = config.linux.securityContext.namespaceOptions
            if config.linux.securityContext.hasNamespaceOptions && options.pid == .target {
                builder.targetPid = try targetPid(options.targetID, pod: pod.id, what: what)
            }
            let spec = try builder.build()
            try FileSystem.writeAtomically("\(containerDirectory)/bundle/config.json", Array(spec.prettySerialized().utf8), mode: 0o600)

            // 3. The log file's directory, and the container under its shim (created,
            // not started).
            if !logPath.isEmpty {
                let parent = String(logPath[..<(logPath.lastIndex(of: "/") ?? logPath.startIndex)])
                if !parent.isEmpty { _ = try FileSystem.makeDirectories(parent, mode: 0o755) }
            }
            let containerShim = shim(id, handler: handler)
            undo.append { containerShim.remove() }
            do {
                try containerShim.launch(shimBinary: configuration.shimBinary, bundle: "\(containerDirectory)/bundle", logPath: logPath.isEmpty ? "/dev/null" : logPath)
            } catch {
                throw RPCError(code: .internalError, message: "\(what): runtime \(handler): \(error.message)")
            }

            // 4. The row, last.
            let record = ContainerRecord(
                id: id, podSandboxID: pod.id, name: metadataInfo.name, attempt: Int(metadataInfo.attempt), image: config.image.image, imageID: image.id,
                createdAt: Clock.nowNanoseconds(), logPath: logPath, runtimeHandler: handler, config: try config.serializedBytes(),
                snapshots: layers.snapshots + [snapshot])
            try metadata.save(record)
            log.info("container created", metadata: ["pod": "\(pod.id)", "image": "\(config.image.image)"])
            return id
        } catch let error as RPCError {
            rollBack()
            log.warning("create failed", metadata: ["error": "\(error.message)"])
            throw error
        } catch {
            rollBack()
            log.warning("create failed", metadata: ["error": "\(error)"])
            throw RPCError(code: .internalError, message: "\(what): \(error)")
        }
    }

    /// The running init of the container a TARGET pid mode names (in the same pod).
    func targetPid(_ target: String, pod: String, what: String) throws -> Int32 {
        guard !target.isEmpty, let record = try find(target), record.podSandboxID == pod else {
            throw RPCError(code: .notFound, message: "\(what): target container \"\(target)\" of namespace_options.pid TARGET is not in this pod")
        }
        guard let state = shim(record).state(), state.status == .running, state.pid > 0 else {
            throw RPCError(code: .failedPrecondition, message: "\(what): target container \(record.id) is not running")
        }
        return state.pid
    }

    /// The kubelet gives a directory per pod and a path per container under it, joined
    /// as containerd joins them; the result must stay in the directory (no `..` out of it).
    /// With no directory only an absolute path is taken (a relative one would land in
    /// the shim's working directory).
    static func logPath(_ directory: String, _ path: String, what: String) throws -> String {
        if path.isEmpty { return "" }
        if directory.isEmpty {
            guard path.hasPrefix("/") else {
                throw RPCError(code: .invalidArgument, message: "\(what): log_path \(path) is relative and the pod has no log_directory")
            }
            return lexicallyClean(path)
        }
        guard directory.hasPrefix("/") else { throw RPCError(code: .invalidArgument, message: "\(what): the pod's log_directory \(directory) must be absolute") }
        let base = lexicallyClean(directory)
        let joined = lexicallyClean(base + "/" + path)
        guard joined.hasPrefix(base == "/" ? "/" : base + "/"), joined != base else {
            throw RPCError(code: .invalidArgument, message: "\(what): log_path \(path) leaves the pod's log_directory \(directory)")
        }
        return joined
    }

    /// An absolute path with `.` and `..` resolved by name, as Go's filepath.Clean.
    static func lexicallyClean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    static func ownOOMScoreAdjustment() -> Int64 {
        (try? FileSystem.readText("/proc/self/oom_score_adj")).flatMap { Int64($0.trimmingSpacesAndNewlines) } ?? 0
    }

    // MARK: Start, stop, remove

    public func start(_ id: String) throws {
        let found = try require(id, for: "StartContainer")
        try pods.locks.with("container:\(found.id)") { try startLocked(found) }
    }

    func startLocked(_ found: ContainerRecord) throws {
        var record = found
        let handle = shim(record)
        guard let state = handle.state() else {
            throw RPCError(code: .failedPrecondition, message: "StartContainer \(record.id): its shim is gone; remove the container and create it again")
        }
        guard state.status == .created else {
            throw RPCError(code: .failedPrecondition, message: "StartContainer \(record.id): the container is \(state.status.rawValue), not created; only a created container starts")
        }
        do {
            _ = try handle.send(.start)
        } catch {
            throw RPCError(code: .internalError, message: "StartContainer \(record.id): \(error.message)")
        }
        record.startedAt = Clock.nowNanoseconds()
        try updateRow(record, for: "StartContainer")
        log(record.id).info("container started")
    }

    /// The stop signal (the request's, else the image's, else SIGTERM), then SIGKILL to
    /// every process of the container after `timeout` seconds. A stopped container is not
    /// an error; an unknown one is NOT_FOUND (as containerd answers).
    public func stop(_ id: String, timeout: Int64) throws {
        let record = try require(id, for: "StopContainer")
        let signal = stopSignal(record)
        let handle = shim(record)
        if !handle.stop(signal: signal, grace: Double(max(0, timeout))) {
            throw RPCError(code: .internalError, message: "StopContainer \(record.id): the container did not exit after SIGKILL")
        }
        log(record.id).info("container stopped", metadata: ["signal": "\(signal)", "timeout": "\(timeout)"])
    }

    func stopSignal(_ record: ContainerRecord) -> Int32 {
        let config = self.config(record)
        if config.stopSignal != .runtimeDefault, let number = Signals.parse(String(describing: config.stopSignal).uppercased()) { return number }
        if let image = try? images.metadata.image(named: record.imageID), let layers = try? images.layers(of: image),
            let name = layers.configuration.config?.stopSignal, let number = Signals.parse(name)
        {
            return number
        }
        return SIGTERM
    }

    /// Kills the container if it runs, deletes it, unmounts and removes its rootfs and
    /// its directory, then the row. An unknown container is not an error.
    public func remove(_ id: String) throws {
        guard let found = try find(id) else { return }
        try pods.locks.with("container:\(found.id)") { try removeLocked(found) }
    }

    func removeLocked(_ record: ContainerRecord) throws {
        let handle = shim(record)
        handle.remove()
        // Only a container the runtime no longer has loses its rootfs and row: otherwise
        // (a process stuck in the kernel, a runtime that failed) the kubelet must retry.
        if handle.runtimeHasContainer() {
            throw RPCError(code: .internalError, message: "RemoveContainer \(record.id): the runtime could not delete the container yet (see \(handle.stateDirectory)/runtime.log); try again")
        }
        try? Mount.unmount(rootfs(record.id))
        _ = try? FileSystem.removeTree(directory(record.id))
        let freed: [String]
        do {
            freed = try metadata.deleteContainer(record.id)
        } catch {
            throw RPCError(code: .internalError, message: "RemoveContainer \(record.id): \(error)")
        }
        // The row went first: a crash here leaves only snapshots nothing holds, which the
        // recovery at start removes.
        for snapshot in freed { try? snapshots.remove(snapshot) }
        log(record.id).info("container removed")
    }

    // MARK: Status and list

    /// A container with what its shim says.
    public struct Observed: Sendable {
        public var record: ContainerRecord
        public var config: Runtime_V1_ContainerConfig
        public var state: Runtime_V1_ContainerState
        public var shim: ShimState?
        public var unknownReason: String?
    }

    public func status(_ id: String) throws -> Observed {
        observe(try require(id, for: "ContainerStatus"))
    }

    public func list() throws -> [Observed] {
        try records().map(observe)
    }

    func observe(_ record: ContainerRecord) -> Observed {
        let config = self.config(record)
        switch shim(record).observe() {
        case .known(let state):
            let crState: Runtime_V1_ContainerState =
                switch state.status {
                case .created: .containerCreated
                case .running: .containerRunning
                case .exited: .containerExited
                }
            return Observed(record: record, config: config, state: crState, shim: state, unknownReason: nil)
        case .unknown(let reason):
            return Observed(record: record, config: config, state: .containerUnknown, shim: nil, unknownReason: reason)
        case .gone:
            return Observed(record: record, config: config, state: .containerUnknown, shim: nil, unknownReason: "its state is gone (the node restarted?)")
        }
    }

    /// The CRI ContainerStatus of an observed container.
    static func status(_ observed: Observed) -> Runtime_V1_ContainerStatus {
        let record = observed.record
        var status = Runtime_V1_ContainerStatus()
        status.id = record.id
        status.metadata = observed.config.metadata
        status.state = observed.state
        status.createdAt = record.createdAt
        if let shim = observed.shim {
            status.startedAt = shim.startedAt.flatMap { Clock.nanoseconds(rfc3339: $0) } ?? record.startedAt
            if shim.status == .exited {
                status.finishedAt = shim.exitedAt.flatMap { Clock.nanoseconds(rfc3339: $0) } ?? 0
                status.exitCode = shim.exitCode ?? 255
                status.reason = shim.oomKilled ? "OOMKilled" : (status.exitCode == 0 ? "Completed" : "Error")
                status.message = shim.message ?? ""
            }
        } else {
            status.startedAt = record.startedAt
            status.reason = "Unknown"
            status.message = observed.unknownReason ?? ""
        }
        status.image = observed.config.image
        status.image.image = record.image
        status.imageRef = record.imageID
        status.imageID = record.imageID
        status.labels = observed.config.labels
        status.annotations = observed.config.annotations
        status.mounts = observed.config.mounts
        status.logPath = record.logPath
        if observed.config.linux.hasResources { status.resources.linux = observed.config.linux.resources }
        return status
    }

    // MARK: Exec, update, logs

    /// Runs `command` in the container (its namespaces, cgroup, user and capabilities,
    /// through the runtime's `exec`), capturing stdout and stderr; killed after `timeout`
    /// seconds (0: no limit).
    public func execSync(_ id: String, command: [String], timeout: Int64) throws -> (stdout: [UInt8], stderr: [UInt8], exitCode: Int32) {
        let record = try require(id, for: "ExecSync")
        guard !command.isEmpty else { throw RPCError(code: .invalidArgument, message: "ExecSync \(record.id): cmd is empty") }
        guard let state = shim(record).state(), state.status == .running else {
            throw RPCError(code: .failedPrecondition, message: "ExecSync \(record.id): the container is not running")
        }
        let handle = shim(record)
        return try ContainerExec.run(
            id: record.id, command: command, bundle: "\(directory(record.id))/bundle", runtime: handle.runtimeBinary, runtimeRoot: handle.runtimeRoot, timeout: timeout)
    }

    /// New cgroup limits through the runtime's `update`; recorded for ContainerStatus.
    public func update(_ id: String, resources: Runtime_V1_LinuxContainerResources) throws {
        let found = try require(id, for: "UpdateContainerResources")
        try pods.locks.with("container:\(found.id)") { try updateLocked(found, resources: resources) }
    }

    /// The request's non-zero fields over the recorded resources, as containerd merges
    /// them (an update of the CPU quota keeps the memory limit).
    static func merged(_ old: Runtime_V1_LinuxContainerResources, _ new: Runtime_V1_LinuxContainerResources) -> Runtime_V1_LinuxContainerResources {
        var result = old
        if new.cpuPeriod != 0 { result.cpuPeriod = new.cpuPeriod }
        if new.cpuQuota != 0 { result.cpuQuota = new.cpuQuota }
        if new.cpuShares != 0 { result.cpuShares = new.cpuShares }
        if new.memoryLimitInBytes != 0 { result.memoryLimitInBytes = new.memoryLimitInBytes }
        if new.memorySwapLimitInBytes != 0 { result.memorySwapLimitInBytes = new.memorySwapLimitInBytes }
        if new.oomScoreAdj != 0 { result.oomScoreAdj = new.oomScoreAdj }
        if !new.cpusetCpus.isEmpty { result.cpusetCpus = new.cpusetCpus }
        if !new.cpusetMems.isEmpty { result.cpusetMems = new.cpusetMems }
        if !new.hugepageLimits.isEmpty { result.hugepageLimits = new.hugepageLimits }
        if !new.unified.isEmpty { result.unified.merge(new.unified) { $1 } }
        return result
    }

    func updateLocked(_ found: ContainerRecord, resources requested: Runtime_V1_LinuxContainerResources) throws {
        var record = found
        let resources = Self.merged(config(record).linux.resources, requested)
        guard let state = shim(record).state(), state.status != .exited else {
            throw RPCError(code: .failedPrecondition, message: "UpdateContainerResources \(record.id): the container has exited")
        }
        let file = "\(directory(record.id))/resources.json"
        do {
            try FileSystem.writeAtomically(file, Array(JSONValue.object(ContainerSpecBuilder.resources(resources, devices: [])).serialized().utf8))
        } catch {
            throw RPCError(code: .internalError, message: "UpdateContainerResources \(record.id): \(error)")
        }
        let handle = shim(record)
        let outcome = try handle.runtime(["update", "--resources", file, record.id])
        unlink(file)
        guard outcome.status == 0 else {
            throw RPCError(code: .internalError, message: "UpdateContainerResources \(record.id): \(handle.runtimeBinary) update: \(outcome.output.trimmingSpacesAndNewlines)")
        }
        var config = self.config(record)
        config.linux.resources = resources
        record.config = try config.serializedBytes()
        try updateRow(record, for: "UpdateContainerResources")
    }

    public func reopenLog(_ id: String) throws {
        let record = try require(id, for: "ReopenContainerLog")
        guard let state = shim(record).state(), state.status == .running else {
            throw RPCError(code: .failedPrecondition, message: "ReopenContainerLog \(record.id): the container is not running")
        }
        do {
            _ = try shim(record).send(.reopenLog)
        } catch {
            throw RPCError(code: .internalError, message: "ReopenContainerLog \(record.id): \(error.message)")
        }
    }

    // MARK: Pods

    /// Stops every container of a pod (StopPodSandbox), each with its stop signal and a
    /// short grace period.
    public func stopAll(inPod podID: String, grace: Int64) throws {
        for record in try records() where record.podSandboxID == podID {
            shim(record).stop(signal: stopSignal(record), grace: Double(grace))
        }
    }

    public func removeAll(inPod podID: String) throws {
        for record in try records() where record.podSandboxID == podID { try remove(record.id) }
    }

    // MARK: Recovery

    /// At start: every container with a row keeps its shim (they ran on while berthd was
    /// down; their state is read from them). What a crash in the middle of a create or
    /// remove left without a row goes: its rootfs mount, directory, shim and snapshot.
    public func recover() {
        guard let records = try? records() else { return }
        let known = Set(records.map { String($0.id.prefix(16)) })
        for name in (try? FileSystem.listDirectory("\(configuration.state)/containers")) ?? [] where !known.contains(name) {
            let path = "\(configuration.state)/containers/\(name)"
            // The shim's state names the container; the handler file its runtime.
            let handler = (try? FileSystem.readText("\(path)/handler"))?.trimmingSpacesAndNewlines ?? "berth"
            let probe = ShimHandle(id: "", stateDirectory: "\(path)/shim", runtimeBinary: configuration.runtimeBinary, runtimeRoot: "")
            if let state = probe.exitRecord() ?? (try? probe.send(.state)) {
                configuration.shim(id: state.id, stateDirectory: "\(path)/shim", handler: handler).remove()
            }
            try? Mount.unmount("\(path)/bundle/rootfs")
            _ = try? FileSystem.removeTree(path)
            logger.info("removed what an interrupted create left", metadata: ["directory": "\(path)"])
        }
        let fullIDs = Set(records.map { Self.snapshotID($0.id) })
        for snapshot in snapshots.list() where snapshot.hasPrefix("c-") && !fullIDs.contains(snapshot) {
            try? snapshots.remove(snapshot)
        }
    }

    // MARK: Rows

    func records() throws -> [ContainerRecord] {
        do {
            return try metadata.containers()
        } catch {
            throw RPCError(code: .internalError, message: "\(error)")
        }
    }

    /// An existing row's start time and config; a row removed meanwhile stays removed.
    func updateRow(_ record: ContainerRecord, for call: String) throws {
        let updated: Bool
        do {
            updated = try metadata.update(record)
        } catch {
            throw RPCError(code: .internalError, message: "\(call) \(record.id): \(error)")
        }
        guard updated else { throw RPCError(code: .notFound, message: "\(call): container \(record.id) was removed meanwhile") }
    }

    func config(_ record: ContainerRecord) -> Runtime_V1_ContainerConfig {
        (try? Runtime_V1_ContainerConfig(serializedBytes: record.config)) ?? Runtime_V1_ContainerConfig()
    }

    /// By full id or a unique prefix.
    func find(_ id: String) throws -> ContainerRecord? {
        guard !id.isEmpty else { throw RPCError(code: .invalidArgument, message: "a container id is required") }
        let matches: [ContainerRecord]
        do {
            matches = try metadata.containers(idPrefix: id)
        } catch {
            throw RPCError(code: .internalError, message: "\(error)")
        }
        if matches.count > 1 { throw RPCError(code: .invalidArgument, message: "container id prefix \(id) is ambiguous") }
        return matches.first
    }

    func require(_ id: String, for call: String) throws -> ContainerRecord {
        guard let record = try find(id) else { throw RPCError(code: .notFound, message: "\(call): container \(id) not found") }
        return record
    }
}
