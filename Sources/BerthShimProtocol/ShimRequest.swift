import BerthJSON

/// What berthd asks a container's shim, one JSON object per connection:
/// `{"op":"start"}`, `{"op":"kill","signal":15,"all":false}`, `{"op":"state"}`,
/// `{"op":"wait"}` (answered when the container has exited), `{"op":"reopen-log"}`,
/// `{"op":"delete"}` (the runtime's delete; the shim then exits).
public enum ShimRequest: Sendable, Equatable {
    case start
    case kill(signal: Int32, all: Bool)
    case state
    case wait
    case reopenLog
    case delete

    public var json: JSONValue {
        switch self {
        case .start: ["op": "start"]
        case .kill(let signal, let all): ["op": "kill", "signal": .int(signal), "all": .bool(all)]
        case .state: ["op": "state"]
        case .wait: ["op": "wait"]
        case .reopenLog: ["op": "reopen-log"]
        case .delete: ["op": "delete"]
        }
    }

    public init(parsing text: String) throws(ShimProtocolError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw ShimProtocolError("request is not JSON: \(error)")
        }
        switch value["op"]?.stringValue {
        case "start": self = .start
        case "kill":
            guard let signal = value["signal"]?.int64Value, (1...64).contains(signal) else { throw ShimProtocolError("kill needs a signal from 1 to 64") }
            self = .kill(signal: Int32(signal), all: value["all"]?.boolValue ?? false)
        case "state": self = .state
        case "wait": self = .wait
        case "reopen-log": self = .reopenLog
        case "delete": self = .delete
        case let other: throw ShimProtocolError("unknown op \(other.map { "\"\($0)\"" } ?? "(none)")")
        }
    }
}

/// A malformed request or answer.
public struct ShimProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
