/// An image operation that failed, with the stage and the input named.
public struct ImageStoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case invalidReference, notFound, unauthorized, unavailable, invalidImage, storage
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
