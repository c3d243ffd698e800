import BerthRuntimeSpec
import BerthSystem
import CBerth
import Glibc

/// sd_notify through berth, as runc does it: when berth's caller (systemd, for a container
/// run as a service) sets NOTIFY_SOCKET, the container gets a datagram socket of berth's,
/// bound into it at /run/notify/notify.sock; `start` (or `run`) waits for the container's
/// READY=1 and passes it on to the caller's socket with MAINPID set to the container's init.
public enum NotifySocket {
    static let pathInContainer = "/run/notify/notify.sock"

    static func directory(_ stateDirectory: String) -> String { "\(stateDirectory)/notify" }

    /// At create: the directory that will hold the socket, bound into the container, and
    /// NOTIFY_SOCKET in the process's environment.
    static func prepare(_ spec: inout Spec, stateDirectory: String) throws(RuntimeError) {
        let directory = directory(stateDirectory)
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw RuntimeError(.system, "\(SystemError.last("create notify socket directory", directory))")
        }
        // The container's root may be an unprivileged uid on the host (user namespaces).
        chmod(directory, 0o755)
        spec.mounts = (spec.mounts ?? []) + [
            Spec.Mount(destination: "/run/notify", type: "bind", source: directory, options: ["bind", "nosuid", "noexec", "nodev", "ro"]),
        ]
        let env = (spec.process?.env ?? []).filter { !$0.hasPrefix("NOTIFY_SOCKET=") } + ["NOTIFY_SOCKET=\(pathInContainer)"]
        spec.process?.env = env
    }

    /// Binds the container's socket (again: a socket nobody holds refuses datagrams, so it
    /// is made by the process that will read it). Nil when the container has no notify
    /// directory (it was created without NOTIFY_SOCKET).
    static func listen(stateDirectory: String) throws(RuntimeError) -> Int32? {
        let directory = directory(stateDirectory)
        guard FileSystem.isDirectory(directory) else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw RuntimeError(.system, "\(SystemError.last("create notify socket"))") }
        let path = "\(directory)/notify.sock"
        unlink(path)
        guard var address = UnixSocketAddress.make(path) else {
            close(fd)
            throw RuntimeError(.system, "notify socket \(path): the path is too long")
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result != 0 {
            let error = SystemError.last("bind notify socket", path)
            close(fd)
            throw RuntimeError(.system, "\(error)")
        }
        chmod(path, 0o777)
        return fd
    }

    /// Waits for READY=1 from the container (until its init `pid` is gone) and passes it on
    /// (detached `run`, and `start`, which return only then).
    static func forwardReady(from fd: Int32, to hostSocket: String, pid: Int32, startTime: UInt64) throws(RuntimeError) {
        while true {
            var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if Glibc.poll(&poll, 1, 200) <= 0 {
                guard let status = ProcessStatus.read(pid: pid), status.startTime == startTime, !status.hasExited else { return }
                continue
            }
            if receiveReady(from: fd, to: hostSocket, pid: pid) { return }
        }
    }

    /// Reads one datagram; when it holds READY=1, sends it on to `hostSocket` with
    /// MAINPID=`pid` (other lines the container sent go with it) and returns true.
    static func receiveReady(from fd: Int32, to hostSocket: String, pid: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count > 0 else { return false }
        let lines = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.contains("READY=1") else { return false }
        let message = lines.filter { !$0.hasPrefix("MAINPID=") }.joined(separator: "\n") + "\nMAINPID=\(pid)\n"
        // The caller's socket going away is no reason to fail the container.
        try? send(message, to: hostSocket)
        return true
    }

    /// One datagram to `path` (a filesystem path, or "@name" in the abstract namespace).
    static func send(_ message: String, to path: String) throws(RuntimeError) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw RuntimeError(.system, "\(SystemError.last("create socket", "NOTIFY_SOCKET"))") }
        defer { close(fd) }
        guard var address = UnixSocketAddress.make(path) else { throw RuntimeError(.invalidArgument, "NOTIFY_SOCKET \(path): the path is too long") }
        let length = UnixSocketAddress.length(of: path)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
        if sent < 0 { throw RuntimeError(.system, "NOTIFY_SOCKET \(path): send READY=1: \(SystemError.describe(errno: errno))") }
    }
}
