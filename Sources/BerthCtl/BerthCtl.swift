import BerthSystem
import Glibc

/// berthctl: crictl's command line (same commands, flags and output) over any CRI socket,
/// berthd's by default.
public enum BerthCtl {
    public static let version = "0.1.0"

    static let globalFlags = [
        Flag("--runtime-endpoint", "-r", value: true, help: "CRI runtime socket (unix:///path; default unix:///run/berth/berth.sock) [$CONTAINER_RUNTIME_ENDPOINT]"),
        Flag("--image-endpoint", "-i", value: true, help: "CRI image socket (default: the runtime endpoint) [$IMAGE_SERVICE_ENDPOINT]"),
        Flag("--timeout", "-t", value: true, help: "how long a call may take (2s, 500ms; default 2s); pulls are not bounded"),
        Flag("--debug", "-D", help: "print each request and response on stderr"),
        Flag("--config", "-c", value: true, help: "crictl's config file (default /etc/crictl.yaml) [$CRI_CONFIG_FILE]"),
        Flag("--help", "-h", help: "show help"),
        Flag("--version", "-v", help: "print the version"),
    ]

    static let commands: [any CommandDefinition.Type] = [
        VersionCommand.self, InfoCommand.self, PullCommand.self, ImagesCommand.self, InspectImageCommand.self, RemoveImageCommand.self,
        ImageFsInfoCommand.self, RunPodCommand.self, StopPodCommand.self, RemovePodCommand.self, PodsCommand.self, InspectPodCommand.self,
        CreateContainerCommand.self, StartContainerCommand.self, StopContainerCommand.self, RemoveContainerCommand.self, ListContainersCommand.self,
        InspectContainerCommand.self, LogsCommand.self, ExecCommand.self, RunContainerCommand.self, UpdateContainerCommand.self,
    ]

    /// Runs the command line; the exit status.
    public static func run(_ words: [String], environment: [String: String], console: Console = Console()) async -> Int32 {
        // Global flags come before the command name.
        var index = 0
        while index < words.count, words[index].hasPrefix("-") {
            let flag = globalFlags.first { $0.names.contains(String(words[index].split(separator: "=", maxSplits: 1)[0])) }
            index += flag?.takesValue == true && !words[index].contains("=") ? 2 : 1
        }
        let globalWords = Array(words[..<min(index, words.count)])
        let rest = Array(words[min(index, words.count)...])
        do {
            let global = try ParsedFlags.parse(globalWords, flags: globalFlags, command: "berthctl")
            if global.bool("--version") {
                console.out("berthctl version \(version)\n")
                return 0
            }
            guard let name = rest.first, !global.bool("--help"), name != "help" else {
                console.out(usage)
                return 0
            }
            guard let command = commands.first(where: { $0.names.contains(name) }) else {
                console.error("berthctl: no command \"\(name)\" (see berthctl --help)\n")
                return 3
            }
            let flags = try ParsedFlags.parse(Array(rest.dropFirst()), flags: command.flags + [Flag("--help", "-h", help: "show help")], command: name, flagsEndAtFirstArgument: command.flagsEndAtFirstArgument)
            if flags.bool("--help") {
                console.out(command.help)
                return 0
            }
            var settingsFlags = ClientSettings.Flags()
            settingsFlags.runtimeEndpoint = global.string("--runtime-endpoint")
            settingsFlags.imageEndpoint = global.string("--image-endpoint")
            settingsFlags.timeout = global.string("--timeout")
            settingsFlags.debug = global.has("--debug") ? global.bool("--debug") : nil
            settingsFlags.configPath = global.string("--config")
            let settings = try ClientSettings.resolve(flags: settingsFlags, environment: environment) { try? FileSystem.readText($0) }
            let context = CommandContext(settings: settings, flags: flags, console: console, environment: environment)
            return try await command.run(context)
        } catch let error as CommandError {
            console.error("berthctl: \(error.message)\n")
            return 1
        } catch {
            console.error("berthctl: \(error)\n")
            return 1
        }
    }

    static var usage: String {
        var text = """
            berthctl: the Berth CRI client, with crictl's commands, flags and output, for any CRI socket

            usage: berthctl [global flags] COMMAND [flags] [arguments]

            commands:

            """
        for command in commands { text += "  " + command.names[0].padding(12) + command.summary + "\n" }
        text += "\nglobal flags:\n"
        for flag in globalFlags { text += "  " + flag.names.joined(separator: ", ").padding(26) + flag.help + "\n" }
        return text
    }
}

/// What a command runs with.
public struct CommandContext: Sendable {
    public let settings: ClientSettings
    public let flags: ParsedFlags
    public let console: Console
    public let environment: [String: String]

    /// Logs a request or response on stderr with --debug.
    func debug(_ text: @autoclosure () -> String) {
        if settings.debug { console.error("debug: \(text())\n") }
    }
}

/// One berthctl command.
protocol CommandDefinition: Sendable {
    /// The name, then aliases.
    static var names: [String] { get }
    static var summary: String { get }
    static var usageLine: String { get }
    static var flags: [Flag] { get }
    static func run(_ context: CommandContext) async throws -> Int32
    /// The first positional word ends the flags (a command that runs another command).
    static var flagsEndAtFirstArgument: Bool { get }
}

extension CommandDefinition {
    static var flagsEndAtFirstArgument: Bool { false }

    static var help: String {
        var text = "berthctl \(names[0]): \(summary)\n\nusage: berthctl \(usageLine)\n"
        if names.count > 1 { text += "aliases: \(names.dropFirst().joined(separator: ", "))\n" }
        if !flags.isEmpty {
            text += "\nflags:\n"
            for flag in flags { text += "  " + (flag.names.joined(separator: ", ") + (flag.takesValue ? " VALUE" : "")).padding(26) + flag.help + "\n" }
        }
        return text
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
