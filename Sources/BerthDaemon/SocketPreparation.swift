import BerthSystem
import Glibc

/// The CRI socket's place: its directory is made (0711), and a socket file left by a
/// berthd that died is removed, but never one that a live daemon still answers on.
public enum SocketPreparation {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func prepare(_ path: String) throws(Failure) {
        guard path.utf8.count < 108 else { throw Failure(description: "--address \(path): a unix socket path must be shorter than 108 bytes") }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        try makeDirectories(directory.isEmpty ? "/" : directory)
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw Failure(description: "--address \(path): exists and is not a socket; remove it or choose another path")
        }
        if answers(path) {
            throw Failure(description: "--address \(path): another daemon is listening there")
        }
        unlink(path)
    }

    /// Whether something accepts connections on the socket at `path`.
    static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard var address = UnixSocketAddress.make(path) else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    static func makeDirectories(_ path: String) throws(Failure) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, 0o711) != 0 && errno != EEXIST {
                throw Failure(description: "create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}
