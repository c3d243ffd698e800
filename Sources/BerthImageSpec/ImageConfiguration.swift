/// An image configuration (OCI image config, or Docker's container config): what to run,
/// for which platform, and the layer chain by uncompressed digest.
///
/// Only what Berth acts on is typed; unknown members (Docker's `container_config`,
/// `docker_version`, `Healthcheck`, ...) are ignored. `DecodedDocument` keeps the whole
/// document for callers that show it (CRI ImageStatus with `verbose`).
public struct ImageConfiguration: Sendable, Decodable {
    /// When the image was made, as the RFC 3339 text the document holds.
    public var created: String?
    /// Who made the image.
    public var author: String?
    /// The CPU architecture the binaries are built for (`amd64`, `arm64`, ...).
    public var architecture: String
    /// The operating system the image runs on (`linux`).
    public var os: String
    /// The CPU variant (`v7` for arm).
    public var variant: String?
    /// The operating system version (Windows images).
    public var osVersion: String?
    /// Required operating system features (Windows images).
    public var osFeatures: [String]?
    /// The defaults for a container run from this image.
    public var config: ExecutionParameters?
    /// The uncompressed layer digests, base first.
    public var rootfs: RootFilesystem
    /// The build steps, base first.
    public var history: [History]?

    /// The platform this configuration declares.
    public var platform: Platform {
        Platform(os: os, architecture: architecture, variant: variant, osVersion: osVersion, osFeatures: osFeatures)
    }

    /// The layer chain: `layers` is always the type, `diffIDs` the uncompressed digests.
    public struct RootFilesystem: Sendable, Decodable {
        /// Always `layers`.
        public var type: String
        /// The digests of the uncompressed layer tars, base first.
        public var diffIDs: [Digest]

        private enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    /// One step of the build that made the image.
    public struct History: Sendable, Decodable {
        /// When the step ran, as RFC 3339 text.
        public var created: String?
        /// The command of the step (`/bin/sh -c apk add curl`, `ENV A=b`).
        public var createdBy: String?
        /// Who made the step.
        public var author: String?
        /// A note from the builder (`buildkit.dockerfile.v0`).
        public var comment: String?
        /// True when the step made no layer (ENV, CMD, ...).
        public var emptyLayer: Bool?

        private enum CodingKeys: String, CodingKey {
            case created
            case createdBy = "created_by"
            case author
            case comment
            case emptyLayer = "empty_layer"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case created, author, architecture, os, variant, config, rootfs, history
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }
}
