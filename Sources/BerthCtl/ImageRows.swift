import BerthCRI

/// The rows crictl's `images` table shows for an image: one per tag (split at the last
/// colon), `<none>` for an image without tags, the name then taken from its first digest.
enum ImageRows {
    /// The repository and digest of the first repo digest, or `<none>` twice.
    static func repositoryDigest(_ image: Runtime_V1_Image) -> (name: String, digest: String) {
        guard let first = image.repoDigests.first else { return ("<none>", "<none>") }
        let parts = first.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return ("errorName", "errorRepoDigest") }
        return (String(parts[0]), String(parts[1]))
    }

    /// (repository, tag) pairs.
    static func repositoryTags(_ image: Runtime_V1_Image, name: String) -> [(String, String)] {
        guard !image.repoTags.isEmpty else { return [(name, "<none>")] }
        return image.repoTags.map { tag in
            guard let colon = tag.lastIndex(of: ":") else { return ("errorRepoTag", "errorRepoTag") }
            let repository = String(tag[..<colon])
            return (repository == "<none>" ? name : repository, String(tag[tag.index(after: colon)...]))
        }
    }

    /// crictl's short ids: "sha256:" dropped, 13 characters.
    static func truncated(_ id: String) -> String {
        var text = Substring(id)
        if text.hasPrefix("sha256:") { text = text.dropFirst(7) }
        return String(text.prefix(13))
    }

    /// crictl's order: by first tag, else first digest, else id.
    static func sorted(_ images: [Runtime_V1_Image]) -> [Runtime_V1_Image] {
        images.sorted { left, right in
            if let leftTag = left.repoTags.first, let rightTag = right.repoTags.first { return leftTag < rightTag }
            if let leftDigest = left.repoDigests.first, let rightDigest = right.repoDigests.first { return leftDigest < rightDigest }
            return left.id < right.id
        }
    }
}
