import BerthSystem
import CBerth
import Glibc

/// `--console-socket`: the caller (conmon, containerd's shim, a test) listens on a unix
/// socket; berth connects and sends the pty master with SCM_RIGHTS, as runc does, with the
/// master's name as the message.
enum ConsoleSocket {
    static func send(master: Int32, to path: String) throws(RuntimeError) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw RuntimeError(.system, "\(SystemError.last("create socket", "console socket"))") }
        defer { close(fd) }
        let absolute = FileSystem.absolutePath(path)
        let directory = absolute.split(separator: "/").dropLast().joined(separator: "/")
        let name = String(absolute.split(separator: "/").last ?? "")
        // By a relative name from inside its directory: a socket path longer than 108
        // bytes cannot be put in an address.
        let saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer {
            if saved >= 0 {
                _ = fchdir(saved)
                close(saved)
            }
        }
        if chdir("/" + directory) != 0 { throw RuntimeError(.invalidArgument, "--console-socket \(path): \(SystemError.describe(errno: errno))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard name.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw RuntimeError(.invalidArgument, "--console-socket \(path): the socket's name is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in name.utf8.enumerated() { buffer[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result != 0 { throw RuntimeError(.invalidArgument, "--console-socket \(path): connect: \(SystemError.describe(errno: errno))") }
        let label = Array("/dev/ptmx".utf8)
        if label.withUnsafeBytes({ berth_send_descriptor(fd, master, $0.baseAddress, $0.count) }) != 0 {
            throw RuntimeError(.system, "--console-socket \(path): send the terminal: \(SystemError.describe(errno: errno))")
        }
    }
}
