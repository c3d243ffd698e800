import Glibc

/// Wall-clock time as runc prints it.
public enum Clock {
    /// Now, as nanoseconds since the Unix epoch.
    public static func nowNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// Monotonic nanoseconds, for timeouts.
    public static func monotonicNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano (trailing zeros trimmed):
    /// `2026-11-29T05:01:02.123456789Z`.
    public static func rfc3339(nanoseconds: Int64) -> String {
        // Floor division, so times before 1970 keep a non-negative fraction.
        var wholeSeconds = nanoseconds / 1_000_000_000
        var fraction = Int(nanoseconds % 1_000_000_000)
        if fraction < 0 {
            fraction += 1_000_000_000
            wholeSeconds -= 1
        }
        var seconds = time_t(wholeSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        text += "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
        if fraction != 0 {
            var digits = pad(Int32(fraction), 9)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += ".\(digits)"
        }
        return text + "Z"
    }
}
