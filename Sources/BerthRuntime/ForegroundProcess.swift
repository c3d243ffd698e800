import BerthSystem
import CBerth
import Glibc

/// What a foreground `run` or `exec` does until its process exits: passes on every signal
/// berth gets; with a terminal (no console socket), joins the pty master to berth's own
/// stdin and stdout (raw mode when stdin is a terminal) and follows window size changes;
/// with NOTIFY_SOCKET, passes on the container's READY=1. One poll loop over a signalfd,
/// the master, stdin and the notify socket, so that none of them waits for another.
struct ForegroundProcess {
    let pid: Int32
    /// Blocked by the caller before the process was cloned; include SIGCHLD.
    let signals: sigset_t
    var master: Int32?
    var notify: NotifyForwarding?

    /// The container's notify socket and where READY=1 goes.
    struct NotifyForwarding {
        let socket: Int32
        let hostSocket: String
        let mainPid: Int32
    }

    /// Waits for the process; returns its exit code (128+N when killed by signal N).
    mutating func wait() -> Int32 {
        var mask = signals
        sigaddset(&mask, SIGWINCH)
        sigprocmask(SIG_BLOCK, &mask, nil)
        let signalDescriptor = withUnsafePointer(to: &mask) { berth_signalfd($0) }
        let interactive = master != nil && isatty(0) == 1
        if let master {
            // Input that the process does not read yet must not block the output.
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
            if interactive {
                _ = berth_terminal_make_raw(0)
                Self.copyWindowSize(to: master)
            }
        }
        defer {
            if interactive { _ = berth_terminal_restore(0) }
            if signalDescriptor >= 0 { close(signalDescriptor) }
        }
        var inputOpen = master != nil
        var masterOpen = master != nil
        var pendingInput: [UInt8] = []
        var exitCode: Int32?
        var buffer = [UInt8](repeating: 0, count: 32768)
        while exitCode == nil {
            var fds = [pollfd(fd: signalDescriptor, events: Int16(POLLIN), revents: 0)]
            let masterIndex = masterOpen ? fds.count : -1
            if let master, masterOpen { fds.append(pollfd(fd: master, events: Int16(POLLIN) | (pendingInput.isEmpty ? 0 : Int16(POLLOUT)), revents: 0)) }
            // stdin is read only while what came before has been taken by the terminal.
            let inputIndex = inputOpen && pendingInput.isEmpty ? fds.count : -1
            if inputIndex >= 0 { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            let notifyIndex = notify != nil ? fds.count : -1
            if let notify { fds.append(pollfd(fd: notify.socket, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), signalDescriptor >= 0 ? -1 : 100) < 0 && errno != EINTR { break }

            if let master, masterIndex >= 0 {
                let events = fds[masterIndex].revents
                if events & Int16(POLLIN) != 0 || events & Int16(POLLHUP) != 0 {
                    // The last holder of the terminal closed it: the process is about to exit.
                    if !Self.copyAvailable(from: master, to: 1, buffer: &buffer) { masterOpen = false }
                }
                if events & Int16(POLLOUT) != 0 { Self.writeSome(&pendingInput, to: master) }
            }
            if let master, inputIndex >= 0, fds[inputIndex].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count > 0 {
                    pendingInput.append(contentsOf: buffer[0..<count])
                    Self.writeSome(&pendingInput, to: master)
                } else if count == 0 || errno != EINTR {
                    inputOpen = false
                    // End of input reaches the process as the terminal's end-of-file (^D).
                    if !interactive { pendingInput.append(4) }
                }
            }
            if let forwarding = notify, notifyIndex >= 0, fds[notifyIndex].revents != 0 {
                if NotifySocket.receiveReady(from: forwarding.socket, to: forwarding.hostSocket, pid: forwarding.mainPid) { notify = nil }
            }
            if signalDescriptor >= 0, fds[0].revents != 0 {
                var record = [UInt8](repeating: 0, count: 128)
                if read(signalDescriptor, &record, 128) == 128 {
                    let number = Int32(record[0]) | Int32(record[1]) << 8
                    if number == SIGWINCH {
                        if let master { Self.copyWindowSize(to: master) }
                    } else if number != SIGCHLD {
                        _ = kill(pid, number)
                    }
                }
            }
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { exitCode = ProcessWaiting.exitCode(fromWaitStatus: status) }
            if reaped < 0 && errno == ECHILD { exitCode = 255 }
        }
        // What the process wrote just before it exited is still in the master.
        if let master, masterOpen {
            var drain = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
            while poll(&drain, 1, 50) > 0, Self.copyAvailable(from: master, to: 1, buffer: &buffer) {}
        }
        return exitCode ?? 255
    }

    /// Reads once and writes all of it (berth's stdout blocks as it may); false at
    /// end-of-file or error (EIO on a master whose peer is closed everywhere).
    private static func copyAvailable(from source: Int32, to target: Int32, buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return true }
        if count <= 0 { return false }
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { write(target, $0.baseAddress! + offset, count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Writes what the non-blocking master takes now; the rest stays pending.
    private static func writeSome(_ pending: inout [UInt8], to master: Int32) {
        let written = pending.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
        if written > 0 { pending.removeFirst(written) }
        if written < 0 && errno != EAGAIN && errno != EINTR { pending.removeAll() }
    }

    private static func copyWindowSize(to master: Int32) {
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        if berth_get_window_size(0, &rows, &columns) == 0 { _ = berth_set_window_size(master, rows, columns) }
    }
}
