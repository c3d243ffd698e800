/// An image index or Docker manifest list: one manifest per platform.
public struct ImageIndex: Sendable, Decodable {
    /// Always 2 for the formats Berth reads.
    public var schemaVersion: Int
    /// The index's own media type, when it states it (OCI makes it optional).
    public var mediaType: String?
    /// The type of an artifact index.
    public var artifactType: String?
    /// The manifests, each with the platform it runs on.
    public var manifests: [Descriptor]
    /// The manifest this index refers to.
    public var subject: Descriptor?
    /// Free-form metadata.
    public var annotations: [String: String]?
}
