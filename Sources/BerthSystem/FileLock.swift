import Glibc

/// An exclusive advisory lock (flock) on a file, held until `release` or deinit. It guards
/// one container's state against concurrent berth commands.
public final class FileLock {
    private var descriptor: Int32

    /// Waits for the lock on `path`; creates the file only when `create` is set, so a
    /// waiter never re-creates a lock file that a delete is removing.
    public init(path: String, create: Bool = false) throws(SystemError) {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        descriptor = try retryingInterrupts("open lock", path) { open(path, flags, 0o600) }
        do {
            try retryingInterrupts("lock", path) { flock(descriptor, LOCK_EX) }
        } catch {
            close(descriptor)
            throw error
        }
    }

    public func release() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
    }

    deinit { release() }
}
