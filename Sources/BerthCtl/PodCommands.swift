import BerthCRI
import BerthJSON
import BerthSystem
import GRPCCore
import GRPCNIOTransportHTTP2Posix

extension CommandContext {
    /// One connection to the runtime endpoint for the length of `body`.
    /// `extraTimeout`: seconds the call itself may wait (a stop's grace, an exec's timeout)
    /// on top of `--timeout`.
    func withRuntime<Result: Sendable>(
        extraTimeout: Double = 0, _ body: (Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>, CallOptions, CRIEndpoint) async throws -> Result
    ) async throws -> Result {
        let endpoint = settings.runtimeEndpoint
        return try await CRIConnection.with(endpoint, timeout: settings.timeout + extraTimeout) { connection in
            try await body(connection.runtime, connection.options, endpoint)
        }
    }

    func now() -> Int64 { Clock.nowNanoseconds() }
}

/// `berthctl runp pod-config.json`: runs a pod; prints its id.
enum RunPodCommand: CommandDefinition {
    static let names = ["runp"]
    static let summary = "Run a new pod"
    static let usageLine = "runp [flags] pod-config.json"
    static let flags = [Flag("--runtime", "-r", value: true, help: "runtime handler to use (RuntimeClass)")]

    static func run(_ context: CommandContext) async throws -> Int32 {
        guard context.flags.positional.count == 1 else {
            context.console.out(help)
            return 0
        }
        let config = try CRIConfigFile.load(context.flags.positional[0], as: Runtime_V1_PodSandboxConfig.self, what: "podSandboxConfig")
        let id = try await runPod(context, config)
        context.console.out(id + "\n")
        return 0
    }

    static func runPod(_ context: CommandContext, _ config: Runtime_V1_PodSandboxConfig) async throws -> String {
        guard config.hasMetadata else { throw CommandError("load podSandboxConfig: metadata is not set") }
        var config = config
        if config.metadata.uid.isEmpty { config.metadata.uid = PodRows.randomUID() }
        guard !config.metadata.name.isEmpty, !config.metadata.namespace.isEmpty else {
            throw CommandError("load podSandboxConfig: name or namespace is not in metadata \"\(config.metadata)\"")
        }
        var request = Runtime_V1_RunPodSandboxRequest()
        request.config = config
        request.runtimeHandler = context.flags.string("--runtime") ?? ""
        context.debug("RunPodSandboxRequest: \(request)")
        return try await context.withRuntime { runtime, options, endpoint in
            do {
                return try await runtime.runPodSandbox(request, options: options).podSandboxID
            } catch {
                throw CommandError.rpc("run pod sandbox", error, endpoint: endpoint)
            }
        }
    }
}

/// `berthctl stopp POD-ID...`
enum StopPodCommand: CommandDefinition {
    static let names = ["stopp"]
    static let summary = "Stop one or more running pods"
    static let usageLine = "stopp POD-ID [POD-ID...]"
    static let flags: [Flag] = []

    static func run(_ context: CommandContext) async throws -> Int32 {
        let ids = context.flags.positional
        guard !ids.isEmpty else {
            context.console.out(help)
            return 0
        }
        try await context.withRuntime { runtime, options, endpoint in
            for id in ids {
                guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
                var request = Runtime_V1_StopPodSandboxRequest()
                request.podSandboxID = id
                do {
                    _ = try await runtime.stopPodSandbox(request, options: options)
                } catch {
                    throw CommandError.rpc("stopping the pod sandbox \"\(id)\"", error, endpoint: endpoint)
                }
                context.console.out("Stopped sandbox \(id)\n")
            }
        }
        return 0
    }
}

/// `berthctl rmp [-f] [-a] POD-ID...`
enum RemovePodCommand: CommandDefinition {
    static let names = ["rmp"]
    static let summary = "Remove one or more pods"
    static let usageLine = "rmp [flags] POD-ID [POD-ID...]"
    static let flags = [
        Flag("--force", "-f", help: "force removal of the pod sandbox, disregarding if running"),
        Flag("--all", "-a", help: "remove all pods"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let force = context.flags.bool("--force")
        let all = context.flags.bool("--all")
        if context.flags.positional.isEmpty && !all {
            context.console.out(help)
            return 0
        }
        try await context.withRuntime { runtime, options, endpoint in
            var ids = context.flags.positional
            if all {
                do {
                    ids = try await runtime.listPodSandbox(Runtime_V1_ListPodSandboxRequest(), options: options).items.map(\.id)
                } catch {
                    throw CommandError.rpc("listing pod sandboxes", error, endpoint: endpoint)
                }
                if ids.isEmpty { context.console.error("No pods to remove\n") }
            }
            for id in ids {
                guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
                var statusRequest = Runtime_V1_PodSandboxStatusRequest()
                statusRequest.podSandboxID = id
                let status: Runtime_V1_PodSandboxStatusResponse
                do {
                    status = try await runtime.podSandboxStatus(statusRequest, options: options)
                } catch {
                    throw CommandError.rpc("getting sandbox status of pod \"\(id)\"", error, endpoint: endpoint)
                }
                if status.status.state == .sandboxReady {
                    guard force else { throw CommandError("pod sandbox \"\(id)\" is running, please stop it first") }
                    var stop = Runtime_V1_StopPodSandboxRequest()
                    stop.podSandboxID = id
                    do {
                        _ = try await runtime.stopPodSandbox(stop, options: options)
                    } catch {
                        throw CommandError.rpc("stopping the pod sandbox \"\(id)\" failed", error, endpoint: endpoint)
                    }
                    context.console.out("Stopped sandbox \(id)\n")
                }
                var request = Runtime_V1_RemovePodSandboxRequest()
                request.podSandboxID = id
                do {
                    _ = try await runtime.removePodSandbox(request, options: options)
                } catch {
                    throw CommandError.rpc("removing the pod sandbox \"\(id)\"", error, endpoint: endpoint)
                }
                context.console.out("Removed sandbox \(id)\n")
            }
        }
        return 0
    }
}

/// `berthctl pods`: the pods, newest first, as crictl lists them.
enum PodsCommand: CommandDefinition {
    static let names = ["pods"]
    static let summary = "List pods"
    static let usageLine = "pods [flags]"
    static let flags = [
        Flag("--id", value: true, help: "filter by pod id"),
        Flag("--name", value: true, help: "filter by pod name regular expression"),
        Flag("--namespace", value: true, help: "filter by pod namespace regular expression"),
        Flag("--state", "-s", value: true, help: "filter by pod state: ready or notready"),
        Flag("--label", value: true, help: "filter by key=value label (repeatable)"),
        Flag("--verbose", "-v", help: "show verbose info for pods"),
        Flag("--quiet", "-q", help: "list only pod IDs"),
        Flag("--output", "-o", value: true, help: "output format: table (default), json or yaml"),
        Flag("--latest", "-l", help: "show the most recently created pod"),
        Flag("--last", "-n", value: true, help: "show the n most recently created pods"),
        Flag("--no-trunc", help: "show output without truncating the ID"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let flags = context.flags
        let format = try OutputFormat.parse(flags.string("--output"), allowed: [.table, .json, .yaml], command: "pods") ?? .table
        var request = Runtime_V1_ListPodSandboxRequest()
        if let id = flags.string("--id"), !id.isEmpty { request.filter.id = id }
        if let state = flags.string("--state"), !state.isEmpty {
            switch state.lowercased() {
            case "ready": request.filter.state.state = .sandboxReady
            case "notready": request.filter.state.state = .sandboxNotready
            default: throw CommandError("--state should be ready or notready")
            }
        }
        let labels = try PodRows.labels(flags.strings("--label"))
        if !labels.isEmpty { request.filter.labelSelector = labels }
        let nameFilter = try PodRows.pattern(flags.string("--name"), flag: "--name")
        let namespaceFilter = try PodRows.pattern(flags.string("--namespace"), flag: "--namespace")
        context.debug("ListPodSandboxRequest: \(request)")
        var response = try await context.withRuntime { runtime, options, endpoint in
            do {
                return try await runtime.listPodSandbox(request, options: options)
            } catch {
                throw CommandError.rpc("listing pod sandboxes", error, endpoint: endpoint)
            }
        }
        var items = response.items.filter { $0.hasMetadata && nameFilter.matches($0.metadata.name) && namespaceFilter.matches($0.metadata.namespace) }
        items.sort { $0.createdAt > $1.createdAt }
        items = try PodRows.limit(items, latest: flags.bool("--latest"), last: flags.string("--last"))
        response.items = items
        if format != .table {
            context.console.out(MessageOutput.render(try MessageOutput.json(response), as: format))
            return 0
        }
        if flags.bool("--quiet") {
            context.console.out(items.map { $0.id + "\n" }.joined())
            return 0
        }
        let now = context.now()
        if flags.bool("--verbose") {
            var text = ""
            for pod in items {
                text += "ID: \(pod.id)\n"
                if !pod.metadata.name.isEmpty { text += "Name: \(pod.metadata.name)\n" }
                if !pod.metadata.uid.isEmpty { text += "UID: \(pod.metadata.uid)\n" }
                if !pod.metadata.namespace.isEmpty { text += "Namespace: \(pod.metadata.namespace)\n" }
                if pod.metadata.attempt != 0 { text += "Attempt: \(pod.metadata.attempt)\n" }
                text += "Status: \(PodRows.state(pod.state))\n"
                text += "Created: \(PodRows.goTime(pod.createdAt))\n"
                text += PodRows.map("Labels", pod.labels) + PodRows.map("Annotations", pod.annotations)
                text += "Runtime: \(pod.runtimeHandler.isEmpty ? "(default)" : pod.runtimeHandler)\n\n"
            }
            context.console.out(text)
            return 0
        }
        let full = flags.bool("--no-trunc")
        var table = TableWriter(header: ["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"])
        for pod in items {
            table.add([
                full ? pod.id : PodRows.truncated(pod.id), HumanDuration.ago(nanoseconds: pod.createdAt, now: now), PodRows.state(pod.state), pod.metadata.name,
                pod.metadata.namespace, String(pod.metadata.attempt), pod.runtimeHandler.isEmpty ? "(default)" : pod.runtimeHandler,
            ])
        }
        context.console.out(table.rendered())
        return 0
    }
}

/// `berthctl inspectp POD-ID...`: each pod's status with the runtime's verbose info.
enum InspectPodCommand: CommandDefinition {
    static let names = ["inspectp"]
    static let summary = "Display the status of one or more pods"
    static let usageLine = "inspectp [flags] POD-ID [POD-ID...]"
    static let flags = [
        Flag("--output", "-o", value: true, help: "output format: json (default), yaml or table"),
        Flag("--quiet", "-q", help: "do not show verbose information"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let format = try OutputFormat.parse(context.flags.string("--output"), allowed: [.json, .yaml, .table], command: "inspectp") ?? .json
        let ids = context.flags.positional
        guard !ids.isEmpty else {
            context.console.out(help)
            return 0
        }
        let verbose = !context.flags.bool("--quiet")
        let responses = try await context.withRuntime { runtime, options, endpoint in
            var responses: [Runtime_V1_PodSandboxStatusResponse] = []
            for id in ids {
                guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
                var request = Runtime_V1_PodSandboxStatusRequest()
                request.podSandboxID = id
                request.verbose = verbose
                do {
                    responses.append(try await runtime.podSandboxStatus(request, options: options))
                } catch {
                    throw CommandError.rpc("get the status of pod sandboxes: get pod sandbox status", error, endpoint: endpoint)
                }
            }
            return responses
        }
        if format == .table {
            var text = ""
            for response in responses {
                let status = response.status
                text += "ID: \(status.id)\n"
                if !status.metadata.name.isEmpty { text += "Name: \(status.metadata.name)\n" }
                if !status.metadata.uid.isEmpty { text += "UID: \(status.metadata.uid)\n" }
                if !status.metadata.namespace.isEmpty { text += "Namespace: \(status.metadata.namespace)\n" }
                text += "Attempt: \(status.metadata.attempt)\n"
                text += "Status: \(status.state == .sandboxReady ? "SANDBOX_READY" : "SANDBOX_NOTREADY")\n"
                text += "Created: \(PodRows.goTime(status.createdAt))\n"
                if status.hasNetwork { text += "IP Addresses: \(status.network.ip)\n" }
                for additional in status.network.additionalIps { text += "Additional IP: \(additional.ip)\n" }
                text += PodRows.map("Labels", status.labels) + PodRows.map("Annotations", status.annotations)
                if verbose && !response.info.isEmpty {
                    text += StatusOutput.infoLine(response.info)
                }
            }
            context.console.out(text)
            return 0
        }
        let documents = try responses.map { StatusOutput.document(status: try MessageOutput.json($0.status), info: $0.info) }
        context.console.out(StatusOutput.render(documents, as: format))
        return 0
    }
}
