import BerthCRI

/// `images --filter`: `dangling=true|false` (images without tags, or with) and
/// `reference=REGEX` (matched against the repository of the first digest, or equal to it),
/// applied in order as crictl applies them.
enum ImageFilter {
    static func apply(_ filters: [String], to images: [Runtime_V1_Image]) throws(CommandError) -> [Runtime_V1_Image] {
        var result = images
        for filter in filters {
            guard let equals = filter.firstIndex(of: "=") else { throw CommandError("images: filter \"\(filter)\" is not KEY=VALUE") }
            let key = String(filter[..<equals])
            let value = String(filter[filter.index(after: equals)...])
            switch key {
            case "dangling":
                guard value == "true" || value == "false" else { throw CommandError("images: filter dangling=\(value): use true or false") }
                result = result.filter { $0.repoTags.isEmpty == (value == "true") }
            case "reference":
                let pattern: Regex<AnyRegexOutput>
                do {
                    pattern = try Regex(value)
                } catch {
                    throw CommandError("images: filter reference=\(value): not a regular expression: \(error)")
                }
                result = result.filter { image in
                    let name = ImageRows.repositoryDigest(image).name
                    return name == value || name.contains(pattern) || image.repoTags.contains { $0 == value }
                }
            default:
                throw CommandError("images: unknown filter \"\(key)\" (use dangling or reference)")
            }
        }
        return result
    }
}
