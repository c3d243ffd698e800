import BerthSystem
import CBerth
import Glibc

/// Waiting for processes that may or may not be berth's children.
enum ProcessWaiting {
    /// Waits until `pid` (with start time `startTime`) has exited, up to `timeout` seconds.
    /// A pidfd becomes readable when the process exits, whoever its parent is.
    static func waitForExit(pid: Int32, startTime: UInt64, timeout: Double) -> Bool {
        let pidfd = berth_pidfd_open(pid)
        if pidfd >= 0 {
            defer { close(pidfd) }
            // The pid may have been reused between reading the record and opening the pidfd.
            guard let status = ProcessStatus.read(pid: pid), status.startTime == startTime, !status.hasExited else { return true }
            var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            let deadline = Clock.monotonicNanoseconds() + Int64(timeout * 1e9)
            while true {
                let left = max(0, (deadline - Clock.monotonicNanoseconds()) / 1_000_000)
                let ready = poll(&entry, 1, Int32(left))
                if ready > 0 { return true }
                if ready == 0 { return false }
                if errno != EINTR { break }
            }
        }
        // Fallback: poll /proc.
        let deadline = Clock.monotonicNanoseconds() + Int64(timeout * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            guard let status = ProcessStatus.read(pid: pid), status.startTime == startTime, !status.hasExited else { return true }
            usleep(5_000)
        }
        return false
    }

    /// Sends `signal` to the process if it is still the one recorded (pid and start time).
    static func signal(pid: Int32, startTime: UInt64, signal: Int32) throws(RuntimeError) {
        let pidfd = berth_pidfd_open(pid)
        if pidfd >= 0 {
            defer { close(pidfd) }
            guard let status = ProcessStatus.read(pid: pid), status.startTime == startTime else {
                throw RuntimeError(.invalidState, "container not running")
            }
            if berth_pidfd_send_signal(pidfd, signal) != 0 {
                if errno == ESRCH { throw RuntimeError(.invalidState, "container not running") }
                throw RuntimeError(.system, "unable to signal init: \(SystemError.describe(errno: errno))")
            }
            return
        }
        // No pidfd (an old kernel, or out of descriptors): check the identity first.
        guard let status = ProcessStatus.read(pid: pid), status.startTime == startTime else {
            throw RuntimeError(.invalidState, "container not running")
        }
        if kill(pid, signal) != 0 {
            if errno == ESRCH { throw RuntimeError(.invalidState, "container not running") }
            throw RuntimeError(.system, "unable to signal init: \(SystemError.describe(errno: errno))")
        }
    }

    /// Reaps a child of this process, returning its exit code the shell way (128+N when
    /// killed by signal N).
    static func reap(child pid: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 }
        }
        return exitCode(fromWaitStatus: status)
    }

    static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        if berth_wifexited(status) != 0 { return berth_wexitstatus(status) }
        if berth_wifsignaled(status) != 0 { return 128 + berth_wtermsig(status) }
        return 255
    }
}
