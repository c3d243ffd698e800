import BerthJSON
import BerthSystem
import Glibc
import GRPCCore

/// ExecSync: a command in a running container through the runtime's `exec --process`,
/// with the container's own process settings (user, environment, working directory,
/// capabilities, no_new_privs) and only the arguments replaced; stdout and stderr read
/// apart; past the timeout the command (found through `--pid-file`) is killed and the
/// call fails with DEADLINE_EXCEEDED, as the kubelet's probes expect.
enum ContainerExec {
    /// Output kept per stream; more is dropped (a probe does not need megabytes).
    static let outputLimit = 16 << 20

    static func run(
        id: String, command: [String], bundle: String, runtime: String, runtimeRoot: String, timeout: Int64
    ) throws -> (stdout: [UInt8], stderr: [UInt8], exitCode: Int32) {
        let what = "ExecSync \(id)"
        guard let spec = try? JSONParser.parse(try FileSystem.read("\(bundle)/config.json")), var process = spec["process"]?.objectValue else {
            throw RPCError(code: .internalError, message: "\(what): the container's config.json is unreadable")
        }
        process["args"] = .array(command.map { .string($0) })
        process["terminal"] = false
        var template = Array("/tmp/berth-exec.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw RPCError(code: .internalError, message: "\(what): temporary directory: \(SystemError.describe(errno: errno))") }
        let directory = String(cString: made)
        defer { _ = try? FileSystem.removeTree(directory) }
        let processFile = "\(directory)/process.json"
        let pidFile = "\(directory)/pid"
        do {
            try FileSystem.writeAtomically(processFile, Array(JSONValue.object(process).serialized().utf8))
        } catch {
            throw RPCError(code: .internalError, message: "\(what): \(error)")
        }

        let stdoutPipe = try ProcessSpawn.pipe()
        let stderrPipe = try ProcessSpawn.pipe()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let spawned = Result { () throws(SystemError) in
            try ProcessSpawn.spawn(
                [runtime, "--root", runtimeRoot, "exec", "--process", processFile, "--pid-file", pidFile, id], input: null, output: stdoutPipe.write,
                error: stderrPipe.write)
        }
        close(null)
        close(stdoutPipe.write)
        close(stderrPipe.write)
        defer {
            close(stdoutPipe.read)
            close(stderrPipe.read)
        }
        let pid: pid_t
        switch spawned {
        case .success(let started): pid = started
        case .failure(let error): throw RPCError(code: .internalError, message: "\(what): \(error)")
        }

        var outputs: [[UInt8]] = [[], []]
        var open = [true, true]
        var timedOut = false
        let deadline = timeout > 0 ? Clock.monotonicNanoseconds() + timeout * 1_000_000_000 : Int64.max
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open[0] || open[1] {
            var entries = [stdoutPipe.read, stderrPipe.read].enumerated().filter { open[$0.offset] }.map { pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0) }
            // After the kill, two more seconds for the pipes to close: a child the command
            // left behind may hold them.
            let remaining = timedOut ? 2000 : (deadline == Int64.max ? -1 : Int32(max(0, (deadline - Clock.monotonicNanoseconds()) / 1_000_000)))
            let ready = poll(&entries, nfds_t(entries.count), remaining)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 && timedOut { break }
            if ready == 0 {
                // The command, not the runtime: killing `exec` would leave the command
                // running in the container. The runtime then exits with it.
                timedOut = true
                // A runtime still starting the command has not written its pid yet: give it
                // a moment, so the command itself is killed, not only the runtime.
                var commandPid: Int32 = 0
                for _ in 0..<50 {
                    if let text = try? FileSystem.readText(pidFile), let number = Int32(text.trimmingSpacesAndNewlines), number > 0 {
                        commandPid = number
                        break
                    }
                    usleep(20_000)
                }
                if commandPid > 0 { kill(commandPid, SIGKILL) }
                kill(pid, SIGKILL)
                continue
            }
            for entry in entries where entry.revents != 0 {
                let index = entry.fd == stdoutPipe.read ? 0 : 1
                let count = read(entry.fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    open[index] = false
                    continue
                }
                if outputs[index].count < outputLimit { outputs[index] += buffer[0..<min(count, outputLimit - outputs[index].count)] }
            }
        }
        let status = ProcessSpawn.waitStatus(pid)
        if timedOut {
            throw RPCError(code: .deadlineExceeded, message: "\(what): command \(command.joined(separator: " ")) timed out after \(timeout) s and was killed")
        }
        return (outputs[0], outputs[1], status)
    }
}
