import BerthCRI
import BerthJSON

/// `berthctl inspecti IMAGE...`: each image's status with the runtime's verbose information
/// (berthd's: the image config).
enum InspectImageCommand: CommandDefinition {
    static let names = ["inspecti"]
    static let summary = "Return the status of one or more images"
    static let usageLine = "inspecti [flags] IMAGE-ID [IMAGE-ID...]"
    static let flags = [
        Flag("--output", "-o", value: true, help: "output format: json (default), yaml or table"),
        Flag("--quiet", "-q", help: "the status only, without the verbose information"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let format = try OutputFormat.parse(context.flags.string("--output"), allowed: [.json, .yaml, .table], command: "inspecti") ?? .json
        let names = context.flags.positional
        guard !names.isEmpty else {
            context.console.out(help)
            return 0
        }
        let endpoint = context.settings.imageEndpoint
        let verbose = !context.flags.bool("--quiet")
        let responses = try await CRIConnection.with(endpoint, timeout: context.settings.timeout) { connection in
            var responses: [Runtime_V1_ImageStatusResponse] = []
            for name in names {
                var request = Runtime_V1_ImageStatusRequest()
                request.image.image = name
                request.verbose = verbose
                let response: Runtime_V1_ImageStatusResponse
                do {
                    response = try await connection.images.imageStatus(request, options: connection.options)
                } catch {
                    throw CommandError.rpc("image status for \"\(name)\" request", error, endpoint: endpoint)
                }
                guard response.hasImage else { throw CommandError("no such image \"\(name)\" present") }
                responses.append(response)
            }
            return responses
        }
        if format == .table {
            var text = ""
            for response in responses {
                text += "ID: \(response.image.id)\n"
                for tag in response.image.repoTags { text += "Tag: \(tag)\n" }
                for digest in response.image.repoDigests { text += "Digest: \(digest)\n" }
                text += "Size: \(ByteSize.human(Double(response.image.size)))\n"
                if verbose && !response.info.isEmpty {
                    text += StatusOutput.infoLine(response.info)
                }
            }
            context.console.out(text)
            return 0
        }
        let documents = try responses.map { StatusOutput.document(status: try MessageOutput.json($0.image), info: $0.info) }
        context.console.out(StatusOutput.render(documents, as: format))
        return 0
    }
}
