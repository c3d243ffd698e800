import BerthCNI
import BerthCRI
import BerthJSON
import BerthMetadata
import BerthShimProtocol
import BerthSystem
import Glibc
import GRPCCore
import Logging

/// berthd's pods: each a pause process (berth-pause, run by the OCI runtime under a
/// berth-shim) holding the pod's namespaces, with a pinned network namespace that CNI
/// attaches. Every step of RunPodSandbox has its undo, run in reverse when a later step
/// fails, so a failed pod leaves no netns, lease, shim, container, directory or row.
public actor PodSandboxManager {
    let configuration: DaemonConfiguration
    let metadata: MetadataStore
    let cni: CNI
    let logger: Logger

    public init(configuration: DaemonConfiguration, metadata: MetadataStore, logger: Logger) {
        self.configuration = configuration
        self.metadata = metadata
        self.logger = logger
        cni = configuration.cni
    }

    /// Named by the id's first 16 digits: the shim's socket path must fit in 108 bytes.
    nonisolated func directory(_ id: String) -> String { "\(configuration.state)/pods/\(id.prefix(16))" }
    nonisolated func shimSocket(_ id: String) -> String { "\(directory(id))/shim/shim.sock" }
    nonisolated var runtimeRoot: String { "\(configuration.state)/runtime" }

    // MARK: RunPodSandbox

    public func run(_ config: Runtime_V1_PodSandboxConfig, handler: String) throws -> String {
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
        guard handler.isEmpty || handler == "berth" else {
            throw RPCError(code: .invalidArgument, message: "RunPodSandbox: runtime handler \"\(handler)\" is not configured (berthd knows \"berth\")")
        }
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
            // 1. The pod's directory and the pause bundle.
            let podDirectory = directory(id)
            _ = try FileSystem.makeDirectories("\(podDirectory)/bundle/rootfs", mode: 0o711)
            undo.append { _ = try? FileSystem.removeTree(podDirectory) }
            try Self.copyFile(configuration.pauseBinary, to: "\(podDirectory)/bundle/rootfs/pause")

            // 2. The network namespace, pinned, with CNI's interfaces in it.
            let hostNetwork = config.linux.securityContext.namespaceOptions.network == .node
            var networkNamespace = ""
            var ip = ""
            if !hostNetwork {
                let name = "berth-\(id.prefix(16))"
                let made = try HelperProcess.run(["/usr/sbin/ip", "netns", "add", name])
                guard made.status == 0 else { throw RPCError(code: .internalError, message: "RunPodSandbox: ip netns add \(name): \(made.output)") }
                networkNamespace = "/var/run/netns/\(name)"
                undo.append { _ = try? HelperProcess.run(["/usr/sbin/ip", "netns", "del", name]) }
                var attachment = CNI.Attachment(containerID: id, networkNamespace: networkNamespace)
                attachment.arguments = [
                    ("K8S_POD_NAMESPACE", metadataInfo.namespace), ("K8S_POD_NAME", metadataInfo.name),
                    ("K8S_POD_INFRA_CONTAINER_ID", id), ("K8S_POD_UID", metadataInfo.uid),
                ]
                attachment.runtimeConfig = Self.portMappings(config.portMappings)
                // DEL is idempotent: registered before ADD, it also covers an ADD that
                // attached and then failed.
                undo.append { [cni] in try? cni.delete(attachment) }
                do {
                    ip = try cni.add(attachment).podIPs.first ?? ""
                } catch {
                    throw RPCError(code: .failedPrecondition, message: "RunPodSandbox: pod network: \(error.message)")
                }
            }

            // 3. The pause container under its shim.
            try FileSystem.writeAtomically("\(podDirectory)/bundle/config.json", Array(pauseSpec(id: id, config: config, networkNamespace: networkNamespace).prettySerialized().utf8), mode: 0o600)
            let shim = try HelperProcess.run([
                configuration.shimBinary, "--id", id, "--bundle", "\(podDirectory)/bundle", "--state-dir", "\(podDirectory)/shim",
                "--log-path", "\(podDirectory)/pause.log", "--runtime", configuration.runtimeBinary, "--runtime-root", runtimeRoot,
            ])
            guard shim.status == 0 else {
                throw RPCError(code: .internalError, message: "RunPodSandbox: the pause container: \(shim.output.trimmingSpacesAndNewlines)")
            }
            let socket = shimSocket(id)
            undo.append { [self] in self.removePause(id) }
            _ = try ShimConnection.send(.start, to: socket)

            // 4. The row, last: a pod is listed only once it is whole.
            let record = PodSandboxRecord(
                id: id, name: metadataInfo.name, namespace: metadataInfo.namespace, uid: metadataInfo.uid, attempt: Int(metadataInfo.attempt),
                state: .ready, createdAt: Clock.nowNanoseconds(), networkNamespace: networkNamespace, ip: ip, runtimeHandler: handler.isEmpty ? "berth" : handler,
                config: try config.serializedBytes())
            try metadata.save(record)
            log.info("pod ready", metadata: ["ip": "\(ip)"])
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

    // MARK: Stop, remove, status, list

    /// Stops the pause process (SIGTERM, SIGKILL after 2 s) and takes the network down.
    /// An unknown or stopped pod is not an error.
    public func stop(_ id: String) throws {
        guard var record = try find(id) else { return }
        let socket = shimSocket(record.id)
        if let state = try? ShimConnection.send(.state, to: socket), state.status != .exited {
            _ = try? ShimConnection.send(.kill(signal: SIGTERM, all: false), to: socket)
            var exited = false
            for _ in 0..<40 {
                if (try? ShimConnection.send(.state, to: socket))?.status == .exited {
                    exited = true
                    break
                }
                usleep(50_000)
            }
            if !exited { _ = try? ShimConnection.send(.kill(signal: SIGKILL, all: true), to: socket) }
        }
        if !record.networkNamespace.isEmpty {
            do {
                try cni.delete(CNI.Attachment(containerID: record.id, networkNamespace: record.networkNamespace))
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
    /// unknown pod is not an error.
    public func remove(_ id: String) throws {
        guard let record = try find(id) else { return }
        try stop(record.id)
        removePause(record.id)
        _ = try? FileSystem.removeTree(directory(record.id))
        try metadata.deletePod(record.id)
    }

    /// Ends the pause container and its shim for good: SIGKILL, wait for the exit, the
    /// shim's delete; if the shim cannot (gone, or its delete failed), the shim is killed
    /// and the runtime's `delete --force` runs directly, so neither a container, its
    /// cgroup nor a shim is left.
    nonisolated func removePause(_ id: String) {
        let socket = shimSocket(id)
        _ = try? ShimConnection.send(.kill(signal: SIGKILL, all: true), to: socket)
        let deadline = Clock.monotonicNanoseconds() + 5_000_000_000
        while Clock.monotonicNanoseconds() < deadline, let state = try? ShimConnection.send(.state, to: socket), state.status != .exited {
            usleep(20_000)
        }
        if (try? ShimConnection.send(.delete, to: socket)) != nil { return }
        if let text = try? FileSystem.readText("\(directory(id))/shim/shim.pid"), let pid = Int32(text.trimmingSpacesAndNewlines),
            (FileSystem.readLink("/proc/\(pid)/exe") ?? "").hasSuffix("berth-shim")
        {
            kill(pid, SIGKILL)
        }
        _ = try? HelperProcess.run([configuration.runtimeBinary, "--root", runtimeRoot, "delete", "--force", id])
    }

    public func status(_ id: String) throws -> (PodSandboxRecord, Runtime_V1_PodSandboxConfig) {
        guard let record = try find(id) else { throw RPCError(code: .notFound, message: "pod sandbox \(id) not found") }
        return (record, (try? Runtime_V1_PodSandboxConfig(serializedBytes: record.config)) ?? Runtime_V1_PodSandboxConfig())
    }

    public func list() throws -> [(PodSandboxRecord, Runtime_V1_PodSandboxConfig)] {
        try records().map { ($0, (try? Runtime_V1_PodSandboxConfig(serializedBytes: $0.config)) ?? Runtime_V1_PodSandboxConfig()) }
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

    /// The pause container's OCI spec: read-only root with the one program, its own pid,
    /// ipc, uts and mount namespaces, the pinned network namespace, no capabilities.
    func pauseSpec(id: String, config: Runtime_V1_PodSandboxConfig, networkNamespace: String) -> JSONValue {
        var namespaces: [JSONValue] = [["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]]
        if !networkNamespace.isEmpty { namespaces.append(["type": "network", "path": .string(networkNamespace)]) }
        let hostname = config.hostname.isEmpty ? String(config.metadata.name.replacingUnderscores.prefix(63)) : config.hostname
        return [
            "ociVersion": "1.0.2",
            "process": [
                "terminal": false, "user": ["uid": 0, "gid": 0], "args": ["/pause"], "env": ["PATH=/"], "cwd": "/",
                "capabilities": ["bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []],
                "noNewPrivileges": true,
            ],
            "root": ["path": "rootfs", "readonly": true],
            "hostname": .string(hostname),
            "mounts": [
                ["destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]],
                ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ],
            "linux": [
                "namespaces": .array(namespaces),
                "cgroupsPath": .string("/berth/pods/\(id)"),
                "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
                "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            ],
        ]
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
