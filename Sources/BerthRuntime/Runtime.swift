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

    public init() {}
}

/// The runtime: every runc-compatible command over one state root.
public struct Runtime: Sendable {
    public let store: StateStore
    public let logger: Logger

    public init(root: String, logger: Logger) {
        self.store = StateStore(root: root)
        self.logger = logger
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
