import BerthContent
import BerthImageSpec
import BerthMetadata
import BerthRegistry
import BerthSnapshots
import BerthSystem
import Glibc
import Logging

/// berthd's images: pulls from registries into the content store and unpacked snapshots,
/// names and parts in the metadata database, removal with garbage collection.
///
/// A pull: manifest (or index, then the host platform's manifest) and config, then the
/// layers downloaded in parallel (`concurrentDownloads`, 3 by default) while layer N is
/// unpacked as soon as it and the layers below it are there. Two pulls of one layer share
/// one download. The image is recorded last, so an interrupted pull lists nothing.
public actor ImageStore {
    public nonisolated let content: ContentStore
    public nonisolated let snapshots: OverlaySnapshotter
    public nonisolated let metadata: MetadataStore
    let registry: RegistryClient
    let logger: Logger
    let concurrentDownloads: Int
    public nonisolated let progress = PullProgress()
    /// Layer snapshots a container being created stands on before its row holds them.
    public nonisolated let reservations = SnapshotReservations()
    /// Downloads in flight, by blob digest: a second pull of the same layer waits for it.
    var downloads: [Digest: Task<Void, any Error>] = [:]

    /// The lock on `<root>/berthd.lock`, held while this store lives: one writer per root.
    nonisolated let rootLock: Int32

    public init(root: String, registry: RegistryClient, logger: Logger, concurrentDownloads: Int = 3) throws(ImageStoreError) {
        // Garbage collection below assumes nobody else writes this root: a second berthd on
        // it would lose its pull in flight.
        _ = try? FileSystem.makeDirectories(root, mode: 0o700)
        rootLock = open("\(root)/berthd.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard rootLock >= 0 else { throw ImageStoreError(.storage, "\(root)/berthd.lock: \(SystemError.describe(errno: errno))") }
        guard flock(rootLock, LOCK_EX | LOCK_NB) == 0 else {
            close(rootLock)
            throw ImageStoreError(.storage, "root \(root) is in use by another berthd (\(root)/berthd.lock is locked); give each berthd its own --root")
        }
        do {
            content = try ContentStore(root: "\(root)/content")
            snapshots = try OverlaySnapshotter(root: "\(root)/snapshots")
            metadata = try MetadataStore(directory: root)
        } catch {
            close(rootLock)
            throw ImageStoreError(.storage, "image store in \(root): \(error)")
        }
        self.registry = registry
        self.logger = logger
        self.concurrentDownloads = max(1, concurrentDownloads)
        collectGarbage()
    }

    /// At start, before any pull (the root lock keeps other writers out): removes what no
    /// image references — half-unpacked `tmp-` snapshots, blobs and layer snapshots (named
    /// by chain id) of pulls a crash interrupted — so nothing is orphaned even if that image
    /// is never pulled again. Other snapshots (containers' writable layers) are not the
    /// image store's. Partial downloads (ingests) stay, so a new pull resumes them with
    /// Range; those untouched for a day go.
    nonisolated func collectGarbage() {
        let referenced: (blobs: Set<String>, snapshots: Set<String>)
        do {
            referenced = try metadata.referenced()
        } catch {
            logger.warning("garbage collection skipped: \(error)")
            return
        }
        var freed: [String] = []
        for snapshot in snapshots.list() where snapshot.hasPrefix("tmp-") || (Self.isChainID(snapshot) && !referenced.snapshots.contains(snapshot)) {
            if (try? snapshots.remove(snapshot)) != nil { freed.append("snapshot \(snapshot)") }
        }
        for blob in content.list() where !referenced.blobs.contains(blob.description) {
            if (try? content.delete(blob)) != nil { freed.append("blob \(blob)") }
        }
        freed += content.removeIngests(olderThan: 24 * 3600).map { "ingest \($0)" }
        if !freed.isEmpty { logger.info("garbage collected", metadata: ["freed": "\(freed.count)", "items": "\(freed.joined(separator: ", "))"]) }
    }

    /// Pulls `text` (normalised as the kubelet does) and returns the recorded image.
    public func pull(_ text: String, credentials: RegistryCredentials?, platform: PlatformMatcher = PlatformMatcher()) async throws(ImageStoreError) -> ImageRecord {
        let reference: ImageReference
        do {
            reference = try ImageReference(parsing: text)
        } catch {
            throw ImageStoreError(.invalidReference, error.message)
        }
        let name = reference.normalized
        var blobs: [Digest] = []
        var fetched = try await fetchManifest(reference, credentials: credentials)
        blobs.append(fetched.digest)
        let topDigest = fetched.digest
        var document = try parseManifest(fetched, source: name)
        if case .index(let index, _) = document {
            let chosen: Descriptor
            do {
                chosen = try platform.bestManifest(in: index, source: name)
            } catch {
                throw ImageStoreError(.notFound, error.message)
            }
            fetched = try await fetchManifest(registry: reference.registry, repository: reference.repository, digest: chosen.digest, credentials: credentials, name: name)
            blobs.append(fetched.digest)
            document = try parseManifest(fetched, source: name)
        }
        guard case .image(let manifest, _) = document else {
            throw ImageStoreError(.invalidImage, "\(name): the platform's manifest is an index again")
        }
        // The config: small, fetched whole and verified.
        try await download(manifest.config, reference: reference, credentials: credentials, name: name) { _ in }
        blobs.append(manifest.config.digest)
        let configBytes: [UInt8]
        let configuration: ImageConfiguration
        do {
            configBytes = try content.read(manifest.config.digest)
            configuration = try ImageConfiguration.parse(configBytes, source: "\(name) config \(manifest.config.digest)")
        } catch {
            throw ImageStoreError(.invalidImage, "\(error)")
        }
        guard configuration.rootfs.diffIDs.count == manifest.layers.count else {
            throw ImageStoreError(.invalidImage, "\(name): the config lists \(configuration.rootfs.diffIDs.count) layers (rootfs.diff_ids), the manifest \(manifest.layers.count)")
        }

        let progressToken = progress.start(name, layers: manifest.layers.map { layer in
            content.contains(layer.digest)
                ? .init(digest: "\(layer.digest)", done: layer.size, total: layer.size, phase: .exists)
                : .init(digest: "\(layer.digest)", done: 0, total: layer.size, phase: .waiting)
        })
        defer { progress.finish(progressToken) }
        let chain = try await downloadAndUnpack(manifest.layers, diffIDs: configuration.rootfs.diffIDs, reference: reference, credentials: credentials, name: name)
        blobs.append(contentsOf: manifest.layers.map(\.digest))

        let names = [reference.tag != nil ? name : nil, "\(reference.registry)/\(reference.repository)@\(topDigest)"].compactMap { $0 }
        let record = ImageRecord(
            id: "\(manifest.config.digest)", manifestDigest: "\(topDigest)", size: manifest.layers.reduce(Int64(configBytes.count)) { $0 + $1.size },
            configJSON: configBytes, created: Double(time(nil)), names: Array(Set(names)).sorted(), blobs: blobs.map(\.description), snapshots: chain)
        do {
            try metadata.save(record)
        } catch {
            throw ImageStoreError(.storage, "\(name): \(error)")
        }
        logger.info("pulled", metadata: ["image": "\(name)", "id": "\(record.id)"])
        return try image(record.id) ?? record
    }

    /// Downloads every layer (a bounded number at a time) and unpacks them bottom-up as each
    /// one and those below it are in; returns the snapshot ids (chain ids), bottom first.
    func downloadAndUnpack(_ layers: [Descriptor], diffIDs: [Digest], reference: ImageReference, credentials: RegistryCredentials?, name: String) async throws(ImageStoreError) -> [String] {
        let chainIDs = Self.chainIDs(diffIDs)
        do {
            return try await withThrowingTaskGroup(of: Int.self) { group in
                var next = 0
                var arrived = Set<Int>()
                var unpacked = 0
                func startNext() {
                    guard next < layers.count else { return }
                    let index = next
                    let layer = layers[index]
                    next += 1
                    group.addTask {
                        try await self.download(layer, reference: reference, credentials: credentials, name: name) { done in
                            self.progress.update("\(layer.digest)", done: done)
                        }
                        self.progress.set("\(layer.digest)", .downloaded)
                        return index
                    }
                }
                for _ in 0..<concurrentDownloads { startNext() }
                while let index = try await group.next() {
                    arrived.insert(index)
                    startNext()
                    // Unpack in order: layer N needs the snapshots of the layers below it.
                    while arrived.contains(unpacked) {
                        let digest = "\(layers[unpacked].digest)"
                        self.progress.set(digest, .unpacking)
                        try self.unpack(layers[unpacked], diffID: diffIDs[unpacked], chainIDs: chainIDs, index: unpacked)
                        self.progress.set(digest, .unpacked)
                        unpacked += 1
                    }
                }
                return chainIDs.map { $0.encoded }
            }
        } catch let error as ImageStoreError {
            throw error
        } catch {
            throw ImageStoreError(.storage, "\(name): \(error)")
        }
    }

    /// An image's config and its layer snapshots, bottom first (chain ids from the config's
    /// diff ids), each checked to be there: what a container's rootfs is made of.
    public nonisolated func layers(of image: ImageRecord) throws(ImageStoreError) -> (configuration: ImageConfiguration, snapshots: [String]) {
        let configuration: ImageConfiguration
        do {
            configuration = try ImageConfiguration.parse(image.configJSON, source: "image \(image.id) config")
        } catch {
            throw ImageStoreError(.invalidImage, "\(error)")
        }
        let snapshots = Self.chainIDs(configuration.rootfs.diffIDs).map(\.encoded)
        for snapshot in snapshots where !FileSystem.isDirectory(self.snapshots.directory(snapshot)) {
            throw ImageStoreError(.storage, "image \(image.id): layer snapshot \(snapshot) is missing; remove the image and pull it again")
        }
        return (configuration, snapshots)
    }

    /// A layer snapshot's name: a chain id's 64 hex digits.
    public static func isChainID(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The OCI chain ids: the first layer's diff id, then sha256 of "parent child".
    static func chainIDs(_ diffIDs: [Digest]) -> [Digest] {
        var result: [Digest] = []
        for diffID in diffIDs {
            if let parent = result.last {
                result.append(Digest.sha256(of: Array("\(parent) \(diffID)".utf8)))
            } else {
                result.append(diffID)
            }
        }
        return result
    }

    /// Unpacks one layer into the snapshot named by its chain id, unless it is there:
    /// into a temporary snapshot first, renamed when complete, so a crash never leaves a
    /// half-unpacked snapshot under a real name. The uncompressed stream must hash to the
    /// config's diff id (the chain id, and so the snapshot's name, is made from it).
    func unpack(_ layer: Descriptor, diffID: Digest, chainIDs: [Digest], index: Int) throws(ImageStoreError) {
        let id = chainIDs[index].encoded
        if FileSystem.isDirectory(snapshots.directory(id)) { return }
        // Unpacks run one at a time on this actor, so the name is free unless a crash left it.
        let temporary = "tmp-\(id.prefix(16))"
        try? snapshots.remove(temporary)
        do {
            _ = try snapshots.prepare(temporary, parents: [])
            var hash = StreamingDigest()
            _ = try LayerApplier.apply(blob: content.path(of: layer.digest), into: snapshots.directory(temporary), layer: "\(layer.digest)") { hash.update($0) }
            let computed = hash.finalize()
            guard computed == diffID else {
                throw ImageStoreError(.invalidImage, "layer \(layer.digest): uncompressed content does not match the config's diff id: expected \(diffID), got \(computed)")
            }
        } catch let error as ImageStoreError {
            try? snapshots.remove(temporary)
            throw error
        } catch {
            try? snapshots.remove(temporary)
            throw ImageStoreError(.invalidImage, "\(error)")
        }
        if rename("\(snapshots.root)/\(temporary)", "\(snapshots.root)/\(id)") != 0 {
            try? snapshots.remove(temporary)
            if FileSystem.isDirectory(snapshots.directory(id)) { return }
            throw ImageStoreError(.storage, "snapshot \(id): rename: \(String(cString: strerror(errno)))")
        }
    }

    /// Downloads a blob into the content store unless it is there; a download of the same
    /// blob already running is joined instead of repeated.
    func download(_ descriptor: Descriptor, reference: ImageReference, credentials: RegistryCredentials?, name: String, progress: @escaping @Sendable (Int64) -> Void) async throws(ImageStoreError) {
        if content.contains(descriptor.digest) {
            progress(descriptor.size)
            return
        }
        let task: Task<Void, any Error>
        if let running = downloads[descriptor.digest] {
            task = running
        } else {
            let registry = self.registry
            let content = self.content
            task = Task {
                let ingest = try Ingest(store: content, key: descriptor.digest.encoded, expected: descriptor.digest, expectedSize: descriptor.size)
                try await registry.blob(
                    registry: reference.registry, repository: reference.repository, digest: descriptor.digest, size: descriptor.size,
                    credentials: credentials, into: ingest, progress: progress)
            }
            downloads[descriptor.digest] = task
        }
        defer { downloads[descriptor.digest] = nil }
        do {
            try await task.value
        } catch let error as RegistryError {
            throw ImageStoreError(Self.code(error), "\(name): \(error.message)")
        } catch {
            throw ImageStoreError(.storage, "\(name): blob \(descriptor.digest): \(error)")
        }
    }

    func fetchManifest(_ reference: ImageReference, credentials: RegistryCredentials?) async throws(ImageStoreError) -> RegistryClient.FetchedManifest {
        do {
            let fetched = try await registry.manifest(reference, credentials: credentials)
            try content.write(fetched.bytes, expecting: fetched.digest)
            return fetched
        } catch let error as RegistryError {
            throw ImageStoreError(Self.code(error), error.message)
        } catch {
            throw ImageStoreError(.storage, "\(reference.normalized): \(error)")
        }
    }

    func fetchManifest(registry host: String, repository: String, digest: Digest, credentials: RegistryCredentials?, name: String) async throws(ImageStoreError) -> RegistryClient.FetchedManifest {
        do {
            let fetched = try await registry.manifest(registry: host, repository: repository, reference: "\(digest)", credentials: credentials)
            try content.write(fetched.bytes, expecting: fetched.digest)
            return fetched
        } catch let error as RegistryError {
            throw ImageStoreError(Self.code(error), error.message)
        } catch {
            throw ImageStoreError(.storage, "\(name): \(error)")
        }
    }

    func parseManifest(_ fetched: RegistryClient.FetchedManifest, source: String) throws(ImageStoreError) -> Manifest {
        do {
            return try Manifest.parse(fetched.bytes, contentType: fetched.mediaType, source: source)
        } catch {
            throw ImageStoreError(.invalidImage, error.message)
        }
    }

    static func code(_ error: RegistryError) -> ImageStoreError.Code {
        switch error.code {
        case .unauthorized: .unauthorized
        case .notFound: .notFound
        case .unavailable: .unavailable
        case .invalidResponse: .invalidImage
        }
    }

    /// An image by id, name or digest name.
    public nonisolated func image(_ reference: String) throws(ImageStoreError) -> ImageRecord? {
        do {
            if let found = try metadata.image(named: reference) { return found }
            // A short name ("busybox") as the kubelet may give it.
            if let normalized = try? ImageReference(parsing: reference).normalized { return try metadata.image(named: normalized) }
            return nil
        } catch {
            throw ImageStoreError(.storage, "\(error)")
        }
    }

    public func images() throws(ImageStoreError) -> [ImageRecord] {
        do {
            return try metadata.images()
        } catch {
            throw ImageStoreError(.storage, "\(error)")
        }
    }

    /// Removes an image and frees the blobs and snapshots nothing else holds. An image
    /// that is not there is not an error (RemoveImage is idempotent).
    public func remove(_ reference: String) throws(ImageStoreError) {
        guard let image = try image(reference) else { return }
        do {
            let freed = try metadata.remove(imageID: image.id)
            for blob in freed.blobs { if let digest = try? Digest(parsing: blob) { try? content.delete(digest) } }
            for snapshot in freed.snapshots {
                // A create in flight keeps the layers it is mounting (its row will hold them).
                reservations.unlessReserved(snapshot) { try? snapshots.remove(snapshot) }
            }
        } catch {
            throw ImageStoreError(.storage, "remove \(reference): \(error)")
        }
    }
}
