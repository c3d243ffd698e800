import BerthSystem
import Glibc

/// The rendezvous between a created container's init and `berth start`: a listening unix
/// socket, `exec.sock`, in the container's state directory.
///
///     init (created)                         berth start
///     accept() ◀──────────────────────────── connect()         (the container is started)
///     startContainer hooks
///     "k" ───────────────────────────────▶  or "e" + the reason the init gives up
///     exec (the connection is close-on-exec) ▶ end-of-file: the user program is executing
///
/// A socket, not runc's fifo, because the init must be able to answer: `start` learns
/// whether the program really started, and if not, why.
enum ExecSocket {
    static let name = "exec.sock"

    /// Binds and listens in `directory` (by a relative name, so that a long state path
    /// never hits the 108-byte limit of a socket address).
    static func listen(in directory: String) throws(SystemError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError.last("create exec socket") }
        do throws(SystemError) {
            try UnixSocketAddress.inDirectory(directory) { () throws(SystemError) in
                var address = UnixSocketAddress.make(name)!
                // Only root may connect, from the first moment the socket exists.
                let savedMask = umask(0o077)
                let result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                umask(savedMask)
                if result != 0 { throw SystemError.last("bind", "\(directory)/\(name)") }
            }
            if Glibc.listen(fd, 1) != 0 { throw SystemError.last("listen", "\(directory)/\(name)") }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Connects to the socket in `directory`; nil when nobody listens (the init is gone).
    static func connect(in directory: String) throws(SystemError) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError.last("create socket") }
        var refused = false
        do throws(SystemError) {
            try UnixSocketAddress.inDirectory(directory) { () throws(SystemError) in
                var address = UnixSocketAddress.make(name)!
                let result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                if result != 0 {
                    if errno == ECONNREFUSED || errno == ENOENT {
                        refused = true
                    } else {
                        throw SystemError.last("connect", "\(directory)/\(name)")
                    }
                }
            }
        } catch {
            close(fd)
            throw error
        }
        if refused {
            close(fd)
            return nil
        }
        return fd
    }

    /// The init's side: blocks until `start` connects; returns the connection, numbered
    /// at or above `minimum` so it can never be mistaken for a preserved descriptor.
    static func awaitStart(_ listener: Int32, minimum: Int32) -> Int32 {
        while true {
            let connection = accept(listener, nil, nil)
            if connection >= 0 {
                let moved = fcntl(connection, F_DUPFD_CLOEXEC, minimum)
                close(connection)
                if moved < 0 { _exit(1) }
                return moved
            }
            if errno != EINTR && errno != ECONNABORTED { _exit(1) }
        }
    }

    /// `start`'s side: the init's answer, then end-of-file once it has executed.
    static func awaitExec(_ connection: Int32) -> Result<Void, RuntimeError> {
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(connection, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            reply.append(contentsOf: buffer[0..<count])
        }
        switch reply.first {
        case UInt8(ascii: "k"): return .success(())
        case UInt8(ascii: "e"): return .failure(RuntimeError(.hook, String(decoding: reply.dropFirst(), as: UTF8.self)))
        default: return .failure(RuntimeError(.invalidState, "cannot start a container that has stopped (its init exited before the program started)"))
        }
    }
}
