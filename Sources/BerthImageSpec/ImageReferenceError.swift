/// An image reference that does not follow the distribution reference grammar.
///
/// The message quotes the reference as given and says which part is wrong, e.g.
/// `invalid image reference "Busybox": the repository name must be lowercase`.
public struct ImageReferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which rule the reference breaks.
    public enum Reason: Sendable, Equatable {
        /// The reference is empty.
        case empty
        /// The repository path has uppercase letters (Docker Hub and the grammar forbid them).
        case uppercase
        /// The repository path breaks the path-component grammar.
        case invalidRepository
        /// The registry host or port is malformed.
        case invalidRegistry
        /// The tag breaks `[\w][\w.-]{0,127}`.
        case invalidTag
        /// The digest after `@` is malformed or uses an unsupported algorithm.
        case invalidDigest
        /// The full name is longer than 255 characters.
        case nameTooLong
        /// The reference is a bare 64-character hexadecimal image id, which is not a name.
        case imageIdentifier
    }

    /// The reference as it was given.
    public let reference: String
    /// The rule the reference breaks.
    public let reason: Reason
    /// What is wrong, without the reference (it is in `message`).
    public let detail: String

    /// An error for `reference`, which breaks `reason` as `detail` says.
    public init(reference: String, reason: Reason, detail: String) {
        self.reference = reference
        self.reason = reason
        self.detail = detail
    }

    /// `invalid image reference "<reference>": <detail>`.
    public var message: String { "invalid image reference \"\(reference)\": \(detail)" }
    public var description: String { message }
}
