import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// The final exec, prepared before "ready" so that nothing can fail after `start`.
struct ProcessLaunch {
    let path: String
    let args: [String]
    let env: [String]

    /// Closes every descriptor above stdio and the preserved ones (close-on-exec, so the
    /// trampoline descriptor still works for execveat), resets signals and executes.
    /// `reportFailure` gets the reason when the exec itself fails (before the process exits 127).
    func exec(trampoline: Int32, preserveFds: Int, reportFailure: (String) -> Void = { _ in }) -> Never {
        let firstClosed = 3 + Int32(preserveFds)
        _ = berth_close_range_cloexec(UInt32(firstClosed))
        for fd in 3..<firstClosed { _ = fcntl(fd, F_SETFD, 0) }
        for signal in 1..<Int32(32) where signal != SIGKILL && signal != SIGSTOP { Glibc.signal(signal, SIG_DFL) }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        let cEnv = env.map { strdup($0) } + [nil]
        if trampoline >= 0 {
            let cArgs = (["\u{1}berth-trampoline", path] + args).map { strdup($0) } + [nil]
            _ = berth_execveat(trampoline, cArgs, cEnv)
        } else {
            let cArgs = args.map { strdup($0) } + [nil]
            _ = execve(path, cArgs, cEnv)
        }
        let reason = "exec \(path): \(SystemError.describe(errno: errno))"
        reportFailure(reason)
        let message = "berth: \(reason)\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        _exit(127)
    }
}

/// `$PATH` lookup inside the container, with runc's messages.
enum ExecutableLookup {
    static func find(_ name: String, env: [String]) throws(RuntimeError) -> String {
        if name.contains("/") {
            try check(name, display: name)
            return name
        }
        let pathValue = env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in pathValue.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            if (try? check(candidate, display: name)) != nil { return candidate }
        }
        throw RuntimeError(.invalidConfig, "exec: \"\(name)\": executable file not found in $PATH")
    }

    static func check(_ path: String, display: String) throws(RuntimeError) {
        var info = stat()
        if stat(path, &info) != 0 {
            throw RuntimeError(.invalidConfig, "exec: \"\(display)\": stat \(path): \(SystemError.describe(errno: errno))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw RuntimeError(.invalidConfig, "exec: \"\(display)\": \(path) is a directory")
        }
        if access(path, X_OK) != 0 {
            throw RuntimeError(.invalidConfig, "exec: \"\(display)\": \(path): \(SystemError.describe(errno: errno))")
        }
    }
}

/// Home directories from the container's /etc/passwd.
enum Passwd {
    /// The container's /etc/passwd, if it is a regular file of sane size: an image could
    /// make it a fifo (which would hang create) or a link to /dev/zero.
    static func containerFile() -> String? {
        let fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 4 << 20 else { return nil }
        return (try? FileSystem.readAll(fd, path: "/etc/passwd")).map { String(decoding: $0, as: UTF8.self) }
    }

    static func home(uid: UInt32) -> String {
        guard let text = containerFile() else { return "/" }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == uid { return fields[5].isEmpty ? "/" : String(fields[5]) }
        }
        return "/"
    }

    /// The user name for `uid` in the host's /etc/passwd, for `list`'s OWNER column.
    static func name(uid: UInt32) -> String {
        guard let text = try? FileSystem.readText("/etc/passwd") else { return String(uid) }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, UInt32(fields[2]) == uid { return String(fields[0]) }
        }
        return String(uid)
    }
}
