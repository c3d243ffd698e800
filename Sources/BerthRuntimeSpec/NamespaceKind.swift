/// A Linux namespace type, by its OCI name and its /proc/<pid>/ns name.
public enum NamespaceKind: String, Sendable, CaseIterable {
    case pid, network, mount, ipc, uts, user, cgroup, time

    public init?(specName: String) { self.init(rawValue: specName) }

    /// The file name under /proc/<pid>/ns.
    public var procName: String {
        switch self {
        case .network: "net"
        case .mount: "mnt"
        default: rawValue
        }
    }
}
