/// A flag a command takes: its names (`--output`, `-o`) and whether it takes a value.
public struct Flag: Sendable {
    public let names: [String]
    public let takesValue: Bool
    public let help: String

    public init(_ names: String..., value: Bool = false, help: String) {
        self.names = names
        self.takesValue = value
        self.help = help
    }

    var canonical: String { names[0] }
}

/// Flags and positional words parsed as crictl (urfave/cli) does: `--flag value`,
/// `--flag=value`, `-f value`, combined short booleans (`-aq`), `--` ending the flags;
/// flags may come before or after the positional words, except for a command that runs
/// another command (`exec`): there the first positional word ends the flags, so the
/// command's own flags (`sh -c`) pass through.
public struct ParsedFlags: Sendable {
    public private(set) var values: [String: [String]] = [:]
    public private(set) var positional: [String] = []

    public static func parse(_ words: [String], flags: [Flag], command: String, flagsEndAtFirstArgument: Bool = false) throws(CommandError) -> ParsedFlags {
        var result = ParsedFlags()
        var byName: [String: Flag] = [:]
        for flag in flags { for name in flag.names { byName[name] = flag } }
        var index = 0
        var flagsEnded = false
        while index < words.count {
            let word = words[index]
            index += 1
            if flagsEnded || word == "-" || !word.hasPrefix("-") {
                result.positional.append(word)
                if flagsEndAtFirstArgument { flagsEnded = true }
                continue
            }
            if word == "--" {
                flagsEnded = true
                continue
            }
            var name = word
            var inlineValue: String?
            if let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                inlineValue = String(word[word.index(after: equals)...])
            }
            if let flag = byName[name] {
                if flag.takesValue {
                    if let inlineValue {
                        result.values[flag.canonical, default: []].append(inlineValue)
                    } else {
                        guard index < words.count else { throw CommandError("\(command): flag \(name) needs a value") }
                        result.values[flag.canonical, default: []].append(words[index])
                        index += 1
                    }
                } else {
                    let value = inlineValue ?? "true"
                    guard value == "true" || value == "false" else { throw CommandError("\(command): flag \(name) is true or false, not \"\(value)\"") }
                    result.values[flag.canonical, default: []].append(value)
                }
                continue
            }
            // Combined short booleans: -aq.
            if !word.hasPrefix("--"), word.count > 2, inlineValue == nil {
                let letters = word.dropFirst().map { "-\($0)" }
                if letters.allSatisfy({ byName[$0].map { !$0.takesValue } ?? false }) {
                    for letter in letters { result.values[byName[letter]!.canonical, default: []].append("true") }
                    continue
                }
            }
            throw CommandError("\(command): unknown flag \(name) (see berthctl \(command) --help)")
        }
        return result
    }

    public func string(_ name: String) -> String? { values[name]?.last }

    public func strings(_ name: String) -> [String] { values[name] ?? [] }

    public func bool(_ name: String) -> Bool { values[name]?.last == "true" }

    public func has(_ name: String) -> Bool { values[name] != nil }
}
