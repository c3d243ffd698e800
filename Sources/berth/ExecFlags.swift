import BerthRuntime

/// `berth exec`'s flags, as runc's.
enum ExecFlags {
    static let definitions: [FlagDefinition] = [
        .value("process", "p"), .bool("tty", "t"), .value("console-socket"), .value("cwd"), .value("env", "e"), .value("user", "u"),
        .value("additional-gids", "g"), .value("cap", "c"), .bool("no-new-privs"), .value("apparmor"), .value("process-label"),
        .bool("detach", "d"), .value("pid-file"), .value("preserve-fds"), .bool("ignore-paused"), .value("cgroup"),
    ]

    static func request(_ arguments: ParsedArguments) throws -> ExecRequest {
        var request = ExecRequest()
        request.processPath = arguments.value("process")
        request.args = Array(arguments.positional.dropFirst())
        if request.args.first == "--" { request.args.removeFirst() }
        if request.processPath == nil && request.args.isEmpty {
            throw UsageError("exec: a command is required (berth exec ID COMMAND [ARGS...]) unless --process is given")
        }
        request.tty = arguments.has("tty")
        request.consoleSocket = arguments.value("console-socket")
        request.cwd = arguments.value("cwd")
        request.env = arguments.values("env")
        request.user = arguments.value("user")
        let gids = arguments.values("additional-gids")
        if !gids.isEmpty {
            request.additionalGids = try gids.map { text throws(UsageError) in
                guard let gid = UInt32(text) else { throw UsageError("invalid --additional-gids value \"\(text)\"") }
                return gid
            }
        }
        request.capabilities = arguments.values("cap")
        request.noNewPrivileges = arguments.has("no-new-privs")
        request.apparmorProfile = arguments.value("apparmor")
        request.processLabel = arguments.value("process-label")
        request.detach = arguments.has("detach")
        request.pidFile = arguments.value("pid-file")
        request.ignorePaused = arguments.has("ignore-paused")
        request.preserveFds = try Commands.preserveFds(arguments)
        if let cgroup = arguments.value("cgroup") {
            throw UsageError("--cgroup \(cgroup): exec into a sub-cgroup is not supported by berth; the process joins the container's cgroups")
        }
        return request
    }
}
