import BerthCNI
import BerthRegistry
import BerthSystem
import Logging

/// Where berthd listens and keeps its data, and how it pulls. Every setting has a default,
/// so berthd runs with no configuration at all; a TOML file (`--config`) changes them and
/// flags override the file.
public struct DaemonConfiguration: Sendable, Equatable {
    /// The CRI socket (a unix socket, mode 0660).
    public var address = "/run/berth/berth.sock"
    /// Persistent data: images, snapshots, metadata.
    public var root = "/var/lib/berth"
    /// Runtime state that does not survive a reboot.
    public var state = "/run/berth"
    public var logLevel: Logger.Level = .info
    public var logFormat: DaemonLogHandler.Format = .text
    /// Layer downloads in flight per pull.
    public var concurrentDownloads = 3
    /// Images reported `pinned` (the kubelet's image GC never removes them), by any name.
    public var pinnedImages: [String] = []
    /// Mirrors, plain HTTP and TLS checks per registry host.
    public var registryHosts = RegistryHosts()
    /// CNI network configs (berthd writes its default bridge network here when there is none).
    public var cniConfigDirectory = "/etc/cni/net.d"
    /// Where CNI plugins are looked for, in order.
    public var cniPluginDirectories = ["/usr/lib/cni", "/opt/cni/bin"]

    /// The OCI runtime, the shim and the pause program berthd runs pods with; by default
    /// the ones installed beside berthd.
    public var runtimeBinary = DaemonConfiguration.besideSelf("berth")
    public var shimBinary = DaemonConfiguration.besideSelf("berth-shim")
    public var pauseBinary = DaemonConfiguration.besideSelf("berth-pause")

    /// An image whose program runs as each pod's pause process instead of berth-pause
    /// ("" by default: no pull, no image GC can break pods). Pinned automatically.
    public var sandboxImage = ""
    /// Runtime handlers (RuntimeClass) by name, each a runc-compatible binary; "berth"
    /// (and the empty name) is `runtimeBinary`.
    public var runtimeHandlers: [String: String] = [:]

    public init() {}

    /// The binary of a runtime handler; nil when it is not configured.
    public func runtime(forHandler handler: String) -> String? {
        handler.isEmpty || handler == "berth" ? runtimeBinary : runtimeHandlers[handler]
    }

    /// Each handler keeps its containers' state apart (`--root`).
    public func runtimeRoot(forHandler handler: String) -> String {
        "\(state)/runtime/\(handler.isEmpty ? "berth" : handler)"
    }

    /// The shim of container `id` whose state lives in `stateDirectory`, driving the
    /// handler's runtime with the handler's root (an unknown handler: berth's runtime).
    func shim(id: String, stateDirectory: String, handler: String) -> ShimHandle {
        ShimHandle(id: id, stateDirectory: stateDirectory, runtimeBinary: runtime(forHandler: handler) ?? runtimeBinary, runtimeRoot: runtimeRoot(forHandler: handler))
    }

    /// The handlers' names, for messages.
    public var handlerNames: [String] { (["berth"] + runtimeHandlers.keys.sorted()).filter { !$0.isEmpty } }

    /// The CNI networks these settings name (results cached under the state directory).
    public var cni: CNI {
        CNI(pluginDirectories: cniPluginDirectories, configDirectory: cniConfigDirectory, cacheDirectory: "\(state)/cni")
    }

    /// `name` in the directory of the running executable.
    static func besideSelf(_ name: String) -> String {
        let executable = FileSystem.readLink("/proc/self/exe") ?? "/usr/local/bin/berthd"
        return executable.split(separator: "/").dropLast().map { "/" + $0 }.joined() + "/\(name)"
    }

    /// The version berthd reports (CRI `VersionResponse.runtime_version`).
    public static let version = "0.1.0"

    /// Read when `--config` is not given and the file exists.
    public static let defaultConfigPath = "/etc/berth/berthd.toml"
}
