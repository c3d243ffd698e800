/// Durations as crictl prints CREATED ("2 hours ago"): go-units' HumanDuration.
enum HumanDuration {
    static func describe(seconds value: Double) -> String {
        let seconds = Int(value)
        if seconds < 1 { return "Less than a second" }
        if seconds == 1 { return "1 second" }
        if seconds < 60 { return "\(seconds) seconds" }
        let minutes = Int(value / 60)
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int(value / 3600 + 0.5)
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int(value / 3600) / 24 / 365) years"
    }

    /// "… ago" for a CRI timestamp (nanoseconds since the epoch).
    static func ago(nanoseconds: Int64, now: Int64) -> String {
        describe(seconds: Double(now - nanoseconds) / 1e9) + " ago"
    }
}
