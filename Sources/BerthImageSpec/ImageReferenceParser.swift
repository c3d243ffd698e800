/// Parses a reference by the docker/distribution grammar and normalises it as
/// containerd's CRI plugin and the kubelet do:
///
/// ```
/// reference := name [":" tag] ["@" digest]
/// name      := [registry "/"] path-component ("/" path-component)*
/// ```
///
/// The first path element is a registry when it is `localhost`, contains `.` or `:`, or
/// has uppercase letters (the last because Docker Hub namespaces are lowercase, so
/// `Example/app` can only mean a host called `Example`; containerd decides the same).
/// Otherwise the registry is Docker Hub, where a single-element path gets `library/`.
struct ImageReferenceParser {
    let text: String

    func parse() throws(ImageReferenceError) -> ImageReference {
        guard !text.isEmpty else { throw failure(.empty, "the reference is empty") }
        if text.unicodeScalars.count == 64, text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) {
            throw failure(.imageIdentifier, "a 64-character hexadecimal string is an image id, not a repository name")
        }

        var remainder = Substring(text)
        var digest: Digest?
        if let at = remainder.firstIndex(of: "@") {
            do {
                digest = try Digest(parsing: String(remainder[remainder.index(after: at)...]))
            } catch {
                throw failure(.invalidDigest, error.message)
            }
            remainder = remainder[..<at]
        }

        // A colon after the last slash starts the tag; one before it is a registry port
        // (`localhost:5000/app`). A lone `localhost:5000` is therefore the Docker Hub
        // repository `library/localhost` with the tag `5000`, as in the reference grammar.
        var tag: String?
        let lastSlash = remainder.lastIndex(of: "/")
        if let colon = remainder.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let tagText = remainder[remainder.index(after: colon)...]
            if let problem = ReferenceGrammar.tagProblem(tagText) { throw failure(.invalidTag, problem) }
            tag = String(tagText)
            remainder = remainder[..<colon]
        }
        guard !remainder.isEmpty else { throw failure(.invalidRepository, "the repository name is empty") }

        let (registry, path) = splitRegistry(remainder)
        if let registry, let problem = ReferenceGrammar.registryProblem(registry) {
            throw failure(.invalidRegistry, problem)
        }
        // Checked before the grammar so that `Busybox` gets the message users need.
        if ReferenceGrammar.hasUppercase(path) {
            throw failure(.uppercase, "the repository name \"\(path)\" must be lowercase")
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if let problem = ReferenceGrammar.pathComponentProblem(component) {
                throw failure(.invalidRepository, problem)
            }
        }

        let normalizedRegistry = registry.map(normalize(registry:)) ?? ImageReference.dockerHubRegistry
        var repository = String(path)
        if normalizedRegistry == ImageReference.dockerHubRegistry, !repository.contains("/") {
            repository = "library/" + repository
        }
        let nameLength = normalizedRegistry.utf8.count + 1 + repository.utf8.count
        guard nameLength <= ReferenceGrammar.maximumNameLength else {
            throw failure(.nameTooLong, "the name is \(nameLength) characters long (at most \(ReferenceGrammar.maximumNameLength))")
        }
        if tag == nil, digest == nil { tag = ImageReference.defaultTag }
        return ImageReference(registry: normalizedRegistry, repository: repository, tag: tag, digest: digest)
    }

    /// The registry part (nil for Docker Hub implied) and the repository path.
    private func splitRegistry(_ name: Substring) -> (registry: Substring?, path: Substring) {
        guard let slash = name.firstIndex(of: "/") else { return (nil, name) }
        let first = name[..<slash]
        let isRegistry = first == "localhost" || first.contains(".") || first.contains(":") || ReferenceGrammar.hasUppercase(first)
        guard isRegistry else { return (nil, name) }
        return (first, name[name.index(after: slash)...])
    }

    private func normalize(registry: Substring) -> String {
        // The legacy Docker Hub index name is the same registry as docker.io.
        registry == "index.docker.io" ? ImageReference.dockerHubRegistry : String(registry)
    }

    private func failure(_ reason: ImageReferenceError.Reason, _ detail: String) -> ImageReferenceError {
        ImageReferenceError(reference: text, reason: reason, detail: detail)
    }
}
