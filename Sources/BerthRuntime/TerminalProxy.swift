import BerthSystem
import CBerth
import Glibc

/// A foreground `run` or `exec -t` without a console socket: berth itself holds the pty
/// master and joins it to its own stdin and stdout (in raw mode when stdin is a terminal),
/// follows window size changes, and passes on every other signal to the process.
enum TerminalProxy {
    /// Proxies until `pid` (berth's child) exits; returns its exit code. `signals` are
    /// blocked by the caller and include SIGCHLD and SIGWINCH.
    static func run(master: Int32, child pid: Int32, signals: sigset_t) -> Int32 {
        var mask = signals
        let signalDescriptor = withUnsafePointer(to: &mask) { berth_signalfd($0) }
        let interactive = isatty(0) == 1
        if interactive {
            _ = berth_terminal_make_raw(0)
            copyWindowSize(to: master)
        }
        defer {
            if interactive { _ = berth_terminal_restore(0) }
            if signalDescriptor >= 0 { close(signalDescriptor) }
        }
        var inputOpen = true
        var masterOpen = true
        var exitCode: Int32?
        var buffer = [UInt8](repeating: 0, count: 32768)
        while exitCode == nil {
            var fds = [pollfd(fd: signalDescriptor, events: Int16(POLLIN), revents: 0)]
            let masterIndex = masterOpen ? fds.count : -1
            if masterOpen { fds.append(pollfd(fd: master, events: Int16(POLLIN), revents: 0)) }
            let inputIndex = inputOpen ? fds.count : -1
            if inputOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), signalDescriptor >= 0 ? -1 : 100) < 0 && errno != EINTR { break }
            // The last holder of the terminal closed it: the process is about to be reaped.
            if masterIndex >= 0, fds[masterIndex].revents != 0, !copyOnce(from: master, to: 1, buffer: &buffer) { masterOpen = false }
            if inputIndex >= 0, fds[inputIndex].revents != 0, !copyOnce(from: 0, to: master, buffer: &buffer) {
                inputOpen = false
                // End of input reaches the process as the terminal's end-of-file (^D).
                if !interactive {
                    var endOfFile: UInt8 = 4
                    _ = write(master, &endOfFile, 1)
                }
            }
            if signalDescriptor >= 0, fds[0].revents != 0 {
                var record = [UInt8](repeating: 0, count: 128)
                if read(signalDescriptor, &record, 128) == 128 {
                    let number = Int32(record[0]) | Int32(record[1]) << 8
                    if number == SIGWINCH {
                        copyWindowSize(to: master)
                    } else if number != SIGCHLD {
                        _ = kill(pid, number)
                    }
                }
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { exitCode = ProcessWaiting.exitCode(fromWaitStatus: status) }
        }
        // What the process wrote just before it exited is still in the master.
        var drain = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
        while poll(&drain, 1, 50) > 0, copyOnce(from: master, to: 1, buffer: &buffer) {}
        return exitCode ?? 255
    }

    /// One read and a complete write; false at end-of-file or error (EIO on a master whose
    /// peer is closed everywhere).
    private static func copyOnce(from source: Int32, to target: Int32, buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { return true }
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

    private static func copyWindowSize(to master: Int32) {
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        if berth_get_window_size(0, &rows, &columns) == 0 { _ = berth_set_window_size(master, rows, columns) }
    }
}
