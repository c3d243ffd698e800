/// A failure berthctl reports on stderr as `berthctl: <message>` and exits 1 for.
public struct CommandError: Error, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
