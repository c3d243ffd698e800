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

    /// C's `%.*g`: `precision` significant digits, trailing zeros dropped, an exponent when
    /// the number needs more digits than that ("1e+03").
    static func general(_ value: Double, precision: Int) -> String {
        guard value != 0 else { return "0" }
        var exponent = Int((log10Approximation(value)).rounded(.down))
        var mantissa = (value / power(exponent) * power(precision - 1)).rounded() / power(precision - 1)
        if mantissa >= 10 {
            exponent += 1
            mantissa /= 10
        }
        if exponent < -4 || exponent >= precision {
            return trimmed(fixed(mantissa, decimals: precision - 1)) + "e" + (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
        }
        let decimals = max(0, precision - 1 - exponent)
        return trimmed(fixed(mantissa * power(exponent), decimals: decimals))
    }

    static func fixed(_ value: Double, decimals: Int) -> String {
        let scale = power(decimals)
        let scaled = (value * scale).rounded()
        let integer = Int64(scaled / scale)
        var fraction = Int64((scaled - Double(integer) * scale).rounded())
        if decimals == 0 { return String(integer) }
        var digits = ""
        for _ in 0..<decimals {
            digits = String(fraction % 10) + digits
            fraction /= 10
        }
        return "\(integer).\(digits)"
    }

    static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = Substring(text)
        while result.last == "0" { result = result.dropLast() }
        if result.last == "." { result = result.dropLast() }
        return String(result)
    }

    static func power(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }

    static func log10Approximation(_ value: Double) -> Double {
        var exponent = 0.0
        var rest = value
        while rest >= 10 { rest /= 10; exponent += 1 }
        while rest < 1 { rest *= 10; exponent -= 1 }
        return exponent
    }
}
