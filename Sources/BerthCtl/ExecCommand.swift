import BerthCRI
import Foundation

/// `berthctl exec [--sync] [--timeout N] CONTAINER-ID COMMAND [ARG...]`.
///
/// With `--sync`, as crictl: ExecSync, the command's stdout and then its stderr printed
/// on stdout (each followed by a newline), and a non-zero exit reported as an error
/// (exit 1). Without it crictl streams through the CRI Exec URL; berthd does not serve
/// streaming yet, so berthctl runs the command through ExecSync and passes its output
/// on as a stream would: stdout to stdout, stderr to stderr, and exits with the
/// command's own exit code. `-i`/`-t` need streaming and are refused.
enum ExecCommand: CommandDefinition {
    static let names = ["exec"]
    static let summary = "Run a command in a running container"
    static let usageLine = "exec [flags] CONTAINER-ID COMMAND [ARG...]"
    static let flagsEndAtFirstArgument = true
    static let flags = [
        Flag("--sync", "-s", help: "run the command synchronously (ExecSync)"),
        Flag("--timeout", value: true, help: "timeout in seconds (0: none)"),
        Flag("--interactive", "-i", help: "keep stdin open (needs streaming exec)"),
        Flag("--tty", "-t", help: "allocate a tty (needs streaming exec)"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let positional = context.flags.positional
        guard positional.count >= 2 else {
            context.console.out(help)
            return 0
        }
        let id = positional[0]
        guard !id.isEmpty else { throw CommandError("ID cannot be empty") }
        let command = Array(positional.dropFirst())
        let sync = context.flags.bool("--sync")
        if !sync && (context.flags.bool("--interactive") || context.flags.bool("--tty")) {
            throw CommandError("execing command in container: -i and -t need streaming exec, which berthd does not serve yet; run without them or with --sync")
        }
        let timeoutText = context.flags.string("--timeout") ?? "0"
        guard let timeout = Int64(timeoutText), timeout >= 0 else { throw CommandError("--timeout: \"\(timeoutText)\" is not a number of seconds") }
        var request = Runtime_V1_ExecSyncRequest()
        request.containerID = id
        request.cmd = command
        request.timeout = timeout
        context.debug("ExecSyncRequest: \(request)")
        let response = try await context.withRuntime(extraTimeout: timeout == 0 ? 3600 : Double(timeout)) { runtime, options, endpoint in
            do {
                return try await runtime.execSync(request, options: options)
            } catch {
                throw CommandError.rpc("execing command in container synchronously", error, endpoint: endpoint)
            }
        }
        let stdout = String(decoding: response.stdout, as: UTF8.self)
        let stderr = String(decoding: response.stderr, as: UTF8.self)
        if sync {
            guard response.exitCode == 0 else {
                throw CommandError("execing command in container synchronously: command '\(command.joined(separator: " "))' exited with \(response.exitCode): \(stderr)")
            }
            context.console.out(stdout + "\n" + stderr + "\n")
            return 0
        }
        context.console.out(stdout)
        context.console.error(stderr)
        return response.exitCode
    }
}
