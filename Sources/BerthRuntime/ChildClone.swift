import BerthSystem
import CBerth
import Glibc

/// Descriptors a parent (`create`, `exec`) opens for its child: numbered above the
/// --preserve-fds range, so none can land among the descriptors passed to the container,
/// and closed together when the parent is done or gives up.
struct ParentDescriptors {
    /// The lowest number a descriptor may have: 3 + --preserve-fds.
    let minimum: Int32
    private(set) var open: [Int32] = []

    init(preserveFds: Int) {
        minimum = Int32(3 + preserveFds)
    }

    /// Takes `fd` (the result of the call named by `stage` on `subject`; -1 is its failure)
    /// and moves it above the range.
    mutating func take(_ fd: Int32, _ stage: String, _ subject: String) throws(RuntimeError) -> Int32 {
        if fd < 0 { throw RuntimeError(.system, "\(SystemError.last(stage, subject))") }
        do {
            let result = try FileSystem.moveAbove(fd, minimum: minimum)
            open.append(result)
            return result
        } catch {
            throw RuntimeError(.system, "\(error)")
        }
    }

    /// Closes one and forgets it.
    mutating func close(_ fd: Int32) {
        guard let index = open.firstIndex(of: fd) else { return }
        open.remove(at: index)
        _ = Glibc.close(fd)
    }

    /// Forgets one that someone else now closes.
    mutating func release(_ fd: Int32) {
        open.removeAll { $0 == fd }
    }

    mutating func closeAll() {
        for fd in open { _ = Glibc.close(fd) }
        open = []
    }
}

enum ChildClone {
    /// clone3 with `flags`; the child runs `child`. With `pidNamespace` (a descriptor, or
    /// -1), the clone happens inside that pid namespace: setns applies to children only, so
    /// the parent enters it for the clone and goes straight back. The parent becomes
    /// non-dumpable first, which the child inherits (no /proc/<pid>/exe or mem for the
    /// container's processes to open).
    /// `nonDumpable: false` is for an unprivileged parent that must still write the maps of
    /// the child's new user namespace; the child turns non-dumpable itself once mapped.
    static func clone(flags: UInt64, pidNamespace: Int32, describing what: String, nonDumpable: Bool = true, child: () -> Never) throws(RuntimeError) -> Int32 {
        var ownPidNamespace: Int32 = -1
        if pidNamespace >= 0 {
            ownPidNamespace = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)
            if ownPidNamespace < 0 { throw RuntimeError(.system, "\(SystemError.last("open", "/proc/self/ns/pid"))") }
            if berth_setns(pidNamespace, 0) != 0 {
                let error = SystemError.last("setns", "pid namespace")
                Glibc.close(ownPidNamespace)
                throw RuntimeError(.system, "\(error)")
            }
        }
        _ = berth_set_dumpable(nonDumpable ? 0 : 1)
        let pid = berth_clone3(flags, -1)
        if pid == 0 { child() }
        let cloneErrno = errno
        if ownPidNamespace >= 0 {
            _ = berth_setns(ownPidNamespace, 0)
            Glibc.close(ownPidNamespace)
        }
        if pid < 0 { throw RuntimeError(.system, "clone3 (\(what)): \(SystemError.describe(errno: cloneErrno))") }
        return pid
    }

    /// In the child, at once: closes every descriptor from 3 + `preserveFds` up except
    /// those in `keep`. A child may wait a long time (for `start`), and an inherited pipe or
    /// socket held that long keeps its reader from ever seeing end-of-file.
    static func closeInheritedDescriptors(preserveFds: Int, keeping keep: [Int32]) {
        var first = UInt32(3 + preserveFds)
        for fd in Set(keep).filter({ $0 >= 0 }).sorted() {
            if UInt32(fd) > first { _ = berth_close_range(first, UInt32(fd) - 1) }
            first = max(first, UInt32(fd) + 1)
        }
        _ = berth_close_range(first, UInt32.max)
    }
}
