import BerthImageSpec
import BerthJSON
import Testing

@Suite("image documents decode through BerthJSON")
struct DocumentDecodingTests {
    @Test("an OCI image manifest decodes its config, layers and annotations")
    func ociManifest() throws {
        let manifest = try ImageManifest.parse(Fixtures.ociManifest.bytes, source: "example.com/app:1")
        #expect(manifest.schemaVersion == 2)
        #expect(manifest.mediaType == MediaTypes.ociManifest)
        #expect(manifest.config.mediaType == MediaTypes.ociConfig)
        #expect(manifest.config.digest == (try Digest(parsing: "sha256:\(Fixtures.configHex)")))
        #expect(manifest.config.size == 1472)
        #expect(manifest.layers.map(\.size) == [3_623_807, 32])
        #expect(manifest.layers.map { MediaTypes.layerCompression($0.mediaType) } == [.gzip, .zstd])
        #expect(manifest.layers[1].annotations?["org.opencontainers.image.title"] == "app.tar.zst")
        #expect(manifest.annotations?["org.opencontainers.image.base.name"] == "docker.io/library/alpine:3.20")
        #expect(manifest.subject == nil)
    }

    @Test("an OCI index decodes each entry's platform")
    func ociIndex() throws {
        let index = try ImageIndex.parse(Fixtures.ociIndex.bytes, source: "example.com/app:1")
        #expect(index.mediaType == MediaTypes.ociIndex)
        #expect(index.manifests.count == 4)
        #expect(index.manifests.map { $0.platform?.description } == ["linux/amd64", "linux/arm64/v8", "linux/arm/v7", "unknown/unknown"])
        #expect(index.manifests[3].annotations?["vnd.docker.reference.type"] == "attestation-manifest")
        #expect(index.annotations?["org.opencontainers.image.ref.name"] == "1.0")
    }

    @Test("a Docker manifest list decodes, with os.version and os.features on Windows entries")
    func dockerManifestList() throws {
        let list = try ImageIndex.parse(Fixtures.dockerManifestList.bytes, source: "busybox")
        #expect(list.mediaType == MediaTypes.dockerManifestList)
        #expect(list.manifests.allSatisfy { $0.mediaType == MediaTypes.dockerManifest })
        let windows = try #require(list.manifests.last?.platform)
        #expect(windows == Platform(os: "windows", architecture: "amd64", osVersion: "10.0.20348.2527", osFeatures: ["win32k"]))
        #expect(list.manifests[1].platform?.variant == "v6")
    }

    @Test("a Docker schema 2 manifest decodes like an OCI one")
    func dockerManifest() throws {
        let manifest = try ImageManifest.parse(Fixtures.dockerManifest.bytes, source: "busybox")
        #expect(manifest.config.mediaType == MediaTypes.dockerConfig)
        #expect(MediaTypes.isConfig(manifest.config.mediaType))
        #expect(manifest.layers.first.map { MediaTypes.layerCompression($0.mediaType) } == .gzip)
    }

    @Test("an image config decodes what a container needs and ignores the rest")
    func imageConfig() throws {
        let config = try ImageConfiguration.parse(Fixtures.imageConfig.bytes, source: "sha256:\(Fixtures.configHex)")
        #expect(config.platform == Platform(os: "linux", architecture: "arm", variant: "v7"))
        #expect(config.author == "Berth Tests <tests@example.com>")
        #expect(config.created == "2024-05-01T10:00:00.123456789Z")
        let execution = try #require(config.config)
        #expect(execution.user == "app:app")
        #expect(execution.environment?.last == "APP_MODE=production")
        #expect(execution.entrypoint == ["/docker-entrypoint.sh"])
        #expect(execution.command == ["nginx", "-g", "daemon off;"])
        #expect(execution.workingDirectory == "/srv")
        #expect(execution.labels == ["maintainer": "tests@example.com", "org.opencontainers.image.version": "1.27"])
        #expect(execution.exposedPorts == ["80/tcp", "443/tcp", "443/udp"])
        #expect(execution.volumes == ["/var/cache/app"])
        #expect(execution.stopSignal == "SIGQUIT")
        #expect(config.rootfs.type == "layers")
        #expect(config.rootfs.diffIDs.map(\.encoded) == [Fixtures.diff1Hex, Fixtures.diff2Hex])
        #expect(config.history?.count == 2)
        #expect(config.history?[1].emptyLayer == true)
        #expect(config.history?[1].createdBy == "ENV APP_MODE=production")
        #expect(config.history?[0].emptyLayer == nil)
    }

    @Test("null members of a minimal config read as absent")
    func minimalConfig() throws {
        let config = try ImageConfiguration.parse(Fixtures.minimalConfig.bytes, source: "scratch")
        #expect(config.config?.environment == nil)
        #expect(config.config?.command == nil)
        #expect(config.config?.volumes == nil)
        #expect(config.rootfs.diffIDs.isEmpty)
        #expect(config.history == nil)
    }

    @Test("the raw config is kept alongside the typed one, with every member in order")
    func rawConfig() throws {
        let document = try DecodedDocument<ImageConfiguration>(decoding: Fixtures.imageConfig.bytes, source: "config")
        #expect(document.bytes == Fixtures.imageConfig.bytes)
        #expect(document.content.config?.stopSignal == "SIGQUIT")
        #expect(document.json["docker_version"]?.stringValue == "26.1.0")
        #expect(document.json["config"]?["Healthcheck"]?["Test"] == ["CMD", "true"])
        #expect(document.json.objectValue?.keys.first == "architecture")
    }

    @Test("decoding errors name the source, the document and the member path")
    func decodingErrors() {
        let badDigest = Fixtures.ociManifest.replacingFirst("sha256:\(Fixtures.layer1Hex)", with: "sha256:1234")
        #expect {
            try ImageManifest.parse(badDigest.bytes, source: "example.com/app:1")
        } throws: { error in
            let error = error as? ImageSpecError
            return error?.code == .invalidDocument
                && error?.message.hasPrefix("example.com/app:1: image manifest: layers[0].digest: invalid digest \"sha256:1234\"") == true
        }

        let negativeSize = Fixtures.ociManifest.replacingFirst("\"size\": 1472", with: "\"size\": -1")
        #expect(throws: ImageSpecError(.invalidDocument, "m: image manifest: config.size: size -1 is negative")) {
            try ImageManifest.parse(negativeSize.bytes, source: "m")
        }

        #expect(throws: ImageSpecError(.invalidDocument, "c: image config: rootfs: required member is missing")) {
            try ImageConfiguration.parse("{\"architecture\":\"amd64\",\"os\":\"linux\"}".bytes, source: "c")
        }

        #expect {
            try ImageIndex.parse("{\"schemaVersion\": 2, \"manifests\": [".bytes, source: "i")
        } throws: { error in
            (error as? ImageSpecError)?.message.hasPrefix("i: image index: invalid json at byte") == true
        }

        #expect(throws: ImageSpecError(.invalidDocument, "i: image index: schemaVersion is 3, expected 2")) {
            try ImageIndex.parse("{\"schemaVersion\": 3, \"manifests\": []}".bytes, source: "i")
        }
    }

    @Test("exposed ports must be an object whose names are the ports")
    func exposedPortsShape() {
        let text = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":[\"80/tcp\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
        #expect {
            try ImageConfiguration.parse(text.bytes, source: "c")
        } throws: { error in
            (error as? ImageSpecError)?.message.hasPrefix("c: image config: config.ExposedPorts:") == true
        }
    }
}

extension String {
    /// The text with the first occurrence of `target` replaced (tests edit fixtures with it).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        replacing(target, with: replacement, maxReplacements: 1)
    }
}
