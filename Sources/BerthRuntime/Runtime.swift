import BerthRuntimeSpec
import BerthSystem
import Glibc
import Logging

/// Options of `create` and `run`.
public struct CreateOptions: Sendable {
    public var bundle: String = "."
    public var pidFile: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFds = 0
    public var consoleSocket: String?
    /// Socket activation: descriptors 3 to 3+N-1 that systemd passed to berth (LISTEN_FDS
    /// with LISTEN_PID naming berth). They are passed on ahead of --preserve-fds, and the
    /// process gets LISTEN_FDS=N and LISTEN_PID=1, as runc does.
    public var listenFds = 0
    /// NOTIFY_SOCKET of berth's caller: the container gets a socket of berth's at
    /// /run/notify/notify.sock, and `start`/`run` pass its READY=1 on (see `NotifySocket`).
    public var notifySocket: String?

    public init() {}
}

/// The runtime: every runc-compatible command over one state root.
public struct Runtime: Sendable {
    public let store: StateStore
    public let logger: Logger
    /// berth runs without privileges (`--rootless`, or auto-detected from the uid): user
    /// namespaces map only the user's own ids, cgroups it cannot write are skipped.
    public let rootless: Bool

    public init(root: String, logger: Logger, rootless: Bool = false) {
        self.store = StateStore(root: root)
        self.logger = logger
        self.rootless = rootless
    }

    /// The default state root: /run/berth for root, `$XDG_RUNTIME_DIR/berth` for a
    /// rootless user (or /tmp/berth-<uid> without it), as runc does.
    public static func defaultRoot(rootless: Bool, environment: [String: String]) -> String {
        guard rootless else { return "/run/berth" }
        if let runtimeDirectory = environment["XDG_RUNTIME_DIR"], !runtimeDirectory.isEmpty { return "\(runtimeDirectory)/berth" }
        return "/tmp/berth-\(geteuid())"
    }

    func logger(for id: String) -> Logger {
        var logger = self.logger
        logger[metadataKey: "container-id"] = "\(id)"
        return logger
    }

    /// `state ID`.
    public func state(id: String) throws(RuntimeError) -> ContainerState {
        try ContainerID.validate(id)
        try store.ensureRoot()
        return try store.load(id).state(store: store)
    }

    /// `list`: every container, with the owner of its state directory.
    public func list() throws(RuntimeError) -> [ContainerState] {
        try store.ensureRoot()
        return store.ids().compactMap { id in
            guard let record = try? store.load(id) else { return nil }
            return record.state(store: store, owner: owner(of: store.directory(id)))
        }
    }

    private func owner(of path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "" }
        return Passwd.name(uid: info.st_uid)
    }
}
