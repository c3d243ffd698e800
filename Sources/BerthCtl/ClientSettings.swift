import Glibc

/// Where berthctl connects and how long it waits: from the flags, else the environment
/// (CONTAINER_RUNTIME_ENDPOINT, IMAGE_SERVICE_ENDPOINT), else the config file
/// (`--config`, else CRI_CONFIG_FILE, else /etc/crictl.yaml — crictl's file and keys), else
/// berthd's socket. The image endpoint falls back to the runtime endpoint.
public struct ClientSettings: Sendable, Equatable {
    public static let defaultEndpoint = "unix:///run/berth/berth.sock"
    public static let defaultConfigPath = "/etc/crictl.yaml"

    public var runtimeEndpoint: CRIEndpoint
    public var imageEndpoint: CRIEndpoint
    /// Seconds a call may take (crictl's `--timeout`, default 2 s); pulls are not bounded.
    public var timeout: Double
    public var debug: Bool
    public var pullImageOnCreate = false
    public var disablePullOnRun = false

    /// The global flags as given (`nil`: not given).
    public struct Flags: Sendable, Equatable {
        public var runtimeEndpoint: String?
        public var imageEndpoint: String?
        public var timeout: String?
        public var debug: Bool?
        public var configPath: String?

        public init() {}
    }

    public static func resolve(flags: Flags, environment: [String: String], readFile: (String) -> String?) throws(CommandError) -> ClientSettings {
        let explicitConfig = flags.configPath ?? environment["CRI_CONFIG_FILE"]
        let configPath = explicitConfig ?? defaultConfigPath
        var file: [String: String] = [:]
        if let text = readFile(configPath) {
            file = try CrictlConfigFile.parse(text, path: configPath)
        } else if let explicitConfig {
            throw CommandError("config file \(explicitConfig): cannot be read")
        }
        let runtimeText = flags.runtimeEndpoint ?? environment["CONTAINER_RUNTIME_ENDPOINT"].nonEmpty ?? file["runtime-endpoint"].nonEmpty ?? defaultEndpoint
        let imageText = flags.imageEndpoint ?? environment["IMAGE_SERVICE_ENDPOINT"].nonEmpty ?? file["image-endpoint"].nonEmpty ?? runtimeText
        let timeoutText = flags.timeout ?? file["timeout"].nonEmpty
        let timeout: Double
        if let timeoutText {
            guard let seconds = Self.seconds(timeoutText) else {
                throw CommandError("timeout \"\(timeoutText)\": give seconds (2) or a duration (2s, 500ms, 1m)")
            }
            // As crictl: 0 or less means the default.
            timeout = seconds > 0 ? seconds : 2
        } else {
            timeout = 2
        }
        var settings = ClientSettings(
            runtimeEndpoint: try CRIEndpoint(parsing: runtimeText), imageEndpoint: try CRIEndpoint(parsing: imageText),
            timeout: timeout, debug: flags.debug ?? (file["debug"] == "true"))
        settings.pullImageOnCreate = file["pull-image-on-create"] == "true"
        settings.disablePullOnRun = file["disable-pull-on-run"] == "true"
        return settings
    }

    /// "2", "2s", "1.5s", "500ms", "1m" (crictl's config holds a number of seconds; its flag
    /// a Go duration).
    static func seconds(_ text: String) -> Double? {
        for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return Double(text)
    }
}

extension Optional where Wrapped == String {
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
