import BerthJSON

/// What a shim knows about its container; also the content of `<state dir>/exit.json`
/// once the container has exited (berthd reads it after a restart, even when the shim is
/// gone).
public struct ShimState: Sendable, Equatable {
    public enum Status: String, Sendable {
        case created, running, exited
    }

    public var id: String
    public var status: Status
    public var pid: Int32
    public var exitCode: Int32?
    /// RFC 3339 with nanoseconds.
    public var startedAt: String?
    public var exitedAt: String?
    /// The kernel's OOM killer killed a process of the container's memory cgroup.
    public var oomKilled = false
    public var logPath: String
    /// Why the exit is what it is when the shim could not see it (berthd writes this when
    /// it finds the shim dead and kills the container: exit code 255).
    public var message: String?

    public init(id: String, status: Status, pid: Int32, logPath: String) {
        self.id = id
        self.status = status
        self.pid = pid
        self.logPath = logPath
    }

    public var json: JSONValue {
        var object = JSONObject([("id", .string(id)), ("status", .string(status.rawValue)), ("pid", .int(pid)), ("oomKilled", .bool(oomKilled)), ("logPath", .string(logPath))])
        if let exitCode { object["exitCode"] = .int(exitCode) }
        if let startedAt { object["startedAt"] = .string(startedAt) }
        if let exitedAt { object["exitedAt"] = .string(exitedAt) }
        if let message { object["message"] = .string(message) }
        return .object(object)
    }

    public init(_ value: JSONValue) throws(ShimProtocolError) {
        guard let id = value["id"]?.stringValue, let statusText = value["status"]?.stringValue, let status = Status(rawValue: statusText),
            let pid = value["pid"]?.int64Value, let logPath = value["logPath"]?.stringValue
        else { throw ShimProtocolError("not a shim state: \(value.serialized())") }
        self.init(id: id, status: status, pid: Int32(pid), logPath: logPath)
        exitCode = value["exitCode"]?.int64Value.map { Int32($0) }
        startedAt = value["startedAt"]?.stringValue
        exitedAt = value["exitedAt"]?.stringValue
        oomKilled = value["oomKilled"]?.boolValue ?? false
        message = value["message"]?.stringValue
    }
}
