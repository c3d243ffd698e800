import Glibc

/// An exclusive advisory lock (flock) on a file, held until `release` or deinit. It guards
/// one container's state against concurrent berth commands.
public final class FileLock {
    private var descriptor: Int32

    /// Waits for the lock on `path`, creating the file if needed.
    public init(path: String) throws(SystemError) {
        descriptor = try retryingInterrupts("open lock", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
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
