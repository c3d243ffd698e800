import BerthCRI
import BerthJSON

/// `berthctl info`: the runtime's status conditions and its verbose information.
enum InfoCommand: CommandDefinition {
    static let names = ["info"]
    static let summary = "Display information of the container runtime"
    static let usageLine = "info [-o json|yaml] [-q]"
    static let flags = [
        Flag("--output", "-o", value: true, help: "output format: json (default) or yaml"),
        Flag("--quiet", "-q", help: "the status only, without the runtime's verbose information"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let format = try OutputFormat.parse(context.flags.string("--output"), allowed: [.json, .yaml], command: "info") ?? .json
        let endpoint = context.settings.runtimeEndpoint
        let response = try await CRIConnection.with(endpoint, timeout: context.settings.timeout) { connection in
            do {
                var request = Runtime_V1_StatusRequest()
                request.verbose = !context.flags.bool("--quiet")
                return try await connection.runtime.status(request, options: connection.options)
            } catch {
                throw CommandError.rpc("getting status of runtime", error, endpoint: endpoint)
            }
        }
        context.debug("StatusResponse: \(response)")
        context.console.out(StatusOutput.render([try document(response)], as: format))
        return 0
    }

    /// crictl's shape: the status, the handlers and features beside it, the verbose info.
    /// (Synchronous, apart from the call: Swift 6.3's optimizer crashed splitting the async
    /// function while this was inline.)
    static func document(_ response: Runtime_V1_StatusResponse) throws -> JSONValue {
        var extra: [(String, JSONValue)] = []
        if !response.runtimeHandlers.isEmpty {
            var handlers: [JSONValue] = []
            for handler in response.runtimeHandlers { handlers.append(try MessageOutput.json(handler)) }
            extra.append(("runtimeHandlers", .array(handlers)))
        }
        if response.hasFeatures {
            extra.append(("features", try MessageOutput.json(response.features)))
        }
        return StatusOutput.document(status: try MessageOutput.json(response.status), info: response.info, extra: extra)
    }
}
