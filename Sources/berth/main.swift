import BerthRuntime
import BerthRuntimeSpec
import BerthSystem
import Glibc
import Logging

/// berth: an OCI runtime with runc's command line.
///
/// Synchronous and single-threaded from here to the container's exec: the init process is
/// a clone of this process and keeps running this code (DESIGN.md §3).

let globalFlags: [FlagDefinition] = [
    .value("root"), .value("log"), .value("log-format"), .bool("debug"), .bool("systemd-cgroup"), .value("criu"), .value("rootless"),
    .bool("version", "v"), .bool("help", "h"),
]

let usage = """
    berth: an OCI container runtime (runc's command line)

    usage: berth [global flags] COMMAND [flags] [arguments]

    global flags: --root DIR (default /run/berth; $XDG_RUNTIME_DIR/berth rootless), --log FILE, --log-format text|json,
      --debug, --systemd-cgroup, --rootless true|false|auto (default auto: rootless when not run as root)

    commands:
    \(Commands.all.map { "  " + $0.usage }.joined(separator: "\n"))

    """

func emitError(_ message: String, destination: LogDestination) {
    if destination.toFile {
        destination.write(destination.line(level: "error", message: message))
        let bare = message + "\n"
        _ = bare.withCString { write(2, $0, strlen($0)) }
    } else {
        destination.write(destination.line(level: "error", message: message))
    }
}

func main() -> Int32 {
    // A hook or a peer that goes away must give EPIPE, not kill berth halfway through a
    // create (the init and hooks restore the default before they exec).
    signal(SIGPIPE, SIG_IGN)
    let words = CommandLine.arguments.dropFirst()
    var destination = LogDestination(descriptor: 2, format: .text, toFile: false)
    let global: ParsedArguments
    let rest: ArraySlice<String>
    do {
        (global, rest) = try ParsedArguments.parse(words, definitions: globalFlags, stopAtPositional: true)
    } catch {
        emitError(error.message, destination: destination)
        return 1
    }
    if let format = global.value("log-format") {
        guard let parsed = LogDestination.Format(rawValue: format) else {
            emitError("invalid log-format: \(format)", destination: destination)
            return 1
        }
        destination = LogDestination(descriptor: 2, format: parsed, toFile: false)
    }
    if let path = global.value("log"), !path.isEmpty {
        // Numbered high, so it can never fall into a --preserve-fds range.
        var fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd >= 0 {
            let high = fcntl(fd, F_DUPFD_CLOEXEC, 1000)
            if high >= 0 {
                close(fd)
                fd = high
            }
        }
        if fd < 0 {
            // A log file that cannot be opened (a shim's cleanup often names one in a bundle
            // that is already gone) must not stop the command: log to stderr instead.
            let reason = SystemError.last("open log file", path)
            destination.write(destination.line(level: "warning", message: "\(reason); logging to stderr"))
        } else {
            destination = LogDestination(descriptor: fd, format: destination.format, toFile: true)
        }
    }
    let level: Logger.Level = global.has("debug") ? .debug : .warning
    let logDestination = destination
    LoggingSystem.bootstrap { _ in RuncLogHandler(destination: logDestination, logLevel: level) }

    if global.has("version") {
        print("berth version \(Features.version)\nspec: \(Spec.currentVersion)")
        return 0
    }
    guard let name = rest.first else {
        print(usage, terminator: "")
        return global.has("help") ? 0 : 1
    }
    if name == "help" || global.has("help") {
        print(usage, terminator: "")
        return 0
    }
    guard let command = Commands.all.first(where: { $0.name == name }) else {
        if let reason = Commands.later[name] {
            emitError("berth \(name) is not supported yet (\(reason))", destination: destination)
            return 1
        }
        emitError("no such command '\(name)'; see berth --help", destination: destination)
        return 3
    }
    if global.has("systemd-cgroup") {
        let message = FileSystem.exists("/run/systemd/system")
            ? "--systemd-cgroup: the systemd cgroup driver is not supported by this berth yet; use the cgroupfs driver (drop --systemd-cgroup)"
            : "--systemd-cgroup needs systemd running as PID 1, and it is not on this host; use the cgroupfs driver (drop --systemd-cgroup)"
        emitError(message, destination: destination)
        return 1
    }
    var arguments: ParsedArguments
    do {
        let remaining: ArraySlice<String>
        (arguments, remaining) = try ParsedArguments.parse(rest.dropFirst(), definitions: command.flags, stopAtPositional: command.flagsBeforeArguments)
        arguments.positional.append(contentsOf: remaining)
    } catch {
        emitError(error.message, destination: destination)
        return 1
    }
    guard (command.arguments.0...command.arguments.1).contains(arguments.positional.count) else {
        let expected = command.arguments.0 == command.arguments.1 ? "exactly \(command.arguments.0)" : "\(command.arguments.0) to \(command.arguments.1)"
        print("usage: berth \(command.usage)")
        emitError("berth: \"\(name)\" requires \(expected) argument(s)", destination: destination)
        return 1
    }
    let logger = Logger(label: "berth")
    let rootless: Bool
    switch global.value("rootless") ?? "auto" {
    case "true": rootless = true
    case "false": rootless = false
    case "auto": rootless = geteuid() != 0
    case let other:
        emitError("invalid --rootless value \"\(other)\" (true, false or auto)", destination: destination)
        return 1
    }
    let runtime = Runtime(root: global.value("root") ?? Runtime.defaultRoot(rootless: rootless, environment: environmentVariables()), logger: logger, rootless: rootless)
    do {
        return try command.action(Context(runtime: runtime, global: global), arguments)
    } catch {
        let message: String
        switch error {
        case let error as UsageError: message = error.message
        default: message = "\(error)"
        }
        emitError(command.errorPrefix.map { "\($0): \(message)" } ?? message, destination: destination)
        return command.failureStatus
    }
}

/// The process environment as a dictionary (no Foundation here).
func environmentVariables() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") { result[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
        pointer += 1
    }
    return result
}

exit(main())
