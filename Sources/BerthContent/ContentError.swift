/// A content store failure, naming the blob (by digest) or ingest and what went wrong.
public struct ContentError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        case notFound, digestMismatch, sizeMismatch, invalidDigest, io
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
