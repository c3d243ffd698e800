import BerthJSON
import Glibc
import Logging

/// berthd's log lines on stderr: logfmt-style text (`time=… level=… msg=… key=value`, as
/// containerd writes) or one JSON object per line.
public struct DaemonLogHandler: LogHandler {
    public enum Format: String, Sendable {
        case text, json
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let time = Self.timestamp()
        var fields = metadata.merging(event.metadata ?? [:]) { $1 }
        fields["source"] = nil
        let line: String
        switch format {
        case .json:
            var object = JSONObject()
            object["time"] = .string(time)
            object["level"] = .string(event.level.rawValue)
            object["msg"] = .string("\(event.message)")
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { object[key] = .string("\(value)") }
            line = JSONValue.object(object).serialized()
        case .text:
            var text = "time=\"\(time)\" level=\(event.level.rawValue) msg=\(Self.quoted("\(event.message)"))"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(Self.quoted("\(value)"))" }
            line = text
        }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    public static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) else { return value }
        return JSONValue.string(value).serialized()
    }

    /// RFC 3339 UTC with nanoseconds.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let nanoseconds = String(now.tv_nsec)
        let padded = String(repeating: "0", count: 9 - nanoseconds.count) + nanoseconds
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(padded)Z"
    }
}
