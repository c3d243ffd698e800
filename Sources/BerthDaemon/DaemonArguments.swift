import BerthSystem
import Glibc
import Logging

/// berthd's command line: `--address PATH`, `--root DIR`, `--state DIR`,
/// `--log-level LEVEL`, `--log-format text|json` (`--flag value` or `--flag=value`).
public struct DaemonArguments: Sendable, Equatable {
    public var configuration = DaemonConfiguration()
    public var showVersion = false
    public var showHelp = false
    /// The config file read, if any.
    public var configPath: String?

    public var logLevel: Logger.Level { configuration.logLevel }
    public var logFormat: DaemonLogHandler.Format { configuration.logFormat }

    public static let usage = """
        berthd: the Berth CRI daemon (CRI v1 RuntimeService and ImageService over gRPC)

        usage: berthd [--config FILE] [--address PATH] [--root DIR] [--state DIR] [--log-level LEVEL] [--log-format text|json]

          --config FILE      TOML settings (default /etc/berth/berthd.toml when it exists);
                             flags override it; see docs/CONFIGURATION.md
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

        public init(message: String) {
            self.message = message
        }
    }

    public init() {}

    /// The config file's text; nil when there is no such file. Any other failure (no
    /// permission, a directory) is an error: a config that exists is never skipped quietly.
    public static func readConfigFile(_ path: String) throws(Invalid) -> String? {
        do {
            return try FileSystem.readText(path)
        } catch {
            if error.errno == ENOENT { return nil }
            throw Invalid(message: "config \(path): \(error)")
        }
    }

    /// The flags over the config file over the defaults. `readFile` reads the config file
    /// (nil: it is not there).
    public static func parse(_ words: [String], readFile: (String) throws(Invalid) -> String? = readConfigFile) throws(Invalid) -> DaemonArguments {
        var result = DaemonArguments()
        var flags: [(String, String)] = []
        var index = 0
        while index < words.count {
            var word = words[index]
            var value: String?
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                value = String(word[word.index(after: equals)...])
                word = String(word[..<equals])
            }
            switch word {
            case "--address", "--root", "--state", "--log-level", "--log-format", "--config":
                if value == nil {
                    index += 1
                    guard index < words.count, !words[index].isEmpty else { throw Invalid(message: "\(word) needs a value") }
                    value = words[index]
                }
                flags.append((word, value ?? ""))
            case "--version", "-v": result.showVersion = true
            case "--help", "-h": result.showHelp = true
            default: throw Invalid(message: "unknown flag \(word); see berthd --help")
            }
            index += 1
        }
        let explicitConfig = flags.last { $0.0 == "--config" }?.1
        let configPath = explicitConfig ?? DaemonConfiguration.defaultConfigPath
        if let text = try readFile(configPath) {
            try result.configuration.apply(file: text, path: configPath)
            result.configPath = configPath
        } else if let explicitConfig {
            throw Invalid(message: "--config \"\(explicitConfig)\": the file cannot be read")
        }
        for (flag, value) in flags {
            switch flag {
            case "--address": result.configuration.address = value
            case "--root": result.configuration.root = value
            case "--state": result.configuration.state = value
            case "--log-level":
                guard let level = Logger.Level(rawValue: value) else { throw Invalid(message: "--log-level \"\(value)\": use trace, debug, info, notice, warning, error or critical") }
                result.configuration.logLevel = level
            case "--log-format":
                guard let format = DaemonLogHandler.Format(rawValue: value) else { throw Invalid(message: "--log-format \"\(value)\": use text or json") }
                result.configuration.logFormat = format
            default: break
            }
        }
        for (flag, path) in [("--address", result.configuration.address), ("--root", result.configuration.root), ("--state", result.configuration.state)] where !path.hasPrefix("/") {
            throw Invalid(message: "\(flag) \"\(path)\" must be an absolute path")
        }
        return result
    }
}
