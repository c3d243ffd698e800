import BerthJSON
import BerthSystem
import CBerth
import Glibc

/// Sending one descriptor to a listening unix socket named by the caller (the console
/// socket, the seccomp listener): connect, one message with the descriptor, close.
enum DescriptorDelivery {
    /// `member` names the flag or config member the path came from, for the error.
    static func send(_ descriptor: Int32, to path: String, message: [UInt8], member: String) throws(RuntimeError) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw RuntimeError(.system, "\(member) \(path): \(SystemError.last("create socket"))") }
        defer { close(fd) }
        do {
            // By its name from inside its directory: a long path does not fit an address.
            try UnixSocketAddress.connect(fd, to: path)
        } catch {
            throw RuntimeError(.invalidArgument, "\(member) \(path): \(SystemError.describe(errno: error.errno))")
        }
        if message.withUnsafeBytes({ berth_send_descriptor(fd, descriptor, $0.baseAddress, $0.count) }) != 0 {
            throw RuntimeError(.system, "\(member) \(path): send the descriptor: \(SystemError.describe(errno: errno))")
        }
    }
}

/// `--console-socket`: the caller (conmon, containerd's shim, a test) listens on a unix
/// socket; berth sends the pty master with SCM_RIGHTS, as runc does, with the master's name
/// as the message.
enum ConsoleSocket {
    static func send(master: Int32, to path: String) throws(RuntimeError) {
        try DescriptorDelivery.send(master, to: path, message: Array("/dev/ptmx".utf8), member: "--console-socket")
    }
}

/// `linux.seccomp.listenerPath`: the notify descriptor of a filter with SCMP_ACT_NOTIFY
/// rules goes to the listener with the container process state (runtime spec, "Seccomp"):
/// `{"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}`.
enum SeccompListener {
    static func send(_ descriptor: Int32, to path: String, metadata: String?, state: JSONValue, pid: Int32, ociVersion: String) throws(RuntimeError) {
        var object = JSONObject()
        object["ociVersion"] = .string(ociVersion)
        object["fds"] = ["seccompFd"]
        object["pid"] = .int(pid)
        object["metadata"] = .string(metadata ?? "")
        object["state"] = state
        try DescriptorDelivery.send(descriptor, to: path, message: Array(JSONValue.object(object).serialized().utf8), member: "linux.seccomp.listenerPath")
    }
}
