import BerthCRI

/// `berthctl ps`: the containers, newest first, running ones unless told otherwise, as
/// crictl lists them.
enum ListContainersCommand: CommandDefinition {
    static let names = ["ps"]
    static let summary = "List containers"
    static let usageLine = "ps [flags]"
    static let flags = [
        Flag("--all", "-a", help: "show all containers"),
        Flag("--id", value: true, help: "filter by container id"),
        Flag("--name", value: true, help: "filter by container name regular expression"),
        Flag("--pod", "-p", value: true, help: "filter by pod id"),
        Flag("--image", value: true, help: "filter by container image"),
        Flag("--state", "-s", value: true, help: "filter by container state: created, running, exited or unknown"),
        Flag("--label", value: true, help: "filter by key=value label (repeatable)"),
        Flag("--verbose", "-v", help: "show verbose information for containers"),
        Flag("--quiet", "-q", help: "only display container IDs"),
        Flag("--output", "-o", value: true, help: "output format: table (default), json or yaml"),
        Flag("--latest", "-l", help: "show the most recently created container (any state)"),
        Flag("--last", "-n", value: true, help: "show the n most recently created containers (any state)"),
        Flag("--no-trunc", help: "show output without truncating the ID"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let flags = context.flags
        guard flags.positional.isEmpty else {
            context.console.out(help)
            return 0
        }
        let format = try OutputFormat.parse(flags.string("--output"), allowed: [.table, .json, .yaml], command: "ps") ?? .table
        var request = Runtime_V1_ListContainersRequest()
        if let id = flags.string("--id"), !id.isEmpty { request.filter.id = id }
        if let pod = flags.string("--pod"), !pod.isEmpty { request.filter.podSandboxID = pod }
        if let state = flags.string("--state"), !state.isEmpty {
            switch state.lowercased() {
            case "created": request.filter.state.state = .containerCreated
            case "running": request.filter.state.state = .containerRunning
            case "exited": request.filter.state.state = .containerExited
            case "unknown": request.filter.state.state = .containerUnknown
            default: throw CommandError("--state should be one of created, running, exited or unknown")
            }
        } else if !flags.bool("--all") {
            request.filter.state.state = .containerRunning
        }
        let latest = flags.bool("--latest")
        let last = flags.string("--last")
        if latest || (Int(last ?? "") ?? 0) > 0 { request.filter.clearState() }
        let labels = try PodRows.labels(flags.strings("--label"))
        if !labels.isEmpty { request.filter.labelSelector = labels }
        let nameFilter = try PodRows.pattern(flags.string("--name"), flag: "--name")
        let image = flags.string("--image") ?? ""
        context.debug("ListContainersRequest: \(request)")
        var response = try await context.withRuntime { runtime, options, endpoint in
            do {
                return try await runtime.listContainers(request, options: options)
            } catch {
                throw CommandError.rpc("listing containers", error, endpoint: endpoint)
            }
        }
        var containers = response.containers.filter { $0.hasMetadata && nameFilter.matches($0.metadata.name) }
        if !image.isEmpty {
            // The same image whatever name each side used: compare image ids.
            containers = containers.filter { $0.image.image == image || $0.imageRef == image || $0.imageID == image || $0.imageRef.hasPrefix(image) }
        }
        containers.sort { $0.createdAt > $1.createdAt }
        containers = try PodRows.limit(containers, latest: latest, last: last)
        response.containers = containers
        if format != .table {
            context.console.out(MessageOutput.render(try MessageOutput.json(response), as: format))
            return 0
        }
        if flags.bool("--quiet") {
            context.console.out(containers.map { $0.id + "\n" }.joined())
            return 0
        }
        let now = context.now()
        if flags.bool("--verbose") {
            var text = ""
            for container in containers {
                text += "ID: \(container.id)\nPodID: \(container.podSandboxID)\n"
                if !container.metadata.name.isEmpty { text += "Name: \(container.metadata.name)\n" }
                text += "Attempt: \(container.metadata.attempt)\n"
                text += "State: \(PodRows.state(container.state))\n"
                text += "Image: \(container.image.image)\n"
                text += "Created: \(HumanDuration.ago(nanoseconds: container.createdAt, now: now))\n"
                text += PodRows.map("Labels", container.labels) + PodRows.map("Annotations", container.annotations) + "\n"
            }
            context.console.out(text)
            return 0
        }
        let full = flags.bool("--no-trunc")
        var table = TableWriter(header: ["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"])
        for container in containers {
            var shownImage = container.image.image
            if shownImage.hasPrefix("sha256:") && shownImage.count == 71 {
                shownImage = String(shownImage.dropFirst(7))
                if !full { shownImage = PodRows.truncated(shownImage) }
            }
            table.add([
                full ? container.id : PodRows.truncated(container.id), shownImage, HumanDuration.ago(nanoseconds: container.createdAt, now: now),
                PodRows.state(container.state), container.metadata.name, String(container.metadata.attempt),
                full ? container.podSandboxID : PodRows.truncated(container.podSandboxID), container.labels["io.kubernetes.pod.name"] ?? "unknown",
            ])
        }
        context.console.out(table.rendered())
        return 0
    }
}

/// `berthctl inspect CONTAINER-ID...`: each container's status with the runtime's info.
enum InspectContainerCommand: CommandDefinition {
    static let names = ["inspect"]
    static let summary = "Display the status of one or more containers"
    static let usageLine = "inspect [flags] CONTAINER-ID [CONTAINER-ID...]"
    static let flags = [
        Flag("--output", "-o", value: true, help: "output format: json (default), yaml or table"),
        Flag("--quiet", "-q", help: "do not show verbose information"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let format = try OutputFormat.parse(context.flags.string("--output"), allowed: [.json, .yaml, .table], command: "inspect") ?? .json
        let ids = context.flags.positional
        guard !ids.isEmpty else {
            context.console.out(help)
            return 0
        }
        let verbose = !context.flags.bool("--quiet")
        let responses = try await context.withRuntime { runtime, options, endpoint in
            var responses: [Runtime_V1_ContainerStatusResponse] = []
            for id in ids {
                guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
                var request = Runtime_V1_ContainerStatusRequest()
                request.containerID = id
                request.verbose = verbose
                do {
                    responses.append(try await runtime.containerStatus(request, options: options))
                } catch {
                    throw CommandError.rpc("getting the status of the container \"\(id)\"", error, endpoint: endpoint)
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
                text += "Attempt: \(status.metadata.attempt)\n"
                text += "State: \(String(describing: status.state).screamingState)\n"
                text += "Created: \(PodRows.goTime(status.createdAt))\n"
                if status.startedAt != 0 { text += "Started: \(PodRows.goTime(status.startedAt))\n" }
                if status.finishedAt != 0 {
                    text += "Finished: \(PodRows.goTime(status.finishedAt))\nExit Code: \(status.exitCode)\n"
                }
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

extension String {
    /// `containerRunning` as the proto's enum name `CONTAINER_RUNNING`.
    var screamingState: String {
        var text = ""
        for character in self {
            if character.isUppercase { text += "_" }
            text += character.uppercased()
        }
        return text
    }
}
