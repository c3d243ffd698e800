/// The media types of the OCI image spec and of Docker's image manifest schema 2.
///
/// Registries answer with either family; Berth reads both and treats the Docker types as
/// the OCI ones they were the model for (manifest list = index, container config = config).
public enum MediaTypes {
    // OCI image spec.

    /// An OCI image manifest.
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    /// An OCI image index (a multi-platform image).
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    /// An OCI image configuration.
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    /// An OCI layer as an uncompressed tar archive.
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    /// An OCI layer compressed with gzip.
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    /// An OCI layer compressed with zstd.
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    /// An OCI layer with distribution restrictions (deprecated by image-spec 1.1, still met).
    public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    /// A non-distributable OCI layer compressed with gzip.
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    /// A non-distributable OCI layer compressed with zstd.
    public static let ociLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    /// The empty JSON object `{}` that artifacts use as a placeholder config.
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"

    // Docker image manifest, schema 2.

    /// A Docker image manifest, schema 2.
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    /// A Docker manifest list (a multi-platform image).
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    /// A Docker container configuration.
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    /// A Docker layer compressed with gzip.
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    /// A Docker layer as an uncompressed tar archive.
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    /// A Docker foreign layer (fetched from its `urls`, e.g. Windows base layers).
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    // Docker image manifest, schema 1: recognised only to be refused.

    /// A Docker image manifest, schema 1 (unsigned).
    public static let dockerSchema1Manifest = "application/vnd.docker.distribution.manifest.v1+json"
    /// A Docker image manifest, schema 1, signed with a JSON web signature.
    public static let dockerSchema1SignedManifest = "application/vnd.docker.distribution.manifest.v1+prettyjws"

    /// The manifest types Berth reads, most preferred first: the value of the `Accept`
    /// header of a manifest request. Schema 1 is left out, so a registry that can convert
    /// does not fall back to it.
    public static let acceptedManifestTypes = [ociIndex, dockerManifestList, ociManifest, dockerManifest]

    /// True for an OCI index or a Docker manifest list.
    public static func isIndex(_ mediaType: String) -> Bool {
        mediaType == ociIndex || mediaType == dockerManifestList
    }

    /// True for an OCI or Docker schema 2 image manifest.
    public static func isImageManifest(_ mediaType: String) -> Bool {
        mediaType == ociManifest || mediaType == dockerManifest
    }

    /// True for either Docker schema 1 manifest type.
    public static func isSchema1(_ mediaType: String) -> Bool {
        mediaType == dockerSchema1Manifest || mediaType == dockerSchema1SignedManifest
    }

    /// True for an image configuration (OCI or Docker).
    public static func isConfig(_ mediaType: String) -> Bool {
        mediaType == ociConfig || mediaType == dockerConfig
    }

    /// The compression of a layer of media type `mediaType`, or nil when it is not a layer
    /// type Berth knows.
    public static func layerCompression(_ mediaType: String) -> LayerCompression? {
        switch mediaType {
        case ociLayer, ociLayerNondistributable, dockerLayer: .uncompressed
        case ociLayerGzip, ociLayerNondistributableGzip, dockerLayerGzip, dockerForeignLayerGzip: .gzip
        case ociLayerZstd, ociLayerNondistributableZstd: .zstd
        default: nil
        }
    }

    /// The media type of a `Content-Type` header value: parameters (`; charset=utf-8`) and
    /// surrounding spaces removed, lowercased, as RFC 9110 makes media types case-insensitive.
    public static func essence(ofContentType contentType: String) -> String {
        let type = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(type.filter { $0 != " " && $0 != "\t" }).lowercased()
    }
}
