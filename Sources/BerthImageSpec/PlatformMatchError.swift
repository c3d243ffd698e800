/// No manifest in an index runs on the target platform.
///
/// The message lists what the index offers, so a user sees at once that, say, an image is
/// built for amd64 only: `docker.io/library/app:1: no manifest for linux/arm64: the index
/// offers linux/amd64, linux/386`.
public struct PlatformMatchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reference or digest of the index.
    public let source: String
    /// The platform a manifest was wanted for.
    public let target: Platform
    /// The platforms the index offers, as written there, in index order, without duplicates.
    public let offered: [Platform]

    /// An error for `source`, which offers `offered` but nothing for `target`.
    public init(source: String, target: Platform, offered: [Platform]) {
        self.source = source
        self.target = target
        self.offered = offered
    }

    /// What was wanted and what the index offers.
    public var message: String {
        if offered.isEmpty {
            return "\(source): no manifest for \(target): the index lists no platforms"
        }
        return "\(source): no manifest for \(target): the index offers \(offered.map(\.description).joined(separator: ", "))"
    }

    public var description: String { message }
}
