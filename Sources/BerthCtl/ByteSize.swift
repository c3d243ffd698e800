import Glibc

/// Sizes as crictl prints them (go-units HumanSizeWithPrecision): powers of 1000, the
/// units B, kB, MB, GB, TB, PB, and `%.Ng` (3 significant digits in tables).
public enum ByteSize {
    public static func human(_ bytes: Double, precision: Int = 3) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        var size = bytes
        var unit = 0
        while size >= 1000 && unit < units.count - 1 {
            size /= 1000
            unit += 1
        }
        return general(size, precision: precision) + units[unit]
    }

    /// `%.*g`, by the C library (exact ties round to even, as Go's formatting does).
    static func general(_ value: Double, precision: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([Int32(precision), value]) { arguments in
            vsnprintf(&buffer, buffer.count, "%.*g", arguments)
        }
        return String(cString: buffer)
    }
}
