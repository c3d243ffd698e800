/// A registry that could not be used: names the registry host and the reference or blob,
/// and says what happened. Credentials never appear in a message.
public struct RegistryError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        /// 401 or 403: no credentials, or they were refused.
        case unauthorized
        /// 404: no such repository, tag or blob.
        case notFound
        /// Connection failures and 5xx answers that outlasted the retries.
        case unavailable
        /// An answer that makes no sense (bad headers, a digest that does not match).
        case invalidResponse
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
