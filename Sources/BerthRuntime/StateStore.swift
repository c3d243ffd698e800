import BerthJSON
import BerthRuntimeSpec
import BerthSystem
import Glibc

/// The state root (`--root`, default /run/berth): one directory per container holding
/// `state.json`, the `exec.sock` while the container is created, and a lock file.
public struct StateStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func directory(_ id: String) -> String { "\(root)/\(id)" }
    public func recordPath(_ id: String) -> String { "\(directory(id))/state.json" }
    /// The exec socket: present while the container is `created`.
    public func execSocketPath(_ id: String) -> String { "\(directory(id))/\(ExecSocket.name)" }
    public func lockPath(_ id: String) -> String { "\(directory(id))/lock" }

    /// Creates the root if needed (mode 0700: state is root's business).
    public func ensureRoot() throws(RuntimeError) {
        do {
            try FileSystem.makeDirectories(root, mode: 0o700)
        } catch {
            throw RuntimeError(.system, "create state root: \(error)")
        }
    }

    /// Makes the container's directory and its lock file, and returns the lock held; fails
    /// when the id is taken. mkdir is atomic, so of two concurrent creates of one id exactly
    /// one wins, and the winner holds the lock until the container is created.
    @discardableResult
    public func claim(_ id: String) throws(RuntimeError) -> FileLock {
        try ensureRoot()
        if mkdir(directory(id), 0o711) != 0 {
            if errno == EEXIST { throw RuntimeError(.alreadyExists, "container with id \(id) already exists") }
            throw RuntimeError(.system, "\(SystemError.last("create state directory", directory(id)))")
        }
        do {
            return try FileLock(path: lockPath(id), create: true)
        } catch {
            rmdir(directory(id))
            throw RuntimeError(.system, "lock container \(id): \(error)")
        }
    }

    public func load(_ id: String) throws(RuntimeError) -> ContainerRecord {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(recordPath(id))
        } catch {
            if error.errno == ENOENT { throw RuntimeError(.notFound, "container \(id) does not exist") }
            throw RuntimeError(.system, "read state of \(id): \(error)")
        }
        do {
            return try JSONValueDecoder.decode(ContainerRecord.self, from: bytes)
        } catch {
            throw RuntimeError(.system, "state of \(id) at \(recordPath(id)) is corrupt: \(error)")
        }
    }

    /// The container's config.json as create read it: `exec` takes the namespaces,
    /// security settings and process defaults from it, even if the bundle has changed.
    public func configPath(_ id: String) -> String { "\(directory(id))/config.json" }

    func saveConfig(_ id: String, _ bytes: [UInt8]) throws(RuntimeError) {
        do {
            try FileSystem.writeAtomically(configPath(id), bytes)
        } catch {
            throw RuntimeError(.system, "write config of \(id): \(error)")
        }
    }

    func loadConfig(_ id: String) throws(RuntimeError) -> Spec {
        do {
            return try Spec.parse(try FileSystem.read(configPath(id)), source: configPath(id))
        } catch let error as SpecError {
            throw RuntimeError(.system, error.message)
        } catch {
            throw RuntimeError(.system, "read the config of \(id): \(error)")
        }
    }

    public func save(_ record: ContainerRecord) throws(RuntimeError) {
        do {
            try FileSystem.writeAtomically(recordPath(record.id), Array(record.json.serialized().utf8))
        } catch {
            throw RuntimeError(.system, "write state of \(record.id): \(error)")
        }
    }

    public func remove(_ id: String) throws(RuntimeError) {
        do {
            try FileSystem.removeTree(directory(id))
        } catch {
            throw RuntimeError(.system, "remove state of \(id): \(error)")
        }
    }

    /// Ids of every container in the root, sorted.
    public func ids() -> [String] {
        ((try? FileSystem.listDirectory(root)) ?? []).filter { FileSystem.exists(recordPath($0)) }.sorted()
    }

    /// Takes the container's lock; fails with "does not exist" if it vanished meanwhile.
    public func lock(_ id: String) throws(RuntimeError) -> FileLock {
        guard FileSystem.isDirectory(directory(id)) else { throw RuntimeError(.notFound, "container \(id) does not exist") }
        let lock: FileLock
        do {
            lock = try FileLock(path: lockPath(id))
        } catch {
            if error.errno == ENOENT { throw RuntimeError(.notFound, "container \(id) does not exist") }
            throw RuntimeError(.system, "lock container \(id): \(error)")
        }
        // A delete that held the lock may have removed the directory meanwhile.
        guard FileSystem.isDirectory(directory(id)) else {
            lock.release()
            throw RuntimeError(.notFound, "container \(id) does not exist")
        }
        return lock
    }
}
