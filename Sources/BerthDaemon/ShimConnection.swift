import BerthJSON
import BerthShimProtocol
import BerthSystem
import Glibc

/// One request to a container's shim over its socket, and its answer (blocking, short).
enum ShimConnection {
    static func send(_ request: ShimRequest, to socketPath: String) throws(ShimProtocolError) -> ShimState {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ShimProtocolError("socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        // The full path, never chdir: berthd is multi-threaded.
        guard var address = UnixSocketAddress.make(socketPath) else { throw ShimProtocolError("shim \(socketPath): the path is too long for a socket") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw ShimProtocolError("shim \(socketPath): connect: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        do {
            try FileSystem.writeAll(descriptor, Array((request.json.serialized() + "\n").utf8), path: socketPath)
        } catch {
            throw ShimProtocolError("shim \(socketPath): \(error)")
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(descriptor, &byte, 1) == 1, byte != 10 { bytes.append(byte) }
        guard let answer = try? JSONParser.parse(bytes) else { throw ShimProtocolError("shim \(socketPath): no answer") }
        guard answer["ok"]?.boolValue == true, let state = answer["state"] else {
            throw ShimProtocolError(answer["error"]?.stringValue ?? "shim \(socketPath): refused")
        }
        return try ShimState(state)
    }
}
