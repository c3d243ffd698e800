/// A config.json that berth cannot run, naming the member at fault.
public struct SpecError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
