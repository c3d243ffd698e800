import BerthCRI
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// `berthctl create POD container-config.json pod-config.json`: prints the container id.
enum CreateContainerCommand: CommandDefinition {
    static let names = ["create"]
    static let summary = "Create a new container"
    static let usageLine = "create [flags] POD-ID container-config.json pod-config.json"
    static let flags = [
        Flag("--no-pull", help: "do not pull the image (the default unless pull-image-on-create is set in the config)"),
        Flag("--with-pull", help: "pull the image before creating the container"),
    ] + pullCredentialFlags

    /// The credentials of the pull `create` and `run` may do.
    static let pullCredentialFlags = [
        Flag("--creds", value: true, help: "registry credentials USERNAME[:PASSWORD] for the pull"),
        Flag("--auth", value: true, help: "base64 USERNAME[:PASSWORD] for the pull"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let positional = context.flags.positional
        guard positional.count == 3 else {
            context.console.out(help)
            return 0
        }
        let container = try CRIConfigFile.load(positional[1], as: Runtime_V1_ContainerConfig.self, what: "containerConfig")
        let pod = try CRIConfigFile.load(positional[2], as: Runtime_V1_PodSandboxConfig.self, what: "podSandboxConfig")
        // As crictl: --with-pull, or pull-image-on-create in the config unless --no-pull.
        let pull = context.flags.bool("--with-pull") || (context.settings.pullImageOnCreate && !context.flags.bool("--no-pull"))
        let id = try await create(context, podID: positional[0], container: container, pod: pod, pull: pull)
        context.console.out(id + "\n")
        return 0
    }

    static func create(_ context: CommandContext, podID: String, container: Runtime_V1_ContainerConfig, pod: Runtime_V1_PodSandboxConfig, pull: Bool) async throws -> String {
        guard !podID.isEmpty else { throw CommandError("ID cannot be empty") }
        guard container.hasMetadata else { throw CommandError("load containerConfig: metadata is not set") }
        guard !container.metadata.name.isEmpty else { throw CommandError("load containerConfig: name is not in metadata \"\(container.metadata)\"") }
        if context.flags.bool("--no-pull") && context.flags.bool("--with-pull") { throw CommandError("conflict: no-pull and with-pull are both set") }
        if pull {
            context.console.error("Pulling container image: \(container.image.image)\n")
            try await Self.pull(context, image: container.image.image, sandbox: pod)
        }
        var request = Runtime_V1_CreateContainerRequest()
        request.podSandboxID = podID
        request.config = container
        if request.config.image.userSpecifiedImage.isEmpty { request.config.image.userSpecifiedImage = container.image.image }
        request.sandboxConfig = pod
        context.debug("CreateContainerRequest: \(request)")
        return try await context.withRuntime { runtime, options, endpoint in
            do {
                return try await runtime.createContainer(request, options: options).containerID
            } catch {
                throw CommandError.rpc("creating container", error, endpoint: endpoint)
            }
        }
    }
}

extension CreateContainerCommand {
    /// PullImage with the command's credentials and the pod's config, no deadline.
    static func pull(_ context: CommandContext, image: String, sandbox: Runtime_V1_PodSandboxConfig) async throws {
        var request = Runtime_V1_PullImageRequest()
        request.image.image = image
        request.sandboxConfig = sandbox
        if let auth = try PullCommand.credentials(context) { request.auth = auth }
        let endpoint = context.settings.imageEndpoint
        try await CRIConnection.with(endpoint, timeout: context.settings.timeout) { connection in
            var options = connection.options
            options.timeout = nil
            do {
                _ = try await connection.images.pullImage(request, options: options)
            } catch {
                throw CommandError.rpc("pulling image \"\(image)\"", error, endpoint: endpoint)
            }
        }
    }
}

/// `berthctl start CONTAINER-ID...`
enum StartContainerCommand: CommandDefinition {
    static let names = ["start"]
    static let summary = "Start one or more created containers"
    static let usageLine = "start CONTAINER-ID [CONTAINER-ID...]"
    static let flags: [Flag] = []

    static func run(_ context: CommandContext) async throws -> Int32 {
        let ids = context.flags.positional
        guard !ids.isEmpty else { throw CommandError("ID cannot be empty") }
        try await context.withRuntime { runtime, options, endpoint in
            for id in ids {
                try await start(runtime, options, endpoint, id)
                context.console.out(id + "\n")
            }
        }
        return 0
    }

    static func start(_ runtime: Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>, _ options: CallOptions, _ endpoint: CRIEndpoint, _ id: String) async throws {
        guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
        var request = Runtime_V1_StartContainerRequest()
        request.containerID = id
        do {
            _ = try await runtime.startContainer(request, options: options)
        } catch {
            throw CommandError.rpc("starting the container \"\(id)\"", error, endpoint: endpoint)
        }
    }
}

/// `berthctl stop [-t N] CONTAINER-ID...`
enum StopContainerCommand: CommandDefinition {
    static let names = ["stop"]
    static let summary = "Stop one or more running containers"
    static let usageLine = "stop [flags] CONTAINER-ID [CONTAINER-ID...]"
    static let flags = [Flag("--timeout", "-t", value: true, help: "seconds to wait to kill the container after a graceful stop is requested (default 0)")]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let ids = context.flags.positional
        guard !ids.isEmpty else { throw CommandError("ID cannot be empty") }
        let timeoutText = context.flags.string("--timeout") ?? "0"
        guard let timeout = Int64(timeoutText) else { throw CommandError("--timeout: \"\(timeoutText)\" is not a number of seconds") }
        // The call waits for the grace period: the RPC deadline must outlast it.
        try await context.withRuntime(extraTimeout: Double(timeout)) { runtime, options, endpoint in
            for id in ids {
                guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
                var request = Runtime_V1_StopContainerRequest()
                request.containerID = id
                request.timeout = timeout
                do {
                    _ = try await runtime.stopContainer(request, options: options)
                } catch {
                    throw CommandError.rpc("stopping the container \"\(id)\"", error, endpoint: endpoint)
                }
                context.console.out(id + "\n")
            }
        }
        return 0
    }
}

/// `berthctl rm [-f] [-a] [-k] CONTAINER-ID...`: prints each id removed.
enum RemoveContainerCommand: CommandDefinition {
    static let names = ["rm"]
    static let summary = "Remove one or more containers"
    static let usageLine = "rm [flags] CONTAINER-ID [CONTAINER-ID...]"
    static let flags = [
        Flag("--force", "-f", help: "force removal of the container, disregarding if running"),
        Flag("--all", "-a", help: "remove all containers"),
        Flag("--keep-logs", "-k", help: "preserve the container log file and its rotations"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let force = context.flags.bool("--force")
        let all = context.flags.bool("--all")
        if context.flags.positional.isEmpty && !all {
            context.console.out(help)
            return 0
        }
        let keepLogs = context.flags.bool("--keep-logs")
        let failed = try await context.withRuntime { runtime, options, endpoint in
            var ids = context.flags.positional
            if all {
                do {
                    ids = try await runtime.listContainers(Runtime_V1_ListContainersRequest(), options: options).containers.map(\.id)
                } catch {
                    throw CommandError.rpc("listing containers", error, endpoint: endpoint)
                }
                if ids.isEmpty { context.console.error("No containers to remove\n") }
            }
            var failed = false
            for id in ids {
                guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
                var statusRequest = Runtime_V1_ContainerStatusRequest()
                statusRequest.containerID = id
                let status: Runtime_V1_ContainerStatusResponse
                do {
                    status = try await runtime.containerStatus(statusRequest, options: options)
                } catch {
                    context.console.error("berthctl: \(CommandError.rpc("getting container status \"\(id)\"", error, endpoint: endpoint).message)\n")
                    failed = true
                    continue
                }
                if status.status.state == .containerRunning {
                    guard force else {
                        context.console.error("berthctl: container \"\(id)\" is running, please stop it first\n")
                        failed = true
                        continue
                    }
                    var stop = Runtime_V1_StopContainerRequest()
                    stop.containerID = id
                    do {
                        _ = try await runtime.stopContainer(stop, options: options)
                    } catch {
                        context.console.error("berthctl: \(CommandError.rpc("stopping the container \"\(id)\"", error, endpoint: endpoint).message)\n")
                        failed = true
                        continue
                    }
                    context.console.out(id + "\n")
                }
                var request = Runtime_V1_RemoveContainerRequest()
                request.containerID = id
                do {
                    _ = try await runtime.removeContainer(request, options: options)
                } catch {
                    context.console.error("berthctl: \(CommandError.rpc("removing container \"\(id)\" failed", error, endpoint: endpoint).message)\n")
                    failed = true
                    continue
                }
                if !keepLogs && !status.status.logPath.isEmpty { LogFiles.remove(status.status.logPath) }
                context.console.out(id + "\n")
            }
            return failed
        }
        if failed { throw CommandError("unable to remove container(s)") }
        return 0
    }
}

/// `berthctl run container-config.json pod-config.json`: a pod and a started container
/// in it; prints the container id.
enum RunContainerCommand: CommandDefinition {
    static let names = ["run"]
    static let summary = "Run a new container inside a new pod"
    static let usageLine = "run [flags] container-config.json pod-config.json"
    static let flags = [
        Flag("--runtime", "-r", value: true, help: "runtime handler to use (RuntimeClass)"),
        Flag("--no-pull", help: "do not pull the image"),
        Flag("--with-pull", help: "pull the image (the default unless disable-pull-on-run is set in the config)"),
    ] + CreateContainerCommand.pullCredentialFlags

    static func run(_ context: CommandContext) async throws -> Int32 {
        let positional = context.flags.positional
        guard positional.count == 2 else {
            context.console.out(help)
            return 0
        }
        let container = try CRIConfigFile.load(positional[0], as: Runtime_V1_ContainerConfig.self, what: "containerConfig")
        let pod = try CRIConfigFile.load(positional[1], as: Runtime_V1_PodSandboxConfig.self, what: "podSandboxConfig")
        // run pulls unless told not to, by --no-pull or disable-pull-on-run in the config
        // (create does not unless told to), as crictl; --with-pull wins.
        let pull = context.flags.bool("--with-pull") || (!context.settings.disablePullOnRun && !context.flags.bool("--no-pull"))
        let podID = try await RunPodCommand.runPod(context, pod)
        let id = try await CreateContainerCommand.create(context, podID: podID, container: container, pod: pod, pull: pull)
        try await context.withRuntime { runtime, options, endpoint in try await StartContainerCommand.start(runtime, options, endpoint, id) }
        context.console.out(id + "\n")
        return 0
    }
}

/// `berthctl update [flags] CONTAINER-ID...`: new cgroup limits; prints each id.
enum UpdateContainerCommand: CommandDefinition {
    static let names = ["update"]
    static let summary = "Update one or more running containers"
    static let usageLine = "update [flags] CONTAINER-ID [CONTAINER-ID...]"
    static let flags = [
        Flag("--cpu-count", value: true, help: "(Windows only)"),
        Flag("--cpu-maximum", value: true, help: "(Windows only)"),
        Flag("--cpu-period", value: true, help: "CPU CFS period in microseconds"),
        Flag("--cpu-quota", value: true, help: "CPU CFS quota in microseconds"),
        Flag("--cpu-share", value: true, help: "CPU shares (relative weight)"),
        Flag("--cpuset-cpus", value: true, help: "CPUs in which to allow execution (0-3, 0,1)"),
        Flag("--cpuset-mems", value: true, help: "memory nodes in which to allow execution (0-3, 0,1)"),
        Flag("--memory", value: true, help: "memory limit in bytes"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let ids = context.flags.positional
        guard !ids.isEmpty else { throw CommandError("ID cannot be empty") }
        var resources = Runtime_V1_LinuxContainerResources()
        func number(_ flag: String) throws(CommandError) -> Int64 {
            guard let text = context.flags.string(flag) else { return 0 }
            guard let value = Int64(text), value >= 0 else { throw CommandError("\(flag): \"\(text)\" is not a non-negative number") }
            return value
        }
        resources.cpuPeriod = try number("--cpu-period")
        resources.cpuQuota = try number("--cpu-quota")
        resources.cpuShares = try number("--cpu-share")
        resources.memoryLimitInBytes = try number("--memory")
        resources.cpusetCpus = context.flags.string("--cpuset-cpus") ?? ""
        resources.cpusetMems = context.flags.string("--cpuset-mems") ?? ""
        try await context.withRuntime { runtime, options, endpoint in
            for id in ids {
                guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
                var request = Runtime_V1_UpdateContainerResourcesRequest()
                request.containerID = id
                request.linux = resources
                do {
                    _ = try await runtime.updateContainerResources(request, options: options)
                } catch {
                    throw CommandError.rpc("updating container resources for \"\(id)\"", error, endpoint: endpoint)
                }
                context.console.out(id + "\n")
            }
        }
        return 0
    }
}
