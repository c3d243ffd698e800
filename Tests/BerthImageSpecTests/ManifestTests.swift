import BerthImageSpec
import Testing

@Suite("a fetched manifest is told apart as an index or an image manifest")
struct ManifestTests {
    /// A document fetched with a content type, and how it must be read.
    struct Classification: Sendable, CustomTestStringConvertible {
        let name: String
        let document: String
        let contentType: String
        let kind: Manifest.Kind
        let mediaType: String
        var testDescription: String { "\(name) as \(contentType)" }
    }

    static let classifications: [Classification] = [
        .init(name: "oci index", document: Fixtures.ociIndex, contentType: MediaTypes.ociIndex, kind: .index, mediaType: MediaTypes.ociIndex),
        .init(name: "docker manifest list", document: Fixtures.dockerManifestList,
              contentType: "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8", kind: .index,
              mediaType: MediaTypes.dockerManifestList),
        .init(name: "oci manifest", document: Fixtures.ociManifest, contentType: MediaTypes.ociManifest, kind: .image,
              mediaType: MediaTypes.ociManifest),
        .init(name: "docker manifest", document: Fixtures.dockerManifest,
              contentType: "Application/VND.Docker.Distribution.Manifest.V2+JSON", kind: .image, mediaType: MediaTypes.dockerManifest),
        // Registries that answer plain JSON: the document's own mediaType decides.
        .init(name: "docker manifest list", document: Fixtures.dockerManifestList, contentType: "application/json", kind: .index,
              mediaType: MediaTypes.dockerManifestList),
        .init(name: "oci manifest", document: Fixtures.ociManifest, contentType: "application/octet-stream", kind: .image,
              mediaType: MediaTypes.ociManifest),
    ]

    @Test("the content type and the document's mediaType decide the kind", arguments: classifications)
    func classifies(_ example: Classification) throws {
        let manifest = try Manifest.parse(example.document.bytes, contentType: example.contentType, source: "example.com/app:1")
        #expect(manifest.kind == example.kind)
        #expect(manifest.mediaType == example.mediaType)
    }

    @Test("without any media type, the document's members decide, and the OCI type is assumed")
    func classifiesByShape() throws {
        let index = "{\"schemaVersion\":2,\"manifests\":[]}"
        let manifest = try Manifest.parse(index.bytes, contentType: nil, source: "s")
        #expect(manifest.kind == .index)
        #expect(manifest.mediaType == MediaTypes.ociIndex)

        let image = Fixtures.ociManifest.replacingFirst("\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",", with: "")
        let parsed = try Manifest.parse(image.bytes, contentType: "", source: "s")
        guard case .image(let decoded, let mediaType) = parsed else {
            Issue.record("expected an image manifest, got \(parsed.kind)")
            return
        }
        #expect(mediaType == MediaTypes.ociManifest)
        #expect(decoded.mediaType == nil)
        #expect(decoded.layers.count == 2)
    }

    @Test(
        "docker schema 1 is refused with a clear message, by header or by content",
        arguments: [MediaTypes.dockerSchema1SignedManifest, MediaTypes.dockerSchema1Manifest, "application/json", nil]
    )
    func refusesSchema1(contentType: String?) {
        #expect {
            try Manifest.parse(Fixtures.schema1Signed.bytes, contentType: contentType, source: "docker.io/library/old:1")
        } throws: { error in
            guard let error = error as? ImageSpecError else { return false }
            return error.code == .schema1Manifest
                && error.message.hasPrefix("docker.io/library/old:1: the registry returned a docker image manifest schema 1")
                && error.message.contains("berth does not support")
        }
    }

    @Test("the schema 1 refusal names the media type it came as")
    func schema1Message() {
        #expect {
            try Manifest.parse(Fixtures.schema1Signed.bytes, contentType: MediaTypes.dockerSchema1SignedManifest, source: "old:1")
        } throws: { error in
            (error as? ImageSpecError)?.message
                == "old:1: the registry returned a docker image manifest schema 1 (application/vnd.docker.distribution.manifest.v1+prettyjws),"
                + " which berth does not support; push the image again with a current client to get a schema 2 or oci manifest"
        }
    }

    @Test("a document whose header and mediaType disagree on the kind is refused")
    func refusesKindConflict() {
        #expect {
            try Manifest.parse(Fixtures.ociManifest.bytes, contentType: MediaTypes.ociIndex, source: "s")
        } throws: { error in
            (error as? ImageSpecError)?.code == .invalidDocument
        }
    }

    @Test("a document with the members of both an index and a manifest is refused")
    func refusesAmbiguousDocuments() {
        let both = Fixtures.ociManifest.replacingFirst("\"layers\": [", with: "\"manifests\": [], \"layers\": [")
        #expect {
            try Manifest.parse(both.bytes, contentType: MediaTypes.ociManifest, source: "s")
        } throws: { error in
            (error as? ImageSpecError)?.message == "s: image manifest: has a manifests member, which only an index may have"
        }
        let noType = both.replacingFirst("\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",", with: "")
        #expect {
            try Manifest.parse(noType.bytes, contentType: nil, source: "s")
        } throws: { error in
            (error as? ImageSpecError)?.code == .unsupportedMediaType
        }
    }

    @Test("an unknown manifest media type is refused, listing the types berth reads")
    func refusesUnknownTypes() {
        let artifact = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\",\"blobs\":[]}"
        #expect {
            try Manifest.parse(artifact.bytes, contentType: "application/vnd.oci.artifact.manifest.v1+json", source: "s")
        } throws: { error in
            guard let error = error as? ImageSpecError else { return false }
            return error.code == .unsupportedMediaType && error.message.contains(MediaTypes.ociIndex)
        }
        #expect {
            try Manifest.parse("<html>".bytes, contentType: "text/html", source: "s")
        } throws: { error in
            (error as? ImageSpecError)?.message.hasPrefix("s: manifest: invalid json") == true
        }
    }

    @Test("media type helpers classify layers and manifests")
    func mediaTypeHelpers() {
        #expect(MediaTypes.layerCompression(MediaTypes.ociLayer) == .uncompressed)
        #expect(MediaTypes.layerCompression(MediaTypes.ociLayerNondistributableZstd) == .zstd)
        #expect(MediaTypes.layerCompression(MediaTypes.dockerForeignLayerGzip) == .gzip)
        #expect(MediaTypes.layerCompression(MediaTypes.ociConfig) == nil)
        #expect(MediaTypes.essence(ofContentType: " application/JSON ; charset=utf-8") == "application/json")
        #expect(MediaTypes.acceptedManifestTypes.allSatisfy { Manifest.Kind(mediaType: $0) != nil })
        #expect(Manifest.Kind(mediaType: MediaTypes.dockerSchema1Manifest) == nil)
    }
}
