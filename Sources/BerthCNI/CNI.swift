import BerthJSON
import BerthSystem
import Glibc

/// A pod's network through real CNI plugins (the CNI spec's exec protocol): ADD when the
/// pod starts, DEL (idempotent) when it stops. The network is the first `.conflist` (or
/// `.conf`) in the config directory, by name; each of its plugins gets the list's name and
/// version, the previous plugin's result, and the runtime's settings for the capabilities
/// it declares (`portMappings`). ADD results are cached so DEL can hand them back.
public struct CNI: Sendable {
    public let pluginDirectories: [String]
    public let configDirectory: String
    public let cacheDirectory: String
    /// Seconds one plugin may take.
    public let timeout: Double

    public init(pluginDirectories: [String] = ["/usr/lib/cni", "/opt/cni/bin"], configDirectory: String = "/etc/cni/net.d", cacheDirectory: String, timeout: Double = 60) {
        self.pluginDirectories = pluginDirectories
        self.configDirectory = configDirectory
        self.cacheDirectory = cacheDirectory
        self.timeout = timeout
    }

    /// One pod's attachment: its id, its network namespace, the interface name in it, the
    /// CNI_ARGS (K8S_POD_NAMESPACE, K8S_POD_NAME, ...) and the runtime config
    /// (`{"portMappings": [...]}`).
    public struct Attachment: Sendable {
        public var containerID: String
        public var networkNamespace: String
        public var interfaceName = "eth0"
        public var arguments: [(String, String)] = []
        public var runtimeConfig: JSONObject = JSONObject()

        public init(containerID: String, networkNamespace: String) {
            self.containerID = containerID
            self.networkNamespace = networkNamespace
        }
    }

    /// The network list in force, or why there is none (NetworkReady's reason).
    public func network() throws(CNIError) -> CNINetworkList {
        let names = ((try? FileSystem.listDirectory(configDirectory)) ?? []).filter { $0.hasSuffix(".conflist") || $0.hasSuffix(".conf") || $0.hasSuffix(".json") }.sorted()
        guard let first = names.first else { throw CNIError("no network config in \(configDirectory)") }
        let path = "\(configDirectory)/\(first)"
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(path)
        } catch {
            throw CNIError("network config \(path): \(error)")
        }
        return try CNINetworkList.parse(bytes, source: path)
    }

    /// Whether pods can get a network: a config that reads, and every plugin it names (and
    /// loopback) present; otherwise the reason (the CRI's NetworkReady condition).
    public func readiness() -> (ready: Bool, reason: String) {
        let list: CNINetworkList
        do {
            list = try network()
        } catch {
            return (false, error.message)
        }
        for type in ["loopback"] + list.plugins.compactMap({ $0["type"]?.stringValue }) {
            let found = pluginDirectories.contains { (directory: String) -> Bool in access("\(directory)/\(type)", X_OK) == 0 }
            if !found { return (false, "network \(list.name): plugin \"\(type)\" not found in \(pluginDirectories.joined(separator: ":")) (Debian: apt-get install containernetworking-plugins)") }
        }
        return (true, "network \(list.name) from \(configDirectory)")
    }

    /// Writes `list` as `<config dir>/10-berth.conflist` unless some network config exists.
    public func writeDefault(_ list: JSONValue) throws(CNIError) {
        if (try? network()) != nil { return }
        do {
            _ = try FileSystem.makeDirectories(configDirectory, mode: 0o755)
            try FileSystem.writeAtomically("\(configDirectory)/10-berth.conflist", Array(list.prettySerialized().utf8), mode: 0o644)
        } catch {
            throw CNIError("write the default network config in \(configDirectory): \(error)")
        }
    }

    /// Brings up `lo`, then runs ADD through the network's plugins in order; the last
    /// result. A failure runs DEL for what was added, so nothing is left behind.
    public func add(_ attachment: Attachment) throws(CNIError) -> CNIResult {
        let list = try network()
        try loopback(attachment, command: "ADD")
        var previous: JSONValue?
        var added: [JSONObject] = []
        for plugin in list.plugins {
            do {
                previous = try invoke(plugin, list: list, command: "ADD", attachment: attachment, previous: previous)
                added.append(plugin)
            } catch {
                // The failed plugin too: it may have done half its work (go-cni does the same).
                for done in ([plugin] + added.reversed()) { _ = try? invoke(done, list: list, command: "DEL", attachment: attachment, previous: previous) }
                throw error
            }
        }
        guard let result = previous else { throw CNIError("network \(list.name): the plugins gave no result") }
        do {
            _ = try FileSystem.makeDirectories("\(cacheDirectory)/results", mode: 0o700)
            try FileSystem.writeAtomically(cachePath(list, attachment), Array(result.serialized().utf8), mode: 0o600)
        } catch {
            throw CNIError("cache the result of network \(list.name): \(error)")
        }
        return try CNIResult(result, source: "network \(list.name)")
    }

    /// DEL through the plugins in reverse order, with the cached ADD result. Idempotent:
    /// an attachment that is gone, or a namespace that no longer exists, is not an error.
    public func delete(_ attachment: Attachment) throws(CNIError) {
        let list = try network()
        let cache = cachePath(list, attachment)
        let previous = (try? FileSystem.read(cache)).flatMap { try? JSONParser.parse($0) }
        var failures: [String] = []
        for plugin in list.plugins.reversed() {
            do {
                _ = try invoke(plugin, list: list, command: "DEL", attachment: attachment, previous: previous)
            } catch {
                failures.append(error.message)
            }
        }
        _ = try? loopback(attachment, command: "DEL")
        guard failures.isEmpty else { throw CNIError(failures.joined(separator: "; ")) }
        unlink(cache)
    }

    private func loopback(_ attachment: Attachment, command: String) throws(CNIError) {
        var lo = attachment
        lo.interfaceName = "lo"
        let list = CNINetworkList(name: "cni-loopback", cniVersion: "1.0.0", plugins: [JSONObject([("type", "loopback")])])
        _ = try invoke(list.plugins[0], list: list, command: command, attachment: lo, previous: nil)
    }

    func cachePath(_ list: CNINetworkList, _ attachment: Attachment) -> String {
        "\(cacheDirectory)/results/\(list.name)-\(attachment.containerID)-\(attachment.interfaceName)"
    }

    /// One plugin, one command: its config as the spec builds it, its answer checked.
    func invoke(_ plugin: JSONObject, list: CNINetworkList, command: String, attachment: Attachment, previous: JSONValue?) throws(CNIError) -> JSONValue? {
        guard let type = plugin["type"]?.stringValue, !type.isEmpty, !type.contains("/") else {
            throw CNIError("network \(list.name): a plugin without a valid \"type\"")
        }
        let candidates = pluginDirectories.map { "\($0)/\(type)" }
        guard let path = candidates.first(where: { (candidate: String) -> Bool in access(candidate, X_OK) == 0 }) else {
            throw CNIError("network \(list.name): plugin \"\(type)\" not found in \(pluginDirectories.joined(separator: ":"))")
        }
        var config = plugin
        config["name"] = .string(list.name)
        config["cniVersion"] = .string(list.cniVersion)
        if let previous { config["prevResult"] = previous }
        if let capabilities = plugin["capabilities"]?.objectValue {
            var runtimeConfig = JSONObject()
            for (key, enabled) in capabilities where enabled.boolValue == true {
                if let value = attachment.runtimeConfig[key] { runtimeConfig[key] = value }
            }
            if !runtimeConfig.members.isEmpty { config["runtimeConfig"] = .object(runtimeConfig) }
        }
        let environment = [
            "CNI_COMMAND": command, "CNI_CONTAINERID": attachment.containerID, "CNI_NETNS": attachment.networkNamespace,
            "CNI_IFNAME": attachment.interfaceName, "CNI_PATH": pluginDirectories.joined(separator: ":"),
            // IgnoreUnknown first, as libcni does: plugins refuse CNI_ARGS keys they do not know.
            "CNI_ARGS": attachment.arguments.isEmpty ? "" : (["IgnoreUnknown=1"] + attachment.arguments.map { "\($0.0)=\($0.1)" }).joined(separator: ";"),
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        let output = try CNIPluginProcess.run(path, environment: environment, input: Array(JSONValue.object(config).serialized().utf8), timeout: timeout)
        let answer = output.output.isEmpty ? nil : try? JSONParser.parse(output.output)
        if output.status == 0, command == "ADD", answer == nil {
            throw CNIError("network \(list.name): plugin \(type) ADD answered without a valid result: \(String(decoding: output.output.prefix(200), as: UTF8.self))")
        }
        guard output.status == 0 else {
            let message = answer?["msg"]?.stringValue ?? String(decoding: output.output, as: UTF8.self)
            let details = answer?["details"]?.stringValue.map { " (\($0))" } ?? ""
            throw CNIError("network \(list.name): plugin \(type) \(command) failed: \(message)\(details)")
        }
        return command == "ADD" ? answer : nil
    }
}
