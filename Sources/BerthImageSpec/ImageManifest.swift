/// An image manifest: one platform's config and layers (OCI, or Docker schema 2).
public struct ImageManifest: Sendable, Decodable {
    /// Always 2 for the formats Berth reads.
    public var schemaVersion: Int
    /// The manifest's own media type, when it states it (OCI makes it optional).
    public var mediaType: String?
    /// The type of an artifact manifest.
    public var artifactType: String?
    /// The image configuration.
    public var config: Descriptor
    /// The layers, base first.
    public var layers: [Descriptor]
    /// The manifest this one refers to (signatures, attestations).
    public var subject: Descriptor?
    /// Free-form metadata.
    public var annotations: [String: String]?
}
