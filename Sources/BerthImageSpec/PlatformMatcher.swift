/// Chooses the manifest for a target platform from an index, as containerd's default
/// matcher does on Linux.
///
/// Operating system and architecture must be equal (after normalisation: `x86_64` is
/// `amd64`, `aarch64` is `arm64`, and so on); the variant may be the target's or an older
/// one the target also runs, most recent first:
///
/// - amd64/v3 takes v3, then v2, then baseline amd64 (`v1` or no variant); plain amd64
///   takes only the baseline, since a v2 image may use instructions the CPU lacks.
/// - arm64 takes arm64 with no variant or `v8`; arm64/v8.2 takes v8.2, v8.1, then v8;
///   arm64/v9.x takes v9.x down to v9, then v8.(x+5) down to v8.
/// - arm/v7 takes v7, v6, v5 (arm without a variant means v7).
///
/// Among entries of equal preference the first in the index wins. Entries without a
/// platform are taken only when no entry matches, as containerd does, and attestation
/// manifests (BuildKit's `unknown/unknown` entries) are never taken.
///
/// Unlike containerd, a matcher does not fall back to another architecture (386 on amd64,
/// 32-bit arm on arm64): not every such host can run those binaries.
public struct PlatformMatcher: Sendable {
    /// The platform manifests are chosen for, normalised.
    public let target: Platform
    /// The platforms accepted, normalised, most preferred first.
    public let acceptedPlatforms: [Platform]

    /// A matcher for `target`, by default the platform of this machine.
    public init(target: Platform = .host) {
        let target = target.normalized
        self.target = target
        self.acceptedPlatforms = Self.acceptedVariants(of: target).map { variant in
            Platform(os: target.os, architecture: target.architecture, variant: variant)
        }
    }

    /// The rank of `platform` among the accepted ones (0 is the best), or nil when the
    /// target cannot run it.
    public func preference(of platform: Platform) -> Int? {
        let candidate = platform.normalized
        return acceptedPlatforms.firstIndex { accepted in
            accepted.os == candidate.os && accepted.architecture == candidate.architecture
                && accepted.variant == candidate.variant
        }
    }

    /// True when the target can run `platform`.
    public func matches(_ platform: Platform) -> Bool {
        preference(of: platform) != nil
    }

    /// The best manifest in `index` for the target; `source` (the reference or digest of the
    /// index) names it in the error, which lists the platforms the index offers.
    public func bestManifest(in index: ImageIndex, source: String) throws(PlatformMatchError) -> Descriptor {
        var best: (rank: Int, descriptor: Descriptor)?
        var withoutPlatform: Descriptor?
        var offered: [Platform] = []
        for descriptor in index.manifests where Self.isRunnableManifest(descriptor) {
            guard let platform = descriptor.platform else {
                if withoutPlatform == nil { withoutPlatform = descriptor }
                continue
            }
            if !offered.contains(platform) { offered.append(platform) }
            if let rank = preference(of: platform), rank < best?.rank ?? Int.max {
                best = (rank, descriptor)
            }
        }
        if let best { return best.descriptor }
        if let withoutPlatform { return withoutPlatform }
        throw PlatformMatchError(source: source, target: target, offered: offered)
    }

    /// Entries that are images (or nested indexes) rather than attestations or artifacts.
    private static func isRunnableManifest(_ descriptor: Descriptor) -> Bool {
        guard MediaTypes.isImageManifest(descriptor.mediaType) || MediaTypes.isIndex(descriptor.mediaType) else { return false }
        return descriptor.annotations?["vnd.docker.reference.type"] != "attestation-manifest"
    }

    /// The variants a normalised target accepts, most preferred first (nil: no variant).
    private static func acceptedVariants(of target: Platform) -> [String?] {
        switch target.architecture {
        case "amd64":
            guard let level = target.variant.flatMap(majorVersion), level >= 2 else { return [target.variant] }
            return stride(from: level, through: 2, by: -1).map { "v\($0)" } + [nil]
        case "arm":
            guard let version = target.variant.flatMap(majorVersion), version >= 5 else { return [target.variant] }
            return stride(from: version, through: 5, by: -1).map { "v\($0)" }
        case "arm64":
            return arm64Variants(of: target.variant)
        default:
            return [target.variant]
        }
    }

    /// arm64 variants: v9.x includes the features of v8.(x+5), and v8 is the baseline that
    /// normalisation writes as no variant.
    private static func arm64Variants(of variant: String?) -> [String?] {
        guard let variant else { return [nil] }
        guard let (major, minor) = majorMinorVersion(variant), major == 8 || major == 9, minor <= 9 else { return [variant] }
        var variants: [String?] = []
        func add(_ major: Int, from minor: Int) {
            for step in stride(from: minor, through: 0, by: -1) {
                let name = step == 0 ? "v\(major)" : "v\(major).\(step)"
                variants.append(name == "v8" ? nil : name)
            }
        }
        if major == 9 {
            add(9, from: minor)
            add(8, from: min(minor + 5, 9))
        } else {
            add(8, from: minor)
        }
        return variants
    }

    /// `N` from `vN`.
    private static func majorVersion(_ variant: String) -> Int? {
        guard variant.hasPrefix("v") else { return nil }
        return Int(variant.dropFirst())
    }

    /// `(N, M)` from `vN.M`, or `(N, 0)` from `vN`.
    private static func majorMinorVersion(_ variant: String) -> (Int, Int)? {
        guard variant.hasPrefix("v") else { return nil }
        let parts = variant.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let major = Int(parts[0]) else { return nil }
        guard parts.count == 2 else { return (major, 0) }
        guard let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }
}
