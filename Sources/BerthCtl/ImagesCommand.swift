import BerthCRI

/// `berthctl images [REPOSITORY[:TAG]]`: the images, as crictl lists them.
enum ImagesCommand: CommandDefinition {
    static let names = ["images", "image", "img"]
    static let summary = "List images"
    static let usageLine = "images [flags] [REPOSITORY[:TAG]]"
    static let flags = [
        Flag("--quiet", "-q", help: "only show image IDs"),
        Flag("--digests", help: "show digests"),
        Flag("--no-trunc", help: "show output without truncating the ID"),
        Flag("--pinned", help: "show whether the image is pinned"),
        Flag("--verbose", "-v", help: "show every field of every image"),
        Flag("--output", "-o", value: true, help: "output format: table (default), json or yaml"),
        Flag("--filter", "-f", value: true, help: "dangling=true|false or reference=REGEX (repeatable)"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let flags = context.flags
        let format = try OutputFormat.parse(flags.string("--output"), allowed: [.table, .json, .yaml], command: "images") ?? .table
        guard flags.positional.count <= 1 else { throw CommandError("images: give at most one REPOSITORY[:TAG], not \(flags.positional.count)") }
        let endpoint = context.settings.imageEndpoint
        var request = Runtime_V1_ListImagesRequest()
        if let name = flags.positional.first, !name.isEmpty { request.filter.image.image = name }
        context.debug("ListImagesRequest: \(request)")
        var response = try await CRIConnection.with(endpoint, timeout: context.settings.timeout) { connection in
            do {
                return try await connection.images.listImages(request, options: connection.options)
            } catch {
                throw CommandError.rpc("listing images", error, endpoint: endpoint)
            }
        }
        context.debug("ListImagesResponse: \(response)")
        response.images = try ImageFilter.apply(flags.strings("--filter"), to: ImageRows.sorted(response.images))
        if format != .table {
            context.console.out(MessageOutput.render(try MessageOutput.json(response), as: format))
            return 0
        }
        if flags.bool("--quiet") {
            context.console.out(response.images.map { $0.id + "\n" }.joined())
            return 0
        }
        if flags.bool("--verbose") {
            context.console.out(response.images.map(verbose).joined())
            return 0
        }
        let digests = flags.bool("--digests")
        let pinned = flags.bool("--pinned")
        let full = flags.bool("--no-trunc")
        var table = TableWriter(header: ["IMAGE", "TAG"] + (digests ? ["DIGEST"] : []) + ["IMAGE ID", "SIZE"] + (pinned ? ["PINNED"] : []))
        for image in response.images {
            let (name, digest) = ImageRows.repositoryDigest(image)
            let id = full ? image.id : ImageRows.truncated(image.id)
            let shownDigest = full || digest == "<none>" ? digest : ImageRows.truncated(digest)
            for (repository, tag) in ImageRows.repositoryTags(image, name: name) {
                table.add([repository, tag] + (digests ? [shownDigest] : []) + [id, ByteSize.human(Double(image.size))] + (pinned ? [image.pinned ? "true" : "false"] : []))
            }
        }
        context.console.out(table.rendered())
        return 0
    }

    static func verbose(_ image: Runtime_V1_Image) -> String {
        var text = "ID: \(image.id)\n"
        for tag in image.repoTags { text += "RepoTags: \(tag)\n" }
        for digest in image.repoDigests { text += "RepoDigests: \(digest)\n" }
        if image.size != 0 { text += "Size: \(image.size)\n" }
        if image.hasUid { text += "Uid: \(image.uid.value)\n" }
        if !image.username.isEmpty { text += "Username: \(image.username)\n" }
        if image.pinned { text += "Pinned: true\n" }
        return text + "\n"
    }
}
