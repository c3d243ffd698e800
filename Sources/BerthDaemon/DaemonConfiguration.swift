/// Where berthd listens and keeps its data. Every setting has a default, so berthd runs
/// with no configuration at all.
public struct DaemonConfiguration: Sendable, Equatable {
    /// The CRI socket (a unix socket, mode 0660).
    public var address = "/run/berth/berth.sock"
    /// Persistent data: images, snapshots, metadata.
    public var root = "/var/lib/berth"
    /// Runtime state that does not survive a reboot.
    public var state = "/run/berth"

    public init() {}

    /// The version berthd reports (CRI `VersionResponse.runtime_version`).
    public static let version = "0.1.0"
}
