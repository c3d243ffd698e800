import BerthJSON
import BerthRuntime
import BerthRuntimeSpec
import BerthSystem
import Glibc

/// One berth command: its flags, how many positional arguments it takes, what it does.
struct Command: Sendable {
    let name: String
    let usage: String
    let flags: [FlagDefinition]
    /// (minimum, maximum) positional arguments.
    let arguments: (Int, Int)
    /// Prefix runc puts on this command's errors ("create failed: ").
    let errorPrefix: String?
    /// Flags only before the first argument (runc's exec: `exec ID ls -l` runs `ls -l`).
    var flagsBeforeArguments = false
    /// The exit status of a failure (runc's exec fails with 255, so a caller can tell it
    /// from the process's own exit codes).
    var failureStatus: Int32 = 1
    let action: @Sendable (Context, ParsedArguments) throws -> Int32
}

/// What every command gets: the runtime and the output helpers.
struct Context: Sendable {
    let runtime: Runtime
    let global: ParsedArguments

    func printOut(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
    }
}

enum Commands {
    static let createFlags: [FlagDefinition] = [
        .value("bundle", "b"), .value("pid-file"), .bool("no-pivot"), .bool("no-new-keyring"), .value("preserve-fds"), .value("console-socket"),
    ]

    static func createOptions(_ arguments: ParsedArguments) throws -> CreateOptions {
        var options = CreateOptions()
        options.bundle = arguments.value("bundle") ?? "."
        options.pidFile = arguments.value("pid-file")
        options.noPivot = arguments.has("no-pivot")
        options.noNewKeyring = arguments.has("no-new-keyring")
        options.consoleSocket = arguments.value("console-socket")
        options.preserveFds = try preserveFds(arguments)
        let environment = environmentVariables()
        // Socket activation, only when the descriptors were meant for this process.
        if let count = environment["LISTEN_FDS"].flatMap({ Int($0) }), count > 0, environment["LISTEN_PID"] == String(getpid()) {
            options.listenFds = count
        }
        if let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty { options.notifySocket = socket }
        return options
    }

    /// `--preserve-fds N`, 0 when absent.
    static func preserveFds(_ arguments: ParsedArguments) throws(UsageError) -> Int {
        guard let count = arguments.value("preserve-fds") else { return 0 }
        guard let number = Int(count), number >= 0, number < 65536 else { throw UsageError("invalid --preserve-fds value \"\(count)\"") }
        return number
    }

    static let all: [Command] = [
        Command(name: "spec", usage: "spec [--bundle DIR] [--rootless]: write a default config.json", flags: [.value("bundle", "b"), .bool("rootless")], arguments: (0, 0), errorPrefix: nil) { context, arguments in
            let directory = arguments.value("bundle") ?? "."
            let path = "\(directory)/config.json"
            if FileSystem.exists(path) { throw RuntimeError(.alreadyExists, "File \(path) exists. Remove it first") }
            let document = DefaultSpec.make(rootless: arguments.has("rootless"), uid: getuid(), gid: getgid())
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 { throw SystemError.last("create", path) }
            defer { close(fd) }
            try FileSystem.writeAll(fd, Array(document.prettySerialized(indentation: "\t").utf8), path: path)
            return 0
        },
        Command(name: "create", usage: "create [--bundle DIR] [--pid-file FILE] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID", flags: createFlags, arguments: (1, 1), errorPrefix: "berth create failed") { context, arguments in
            _ = try context.runtime.create(id: arguments.positional[0], options: try createOptions(arguments))
            return 0
        },
        Command(name: "start", usage: "start ID: run the user program of a created container", flags: [], arguments: (1, 1), errorPrefix: nil) { context, arguments in
            let notifySocket = environmentVariables()["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
            try context.runtime.start(id: arguments.positional[0], notifySocket: notifySocket)
            return 0
        },
        Command(name: "run", usage: "run [--bundle DIR] [--detach] [--pid-file FILE] [--keep] ID", flags: createFlags + [.bool("detach", "d"), .bool("keep"), .bool("no-subreaper")], arguments: (1, 1), errorPrefix: "berth run failed") { context, arguments in
            let options = try createOptions(arguments)
            if arguments.has("detach") && arguments.has("keep") { throw UsageError("--detach and --keep cannot be used together") }
            return try context.runtime.run(id: arguments.positional[0], options: options, detach: arguments.has("detach"), keep: arguments.has("keep"))
        },
        Command(name: "state", usage: "state ID: print the OCI state of a container", flags: [], arguments: (1, 1), errorPrefix: nil) { context, arguments in
            let state = try context.runtime.state(id: arguments.positional[0])
            context.printOut(state.json.prettySerialized(indentation: "  "))
            return 0
        },
        Command(name: "list", usage: "list [--format table|json] [--quiet]", flags: [.value("format", "f"), .bool("quiet", "q")], arguments: (0, 0), errorPrefix: nil) { context, arguments in
            let format = arguments.value("format") ?? "table"
            guard format == "table" || format == "json" else { throw UsageError("invalid format option") }
            let states = try context.runtime.list()
            if arguments.has("quiet") {
                context.printOut(states.map { $0.id + "\n" }.joined())
            } else if format == "json" {
                context.printOut((states.isEmpty ? "null" : JSONValue.array(states.map(\.json)).serialized()) + "\n")
            } else {
                context.printOut(ListTable.render(states))
            }
            return 0
        },
        Command(name: "kill", usage: "kill [--all] ID [SIGNAL]: signal a container (default SIGTERM)", flags: [.bool("all", "a")], arguments: (1, 2), errorPrefix: nil) { context, arguments in
            let name = arguments.positional.count > 1 ? arguments.positional[1] : "SIGTERM"
            guard let signal = Signals.parse(name) else { throw RuntimeError(.invalidArgument, "unknown signal \"\(name)\"") }
            try context.runtime.kill(id: arguments.positional[0], signal: signal, all: arguments.has("all"))
            return 0
        },
        Command(name: "delete", usage: "delete [--force] ID", flags: [.bool("force", "f")], arguments: (1, 1), errorPrefix: nil) { context, arguments in
            try context.runtime.delete(id: arguments.positional[0], force: arguments.has("force"))
            return 0
        },
        Command(name: "update", usage: "update [--memory N] [--memory-swap N] [--memory-reservation N] [--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus L] [--cpuset-mems L] [--pids-limit N] [--blkio-weight N] [-r resources.json|-] ID", flags: UpdateFlags.definitions, arguments: (1, 1), errorPrefix: nil) { context, arguments in
            try context.runtime.update(id: arguments.positional[0], resources: try UpdateFlags.resources(arguments))
            return 0
        },
        Command(name: "pause", usage: "pause ID: freeze every process of a running container", flags: [], arguments: (1, 1), errorPrefix: nil) { context, arguments in
            try context.runtime.pause(id: arguments.positional[0])
            return 0
        },
        Command(name: "resume", usage: "resume ID: thaw a paused container", flags: [], arguments: (1, 1), errorPrefix: nil) { context, arguments in
            try context.runtime.resume(id: arguments.positional[0])
            return 0
        },
        Command(name: "ps", usage: "ps [--format table|json] ID [ps options]: the container's processes", flags: [.value("format", "f")], arguments: (1, 64), errorPrefix: nil) { context, arguments in
            let format = arguments.value("format") ?? "table"
            guard format == "table" || format == "json" else { throw UsageError("invalid format option") }
            let pids = try context.runtime.processes(id: arguments.positional[0])
            if format == "json" {
                context.printOut(JSONValue.array(pids.map { .int($0) }).serialized() + "\n")
            } else {
                let options = arguments.positional.count > 1 ? Array(arguments.positional.dropFirst()) : ["-ef"]
                context.printOut(try ProcessTable.render(pids: pids, psArguments: options))
            }
            return 0
        },
        Command(name: "events", usage: "events [--stats] [--interval 5s] ID: resource usage and OOM events as JSON lines", flags: [.bool("stats"), .value("interval")], arguments: (1, 1), errorPrefix: nil) { context, arguments in
            let id = arguments.positional[0]
            if arguments.has("stats") {
                context.printOut(try context.runtime.statsEvent(id: id).serialized() + "\n")
                return 0
            }
            let text = arguments.value("interval") ?? "5s"
            guard let interval = Duration.seconds(text), interval > 0 else { throw UsageError("invalid --interval \"\(text)\" (use 5s, 500ms, 1m)") }
            try context.runtime.events(id: id, interval: interval) { line in context.printOut(line + "\n") }
            return 0
        },
        Command(name: "exec", usage: "exec [--tty] [--console-socket PATH] [--cwd DIR] [--env K=V] [--user UID[:GID]] [--additional-gids GID] [--cap CAP] [--no-new-privs] [--apparmor PROFILE] [--process-label LABEL] [--detach] [--pid-file FILE] [--preserve-fds N] [--ignore-paused] [--process process.json] ID [COMMAND [ARGS...]]", flags: ExecFlags.definitions, arguments: (1, 4096), errorPrefix: "exec failed", flagsBeforeArguments: true, failureStatus: 255) { context, arguments in
            let request = try ExecFlags.request(arguments)
            return try context.runtime.exec(id: arguments.positional[0], request: request)
        },
        Command(name: "features", usage: "features: what this runtime supports, as runtime-spec features JSON", flags: [], arguments: (0, 0), errorPrefix: nil) { context, _ in
            context.printOut(Features.document().prettySerialized(indentation: "    ") + "\n")
            return 0
        },
    ]

    /// runc commands that later berth releases add; named so the error says so.
    static let later: [String: String] = [
        "checkpoint": "checkpoint/restore is not planned", "restore": "checkpoint/restore is not planned",
    ]
}

/// Go-style durations as runc's --interval takes them: "5s", "500ms", "1m", "1.5s".
enum Duration {
    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)) else { return nil }
            return value * factor
        }
        return nil
    }
}

/// `list`'s table, laid out like Go's tabwriter with minwidth 12 and padding 3, as runc.
enum ListTable {
    static func render(_ states: [ContainerState]) -> String {
        let header = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
        let rows = [header] + states.map { [$0.id, String($0.status == .stopped ? 0 : $0.pid), $0.status.rawValue, $0.bundle, $0.created, $0.owner] }
        var widths = [Int](repeating: 12, count: header.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < header.count - 1 {
                widths[column] = max(widths[column], cell.count + 3)
            }
        }
        var text = ""
        for row in rows {
            for (column, cell) in row.enumerated() {
                if column == header.count - 1 {
                    text += cell
                } else {
                    text += cell + String(repeating: " ", count: widths[column] - cell.count)
                }
            }
            text += "\n"
        }
        return text
    }
}
