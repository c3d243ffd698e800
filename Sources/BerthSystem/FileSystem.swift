import CBerth
import Glibc

/// Small file helpers over the C library: whole-file reads, atomic writes and recursive
/// directory creation and removal. Everything here throws `SystemError` naming the path.
public enum FileSystem {
    /// The whole file as bytes.
    public static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = try retryingInterrupts("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        return try readAll(fd, path: path)
    }

    /// Reads to end of file from `fd`.
    public static func readAll(_ fd: Int32, path: String) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = try retryingInterrupts("read", path) { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
            if count == 0 { return result }
            result.append(contentsOf: buffer[0..<count])
        }
    }

    /// The file as UTF-8 text.
    public static func readText(_ path: String) throws(SystemError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = try retryingInterrupts("write", path) {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += written
        }
    }

    /// Writes a small value into an existing file (a cgroup or /proc knob) in one write.
    public static func writeValue(_ path: String, _ value: String) throws(SystemError) {
        let fd = try retryingInterrupts("open", path) { open(path, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        try writeAll(fd, Array(value.utf8), path: path)
    }

    /// Replaces `path` atomically: the bytes go to a temporary file in the same directory,
    /// which is then renamed over `path`, so a reader sees the old or the new file whole.
    /// Not fsynced: runtime state lives on tmpfs (/run) and means nothing after a reboot,
    /// and a sync costs milliseconds on every container start where the root is on disk.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(SystemError) {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = try retryingInterrupts("create", temporary) { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        do {
            defer { close(fd) }
            try writeAll(fd, bytes, path: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        do {
            try retryingInterrupts("rename", temporary) { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Whether anything (even a dangling symlink) exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates `path` and its missing parents; returns the directories it created, outermost
    /// first, so that a caller can remove exactly those later. A parent that vanishes
    /// between the walk's steps (another process removed an empty shared parent) is made
    /// again rather than failing the call.
    @discardableResult
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) -> [String] {
        var created: [String] = []
        var attempts = 0
        walk: while true {
            var current = path.hasPrefix("/") ? "" : "."
            for component in path.split(separator: "/") {
                current += "/\(component)"
                var failure: SystemError?
                if mkdir(current, mode) == 0 {
                    created.append(current)
                } else if Glibc.errno == ENOENT && attempts < 10 {
                    attempts += 1
                    continue walk
                } else if Glibc.errno != EEXIST {
                    failure = SystemError.last("mkdir", current)
                } else if !isDirectory(current) {
                    failure = SystemError(stage: "mkdir", subject: current, errno: ENOTDIR)
                }
                if let failure {
                    // Leave nothing half-made behind.
                    for directory in created.reversed() { rmdir(directory) }
                    throw failure
                }
            }
            return created
        }
    }

    /// Removes `path` and everything under it without following symlinks; a missing path
    /// is not an error.
    public static func removeTree(_ path: String) throws(SystemError) {
        var info = stat()
        if lstat(path, &info) != 0 {
            if Glibc.errno == ENOENT { return }
            throw SystemError.last("lstat", path)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try listDirectory(path) { try removeTree("\(path)/\(name)") }
            if rmdir(path) != 0, Glibc.errno != ENOENT { throw SystemError.last("rmdir", path) }
        } else if unlink(path) != 0, Glibc.errno != ENOENT {
            throw SystemError.last("unlink", path)
        }
    }

    /// Where the symbolic link at `path` points, or nil.
    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The names in a directory, without "." and "..".
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        guard let directory = opendir(path) else { throw SystemError.last("opendir", path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The canonical absolute form of `path` (symlinks resolved), as realpath(3).
    public static func canonicalPath(_ path: String) throws(SystemError) -> String {
        guard let resolved = realpath(path, nil) else { throw SystemError.last("resolve path", path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The process's working directory.
    public static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "/" }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    /// `path` made absolute against the working directory, without resolving symlinks.
    public static func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : currentDirectory() + "/" + path
    }

    /// Moves `fd` above `minimum` with close-on-exec set, closing the original. Used so the
    /// runtime's own descriptors never take numbers reserved for --preserve-fds.
    public static func moveAbove(_ fd: Int32, minimum: Int32) throws(SystemError) -> Int32 {
        if fd >= minimum {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            return fd
        }
        let moved = try retryingInterrupts("dup fd", String(fd)) { fcntl(fd, F_DUPFD_CLOEXEC, minimum) }
        close(fd)
        return moved
    }
}
