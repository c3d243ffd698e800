import Glibc

/// Unix socket addresses: a path (or "@name" in the abstract namespace) in a
/// `sockaddr_un`, and the way to reach a socket whose full path is longer than the 108
/// bytes an address holds (by its name, from inside its directory).
public enum UnixSocketAddress {
    /// The address for `path`, or nil when it does not fit.
    public static func make(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
            if path.hasPrefix("@") { buffer[0] = 0 }
        }
        return address
    }

    /// The address length to pass with `path` (an abstract name counts its bytes only).
    public static func length(of path: String) -> socklen_t {
        path.hasPrefix("@") ? socklen_t(MemoryLayout<sa_family_t>.size + path.utf8.count) : socklen_t(MemoryLayout<sockaddr_un>.size)
    }

    /// Runs `body` with `directory` as the working directory, then returns to the old one.
    public static func inDirectory(_ directory: String, _ body: () throws(SystemError) -> Void) throws(SystemError) {
        let saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if saved < 0 { throw SystemError.last("open working directory") }
        defer {
            _ = fchdir(saved)
            close(saved)
        }
        if chdir(directory) != 0 { throw SystemError.last("chdir", directory) }
        try body()
    }

    /// Connects `fd` to the socket at `path`, by its name from inside its directory.
    public static func connect(_ fd: Int32, to path: String) throws(SystemError) {
        let absolute = FileSystem.absolutePath(path)
        let directory = "/" + absolute.split(separator: "/").dropLast().joined(separator: "/")
        let name = String(absolute.split(separator: "/").last ?? "")
        try inDirectory(directory) { () throws(SystemError) in
            guard var address = make(name) else { throw SystemError(stage: "connect", subject: path, errno: ENAMETOOLONG) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if result != 0 { throw SystemError.last("connect", path) }
        }
    }
}
