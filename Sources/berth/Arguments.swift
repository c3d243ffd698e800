/// A flag a command accepts, under its long name and optional one-letter short name.
struct FlagDefinition: Sendable {
    let name: String
    let short: Character?
    let takesValue: Bool

    static func value(_ name: String, _ short: Character? = nil) -> FlagDefinition { FlagDefinition(name: name, short: short, takesValue: true) }
    static func bool(_ name: String, _ short: Character? = nil) -> FlagDefinition { FlagDefinition(name: name, short: short, takesValue: false) }
}

/// Command-line words split into flags and positional arguments, runc style (Go's flag
/// package as urfave/cli uses it): `--name value`, `--name=value`, `-name value`, `-n value`,
/// booleans as `--name` or `--name=false`; everything after `--` is positional.
struct ParsedArguments: Sendable {
    var values: [String: String] = [:]
    /// Every value of a flag given more than once (`--env A --env B`), in order.
    var lists: [String: [String]] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    /// The flag's last value.
    func value(_ name: String) -> String? { values[name] }
    /// All of the flag's values.
    func values(_ name: String) -> [String] { lists[name] ?? [] }
    func has(_ name: String) -> Bool { flags.contains(name) }

    /// Parses `words` against `definitions`. With `stopAtPositional`, the first positional
    /// word ends flag parsing (for the global flags before the command name).
    static func parse(_ words: ArraySlice<String>, definitions: [FlagDefinition], stopAtPositional: Bool) throws(UsageError) -> (ParsedArguments, ArraySlice<String>) {
        var result = ParsedArguments()
        var index = words.startIndex
        while index < words.endIndex {
            let word = words[index]
            if word == "--" {
                result.positional.append(contentsOf: words[(index + 1)...])
                return (result, [])
            }
            guard word.hasPrefix("-"), word.count > 1 else {
                if stopAtPositional { return (result, words[index...]) }
                result.positional.append(word)
                index += 1
                continue
            }
            var body = Substring(word.dropFirst(word.hasPrefix("--") ? 2 : 1))
            var inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                inlineValue = String(body[body.index(after: equals)...])
                body = body[..<equals]
            }
            let name = String(body)
            guard let definition = definitions.first(where: { $0.name == name || ($0.short.map { String($0) } == name) }) else {
                throw UsageError("flag provided but not defined: \(word)")
            }
            if definition.takesValue {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    index += 1
                    guard index < words.endIndex else { throw UsageError("flag needs an argument: \(word)") }
                    value = words[index]
                }
                result.values[definition.name] = value
                result.lists[definition.name, default: []].append(value)
            } else {
                switch inlineValue?.lowercased() {
                case nil, "true", "1", "t": result.flags.insert(definition.name)
                case "false", "0", "f": result.flags.remove(definition.name)
                default: throw UsageError("invalid boolean value \"\(inlineValue!)\" for \(word)")
                }
            }
            index += 1
        }
        return (result, [])
    }
}

/// A command line berth cannot make sense of.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
