import BerthSystem
import CBerth
import Glibc

/// Files of this process under /proc, opened so that a /proc the container controls cannot
/// redirect them (the class of runc's CVE-2019-16884: an exec'd process joins the
/// container's mount namespace, where /proc may be a tmpfs with a fake attr/exec that
/// would swallow the LSM label). /proc must be procfs, and the path below it may neither
/// follow a symlink nor cross a mount.
enum ProcFiles {
    static func open(_ relative: String, flags: Int32) throws(SystemError) -> Int32 {
        let proc = Glibc.open("/proc", berth_o_path | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if proc < 0 { throw SystemError.last("open", "/proc") }
        defer { close(proc) }
        guard berth_is_procfs(proc) == 1 else {
            throw SystemError(stage: "open", subject: "/proc/self/\(relative)", errno: EXDEV, detail: "/proc is not procfs")
        }
        let fd = berth_openat2(proc, "\(getpid())/\(relative)", UInt64(flags | O_CLOEXEC), 0, berth_resolve_no_symlinks | berth_resolve_no_xdev | berth_resolve_no_magiclinks)
        if fd < 0 { throw SystemError.last("open", "/proc/self/\(relative)") }
        return fd
    }

    /// Whether /proc/self/`relative` exists (on the real procfs).
    static func exists(_ relative: String) -> Bool {
        guard let fd = try? open(relative, flags: O_RDONLY) else { return false }
        close(fd)
        return true
    }

    static func write(_ relative: String, _ value: String) throws(SystemError) {
        let fd = try open(relative, flags: O_WRONLY)
        defer { close(fd) }
        try FileSystem.writeAll(fd, Array(value.utf8), path: "/proc/self/\(relative)")
    }
}
