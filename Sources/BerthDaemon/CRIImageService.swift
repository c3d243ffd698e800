import BerthCRI
import BerthImageSpec
import BerthImages
import BerthJSON
import BerthMetadata
import BerthRegistry
import BerthSystem
import Glibc
import GRPCCore
import Logging

/// The CRI ImageService over berthd's image store.
public struct CRIImageService: Runtime_V1_ImageService.SimpleServiceProtocol {
    let configuration: DaemonConfiguration
    let store: ImageStore
    let logger: Logger
    /// From the config's `images.pinned`, once.
    let pinned: Set<String>

    public init(configuration: DaemonConfiguration, store: ImageStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        // The sandbox image too: pods depend on it as on berth-pause.
        pinned = Self.pinnedNames(configuration.pinnedImages + (configuration.sandboxImage.isEmpty ? [] : [configuration.sandboxImage]))
    }

    public func pullImage(request: Runtime_V1_PullImageRequest, context: ServerContext) async throws -> Runtime_V1_PullImageResponse {
        let auth = request.auth
        let credentials: RegistryCredentials?
        do {
            credentials = try RegistryCredentials(username: auth.username, password: auth.password, auth: auth.auth, identityToken: auth.identityToken, registryToken: auth.registryToken)
        } catch {
            throw RPCError(code: .invalidArgument, message: "PullImage \(request.image.image): \(error.message)")
        }
        let image: ImageRecord
        do {
            image = try await store.pull(request.image.image, credentials: credentials)
        } catch {
            throw RPCError(code: Self.code(error.code), message: "PullImage \(request.image.image): \(error.message)")
        }
        var response = Runtime_V1_PullImageResponse()
        response.imageRef = image.id
        return response
    }

    public func listImages(request: Runtime_V1_ListImagesRequest, context: ServerContext) async throws -> Runtime_V1_ListImagesResponse {
        var images = try await records()
        if request.hasFilter, request.filter.hasImage, !request.filter.image.image.isEmpty {
            let wanted = request.filter.image.image
            let resolved = try? store.image(wanted)
            images = images.filter { $0.id == resolved?.id }
        }
        var response = Runtime_V1_ListImagesResponse()
        response.images = images.map { Self.image($0, pinned: pinned) }
        return response
    }

    public func imageStatus(request: Runtime_V1_ImageStatusRequest, context: ServerContext) async throws -> Runtime_V1_ImageStatusResponse {
        var response = Runtime_V1_ImageStatusResponse()
        // An image that is not there is an empty answer, not an error (the kubelet asks to
        // learn whether it must pull).
        guard let image = try await lookup(request.image.image) else { return response }
        response.image = Self.image(image, pinned: pinned)
        if request.verbose {
            response.info["info"] = String(decoding: image.configJSON, as: UTF8.self)
        }
        return response
    }

    public func removeImage(request: Runtime_V1_RemoveImageRequest, context: ServerContext) async throws -> Runtime_V1_RemoveImageResponse {
        do {
            try await store.remove(request.image.image)
        } catch {
            throw RPCError(code: .internalError, message: "RemoveImage \(request.image.image): \(error.message)")
        }
        return Runtime_V1_RemoveImageResponse()
    }

    /// Images: the content store and the layer snapshots (named by chain id, 64 hex
    /// digits). Containers: every other snapshot (their writable layers). Half-unpacked
    /// `tmp-` snapshots count for neither. Both live under `--root`.
    public func imageFsInfo(request: Runtime_V1_ImageFsInfoRequest, context: ServerContext) async throws -> Runtime_V1_ImageFsInfoResponse {
        var images: (bytes: Int64, inodes: Int64) = store.content.usage()
        var containers: (bytes: Int64, inodes: Int64) = (0, 0)
        for snapshot in store.snapshots.list() where !snapshot.hasPrefix("tmp-") {
            let used = store.snapshots.usage(snapshot)
            if ImageStore.isChainID(snapshot) {
                images.bytes += used.bytes
                images.inodes += used.inodes
            } else {
                containers.bytes += used.bytes
                containers.inodes += used.inodes
            }
        }
        let timestamp = Clock.nowNanoseconds()
        func filesystem(_ usage: (bytes: Int64, inodes: Int64)) -> Runtime_V1_FilesystemUsage {
            var filesystem = Runtime_V1_FilesystemUsage()
            filesystem.timestamp = timestamp
            filesystem.fsID.mountpoint = configuration.root
            filesystem.usedBytes.value = UInt64(max(0, usage.bytes))
            filesystem.inodesUsed.value = UInt64(max(0, usage.inodes))
            return filesystem
        }
        var response = Runtime_V1_ImageFsInfoResponse()
        response.imageFilesystems = [filesystem(images)]
        response.containerFilesystems = [filesystem(containers)]
        return response
    }

    func records() async throws -> [ImageRecord] {
        do {
            return try await store.images()
        } catch {
            throw RPCError(code: .internalError, message: "list images: \(error.message)")
        }
    }

    func lookup(_ reference: String) async throws -> ImageRecord? {
        do {
            return try store.image(reference)
        } catch {
            throw RPCError(code: .internalError, message: "image \(reference): \(error.message)")
        }
    }

    /// The CRI's view of an image: tags and digests apart, the user from the config
    /// (a number is a uid, anything else a user name).
    /// The names and ids of the config's `images.pinned`: each as written, normalised as
    /// pulls name images, and a bare 64-hex id as `sha256:<hex>`.
    static func pinnedNames(_ entries: [String]) -> Set<String> {
        var names = Set<String>()
        for entry in entries {
            names.insert(entry)
            if let normalized = try? ImageReference(parsing: entry).normalized { names.insert(normalized) }
            if ImageStore.isChainID(entry) { names.insert("sha256:\(entry)") }
        }
        return names
    }

    /// An image as the CRI describes it; `pinned` when the store says so or the config
    /// names it.
    static func image(_ record: ImageRecord, pinned names: Set<String>) -> Runtime_V1_Image {
        var image = Runtime_V1_Image()
        image.id = record.id
        image.repoTags = record.names.filter { !$0.contains("@") }
        image.repoDigests = record.names.filter { $0.contains("@") }
        image.size = UInt64(max(0, record.size))
        image.pinned = record.pinned || names.contains(record.id) || record.names.contains { names.contains($0) }
        image.spec.image = record.id
        if let configuration = try? ImageConfiguration.parse(record.configJSON, source: record.id), let user = configuration.config?.user, !user.isEmpty {
            let name = String(user.split(separator: ":", maxSplits: 1).first ?? "")
            if let uid = Int64(name) {
                image.uid.value = uid
            } else {
                image.username = name
            }
        }
        return image
    }

    static func code(_ code: ImageStoreError.Code) -> RPCError.Code {
        switch code {
        case .invalidReference: .invalidArgument
        case .notFound: .notFound
        case .unauthorized: .permissionDenied
        case .unavailable: .unavailable
        case .invalidImage: .failedPrecondition
        case .storage: .internalError
        }
    }
}
