import BerthCRI

/// `berthctl version`: the runtime's name and versions, as crictl prints them.
enum VersionCommand: CommandDefinition {
    static let names = ["version"]
    static let summary = "Display runtime version information"
    static let usageLine = "version"
    static let flags: [Flag] = []

    static func run(_ context: CommandContext) async throws -> Int32 {
        let endpoint = context.settings.runtimeEndpoint
        let response = try await CRIConnection.with(endpoint, timeout: context.settings.timeout) { connection in
            do {
                var request = Runtime_V1_VersionRequest()
                request.version = "v1"
                return try await connection.runtime.version(request, options: connection.options)
            } catch {
                throw CommandError.rpc("getting the runtime version", error, endpoint: endpoint)
            }
        }
        context.debug("VersionResponse: \(response)")
        context.console.out("""
            Version:  \(response.version)
            RuntimeName:  \(response.runtimeName)
            RuntimeVersion:  \(response.runtimeVersion)
            RuntimeApiVersion:  \(response.runtimeApiVersion)

            """)
        return 0
    }
}
