import BerthSystem
import CBerth
import Glibc

/// The messages between `berth create` (parent) and the container's init (child) over a
/// SOCK_SEQPACKET socketpair. The exchange reads as a script:
///
///     parent                          child (init)
///     clone  ───────────────────────▶ (with a new user namespace: waits for mapped)
///     writes uid_map, gid_map
///     mapped ───────────────────────▶ becomes root in it; namespaces, mounts (up to the
///                                     first cgroup mount)
///     creates cgroup directories
///     cgroupsCreated ───────────────▶ the cgroup mounts, devices, pivot_root...
///     moves the child into them
///     go     ───────────────────────▶ cgroup namespace (before hooks, or before the
///                                     switch to the container's user)
///            ◀─────────────────────── runHooks   (only when prestart/createRuntime exist)
///     runs prestart, createRuntime
///     hooksDone ────────────────────▶ createContainer hooks, process setup
///            ◀─────────────────────── ready      (or failed: stage and errno in the text)
///     writes state, exits             waits on exec.sock for `start`
public enum SyncMessage: Equatable, Sendable {
    case cgroupsCreated
    case go
    case runHooks
    case hooksDone
    case hooksFailed(String)
    case ready
    case failed(String)
    /// The master of the container's pty, passed with SCM_RIGHTS.
    case terminal(Int32)
    /// The parent has written the new user namespace's uid and gid maps.
    case mapped
    /// The pid of the process forked inside the container's pid namespace (exec without
    /// the rights to enter that namespace from outside, see `ExecProcess`).
    case forked(Int32)
    /// The notify descriptor of a seccomp filter with SCMP_ACT_NOTIFY rules (SCM_RIGHTS).
    case seccompNotify(Int32)

    /// The descriptor that travels with the message, if any.
    var passedDescriptor: Int32? {
        switch self {
        case .terminal(let fd), .seccompNotify(let fd): fd
        default: nil
        }
    }

    var encoded: [UInt8] {
        switch self {
        case .go: [1]
        case .runHooks: [2]
        case .hooksDone: [3]
        case .hooksFailed(let text): [4] + Array(text.utf8)
        case .ready: [5]
        case .failed(let text): [6] + Array(text.utf8)
        case .cgroupsCreated: [7]
        case .terminal: [8]
        case .mapped: [9]
        case .forked(let pid): [10] + Array(String(pid).utf8)
        case .seccompNotify: [11]
        }
    }

    init?(bytes: ArraySlice<UInt8>, descriptor: Int32 = -1) {
        guard let tag = bytes.first else { return nil }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch tag {
        case 1: self = .go
        case 2: self = .runHooks
        case 3: self = .hooksDone
        case 4: self = .hooksFailed(text)
        case 5: self = .ready
        case 6: self = .failed(text)
        case 7: self = .cgroupsCreated
        case 8:
            guard descriptor >= 0 else { return nil }
            self = .terminal(descriptor)
        case 9: self = .mapped
        case 10:
            guard let pid = Int32(text) else { return nil }
            self = .forked(pid)
        case 11:
            guard descriptor >= 0 else { return nil }
            self = .seccompNotify(descriptor)
        default: return nil
        }
    }
}

/// One end of the parent/child socketpair.
public struct SyncChannel: Sendable {
    public let descriptor: Int32

    /// A connected pair: (parent end, child end), both close-on-exec.
    public static func pair() throws(RuntimeError) -> (SyncChannel, SyncChannel) {
        var fds: [Int32] = [0, 0]
        if socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) != 0 {
            throw RuntimeError(.system, "\(SystemError.last("create sync socketpair"))")
        }
        return (SyncChannel(descriptor: fds[0]), SyncChannel(descriptor: fds[1]))
    }

    public func send(_ message: SyncMessage) throws(RuntimeError) {
        let bytes = message.encoded
        let sent: Int
        if let fd = message.passedDescriptor {
            sent = bytes.withUnsafeBytes { Int(berth_send_descriptor(descriptor, fd, $0.baseAddress, $0.count)) }
        } else {
            sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        if sent < 0 { throw RuntimeError(.system, "\(SystemError.last("send sync message"))") }
    }

    /// The next message, or nil when the other end closed (the peer exited).
    public func receive() throws(RuntimeError) -> SyncMessage? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var resetSeen = false
        while true {
            var passed: Int32 = -1
            let count = buffer.withUnsafeMutableBytes { berth_receive_descriptor(descriptor, $0.baseAddress, $0.count, &passed) }
            if count < 0 {
                if errno == EINTR { continue }
                // A peer that exits with messages of ours unread makes the next recv fail
                // with ECONNRESET once (the error is cleared by reporting it), even though
                // its own last message (the reason it failed) is still queued: read again.
                if errno == ECONNRESET && !resetSeen {
                    resetSeen = true
                    continue
                }
                throw RuntimeError(.system, "\(SystemError.last("receive sync message"))")
            }
            if count == 0 { return nil }
            guard let message = SyncMessage(bytes: buffer[0..<count], descriptor: passed) else {
                if passed >= 0 { Glibc.close(passed) }
                throw RuntimeError(.system, "receive sync message: unknown message tag \(buffer[0])")
            }
            if passed >= 0, message.passedDescriptor != passed { Glibc.close(passed) }
            return message
        }
    }

    /// Sends "go". If the child has already failed (and so closed its end), its reason is
    /// waiting in the socket: that becomes the error, not the broken pipe.
    func sendGo() throws(RuntimeError) {
        do {
            try send(.go)
        } catch {
            if case .failed(let text)? = try? receive() {
                throw RuntimeError(.system, "unable to start container process: \(text)")
            }
            throw error
        }
    }

    public func close() { _ = Glibc.close(descriptor) }
}
