/// The platform an image runs on: operating system, CPU architecture and its variant.
///
/// Decodes the `platform` object of an index entry (`os.version` and `os.features` keep
/// their dotted names). Values are kept as written; `normalized` gives the canonical
/// spelling used for matching.
public struct Platform: Hashable, Sendable, CustomStringConvertible {
    /// The CPU architecture, in Go's names (`amd64`, `arm64`, `arm`, `386`, `ppc64le`, ...).
    public var architecture: String
    /// The operating system, in Go's names (`linux`, `windows`).
    public var os: String
    /// The CPU variant (`v7` for arm, `v8` for arm64, `v2`..`v4` for amd64).
    public var variant: String?
    /// The operating system version (used by Windows images).
    public var osVersion: String?
    /// Required operating system features (used by Windows images).
    public var osFeatures: [String]?

    /// A platform from its parts, kept as given (see `normalized`).
    public init(os: String, architecture: String, variant: String? = nil, osVersion: String? = nil, osFeatures: [String]? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
        self.osVersion = osVersion
        self.osFeatures = osFeatures
    }

    /// `os/architecture[/variant]`, e.g. `linux/arm/v7`.
    public var description: String {
        var text = "\(os)/\(architecture)"
        if let variant, !variant.isEmpty { text += "/\(variant)" }
        return text
    }

    /// The canonical spelling, as containerd's matcher compares platforms: lowercase names,
    /// `x86_64` as `amd64`, `aarch64` as `arm64`, `i386` as `386`, `armhf` and `armel` as
    /// `arm/v7` and `arm/v6`; the baseline variants (`amd64/v1`, `arm64/v8`) are written as
    /// no variant, and `arm` without a variant means `arm/v7`.
    public var normalized: Platform {
        var result = self
        result.os = os.lowercased()
        var variant = (self.variant ?? "").lowercased()
        switch architecture.lowercased() {
        case "i386", "386":
            result.architecture = "386"
            variant = ""
        case "x86_64", "x86-64", "amd64":
            result.architecture = "amd64"
            if variant == "v1" { variant = "" }
        case "aarch64", "arm64":
            result.architecture = "arm64"
            if ["8", "v8", "v8.0"].contains(variant) { variant = "" }
            if ["9", "9.0", "v9.0"].contains(variant) { variant = "v9" }
        case "armhf":
            result.architecture = "arm"
            variant = "v7"
        case "armel":
            result.architecture = "arm"
            variant = "v6"
        case "arm":
            result.architecture = "arm"
            if variant.isEmpty || variant == "7" { variant = "v7" }
            if ["5", "6", "8"].contains(variant) { variant = "v" + variant }
        case let other:
            result.architecture = other
        }
        result.variant = variant.isEmpty ? nil : variant
        return result
    }
}

extension Platform: Decodable {
    private enum CodingKeys: String, CodingKey {
        case architecture
        case os
        case variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }
}
