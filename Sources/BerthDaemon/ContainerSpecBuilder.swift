import BerthCRI
import BerthImageSpec
import BerthJSON
import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc
import GRPCCore

/// The OCI spec (config.json) of a pod's container, from the CRI request, the pod and the
/// image config, as the kubelet expects containerd to build it: the command merged from
/// the image's entrypoint and cmd, the environment and working directory, the user, the
/// pod's namespaces joined through its pause process, the pod's /etc files and /dev/shm,
/// the CRI mounts and devices, resources, capabilities, seccomp and masked paths.
struct ContainerSpecBuilder {
    /// What the container takes from its pod.
    struct Pod {
        var id: String
        /// Holds hostname, hosts, resolv.conf and shm.
        var directory: String
        var pausePid: Int32
        var namespaceOptions: Runtime_V1_NamespaceOption
        var hostname: String
        var cgroupParent: String
    }

    var id: String
    var config: Runtime_V1_ContainerConfig
    var sandbox: Runtime_V1_PodSandboxConfig
    var pod: Pod
    var image: ImageConfiguration.ExecutionParameters
    var imageName: String
    /// The mounted rootfs (users and groups are looked up in it).
    var rootfs: String
    /// With PID namespace mode TARGET (`kubectl debug --target`): the target container's
    /// init, whose PID namespace this container joins.
    var targetPid: Int32 = 0
    /// berthd's own oom_score_adj: a container's may not be lower (no CAP_SYS_RESOURCE).
    var minimumOOMScoreAdjustment: Int64
    /// Where a privileged container's devices come from (a tree of nodes in tests).
    var hostDeviceRoot = "/dev"

    /// The capabilities a container has unless its security context adds or drops some
    /// (containerd's and Docker's default set).
    static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP",
        "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]
    static let defaultMaskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
        "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]
    static let defaultReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    var what: String { "container \(config.metadata.name)" }

    func build() throws(RPCError) -> JSONValue {
        let security = config.linux.securityContext
        let privileged = security.privileged
        if privileged && !sandbox.linux.securityContext.privileged {
            throw RPCError(code: .invalidArgument, message: "\(what): a privileged container needs a privileged pod (linux.security_context.privileged on the pod)")
        }
        if config.tty || config.stdin {
            throw RPCError(code: .invalidArgument, message: "\(what): tty and stdin are not supported by berthd yet; run it without them")
        }

        // The user first: a name the image does not know is the request's error.
        var userRequest = ContainerUser.Request()
        if security.hasRunAsUser { userRequest.runAsUser = security.runAsUser.value }
        userRequest.runAsUsername = security.runAsUsername
        if security.hasRunAsGroup { userRequest.runAsGroup = security.runAsGroup.value }
        userRequest.supplementalGroups = security.supplementalGroups
        userRequest.imageUser = image.user ?? ""
        let user: ContainerUser
        do {
            user = try ContainerUser.resolve(userRequest, rootfs: rootfs, what: what)
        } catch {
            throw RPCError(code: .invalidArgument, message: error.description)
        }

        let capabilities = try self.capabilities(privileged: privileged)
        var process: JSONObject = [
            "terminal": false,
            "user": .object(userObject(user)),
            "args": .array(try arguments().map { .string($0) }),
            "env": .array(environment().map { .string($0) }),
            "cwd": .string(workingDirectory()),
            "capabilities": [
                "bounding": .array(capabilities.map { .string($0) }),
                "effective": .array(capabilities.map { .string($0) }),
                "permitted": .array(capabilities.map { .string($0) }),
                "inheritable": [],
                "ambient": .array(try ambientCapabilities(within: capabilities).map { .string($0) }),
            ],
            "noNewPrivileges": .bool(security.noNewPrivs),
            "rlimits": [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]],
        ]
        let resources = config.linux.resources
        process["oomScoreAdj"] = .int(max(resources.oomScoreAdj, minimumOOMScoreAdjustment))

        var linux: JSONObject = [
            "namespaces": .array(namespaces()),
            "cgroupsPath": .string("\(pod.cgroupParent)/\(id)"),
            "resources": .object(Self.resources(resources, devices: try deviceRules(privileged: privileged))),
        ]
        if !privileged {
            linux["maskedPaths"] = .array((security.maskedPaths.isEmpty ? Self.defaultMaskedPaths : security.maskedPaths).map { .string($0) })
            linux["readonlyPaths"] = .array((security.readonlyPaths.isEmpty ? Self.defaultReadonlyPaths : security.readonlyPaths).map { .string($0) })
        }
        // A mount that propagates needs the rootfs mount to propagate too (as containerd).
        if config.mounts.contains(where: { $0.propagation == .propagationBidirectional }) {
            linux["rootfsPropagation"] = "rshared"
        } else if config.mounts.contains(where: { $0.propagation == .propagationHostToContainer }) {
            linux["rootfsPropagation"] = "rslave"
        }
        let devices = try self.devices(privileged: privileged)
        if !devices.isEmpty { linux["devices"] = .array(devices) }
        if let seccomp = try seccomp(privileged: privileged, capabilities: Set(capabilities)) { linux["seccomp"] = seccomp }

        return [
            "ociVersion": "1.0.2",
            "process": .object(process),
            "root": ["path": "rootfs", "readonly": .bool(security.readonlyRootfs)],
            "mounts": .array(try mounts(readonlyRootfs: security.readonlyRootfs, privileged: privileged)),
            "annotations": .object(annotations()),
            "linux": .object(linux),
        ]
    }

    // MARK: Process

    /// The image's entrypoint and cmd with the request's command and args over them, as
    /// Docker and containerd merge them: a command replaces the entrypoint and drops the
    /// image's cmd; args alone replace the cmd.
    func arguments() throws(RPCError) -> [String] {
        var command = config.command
        var arguments = config.args
        if command.isEmpty {
            if arguments.isEmpty { arguments = image.command ?? [] }
            let entrypoint = image.entrypoint ?? []
            if !(entrypoint.count == 1 && entrypoint[0].isEmpty) { command = entrypoint }
        }
        let result = command + arguments
        guard !result.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "\(what): no command: neither the request nor image \(imageName) names one")
        }
        return result
    }

    /// HOSTNAME, then the image's environment, then the request's (a later name wins, in
    /// the place it first had).
    func environment() -> [String] {
        var names: [String] = []
        var values: [String: String] = [:]
        func set(_ entry: String) {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard !name.isEmpty else { return }
            if values[name] == nil { names.append(name) }
            values[name] = parts.count > 1 ? String(parts[1]) : ""
        }
        set("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        set("HOSTNAME=\(pod.hostname)")
        for entry in image.environment ?? [] { set(entry) }
        for variable in config.envs { set("\(variable.key)=\(variable.value)") }
        return names.map { "\($0)=\(values[$0]!)" }
    }

    func workingDirectory() -> String {
        if !config.workingDir.isEmpty { return config.workingDir }
        if let directory = image.workingDirectory, !directory.isEmpty { return directory }
        return "/"
    }

    func userObject(_ user: ContainerUser) -> JSONObject {
        var object: JSONObject = ["uid": .int(user.uid), "gid": .int(user.gid)]
        if !user.additionalGids.isEmpty { object["additionalGids"] = .array(user.additionalGids.map { .int($0) }) }
        return object
    }

    /// The default set with the security context's adds and drops ("ALL" in either);
    /// privileged: every capability this kernel has and berthd may pass on.
    func capabilities(privileged: Bool) throws(RPCError) -> [String] {
        let known = Self.grantableCapabilities
        if privileged { return known }
        let requested = config.linux.securityContext.capabilities
        func normalize(_ name: String, _ field: String) throws(RPCError) -> String {
            let full = Self.capabilityName(name)
            guard full == "CAP_ALL" || CapabilitySets.names.contains(full) else {
                throw RPCError(code: .invalidArgument, message: "\(what): security_context.capabilities.\(field): unknown capability \"\(name)\"")
            }
            return full
        }
        var result = Self.defaultCapabilities
        let drops = try requested.dropCapabilities.map { (name) throws(RPCError) in try normalize(name, "drop_capabilities") }
        let adds = try requested.addCapabilities.map { (name) throws(RPCError) in try normalize(name, "add_capabilities") }
        if adds.contains("CAP_ALL") { result = known }
        for name in adds where name != "CAP_ALL" && !result.contains(name) { result.append(name) }
        if drops.contains("CAP_ALL") { result = adds.filter { $0 != "CAP_ALL" } }
        result.removeAll { drops.contains($0) && !adds.contains($0) }
        return result.filter { known.contains($0) }
    }

    func ambientCapabilities(within granted: [String]) throws(RPCError) -> [String] {
        try config.linux.securityContext.capabilities.addAmbientCapabilities.map { (name) throws(RPCError) in
            let full = Self.capabilityName(name)
            guard granted.contains(full) else {
                throw RPCError(code: .invalidArgument, message: "\(what): ambient capability \"\(name)\" must also be in the container's capabilities")
            }
            return full
        }
    }

    /// `sys_admin`, `SYS_ADMIN` and `CAP_SYS_ADMIN` as the one name.
    static func capabilityName(_ name: String) -> String {
        let upper = name.uppercased()
        return upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
    }

    /// The names up to /proc/sys/kernel/cap_last_cap.
    /// berthd's own set does not change while it runs: read once, not at every create.
    static let grantableCapabilities = kernelCapabilities(status: try? FileSystem.readText("/proc/self/status"))

    /// What berthd itself can hand on: the capabilities of the kernel that are in its own
    /// bounding set (as containerd's privileged containers get its current ones). Where root
    /// lacks one (CAP_SYS_RESOURCE on some hosts), asking the runtime for it would fail.
    static func kernelCapabilities(status: String?) -> [String] {
        let last = (try? FileSystem.readText("/proc/sys/kernel/cap_last_cap")).flatMap { Int($0.trimmingSpacesAndNewlines) } ?? 40
        let known = Array(CapabilitySets.names.prefix(min(last + 1, CapabilitySets.names.count)))
        let bounding = status?.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }.flatMap { line in
            UInt64(line.dropFirst("CapBnd:".count).filter { !$0.isWhitespace }, radix: 16)
        }
        guard let bounding else { return known }
        return known.enumerated().filter { bounding & (1 << UInt64($0.offset)) != 0 }.map(\.element)
    }

    // MARK: Namespaces and mounts

    /// Network, IPC and UTS from the pause process (or the host's in NODE mode: none
    /// listed); PID the pod's, the container's own, or the host's; mount always its own.
    func namespaces() -> [JSONValue] {
        let options = config.linux.securityContext.hasNamespaceOptions ? config.linux.securityContext.namespaceOptions : pod.namespaceOptions
        let pause = "/proc/\(pod.pausePid)/ns"
        var list: [JSONValue] = [["type": "mount"]]
        if pod.namespaceOptions.network != .node {
            list.append(["type": "network", "path": .string("\(pause)/net")])
            list.append(["type": "uts", "path": .string("\(pause)/uts")])
        }
        if pod.namespaceOptions.ipc != .node { list.append(["type": "ipc", "path": .string("\(pause)/ipc")]) }
        switch options.pid {
        case .node: break
        case .container: list.append(["type": "pid"])
        case .target where targetPid > 0: list.append(["type": "pid", "path": .string("/proc/\(targetPid)/ns/pid")])
        default: list.append(["type": "pid", "path": .string("\(pause)/pid")])
        }
        return list
    }

    func mounts(readonlyRootfs: Bool, privileged: Bool) throws(RPCError) -> [JSONValue] {
        var list: [JSONValue] = [
            ["destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]],
            ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ["destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]],
            ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]],
            ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"]],
            ["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"]],
        ]
        let requested = Set(config.mounts.map { RootPath.normalized($0.containerPath) })
        // The pod's files, unless the request mounts its own there (as the kubelet does
        // for /etc/hosts).
        let etcOption = readonlyRootfs ? "ro" : "rw"
        for (destination, file) in [("/etc/hostname", "hostname"), ("/etc/hosts", "hosts"), ("/etc/resolv.conf", "resolv.conf")] where !requested.contains(destination) {
            list.append(["destination": .string(destination), "type": "bind", "source": .string("\(pod.directory)/\(file)"), "options": ["rbind", "rprivate", .string(etcOption)]])
        }
        if !requested.contains("/dev/shm") {
            let shm = pod.namespaceOptions.ipc == .node ? "/dev/shm" : "\(pod.directory)/shm"
            list.append(["destination": "/dev/shm", "type": "bind", "source": .string(shm), "options": ["rbind", "rprivate", "rw"]])
        }
        for mount in config.mounts {
            guard mount.containerPath.hasPrefix("/") else {
                throw RPCError(code: .invalidArgument, message: "\(what): mount container_path \"\(mount.containerPath)\" must be absolute")
            }
            guard mount.hostPath.hasPrefix("/") else {
                throw RPCError(code: .invalidArgument, message: "\(what): mount host_path \"\(mount.hostPath)\" must be absolute")
            }
            if mount.hasImage && !mount.image.image.isEmpty {
                throw RPCError(code: .invalidArgument, message: "\(what): image volumes (mount \(mount.containerPath) from \(mount.image.image)) are not supported")
            }
            guard FileSystem.exists(mount.hostPath) else {
                throw RPCError(code: .invalidArgument, message: "\(what): mount host_path \(mount.hostPath) does not exist")
            }
            var options: [JSONValue] = ["rbind"]
            switch mount.propagation {
            case .propagationHostToContainer: options.append("rslave")
            case .propagationBidirectional: options.append("rshared")
            default: options.append("rprivate")
            }
            if mount.recursiveReadOnly {
                guard mount.readonly else { throw RPCError(code: .invalidArgument, message: "\(what): mount \(mount.containerPath): recursive_read_only needs readonly") }
                options.append("rro")
            }
            options.append(mount.readonly ? "ro" : "rw")
            list.append(["destination": .string(mount.containerPath), "type": "bind", "source": .string(mount.hostPath), "options": .array(options)])
        }
        return list
    }

    // MARK: Devices and resources

    /// The CRI's devices as OCI devices (type and numbers from the host node); a privileged
    /// container also gets every device of the host's /dev, the CRI's own taking the place
    /// of a host node at the same path.
    func devices(privileged: Bool) throws(RPCError) -> [JSONValue] {
        // A requested node is root's at its container path.
        let requested = try config.devices.map { (device) throws(RPCError) -> HostDevices.Node in
            var node = try Self.deviceNode(device.hostPath, what: what)
            (node.path, node.uid, node.gid) = (device.containerPath.isEmpty ? device.hostPath : device.containerPath, 0, 0)
            return node
        }
        let host = privileged ? HostDevices.list(root: hostDeviceRoot).filter { node in !requested.contains { $0.path == node.path } } : []
        return (host + requested).map(\.ociDevice)
    }

    /// Deny every device, then allow what a container needs (the runtime's default nodes,
    /// ptys, mknod of anything) and the requested devices; privileged allows all.
    func deviceRules(privileged: Bool) throws(RPCError) -> [JSONValue] {
        if privileged { return [["allow": true, "access": "rwm"]] }
        var rules: [JSONValue] = [
            ["allow": false, "access": "rwm"],
            ["allow": true, "type": "c", "access": "m"], ["allow": true, "type": "b", "access": "m"],
        ]
        for (major, minor) in [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (10, 200)] {
            rules.append(["allow": true, "type": "c", "major": .int(major), "minor": .int(minor), "access": "rwm"])
        }
        rules.append(["allow": true, "type": "c", "major": 136, "access": "rwm"])
        for device in config.devices {
            let node = try Self.deviceNode(device.hostPath, what: what)
            let access = device.permissions.isEmpty ? "rwm" : device.permissions
            guard access.allSatisfy({ "rwm".contains($0) }) else {
                throw RPCError(code: .invalidArgument, message: "\(what): device \(device.hostPath): permissions \"\(device.permissions)\" must be letters of rwm")
            }
            rules.append(["allow": true, "type": .string(node.type), "major": .int(node.major), "minor": .int(node.minor), "access": .string(access)])
        }
        return rules
    }

    static func deviceNode(_ path: String, what: String) throws(RPCError) -> HostDevices.Node {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw RPCError(code: .invalidArgument, message: "\(what): device \(path): \(SystemError.describe(errno: errno))")
        }
        guard let node = HostDevices.Node(path: path, info: info) else {
            throw RPCError(code: .invalidArgument, message: "\(what): device \(path) is not a device node")
        }
        return node
    }

    /// CRI LinuxContainerResources as OCI `linux.resources` (zero means unset).
    static func resources(_ resources: Runtime_V1_LinuxContainerResources, devices: [JSONValue]) -> JSONObject {
        var object: JSONObject = [:]
        if !devices.isEmpty { object["devices"] = .array(devices) }
        var memory: JSONObject = [:]
        if resources.memoryLimitInBytes > 0 { memory["limit"] = .int(resources.memoryLimitInBytes) }
        if resources.memorySwapLimitInBytes > 0 { memory["swap"] = .int(resources.memorySwapLimitInBytes) }
        if !memory.keys.isEmpty { object["memory"] = .object(memory) }
        var cpu: JSONObject = [:]
        if resources.cpuShares > 0 { cpu["shares"] = .int(resources.cpuShares) }
        if resources.cpuQuota > 0 { cpu["quota"] = .int(resources.cpuQuota) }
        if resources.cpuPeriod > 0 { cpu["period"] = .int(resources.cpuPeriod) }
        if !resources.cpusetCpus.isEmpty { cpu["cpus"] = .string(resources.cpusetCpus) }
        if !resources.cpusetMems.isEmpty { cpu["mems"] = .string(resources.cpusetMems) }
        if !cpu.keys.isEmpty { object["cpu"] = .object(cpu) }
        if !resources.hugepageLimits.isEmpty {
            object["hugepageLimits"] = .array(resources.hugepageLimits.map { ["pageSize": .string($0.pageSize), "limit": .int($0.limit)] })
        }
        if !resources.unified.isEmpty {
            object["unified"] = .object(JSONObject(resources.unified.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        return object
    }

    // MARK: Seccomp and annotations

    /// RuntimeDefault: berth's built-in profile; Localhost: the profile file on the node;
    /// Unconfined, unset or privileged: none (as containerd).
    func seccomp(privileged: Bool, capabilities: Set<String>) throws(RPCError) -> JSONValue? {
        let security = config.linux.securityContext
        if privileged { return nil }
        var profile = security.hasSeccomp ? security.seccomp : nil
        if profile == nil && !security.seccompProfilePath.isEmpty {
            // The deprecated string form: "runtime/default", "unconfined", "localhost/<path>".
            var converted = Runtime_V1_SecurityProfile()
            switch security.seccompProfilePath {
            case "runtime/default", "docker/default": converted.profileType = .runtimeDefault
            case "unconfined": converted.profileType = .unconfined
            case let path where path.hasPrefix("localhost/"):
                converted.profileType = .localhost
                converted.localhostRef = String(path.dropFirst("localhost/".count))
            case let other: throw RPCError(code: .invalidArgument, message: "\(what): seccomp_profile_path \"\(other)\" is not runtime/default, unconfined or localhost/<path>")
            }
            profile = converted
        }
        guard let profile else { return nil }
        switch profile.profileType {
        case .runtimeDefault: return RuntimeDefaultSeccomp.profile(capabilities: capabilities)
        case .unconfined: return nil
        case .localhost:
            let path = profile.localhostRef
            guard path.hasPrefix("/") else { throw RPCError(code: .invalidArgument, message: "\(what): seccomp localhost profile \"\(path)\" must be an absolute path") }
            let value: JSONValue
            do {
                value = try JSONParser.parse(try FileSystem.read(path))
            } catch {
                throw RPCError(code: .invalidArgument, message: "\(what): seccomp profile \(path): \(error)")
            }
            guard var object = value.objectValue, object["defaultAction"]?.stringValue != nil else {
                throw RPCError(code: .invalidArgument, message: "\(what): seccomp profile \(path): not a seccomp profile (no defaultAction)")
            }
            // Docker's profile format has fields the OCI one has not.
            object["archMap"] = nil
            if object["architectures"] == nil { object["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] }
            return .object(object)
        case .UNRECOGNIZED(let number):
            throw RPCError(code: .invalidArgument, message: "\(what): seccomp profile type \(number) is unknown")
        }
    }

    /// The annotations containerd sets, so tools that read them (and runc hooks) find the
    /// pod and the image.
    func annotations() -> JSONObject {
        var object = JSONObject(config.annotations.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })
        object["io.kubernetes.cri.container-type"] = "container"
        object["io.kubernetes.cri.container-name"] = .string(config.metadata.name)
        object["io.kubernetes.cri.sandbox-id"] = .string(pod.id)
        object["io.kubernetes.cri.sandbox-name"] = .string(sandbox.metadata.name)
        object["io.kubernetes.cri.sandbox-namespace"] = .string(sandbox.metadata.namespace)
        object["io.kubernetes.cri.sandbox-uid"] = .string(sandbox.metadata.uid)
        object["io.kubernetes.cri.image-name"] = .string(imageName)
        return object
    }
}
