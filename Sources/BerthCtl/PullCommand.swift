import BerthAPI
import BerthCRI
import GRPCCore
import Glibc

/// `berthctl pull NAME[:TAG|@DIGEST]`: pulls through the CRI; on a terminal, with berthd,
/// shows each layer's progress live (berthd's PullProgressService; other CRI servers have
/// none, and the pull simply runs).
enum PullCommand: CommandDefinition {
    static let names = ["pull"]
    static let summary = "Pull an image from a registry"
    static let usageLine = "pull [flags] NAME[:TAG|@DIGEST]"
    static let flags = [
        Flag("--creds", value: true, help: "USERNAME[:PASSWORD] for the registry [$CRICTL_CREDS]"),
        Flag("--auth", value: true, help: "base64 of USERNAME[:PASSWORD], passed on as is [$CRICTL_AUTH]"),
        Flag("--username", "-u", value: true, help: "the registry user; the password is asked for"),
        Flag("--annotation", "-a", value: true, help: "KEY=VALUE on the image spec (repeatable)"),
        Flag("--pull-timeout", "--pt", value: true, help: "give up after this long (2m, 30s); default: no limit"),
        Flag("--no-progress", help: "no live progress display, even on a terminal"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let flags = context.flags
        guard flags.positional.count == 1, let name = flags.positional.first, !name.isEmpty else {
            throw CommandError(flags.positional.isEmpty ? "pull: image name cannot be empty" : "pull: give one image, not \(flags.positional.count)")
        }
        var request = Runtime_V1_PullImageRequest()
        request.image.image = name
        for annotation in flags.strings("--annotation") {
            let parts = annotation.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw CommandError("pull: annotation \"\(annotation)\" is not KEY=VALUE") }
            request.image.annotations[String(parts[0])] = String(parts[1])
        }
        if let auth = try credentials(context) { request.auth = auth }
        var options = CallOptions.defaults
        if let text = flags.string("--pull-timeout") {
            guard let seconds = ClientSettings.seconds(text), seconds >= 0 else { throw CommandError("pull: --pull-timeout \"\(text)\": give a duration (2m, 30s)") }
            if seconds > 0 { options.timeout = .milliseconds(Int64(seconds * 1000)) }
        }
        let pullOptions = options
        let showProgress = context.console.isTerminal && !flags.bool("--no-progress")
        let endpoint = context.settings.imageEndpoint
        let pullRequest = request
        let response = try await CRIConnection.with(endpoint, timeout: context.settings.timeout) { connection in
            try await withThrowingTaskGroup(of: Runtime_V1_PullImageResponse?.self) { group in
                group.addTask {
                    do {
                        return try await connection.images.pullImage(pullRequest, options: pullOptions)
                    } catch {
                        throw CommandError.rpc("pulling image", error, endpoint: endpoint)
                    }
                }
                if showProgress {
                    group.addTask {
                        await watch(name, connection: connection, console: context.console)
                        return nil
                    }
                }
                var result: Runtime_V1_PullImageResponse?
                do {
                    while let next = try await group.next() {
                        if let next {
                            result = next
                            group.cancelAll()
                        }
                    }
                } catch {
                    group.cancelAll()
                    while (try? await group.next()) != nil {}
                    throw error
                }
                guard let result else { throw CommandError("pulling image: no answer") }
                return result
            }
        }
        guard !response.imageRef.isEmpty else { throw CommandError("imageRef of image \"\(name)\" is not set") }
        context.console.out("Image is up to date for \(response.imageRef)\n")
        return 0
    }

    /// Shows the pull's layers until cancelled (the pull has answered); any failure of the
    /// watch (a CRI server without berthd's progress service) just ends the display.
    static func watch(_ name: String, connection: CRIConnection, console: Console) async {
        var display = PullProgressDisplay(console: console)
        let client = Berth_V1_PullProgressService.Client(wrapping: connection.client)
        var request = Berth_V1_WatchPullRequest()
        request.image = name
        request.intervalMs = 150
        request.waitForStartMs = 60_000
        let (stream, continuation) = AsyncStream.makeStream(of: Berth_V1_PullProgressUpdate.self)
        async let call: Void = {
            defer { continuation.finish() }
            try? await client.watch(request) { response in
                for try await update in response.messages { continuation.yield(update) }
            }
        }()
        for await update in stream where !update.finished {
            display.show(update)
        }
        await call
        display.clear()
    }

    /// The AuthConfig from --username (password asked for), --creds or --auth (or their
    /// environment variables); nil without any.
    static func credentials(_ context: CommandContext) throws(CommandError) -> Runtime_V1_AuthConfig? {
        var auth = Runtime_V1_AuthConfig()
        if let username = context.flags.string("--username") {
            auth.username = username
            auth.password = try readPassword(context.console)
            return auth
        }
        let creds = context.flags.string("--creds") ?? context.environment["CRICTL_CREDS"].nonEmpty
        let encoded = context.flags.string("--auth") ?? context.environment["CRICTL_AUTH"].nonEmpty
        if creds != nil && encoded != nil { throw CommandError("pull: both `--creds` and `--auth` are specified") }
        if let creds {
            let parts = creds.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let user = parts.first, !user.isEmpty else { throw CommandError("pull: --creds: username can't be empty") }
            auth.username = String(user)
            auth.password = parts.count > 1 ? String(parts[1]) : ""
            return auth
        }
        if let encoded {
            auth.auth = encoded
            return auth
        }
        return nil
    }

    /// "Enter Password:" and a line without echo on a terminal; a plain line from a pipe.
    static func readPassword(_ console: Console) throws(CommandError) -> String {
        let terminal = isatty(0) == 1
        var saved = termios()
        if terminal {
            console.out("Enter Password:")
            tcgetattr(0, &saved)
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSANOW, &quiet)
        }
        defer {
            if terminal {
                tcsetattr(0, TCSANOW, &saved)
                console.out("\n")
            }
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(0, &byte, 1) == 1, byte != 10 { bytes.append(byte) }
        if bytes.last == 13 { bytes.removeLast() }
        guard !bytes.isEmpty else { throw CommandError("pull: no password given for --username") }
        return String(decoding: bytes, as: UTF8.self)
    }
}
