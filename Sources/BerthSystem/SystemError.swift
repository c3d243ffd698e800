import Glibc

/// A failed system call, named by the stage that made it and the path or input it was for.
///
/// `description` reads like `mount /proc/self/fd/7 (dest /proc): operation not permitted`,
/// lowercase, as runc prints its errors.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// What berth was doing: "pivot_root", "write uid_map", "open config.json".
    public let stage: String
    /// The path or input the call was about, when there is one.
    public let subject: String?
    /// The errno, or 0 when the failure is not a system call's.
    public let errno: Int32
    /// Extra words that say what to do about it.
    public let detail: String?

    public init(stage: String, subject: String? = nil, errno: Int32, detail: String? = nil) {
        self.stage = stage
        self.subject = subject
        self.errno = errno
        self.detail = detail
    }

    /// The error of the system call that just failed (reads the thread's errno).
    public static func last(_ stage: String, _ subject: String? = nil, detail: String? = nil) -> SystemError {
        SystemError(stage: stage, subject: subject, errno: Glibc.errno, detail: detail)
    }

    public var description: String {
        var text = stage
        if let subject { text += " \(subject)" }
        if errno != 0 { text += ": \(SystemError.describe(errno: errno))" }
        if let detail { text += " (\(detail))" }
        return text
    }

    /// The C library's text for `errno`, lowercased like Go's syscall errors.
    public static func describe(errno: Int32) -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        let message = String(cString: text)
        guard let first = message.first else { return message }
        return first.lowercased() + message.dropFirst()
    }
}

/// Runs a system call that returns -1 on failure, retrying on EINTR.
@discardableResult
@inline(__always)
public func retryingInterrupts<T: FixedWidthInteger>(_ stage: @autoclosure () -> String, _ subject: @autoclosure () -> String? = nil, _ call: () -> T) throws(SystemError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        if Glibc.errno == EINTR { continue }
        throw SystemError.last(stage(), subject())
    }
}
