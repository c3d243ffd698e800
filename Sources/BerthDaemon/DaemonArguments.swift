import Logging

/// berthd's command line: `--address PATH`, `--root DIR`, `--state DIR`,
/// `--log-level LEVEL`, `--log-format text|json` (`--flag value` or `--flag=value`).
public struct DaemonArguments: Sendable, Equatable {
    public var configuration = DaemonConfiguration()
    public var logLevel: Logger.Level = .info
    public var logFormat: DaemonLogHandler.Format = .text
    public var showVersion = false
    public var showHelp = false

    public static let usage = """
        berthd: the Berth CRI daemon (CRI v1 RuntimeService and ImageService over gRPC)

        usage: berthd [--address PATH] [--root DIR] [--state DIR] [--log-level LEVEL] [--log-format text|json]

          --address PATH     CRI unix socket (default /run/berth/berth.sock, mode 0660)
          --root DIR         persistent data (default /var/lib/berth)
          --state DIR        runtime state (default /run/berth)
          --log-level LEVEL  trace, debug, info, notice, warning, error, critical (default info)
          --log-format FMT   text or json (default text), on stderr
          --version          print the version

        """

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public init() {}

    public static func parse(_ words: [String]) throws(Invalid) -> DaemonArguments {
        var result = DaemonArguments()
        var index = 0
        while index < words.count {
            var word = words[index]
            var value: String?
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                value = String(word[word.index(after: equals)...])
                word = String(word[..<equals])
            }
            func next() throws(Invalid) -> String {
                if let value { return value }
                index += 1
                guard index < words.count, !words[index].isEmpty else { throw Invalid(message: "\(word) needs a value") }
                return words[index]
            }
            switch word {
            case "--address": result.configuration.address = try next()
            case "--root": result.configuration.root = try next()
            case "--state": result.configuration.state = try next()
            case "--log-level":
                let text = try next()
                guard let level = Logger.Level(rawValue: text) else { throw Invalid(message: "--log-level \"\(text)\": use trace, debug, info, notice, warning, error or critical") }
                result.logLevel = level
            case "--log-format":
                let text = try next()
                guard let format = DaemonLogHandler.Format(rawValue: text) else { throw Invalid(message: "--log-format \"\(text)\": use text or json") }
                result.logFormat = format
            case "--version", "-v": result.showVersion = true
            case "--help", "-h": result.showHelp = true
            default: throw Invalid(message: "unknown flag \(word); see berthd --help")
            }
            index += 1
        }
        for (flag, path) in [("--address", result.configuration.address), ("--root", result.configuration.root), ("--state", result.configuration.state)] where !path.hasPrefix("/") {
            throw Invalid(message: "\(flag) \"\(path)\" must be an absolute path")
        }
        return result
    }
}
