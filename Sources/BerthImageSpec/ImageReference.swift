/// An image reference normalised the way the kubelet and containerd's CRI plugin see it.
///
/// `busybox` is `docker.io/library/busybox:latest`; `user/app` is `docker.io/user/app:latest`;
/// `localhost:5000/app:v1` keeps its registry. A reference may carry both a tag and a
/// digest: both are kept, and the digest is what a pull asks for.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// The Docker Hub registry name as references spell it (`index.docker.io` becomes this).
    public static let dockerHubRegistry = "docker.io"
    /// The tag a reference gets when it names neither a tag nor a digest.
    public static let defaultTag = "latest"

    /// The registry host, with its port when one was given (`docker.io`, `localhost:5000`).
    ///
    /// For Docker Hub this is `docker.io`, the name in references; the registry API itself
    /// answers at `registry-1.docker.io`, which is the registry client's business.
    public let registry: String
    /// The repository path inside the registry (`library/busybox`, `ns/app`).
    public let repository: String
    /// The tag: as given, `latest` when neither a tag nor a digest was given, nil when only
    /// a digest was given.
    public let tag: String?
    /// The digest after `@`, when given.
    public let digest: Digest?

    /// Parses and normalises `text`; see `ImageReferenceParser` for the grammar and the rules.
    public init(parsing text: String) throws(ImageReferenceError) {
        self = try ImageReferenceParser(text: text).parse()
    }

    /// A reference from parts that are already valid (internal: the parser checks them).
    init(registry: String, repository: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// `registry/repository`, e.g. `docker.io/library/busybox`.
    public var name: String { "\(registry)/\(repository)" }

    /// The full normalised reference: `docker.io/library/busybox:latest`,
    /// `registry.example.com/ns/app:tag@sha256:...`, `docker.io/library/busybox@sha256:...`.
    public var normalized: String {
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    public var description: String { normalized }

    /// True when the image lives on Docker Hub.
    public var isDockerHub: Bool { registry == Self.dockerHubRegistry }

    /// What a pull asks the registry's manifest endpoint for: the digest when there is
    /// one (a tag can move, a digest cannot), otherwise the tag.
    public var manifestReference: String {
        if let digest { return digest.description }
        return tag ?? Self.defaultTag
    }

    /// This repository pinned to `digest`, without a tag: the form of CRI `repo_digests`
    /// (`docker.io/library/busybox@sha256:...`).
    public func pinned(to digest: Digest) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: nil, digest: digest)
    }
}
