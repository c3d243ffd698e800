import BerthCRI
import BerthSystem
import Glibc

/// What the pod and container listings share: crictl's filters, limits and cells.
enum PodRows {
    /// `k=v` labels; `a=b=c` is refused, as crictl refuses it.
    static func labels(_ values: [String]) throws(CommandError) -> [String: String] {
        var result: [String: String] = [:]
        for value in values {
            let pair = value.split(separator: "=", omittingEmptySubsequences: false)
            guard pair.count == 2 else { throw CommandError("incorrectly specified label: \(value)") }
            result[String(pair[0])] = String(pair[1])
        }
        return result
    }

    /// An unanchored regular expression filter; empty matches everything.
    struct Pattern {
        let regex: Regex<AnyRegexOutput>?
        func matches(_ text: String) -> Bool {
            guard let regex else { return true }
            return (try? regex.firstMatch(in: text)) != nil
        }
    }

    static func pattern(_ text: String?, flag: String) throws(CommandError) -> Pattern {
        guard let text, !text.isEmpty else { return Pattern(regex: nil) }
        do {
            return Pattern(regex: try Regex(text))
        } catch {
            throw CommandError("\(flag): \"\(text)\" is not a regular expression: \(error)")
        }
    }

    /// `--latest` keeps the newest; `--last N` the N newest (the list is newest first).
    static func limit<Item>(_ items: [Item], latest: Bool, last: String?) throws(CommandError) -> [Item] {
        var count = items.count
        if latest { count = 1 }
        if let last, !last.isEmpty {
            guard let number = Int(last), number >= 0 else { throw CommandError("--last: \"\(last)\" is not a number") }
            if number > 0 { count = number }
        }
        return Array(items.prefix(min(count, items.count)))
    }

    static func state(_ state: Runtime_V1_PodSandboxState) -> String {
        state == .sandboxReady ? "Ready" : "NotReady"
    }

    static func state(_ state: Runtime_V1_ContainerState) -> String {
        switch state {
        case .containerCreated: "Created"
        case .containerRunning: "Running"
        case .containerExited: "Exited"
        default: "Unknown"
        }
    }

    static func truncated(_ id: String) -> String { String(id.prefix(13)) }

    /// A time as Go prints a time.Time (`2026-11-29 15:04:05.123456789 +0000 UTC`).
    static func goTime(_ nanoseconds: Int64) -> String {
        let text = Clock.rfc3339(nanoseconds: nanoseconds)
        return text.dropLast().replacingOccurrences(of: Character("T"), with: Character(" ")) + " +0000 UTC"
    }

    /// `Labels:` and a tab-indented `k -> v` line per entry, keys sorted.
    static func map(_ title: String, _ values: [String: String]) -> String {
        guard !values.isEmpty else { return "" }
        return "\(title):\n" + values.keys.sorted().map { "\t\($0) -> \(values[$0]!)\n" }.joined()
    }

    /// A random version 4 UUID (crictl fills an empty pod uid with one).
    static func randomUID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}

extension StringProtocol {
    func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
