import BerthJSON
import BerthSystem
import Glibc
import Logging

/// Where and how berth writes log records: runc's `--log FILE` and `--log-format`.
struct LogDestination: Sendable {
    enum Format: String, Sendable { case text, json }

    /// Descriptor of the --log file (opened O_APPEND), or 2 for stderr.
    let descriptor: Int32
    let format: Format
    let toFile: Bool

    /// One record as runc writes it. text: `time="…" level=error msg="…"`; json: the keys
    /// sorted as logrus sorts them, `{"level":"error","msg":"…","time":"…"}`.
    func line(level: String, message: String, fields: [(String, String)] = []) -> String {
        let time = Clock.rfc3339(nanoseconds: Clock.nowNanoseconds() / 1_000_000_000 * 1_000_000_000)
        switch format {
        case .json:
            var all = fields + [("level", level), ("msg", message), ("time", time)]
            all.sort { $0.0 < $1.0 }
            return JSONValue.object(JSONObject(all.map { (key: $0.0, value: .string($0.1)) })).serialized() + "\n"
        case .text:
            var text = "time=\"\(time)\" level=\(level) msg=\(Self.quoted(message))"
            for (key, value) in fields { text += " \(key)=\(Self.quoted(value))" }
            return text + "\n"
        }
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Go-style quoting, as logrus prints msg values.
    static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\t": output += "\\t"
            case "\r": output += "\\r"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}

/// swift-log handler that writes runc-format records; metadata (the container id) become
/// extra fields.
struct RuncLogHandler: LogHandler {
    let destination: LogDestination
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        let fields = merged.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        let level: String
        switch event.level {
        case .trace, .debug: level = "debug"
        case .info, .notice: level = "info"
        case .warning: level = "warning"
        case .error: level = "error"
        case .critical: level = "fatal"
        }
        destination.write(destination.line(level: level, message: "\(event.message)", fields: fields))
    }
}
