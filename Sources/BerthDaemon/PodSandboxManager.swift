import BerthCNI
import BerthCRI
import BerthImages
import BerthJSON
import BerthMetadata
import BerthShimProtocol
import BerthSystem
import Glibc
import GRPCCore
import Logging
import Synchronization

/// berthd's pods: each a pause process (berth-pause, run by the pod's runtime handler
/// under a berth-shim) holding the pod's namespaces, with a pinned network namespace that
/// CNI attaches, the pod's /etc files and its /dev/shm. Every step of RunPodSandbox has its
/// undo, run in reverse when a later step fails, so a failed pod leaves no netns, lease,
/// shim, container, mount, cgroup, directory or row. Every method blocks (child processes,
/// shim round trips): the CRI service calls them through `Blocking.run`.
public final class PodSandboxManager: Sendable {
    let configuration: DaemonConfiguration
    let metadata: MetadataStore
    let cni: CNI
    let logger: Logger
    /// Pods being made, by name: a second RunPodSandbox of the same pod waits its turn
    /// for the name check instead of racing it.
    let making = Mutex<Set<String>>([])
    /// Per pod ("pod:<id>") and per container ("container:<id>"): see `KeyedLocks`.
    let locks = KeyedLocks()

    /// Where a configured sandbox image comes from (nil: berth-pause only).
    let images: ImageStore?

    public init(configuration: DaemonConfiguration, metadata: MetadataStore, images: ImageStore? = nil, logger: Logger) {
        self.configuration = configuration
        self.metadata = metadata
        self.images = images
        self.logger = logger
        cni = configuration.cni
    }

    static func snapshotID(_ id: String) -> String { "p-\(id)" }

    /// The pause container's root from the configured sandbox image (instead of
    /// berth-pause): the image's layers under a snapshot of the pod's own, mounted at the
    /// bundle's rootfs; its program from the image's entrypoint and cmd. The image must be
    /// pulled (it is pinned, so the kubelet's image GC keeps it).
    func mountSandboxImage(_ name: String, id: String, rootfs: String, undo: inout [() -> Void]) throws -> [String] {
        guard let images, let image = try? images.image(name) else {
            throw RPCError(code: .failedPrecondition, message: "RunPodSandbox: the sandbox image \(name) is not pulled; pull it first (berthctl pull \(name))")
        }
        let layers = try images.layers(of: image)
        let mounts = try images.snapshots.prepare(Self.snapshotID(id), parents: layers.snapshots.reversed())
        undo.append { try? images.snapshots.remove(Self.snapshotID(id)) }
        try RootfsMount.mount(mounts, at: rootfs)
        undo.append { try? Mount.unmount(rootfs) }
        let execution = layers.configuration.config
        let arguments = (execution?.entrypoint ?? []) + (execution?.command ?? [])
        return arguments.isEmpty ? ["/pause"] : arguments
    }

    /// Unmounts and removes a pod's sandbox image root (nothing when it has none).
    func unmountSandboxImage(id: String) {
        try? Mount.unmount("\(directory(id))/bundle/rootfs")
        try? images?.snapshots.remove(Self.snapshotID(id))
    }

    /// Named by the id's first 16 digits: the shim's socket path must fit in 108 bytes.
    func directory(_ id: String) -> String { "\(configuration.state)/pods/\(id.prefix(16))" }

    func shim(_ id: String, handler: String) -> ShimHandle {
        configuration.shim(id: id, stateDirectory: "\(directory(id))/shim", handler: handler)
    }

    func shim(_ record: PodSandboxRecord) -> ShimHandle { shim(record.id, handler: record.runtimeHandler) }

    /// The cgroup the pod's containers and pause process go under: the kubelet's, or
    /// berth's own per pod (removed with the pod).
    static func cgroupParent(_ config: Runtime_V1_PodSandboxConfig, id: String) -> String {
        let parent = config.linux.cgroupParent
        return parent.isEmpty ? "/berth/pods/\(id)" : (parent.hasPrefix("/") ? parent : "/" + parent)
    }

    // MARK: RunPodSandbox

    public func run(_ config: Runtime_V1_PodSandboxConfig, handler requestedHandler: String) throws -> String {
        let metadataInfo = config.metadata
        guard !metadataInfo.name.isEmpty, !metadataInfo.namespace.isEmpty, !metadataInfo.uid.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "RunPodSandbox: metadata needs name, namespace and uid")
        }
        // They reach CNI_ARGS (`;` and `=` separate its pairs) and file names.
        for (what, value) in [("name", metadataInfo.name), ("namespace", metadataInfo.namespace), ("uid", metadataInfo.uid)] where !Self.isSafeName(value) {
            throw RPCError(code: .invalidArgument, message: "RunPodSandbox: metadata.\(what) \"\(value)\" may hold letters, digits, '-', '_' and '.' only (at most 253)")
        }
        if !config.hostname.isEmpty, !Self.isHostname(config.hostname) {
            throw RPCError(code: .invalidArgument, message: "RunPodSandbox: hostname \"\(config.hostname)\" is not a valid host name (letters, digits, '-' and '.', at most 64 bytes)")
        }
        let handler = requestedHandler.isEmpty ? "berth" : requestedHandler
        guard configuration.runtime(forHandler: handler) != nil else {
            throw RPCError(
                code: .invalidArgument,
                message: "RunPodSandbox: runtime handler \"\(handler)\" is not configured (berthd knows \(configuration.handlerNames.joined(separator: ", ")); add it under [runtime.handlers])")
        }
        let options = config.linux.securityContext.namespaceOptions
        let hostNetwork = options.network == .node
        for (key, _) in config.linux.sysctls {
            guard !key.isEmpty, !key.contains("/"), !key.split(separator: ".").contains(where: { $0.isEmpty || $0 == ".." }) else {
                throw RPCError(code: .invalidArgument, message: "RunPodSandbox: sysctl \"\(key)\" is not a sysctl name")
            }
            if hostNetwork && key.hasPrefix("net.") {
                throw RPCError(code: .invalidArgument, message: "RunPodSandbox: sysctl \(key) would change the node's network namespace (the pod uses the host network)")
            }
        }
        let security = config.linux.securityContext
        for (field, present, value) in [("run_as_user", security.hasRunAsUser, security.runAsUser.value), ("run_as_group", security.hasRunAsGroup, security.runAsGroup.value)]
        where present && !(0...Int64(UInt32.max - 1)).contains(value) {
            throw RPCError(code: .invalidArgument, message: "RunPodSandbox: security_context.\(field) \(value) is not a valid id")
        }
        // resolv.conf is written line by line: a value must not add lines of its own.
        let dns = config.dnsConfig
        for value in dns.servers + dns.searches + dns.options where value.contains(where: { $0.isNewline || $0 == "\0" }) || value.isEmpty {
            throw RPCError(code: .invalidArgument, message: "RunPodSandbox: dns_config value \"\(value)\" is empty or holds a line break")
        }
        let podName = "\(metadataInfo.namespace)/\(metadataInfo.name)/\(metadataInfo.uid)/\(metadataInfo.attempt)"
        guard making.withLock({ $0.insert(podName).inserted }) else {
            throw RPCError(code: .alreadyExists, message: "RunPodSandbox: pod \(metadataInfo.namespace)/\(metadataInfo.name) attempt \(metadataInfo.attempt) is being created by another call")
        }
        defer { _ = making.withLock { $0.remove(podName) } }
        let existing = try records()
        if let taken = existing.first(where: { $0.name == metadataInfo.name && $0.namespace == metadataInfo.namespace && $0.uid == metadataInfo.uid && $0.attempt == Int(metadataInfo.attempt) }) {
            throw RPCError(code: .alreadyExists, message: "RunPodSandbox: pod \(metadataInfo.namespace)/\(metadataInfo.name) attempt \(metadataInfo.attempt) exists as \(taken.id); remove it first")
        }
        let id = Self.newID()
        var log = logger
        log[metadataKey: "pod"] = "\(id)"
        log[metadataKey: "name"] = "\(metadataInfo.namespace)/\(metadataInfo.name)"
        var undo: [() -> Void] = []
        func rollBack() { for step in undo.reversed() { step() } }
        do {
            // 1. The pod's directory, its /etc files, its /dev/shm and the pause bundle.
            let podDirectory = directory(id)
            _ = try FileSystem.makeDirectories("\(podDirectory)/bundle/rootfs", mode: 0o711)
            undo.append { _ = try? FileSystem.removeTree(podDirectory) }
            // What recovery needs if berthd dies before the row is written.
            try FileSystem.writeAtomically("\(podDirectory)/id", Array("\(id) \(handler)".utf8))
            try FileSystem.writeAtomically("\(podDirectory)/config.pb", try config.serializedBytes())
            var pauseArguments = ["/pause"]
            if configuration.sandboxImage.isEmpty {
                try Self.copyFile(configuration.pauseBinary, to: "\(podDirectory)/bundle/rootfs/pause")
            } else {
                pauseArguments = try mountSandboxImage(configuration.sandboxImage, id: id, rootfs: "\(podDirectory)/bundle/rootfs", undo: &undo)
            }
            let hostname = hostNetwork ? Self.nodeHostname() : (config.hostname.isEmpty ? String(metadataInfo.name.replacingUnderscores.prefix(63)) : config.hostname)
            try PodFiles.writeHostname(hostname, to: "\(podDirectory)/hostname")
            try PodFiles.writeResolvConf(config.dnsConfig, hasConfig: config.hasDnsConfig, to: "\(podDirectory)/resolv.conf")
            if options.ipc != .node {
                try PodFiles.mountShm(at: "\(podDirectory)/shm")
                undo.append { PodFiles.unmountShm(at: "\(podDirectory)/shm") }
            }
            let cgroupParent = Self.cgroupParent(config, id: id)
            if config.linux.cgroupParent.isEmpty { undo.append { PodFiles.removeCgroup(cgroupParent) } }

            // 2. The network namespace, pinned, with CNI's interfaces in it.
            var networkNamespace = ""
            var ip = ""
            if !hostNetwork {
                let name = "berth-\(id.prefix(16))"
                let made = try HelperProcess.run(["/usr/sbin/ip", "netns", "add", name])
                guard made.status == 0 else { throw RPCError(code: .internalError, message: "RunPodSandbox: ip netns add \(name): \(made.output)") }
                networkNamespace = "/var/run/netns/\(name)"
                undo.append { _ = try? HelperProcess.run(["/usr/sbin/ip", "netns", "del", name]) }
                let attachment = Self.attachment(id: id, networkNamespace: networkNamespace, config: config)
                // DEL is idempotent: registered before ADD, it also covers an ADD that
                // attached and then failed.
                undo.append { [cni] in try? cni.delete(attachment) }
                do {
                    ip = try cni.add(attachment).podIPs.first ?? ""
                } catch {
                    throw RPCError(code: .failedPrecondition, message: "RunPodSandbox: pod network: \(error.message)")
                }
            }
            try PodFiles.writeHosts(hostNetwork: hostNetwork, ip: ip, hostname: hostname, to: "\(podDirectory)/hosts")

            // 3. The pause container under its shim.
            let spec = pauseSpec(id: id, config: config, networkNamespace: networkNamespace, hostname: hostname, cgroupParent: cgroupParent, arguments: pauseArguments)
            try FileSystem.writeAtomically("\(podDirectory)/bundle/config.json", Array(spec.prettySerialized().utf8), mode: 0o600)
            let pause = shim(id, handler: handler)
            // The runtime's own delete covers a shim that died half way.
            undo.append { pause.remove() }
            do {
                try pause.launch(shimBinary: configuration.shimBinary, bundle: "\(podDirectory)/bundle", logPath: "\(podDirectory)/pause.log")
                _ = try pause.send(.start)
            } catch {
                throw RPCError(code: .internalError, message: "RunPodSandbox: the pause container (runtime \(handler)): \(error.message)")
            }

            // 4. The row, last: a pod is listed only once it is whole.
            let record = PodSandboxRecord(
                id: id, name: metadataInfo.name, namespace: metadataInfo.namespace, uid: metadataInfo.uid, attempt: Int(metadataInfo.attempt),
                state: .ready, createdAt: Clock.nowNanoseconds(), networkNamespace: networkNamespace, ip: ip, runtimeHandler: handler,
                config: try config.serializedBytes())
            try metadata.save(record)
            log.info("pod ready", metadata: ["ip": "\(ip)", "handler": "\(handler)"])
            return id
        } catch let error as RPCError {
            rollBack()
            log.warning("pod failed", metadata: ["error": "\(error.message)"])
            throw error
        } catch {
            rollBack()
            log.warning("pod failed", metadata: ["error": "\(error)"])
            throw RPCError(code: .internalError, message: "RunPodSandbox \(metadataInfo.namespace)/\(metadataInfo.name): \(error)")
        }
    }

    // MARK: Recovery

    /// At start: a pod directory without a row is what a RunPodSandbox that berthd did not
    /// live to finish left. Its pause container and shim, network (CNI DEL from the cached
    /// result, the netns), /dev/shm mount, cgroup and directory go. Pods with rows keep
    /// running: their state is read from their shims.
    public func recover() {
        guard let records = try? records() else { return }
        let known = Set(records.map { String($0.id.prefix(16)) })
        for name in (try? FileSystem.listDirectory("\(configuration.state)/pods")) ?? [] where !known.contains(name) {
            let path = "\(configuration.state)/pods/\(name)"
            let words = ((try? FileSystem.readText("\(path)/id")) ?? "").split(separator: " ").map(String.init)
            if let id = words.first, id.hasPrefix(name), id.count == 64 {
                let handler = words.count > 1 ? words[1] : "berth"
                shim(id, handler: handler).remove()
                let networkNamespace = "/var/run/netns/berth-\(name)"
                if FileSystem.exists(networkNamespace) {
                    let config = (try? FileSystem.read("\(path)/config.pb")).flatMap { try? Runtime_V1_PodSandboxConfig(serializedBytes: $0) } ?? Runtime_V1_PodSandboxConfig()
                    try? cni.delete(Self.attachment(id: id, networkNamespace: networkNamespace, config: config))
                    _ = try? HelperProcess.run(["/usr/sbin/ip", "netns", "del", "berth-\(name)"])
                }
                PodFiles.removeCgroup("/berth/pods/\(id)/\(id)")
                PodFiles.removeCgroup("/berth/pods/\(id)")
            }
            try? Mount.unmount("\(path)/bundle/rootfs")
            PodFiles.unmountShm(at: "\(path)/shm")
            _ = try? FileSystem.removeTree(path)
            logger.info("removed what an interrupted RunPodSandbox left", metadata: ["directory": "\(path)"])
        }
    }

    // MARK: Stop, remove, status, list

    /// Stops the pause process (SIGTERM, SIGKILL after 2 s) and takes the network down.
    /// The pod's containers are stopped first by the caller. An unknown or stopped pod is
    /// not an error.
    public func stop(_ id: String) throws {
        guard var record = try find(id) else { return }
        shim(record).stop(signal: SIGTERM, grace: 2)
        if !record.networkNamespace.isEmpty {
            do {
                // The same arguments and runtime config as the ADD: portmap finds the
                // rules it made by them.
                let config = (try? Runtime_V1_PodSandboxConfig(serializedBytes: record.config)) ?? Runtime_V1_PodSandboxConfig()
                try cni.delete(Self.attachment(id: record.id, networkNamespace: record.networkNamespace, config: config))
            } catch {
                throw RPCError(code: .internalError, message: "StopPodSandbox \(record.id): pod network: \(error.message)")
            }
            let name = String(record.networkNamespace.split(separator: "/").last ?? "")
            _ = try? HelperProcess.run(["/usr/sbin/ip", "netns", "del", name])
        }
        record.state = .notReady
        try metadata.save(record)
    }

    /// Stops the pod if needed, deletes its pause container and everything of it. An
    /// unknown pod is not an error. Its containers are removed first by the caller.
    public func remove(_ id: String) throws {
        guard let record = try find(id) else { return }
        try stop(record.id)
        shim(record).remove()
        unmountSandboxImage(id: record.id)
        PodFiles.unmountShm(at: "\(directory(record.id))/shm")
        let config = (try? Runtime_V1_PodSandboxConfig(serializedBytes: record.config)) ?? Runtime_V1_PodSandboxConfig()
        if config.linux.cgroupParent.isEmpty { PodFiles.removeCgroup(Self.cgroupParent(config, id: record.id)) }
        _ = try? FileSystem.removeTree(directory(record.id))
        try metadata.deletePod(record.id)
    }

    /// A pod with its config and its pause process's pid (0 when it is not running): a
    /// pod whose pause process died is not ready, whatever its row says.
    public struct Observed: Sendable {
        public var record: PodSandboxRecord
        public var config: Runtime_V1_PodSandboxConfig
        public var pausePid: Int32
    }

    public func status(_ id: String) throws -> Observed {
        guard let record = try find(id) else { throw RPCError(code: .notFound, message: "pod sandbox \(id) not found") }
        return observe(record)
    }

    public func list() throws -> [Observed] {
        try records().map(observe)
    }

    func observe(_ record: PodSandboxRecord) -> Observed {
        var record = record
        var pid: Int32 = 0
        if record.state == .ready {
            switch shim(record).observe() {
            case .known(let state) where state.status == .running: pid = state.pid
            case .known, .gone: record.state = .notReady
            // A busy shim is no reason to make the kubelet tear the pod down.
            case .unknown: break
            }
        }
        return Observed(record: record, config: (try? Runtime_V1_PodSandboxConfig(serializedBytes: record.config)) ?? Runtime_V1_PodSandboxConfig(), pausePid: pid)
    }

    /// What a new container of pod `id` joins; the pod must be ready.
    func containerContext(_ id: String, for what: String) throws -> (ContainerSpecBuilder.Pod, Runtime_V1_PodSandboxConfig) {
        guard let record = try find(id) else { throw RPCError(code: .notFound, message: "\(what): pod sandbox \(id) not found") }
        let observed = observe(record)
        guard observed.record.state == .ready, observed.pausePid > 0 else {
            throw RPCError(code: .failedPrecondition, message: "\(what): pod sandbox \(record.id) is not ready (stopped, or its pause process exited); run a new pod")
        }
        let config = observed.config
        let hostname = (try? FileSystem.readText("\(directory(record.id))/hostname"))?.trimmingSpacesAndNewlines ?? config.hostname
        let pod = ContainerSpecBuilder.Pod(
            id: record.id, directory: directory(record.id), pausePid: observed.pausePid, namespaceOptions: config.linux.securityContext.namespaceOptions,
            hostname: hostname, cgroupParent: Self.cgroupParent(config, id: record.id))
        return (pod, config)
    }

    func records() throws -> [PodSandboxRecord] {
        do {
            return try metadata.pods()
        } catch {
            throw RPCError(code: .internalError, message: "\(error)")
        }
    }

    /// By full id or a unique prefix, as crictl users type them.
    func find(_ id: String) throws -> PodSandboxRecord? {
        guard !id.isEmpty else { throw RPCError(code: .invalidArgument, message: "a pod sandbox id is required") }
        let matches = try records().filter { $0.id.hasPrefix(id) }
        if matches.count > 1 { throw RPCError(code: .invalidArgument, message: "pod sandbox id prefix \(id) is ambiguous") }
        return matches.first
    }

    // MARK: Parts

    /// The pause container's OCI spec: read-only root with the one program, no
    /// capabilities, the pinned network namespace; its own pid, ipc and uts namespaces
    /// unless the pod shares the node's; the pod's sysctls.
    func pauseSpec(id: String, config: Runtime_V1_PodSandboxConfig, networkNamespace: String, hostname: String, cgroupParent: String, arguments: [String] = ["/pause"]) -> JSONValue {
        let options = config.linux.securityContext.namespaceOptions
        var namespaces: [JSONValue] = [["type": "mount"]]
        if options.pid != .node { namespaces.append(["type": "pid"]) }
        if options.ipc != .node { namespaces.append(["type": "ipc"]) }
        if !networkNamespace.isEmpty {
            namespaces.append(["type": "network", "path": .string(networkNamespace)])
            namespaces.append(["type": "uts"])
        }
        var linux: JSONObject = [
            "namespaces": .array(namespaces),
            "cgroupsPath": .string("\(cgroupParent)/\(id)"),
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        ]
        // The pod's seccomp profile applies to its pause process too (as containerd).
        let security = config.linux.securityContext
        if security.hasSeccomp && security.seccomp.profileType == .runtimeDefault && !security.privileged {
            linux["seccomp"] = RuntimeDefaultSeccomp.profile(capabilities: [])
        }
        if !config.linux.sysctls.isEmpty {
            linux["sysctl"] = .object(JSONObject(config.linux.sysctls.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
        }
        var spec: JSONObject = [
            "ociVersion": "1.0.2",
            "process": [
                "terminal": false, "user": .object(pauseUser(config.linux.securityContext)), "args": .array(arguments.map { .string($0) }),
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/"], "cwd": "/",
                "capabilities": ["bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []],
                "noNewPrivileges": true,
            ],
            "root": ["path": "rootfs", "readonly": true],
            "mounts": [
                ["destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]],
                ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ],
            "annotations": ["io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": .string(id)],
            "linux": .object(linux),
        ]
        if !networkNamespace.isEmpty { spec["hostname"] = .string(hostname) }
        return .object(spec)
    }

    /// The pod's run_as_user, run_as_group and supplemental groups for its pause process
    /// (root otherwise; it has no capabilities either way).
    func pauseUser(_ security: Runtime_V1_LinuxSandboxSecurityContext) -> JSONObject {
        var user: JSONObject = [
            "uid": .int(security.hasRunAsUser ? security.runAsUser.value : 0), "gid": .int(security.hasRunAsGroup ? security.runAsGroup.value : 0),
        ]
        if !security.supplementalGroups.isEmpty { user["additionalGids"] = .array(security.supplementalGroups.map { .int($0) }) }
        return user
    }

    static func nodeHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What CNI is told about a pod, the same at ADD and DEL.
    static func attachment(id: String, networkNamespace: String, config: Runtime_V1_PodSandboxConfig) -> CNI.Attachment {
        var attachment = CNI.Attachment(containerID: id, networkNamespace: networkNamespace)
        attachment.arguments = [
            ("K8S_POD_NAMESPACE", config.metadata.namespace), ("K8S_POD_NAME", config.metadata.name),
            ("K8S_POD_INFRA_CONTAINER_ID", id), ("K8S_POD_UID", config.metadata.uid),
        ]
        attachment.runtimeConfig = portMappings(config.portMappings)
        return attachment
    }

    static func portMappings(_ mappings: [Runtime_V1_PortMapping]) -> JSONObject {
        guard !mappings.isEmpty else { return JSONObject() }
        let list: [JSONValue] = mappings.map { mapping in
            let protocolName = switch mapping.protocol {
            case .udp: "udp"
            case .sctp: "sctp"
            default: "tcp"
            }
            var object = JSONObject([("hostPort", .int(mapping.hostPort)), ("containerPort", .int(mapping.containerPort)), ("protocol", .string(protocolName))])
            if !mapping.hostIp.isEmpty { object["hostIP"] = .string(mapping.hostIp) }
            return .object(object)
        }
        return JSONObject([("portMappings", .array(list))])
    }

    static func newID() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    static func isSafeName(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 253 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    static func isHostname(_ value: String) -> Bool {
        value.utf8.count <= 64 && value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } && label.first != "-" && label.last != "-"
        }
    }

    static func copyFile(_ source: String, to target: String) throws(SystemError) {
        let bytes = try FileSystem.read(source)
        try FileSystem.writeAtomically(target, bytes, mode: 0o755)
    }
}

extension String {
    /// A pod name as a host name ('_' is not allowed there).
    var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }

    var trimmingSpacesAndNewlines: String {
        var text = Substring(self)
        while let last = text.last, last == "\n" || last == " " { text = text.dropLast() }
        return String(text)
    }
}
