import BerthCgroups
import BerthRuntimeSpec
import BerthSystem

/// An error from a berth command, with the message runc would print and, where the
/// failure came from a system call, the stage and errno inside it.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case notFound, alreadyExists, invalidID, invalidState, invalidConfig, invalidArgument, system, hook, unsupported
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
