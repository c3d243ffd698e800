/// A digest or an image document that Berth cannot use.
///
/// The message is lowercase and names the input (a digest, or the source of a document:
/// a reference, a blob digest) and what is wrong with it, so berthd can pass it to the
/// kubelet unchanged.
public struct ImageSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is, for callers that map errors to status codes.
    public enum Code: Sendable, Equatable {
        /// A digest that is malformed or uses an algorithm Berth does not verify.
        case invalidDigest
        /// A document that is not valid JSON or does not have the shape its type requires.
        case invalidDocument
        /// A Docker image manifest in schema 1, which Berth refuses.
        case schema1Manifest
        /// A document whose media type is neither an image manifest nor an index.
        case unsupportedMediaType
    }

    /// The kind of failure.
    public let code: Code
    /// The lowercase message, naming the input.
    public let message: String

    /// An error of `code` with `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
