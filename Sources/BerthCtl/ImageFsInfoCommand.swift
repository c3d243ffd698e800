import BerthCRI

/// `berthctl imagefsinfo`: the filesystems holding images and container writable layers.
enum ImageFsInfoCommand: CommandDefinition {
    static let names = ["imagefsinfo"]
    static let summary = "Return image filesystem info"
    static let usageLine = "imagefsinfo [-o json|yaml|table]"
    static let flags = [Flag("--output", "-o", value: true, help: "output format: json (default), yaml or table")]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let format = try OutputFormat.parse(context.flags.string("--output"), allowed: [.json, .yaml, .table], command: "imagefsinfo") ?? .json
        let endpoint = context.settings.imageEndpoint
        let response = try await CRIConnection.with(endpoint, timeout: context.settings.timeout) { connection in
            do {
                return try await connection.images.imageFsInfo(Runtime_V1_ImageFsInfoRequest(), options: connection.options)
            } catch {
                throw CommandError.rpc("image filesystem info request", error, endpoint: endpoint)
            }
        }
        context.debug("ImageFsInfoResponse: \(response)")
        if format == .table {
            var text = ""
            for (title, filesystems) in [("Container", response.containerFilesystems), ("Image", response.imageFilesystems)] {
                text += "\(title) Filesystem \n"
                for (index, usage) in filesystems.enumerated() {
                    text += "TimeStamp[\(index)]: \(usage.timestamp)\n"
                    text += "Disk[\(index)]: \(ByteSize.human(Double(usage.usedBytes.value), precision: 4))\n"
                    text += "Inodes[\(index)]: \(usage.inodesUsed.value)\n"
                    text += "Mountpoint[\(index)]: \(usage.fsID.mountpoint)\n"
                }
            }
            context.console.out(text)
            return 0
        }
        context.console.out(StatusOutput.render([StatusOutput.document(status: try MessageOutput.json(response))], as: format))
        return 0
    }
}
