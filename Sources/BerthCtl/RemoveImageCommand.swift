import BerthCRI
import GRPCCore

/// `berthctl rmi IMAGE...`, `--all`, `--prune` (every image no container uses, pinned ones
/// kept). Prints `Deleted: NAME` for each tag (or digest) of each image removed.
enum RemoveImageCommand: CommandDefinition {
    static let names = ["rmi"]
    static let summary = "Remove one or more images"
    static let usageLine = "rmi [flags] IMAGE-ID [IMAGE-ID...]"
    static let flags = [
        Flag("--all", "-a", help: "remove all images"),
        Flag("--prune", "-q", help: "remove all images that no container uses (pinned images stay)"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let all = context.flags.bool("--all")
        let prune = context.flags.bool("--prune")
        var wanted = context.flags.positional
        if wanted.isEmpty && !all && !prune {
            context.console.out(help)
            return 0
        }
        let endpoint = context.settings.imageEndpoint
        let settings = context.settings
        let errors = try await CRIConnection.with(endpoint, timeout: settings.timeout) { connection in
            if all || prune {
                let listed: Runtime_V1_ListImagesResponse
                do {
                    listed = try await connection.images.listImages(Runtime_V1_ListImagesRequest(), options: connection.options)
                } catch {
                    throw CommandError.rpc("listing images", error, endpoint: endpoint)
                }
                wanted += listed.images.filter { all || !$0.pinned }.map(\.id)
            }
            var inUse = Set<String>()
            if prune {
                inUse = try await usedImageIDs(settings: settings)
            }
            var seen = Set<String>()
            wanted = wanted.filter { seen.insert($0).inserted }
            if wanted.isEmpty {
                context.console.error("berthctl: no images to remove\n")
                return [String]()
            }
            var errors: [String] = []
            for name in wanted {
                var statusRequest = Runtime_V1_ImageStatusRequest()
                statusRequest.image.image = name
                let status: Runtime_V1_ImageStatusResponse
                do {
                    status = try await connection.images.imageStatus(statusRequest, options: connection.options)
                } catch {
                    errors.append(CommandError.rpc("image status request for \"\(name)\" failed", error, endpoint: endpoint).message)
                    continue
                }
                guard status.hasImage else {
                    errors.append("no such image \(name)")
                    continue
                }
                if inUse.contains(status.image.id) { continue }
                var request = Runtime_V1_RemoveImageRequest()
                request.image.image = name
                do {
                    _ = try await connection.images.removeImage(request, options: connection.options)
                } catch {
                    if !prune { errors.append(CommandError.rpc("error of removing image \"\(name)\"", error, endpoint: endpoint).message) }
                    continue
                }
                let shown = status.image.repoTags.isEmpty ? status.image.repoDigests : status.image.repoTags
                context.console.out(shown.map { "Deleted: \($0)\n" }.joined())
            }
            return errors
        }
        guard errors.isEmpty else {
            throw CommandError(errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]")
        }
        return 0
    }

    /// The image ids of every container (running or not), from the runtime service. A
    /// runtime without containers support yet (UNIMPLEMENTED) uses none.
    static func usedImageIDs(settings: ClientSettings) async throws -> Set<String> {
        let endpoint = settings.runtimeEndpoint
        return try await CRIConnection.with(endpoint, timeout: settings.timeout) { connection in
            let containers: Runtime_V1_ListContainersResponse
            do {
                containers = try await connection.runtime.listContainers(Runtime_V1_ListContainersRequest(), options: connection.options)
            } catch let error as RPCError where error.code == .unimplemented {
                return []
            } catch {
                throw CommandError.rpc("listing containers", error, endpoint: endpoint)
            }
            // A container names its image as the runtime chose (an id, a digest, a name):
            // ask the image service which image that is, as crictl does.
            var ids = Set<String>()
            for container in containers.containers {
                var request = Runtime_V1_ImageStatusRequest()
                request.image.image = container.image.image.isEmpty ? container.imageRef : container.image.image
                if let status = try? await connection.images.imageStatus(request, options: connection.options), status.hasImage {
                    ids.insert(status.image.id)
                } else {
                    ids.insert(container.imageRef)
                }
            }
            return ids
        }
    }
}
