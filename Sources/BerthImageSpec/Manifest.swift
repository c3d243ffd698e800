import BerthJSON

/// A fetched manifest document, told apart as an index (several platforms) or an image
/// manifest (one platform), in the OCI or the Docker schema 2 format.
public enum Manifest: Sendable {
    /// An OCI index or Docker manifest list, with the media type it was read as.
    case index(ImageIndex, mediaType: String)
    /// An OCI or Docker schema 2 image manifest, with the media type it was read as.
    case image(ImageManifest, mediaType: String)

    /// The two shapes a manifest document can have.
    public enum Kind: Sendable, Equatable {
        /// An OCI index or Docker manifest list.
        case index
        /// An OCI or Docker schema 2 image manifest.
        case image

        /// The kind a media type names; nil for any other type (schema 1 included).
        public init?(mediaType: String) {
            if MediaTypes.isIndex(mediaType) {
                self = .index
            } else if MediaTypes.isImageManifest(mediaType) {
                self = .image
            } else {
                return nil
            }
        }
    }

    /// Whether this is an index or an image manifest.
    public var kind: Kind {
        switch self {
        case .index: .index
        case .image: .image
        }
    }

    /// The media type the document was read as: its own `mediaType` member when it has
    /// one, else the response's content type, else the OCI type of its shape.
    public var mediaType: String {
        switch self {
        case .index(_, let mediaType), .image(_, let mediaType): mediaType
        }
    }

    /// Reads a manifest fetched from a registry or the content store.
    ///
    /// `contentType` is the response's `Content-Type` (parameters allowed), or nil when the
    /// bytes came without one. The document's own `mediaType` member takes precedence over
    /// the header, which registries sometimes send as plain `application/json`; without
    /// either, the shape decides (`manifests` makes an index, `config` a manifest). Both
    /// Docker schema 1 types, and `schemaVersion: 1`, are refused.
    ///
    /// A document that carries the members of both shapes is refused: a manifest that could
    /// be read as an index by one reader and as an image by another is how one digest can
    /// be made to mean two images.
    public static func parse(_ bytes: [UInt8], contentType: String?, source: String) throws(ImageSpecError) -> Manifest {
        let header = contentType.map(MediaTypes.essence(ofContentType:)).flatMap { $0.isEmpty ? nil : $0 }
        if let header, MediaTypes.isSchema1(header) {
            throw ImageSpecError(.schema1Manifest, schema1Refusal(source: source, mediaType: header))
        }
        let json = try parseImageJSON(bytes, kind: "manifest", source: source)
        guard let object = json.objectValue else {
            throw ImageSpecError(.invalidDocument, "\(source): manifest: expected a json object")
        }
        let declared = object["mediaType"]?.stringValue
        if let declared, MediaTypes.isSchema1(declared) {
            throw ImageSpecError(.schema1Manifest, schema1Refusal(source: source, mediaType: declared))
        }
        try checkSchemaVersion(of: json, kind: "manifest", source: source)

        let declaredKind = declared.flatMap(Kind.init(mediaType:))
        if let declared, declaredKind == nil {
            throw ImageSpecError(.unsupportedMediaType, unsupported(source: source, mediaType: declared))
        }
        let headerKind = header.flatMap(Kind.init(mediaType:))
        if let declaredKind, let headerKind, declaredKind != headerKind {
            throw ImageSpecError(
                .invalidDocument,
                "\(source): the content type \(header ?? "") names \(describe(headerKind)), but the document says it is \(describe(declaredKind)) (\(declared ?? ""))"
            )
        }
        let hasIndexMembers = object["manifests"] != nil
        let hasImageMembers = object["config"] != nil || object["layers"] != nil
        let shapeKind: Kind? =
            switch (hasIndexMembers, hasImageMembers) {
            case (true, false): .index
            case (false, true): .image
            default: nil
            }
        guard let kind = declaredKind ?? headerKind ?? shapeKind else {
            let reason = hasIndexMembers ? "has both manifests and config or layers" : "has neither manifests nor config"
            throw ImageSpecError(
                .unsupportedMediaType,
                "\(source): the document (content type \(header ?? "none")) is neither an image manifest nor an index: it \(reason)"
            )
        }
        if kind == .image, hasIndexMembers {
            throw ImageSpecError(.invalidDocument, "\(source): image manifest: has a manifests member, which only an index may have")
        }
        if kind == .index, hasImageMembers {
            throw ImageSpecError(.invalidDocument, "\(source): image index: has a config or layers member, which only an image manifest may have")
        }

        let mediaType = declared ?? (headerKind != nil ? header : nil) ?? (kind == .index ? MediaTypes.ociIndex : MediaTypes.ociManifest)
        switch kind {
        case .index:
            return .index(try decodeImageJSON(json, as: ImageIndex.self, source: source), mediaType: mediaType)
        case .image:
            return .image(try decodeImageJSON(json, as: ImageManifest.self, source: source), mediaType: mediaType)
        }
    }

    private static func describe(_ kind: Kind) -> String {
        kind == .index ? "an index" : "an image manifest"
    }

    private static func unsupported(source: String, mediaType: String) -> String {
        let accepted = MediaTypes.acceptedManifestTypes.joined(separator: ", ")
        return "\(source): unsupported manifest media type \(mediaType) (berth reads \(accepted))"
    }
}
