import BerthJSON
import BerthRegistry
import BerthTOML
import Logging

extension DaemonConfiguration {
    /// The settings of a TOML file over these. Unknown keys are refused (a misspelt key
    /// would otherwise be ignored silently), naming the file and the key:
    ///
    ///     address = "/run/berth/berth.sock"
    ///     root = "/var/lib/berth"
    ///     state = "/run/berth"
    ///     log_level = "info"          # trace, debug, info, notice, warning, error, critical
    ///     log_format = "text"         # or "json"
    ///
    ///     [images]
    ///     concurrent_downloads = 3
    ///     pinned = ["registry.k8s.io/pause:3.10"]
    ///
    ///     [runtime]                   # default: beside berthd
    ///     berth = "/usr/local/bin/berth"
    ///     shim = "/usr/local/bin/berth-shim"
    ///     pause = "/usr/local/bin/berth-pause"
    ///     sandbox_image = ""          # an image to run as the pause process instead
    ///     [runtime.handlers]          # RuntimeClass handlers beside "berth"
    ///     runc = "/usr/sbin/runc"
    ///
    ///     [network]
    ///     config_dir = "/etc/cni/net.d"
    ///     plugin_dirs = ["/usr/lib/cni", "/opt/cni/bin"]
    ///
    ///     [registry.hosts."docker.io"]
    ///     mirrors = ["http://127.0.0.1:5000"]   # tried in order before the registry
    ///     [registry.hosts."registry.internal:5000"]
    ///     plain_http = true                     # loopback registries are plain HTTP anyway
    ///     skip_verify = false                   # HTTPS without certificate checks
    public mutating func apply(file text: String, path: String) throws(DaemonArguments.Invalid) {
        let document: JSONValue
        do {
            document = try TOMLParser.parse(text)
        } catch {
            throw .init(message: "config \(path): \(error)")
        }
        func invalid(_ key: String, _ reason: String) -> DaemonArguments.Invalid {
            .init(message: "config \(path): \(key): \(reason)")
        }
        func string(_ value: JSONValue, _ key: String) throws(DaemonArguments.Invalid) -> String {
            guard let text = value.stringValue else { throw invalid(key, "must be a string") }
            return text
        }
        func strings(_ value: JSONValue, _ key: String) throws(DaemonArguments.Invalid) -> [String] {
            guard let items = value.arrayValue else { throw invalid(key, "must be an array of strings") }
            var result: [String] = []
            for item in items { result.append(try string(item, key)) }
            return result
        }
        func bool(_ value: JSONValue, _ key: String) throws(DaemonArguments.Invalid) -> Bool {
            guard let flag = value.boolValue else { throw invalid(key, "must be true or false") }
            return flag
        }
        func table(_ value: JSONValue, _ key: String) throws(DaemonArguments.Invalid) -> JSONObject {
            guard let object = value.objectValue else { throw invalid(key, "must be a table") }
            return object
        }
        for (key, value) in try table(document, "the document") {
            switch key {
            case "address", "root", "state":
                let text = try string(value, key)
                guard text.hasPrefix("/") else { throw invalid(key, "\"\(text)\" must be an absolute path") }
                if key == "address" { address = text } else if key == "root" { root = text } else { state = text }
            case "log_level":
                let text = try string(value, key)
                guard let level = Logger.Level(rawValue: text) else { throw invalid(key, "\"\(text)\": use trace, debug, info, notice, warning, error or critical") }
                logLevel = level
            case "log_format":
                let text = try string(value, key)
                guard let format = DaemonLogHandler.Format(rawValue: text) else { throw invalid(key, "\"\(text)\": use text or json") }
                logFormat = format
            case "images":
                for (imageKey, imageValue) in try table(value, key) {
                    let name = "images.\(imageKey)"
                    switch imageKey {
                    case "concurrent_downloads":
                        guard let count = imageValue.int64Value, (1...64).contains(count) else { throw invalid(name, "must be a number from 1 to 64") }
                        concurrentDownloads = Int(count)
                    case "pinned": pinnedImages = try strings(imageValue, name)
                    default: throw invalid(name, "unknown key (known: concurrent_downloads, pinned)")
                    }
                }
            case "runtime":
                for (runtimeKey, runtimeValue) in try table(value, key) {
                    let name = "runtime.\(runtimeKey)"
                    if runtimeKey == "handlers" {
                        for (handler, binary) in try table(runtimeValue, name) {
                            let handlerName = "\(name).\(handler)"
                            let text = try string(binary, handlerName)
                            guard text.hasPrefix("/") else { throw invalid(handlerName, "\"\(text)\" must be an absolute path") }
                            guard handler != "berth", !handler.isEmpty, handler.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                                throw invalid(handlerName, "a handler name is letters, digits, '-', '_' and '.', and not \"berth\" (that is runtime.berth)")
                            }
                            runtimeHandlers[handler] = text
                        }
                        continue
                    }
                    let text = try string(runtimeValue, name)
                    if runtimeKey == "sandbox_image" {
                        sandboxImage = text
                        continue
                    }
                    guard text.hasPrefix("/") else { throw invalid(name, "\"\(text)\" must be an absolute path") }
                    switch runtimeKey {
                    case "berth": runtimeBinary = text
                    case "shim": shimBinary = text
                    case "pause": pauseBinary = text
                    default: throw invalid(name, "unknown key (known: berth, shim, pause, sandbox_image, [runtime.handlers])")
                    }
                }
            case "network":
                for (networkKey, networkValue) in try table(value, key) {
                    let name = "network.\(networkKey)"
                    switch networkKey {
                    case "config_dir":
                        let text = try string(networkValue, name)
                        guard text.hasPrefix("/") else { throw invalid(name, "\"\(text)\" must be an absolute path") }
                        cniConfigDirectory = text
                    case "plugin_dirs":
                        cniPluginDirectories = try strings(networkValue, name)
                        for directory in cniPluginDirectories where !directory.hasPrefix("/") { throw invalid(name, "\"\(directory)\" must be an absolute path") }
                    default: throw invalid(name, "unknown key (known: config_dir, plugin_dirs)")
                    }
                }
            case "registry":
                for (registryKey, registryValue) in try table(value, key) {
                    guard registryKey == "hosts" else { throw invalid("registry.\(registryKey)", "unknown key (known: hosts)") }
                    for (host, hostValue) in try table(registryValue, "registry.hosts") {
                        var settings = RegistryHosts.Host()
                        for (hostKey, setting) in try table(hostValue, "registry.hosts.\"\(host)\"") {
                            let name = "registry.hosts.\"\(host)\".\(hostKey)"
                            switch hostKey {
                            case "mirrors":
                                settings.mirrors = try strings(setting, name)
                                for mirror in settings.mirrors where !(mirror.hasPrefix("http://") || mirror.hasPrefix("https://")) {
                                    throw invalid(name, "\"\(mirror)\" must start with http:// or https://")
                                }
                                settings.mirrors = settings.mirrors.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
                            case "plain_http": settings.plainHTTP = try bool(setting, name)
                            case "skip_verify": settings.skipVerify = try bool(setting, name)
                            default: throw invalid(name, "unknown key (known: mirrors, plain_http, skip_verify)")
                            }
                        }
                        registryHosts.hosts[host] = settings
                    }
                }
            default:
                throw invalid(key, "unknown key (known: address, root, state, log_level, log_format, [images], [network], [registry], [runtime])")
            }
        }
    }
}
