import Glibc

/// What /proc/<pid>/stat says about a process: enough to tell a live container init from a
/// zombie or from an unrelated process that reused its pid.
public struct ProcessStatus: Sendable, Equatable {
    /// The state letter: R, S, D, T, t, Z, X, I...
    public let state: Character
    /// Start time in clock ticks after boot (field 22); with the pid, a unique identity.
    public let startTime: UInt64
    public let parentPid: Int32

    /// Reads the status of `pid`; nil when there is no such process.
    public static func read(pid: Int32) -> ProcessStatus? {
        guard pid > 0, let bytes = try? FileSystem.read("/proc/\(pid)/stat") else { return nil }
        return parse(bytes)
    }

    /// Parses a stat line; the command name in parentheses may itself hold spaces and ')'.
    public static func parse(_ bytes: [UInt8]) -> ProcessStatus? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        // fields[0] is field 3 (state); start time is field 22.
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]),
            let start = UInt64(fields[19])
        else { return nil }
        return ProcessStatus(state: state, startTime: start, parentPid: parent)
    }

    /// Whether the process has exited (a zombie or dead entry).
    public var hasExited: Bool { state == "Z" || state == "X" || state == "x" }
}
