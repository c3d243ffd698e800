/// A reference to a blob by media type, digest and size: the links between manifests,
/// indexes, configs and layers.
public struct Descriptor: Hashable, Sendable {
    /// The media type of the referenced content.
    public var mediaType: String
    /// The digest of the referenced content; a fetch is verified against it.
    public var digest: Digest
    /// The size of the referenced content in bytes; a fetch stops past it.
    public var size: Int64
    /// Other places the content may be fetched from (foreign and non-distributable layers).
    public var urls: [String]?
    /// Free-form metadata.
    public var annotations: [String: String]?
    /// The platform of the referenced manifest, in an index.
    public var platform: Platform?
    /// The type of an artifact, when the descriptor points at one.
    public var artifactType: String?
    /// The content itself, base64-encoded, when embedded.
    public var data: String?

    /// A descriptor from its parts.
    public init(
        mediaType: String, digest: Digest, size: Int64, urls: [String]? = nil,
        annotations: [String: String]? = nil, platform: Platform? = nil, artifactType: String? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.annotations = annotations
        self.platform = platform
        self.artifactType = artifactType
    }
}

extension Descriptor: Decodable {
    private enum CodingKeys: String, CodingKey {
        case mediaType, digest, size, urls, annotations, platform, artifactType, data
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mediaType = try container.decode(String.self, forKey: .mediaType)
        digest = try container.decode(Digest.self, forKey: .digest)
        size = try container.decode(Int64.self, forKey: .size)
        // A negative size would defeat the fetch limit that guards against endless bodies.
        guard size >= 0 else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath + [CodingKeys.size], debugDescription: "size \(size) is negative")
            )
        }
        urls = try container.decodeIfPresent([String].self, forKey: .urls)
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations)
        platform = try container.decodeIfPresent(Platform.self, forKey: .platform)
        artifactType = try container.decodeIfPresent(String.self, forKey: .artifactType)
        data = try container.decodeIfPresent(String.self, forKey: .data)
    }
}
