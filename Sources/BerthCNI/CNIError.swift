/// A CNI operation that failed: which plugin, which command, and the plugin's own error
/// (its `msg` and `details`) or why it could not run.
public struct CNIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
