import BerthJSON
import BerthShimProtocol
import BerthSystem
import CBerth
import Glibc

/// One container's monitor: the parent (as subreaper) of its init, the reader of its
/// stdout and stderr into the CRI log file, the keeper of its exit code, time and OOM
/// kill, and the server of berthd's requests on `<state dir>/shim.sock`. Single-threaded:
/// one poll loop over the output pipes, a signalfd and the socket.
public final class Shim {
    public struct Options: Sendable {
        public var id: String
        public var bundle: String
        public var stateDirectory: String
        public var logPath: String
        public var runtime: RuntimeCommand

        public init(id: String, bundle: String, stateDirectory: String, logPath: String, runtime: RuntimeCommand) {
            self.id = id
            self.bundle = bundle
            self.stateDirectory = stateDirectory
            self.logPath = logPath
            self.runtime = runtime
        }

        public var socketPath: String { "\(stateDirectory)/shim.sock" }
        public var exitPath: String { "\(stateDirectory)/exit.json" }
        var pidPath: String { "\(stateDirectory)/init.pid" }
    }

    let options: Options
    public private(set) var state: ShimState
    let log: CRILogWriter
    var outputs: [(descriptor: Int32, stream: String)] = []
    var oom: OOMCounter?
    var oomAtStart: UInt64 = 0
    let signals: Int32
    var listener: Int32 = -1
    /// Connections whose `wait` is answered at the exit.
    var waiters: [Int32] = []
    var deleted = false

    /// Creates the container (`<runtime> create`) with its stdout and stderr on pipes this
    /// shim reads. Must run in the process that stays the shim (it becomes the subreaper).
    public init(_ options: Options) throws(SystemError) {
        self.options = options
        _ = try FileSystem.makeDirectories(options.stateDirectory, mode: 0o700)
        log = try CRILogWriter(path: options.logPath)
        state = ShimState(id: options.id, status: .created, pid: 0, logPath: options.logPath)
        // SIGCHLD arrives through the signalfd; the others must not end the shim (berthd
        // going away, a closed client, a terminal hangup).
        var mask = sigset_t()
        sigemptyset(&mask)
        for number in [SIGCHLD, SIGTERM, SIGINT, SIGHUP] { sigaddset(&mask, number) }
        sigprocmask(SIG_BLOCK, &mask, nil)
        signal(SIGPIPE, SIG_IGN)
        signals = withUnsafePointer(to: &mask) { berth_signalfd($0) }
        guard signals >= 0 else { throw SystemError(stage: "signalfd", errno: errno) }
        guard berth_set_child_subreaper() == 0 else { throw SystemError(stage: "become the subreaper", errno: errno) }
        try listen()

        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard berth_pipe2_cloexec(&stdoutPipe) == 0, berth_pipe2_cloexec(&stderrPipe) == 0 else { throw SystemError(stage: "pipe", errno: errno) }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer {
            // The container's init holds the write ends now; the shim must not, or it
            // would never see the end of the output.
            close(stdoutPipe[1])
            close(stderrPipe[1])
            close(null)
        }
        unlink(options.pidPath)
        do {
            try options.runtime.run(["create", "--bundle", options.bundle, "--pid-file", options.pidPath, options.id], input: null, output: stdoutPipe[1], error: stderrPipe[1])
        } catch {
            for descriptor in [stdoutPipe[0], stderrPipe[0], listener] { close(descriptor) }
            unlink(options.socketPath)
            throw error
        }
        outputs = [(stdoutPipe[0], "stdout"), (stderrPipe[0], "stderr")]
        let pidText = (try? FileSystem.readText(options.pidPath)) ?? ""
        guard let pid = Int32(pidText.split(separator: "\n").first ?? "") else {
            // Created but unusable: take it back, so nothing is left.
            try? options.runtime.run(["delete", "--force", options.id], input: null, output: null, error: null)
            for descriptor in [stdoutPipe[0], stderrPipe[0], listener] { close(descriptor) }
            unlink(options.socketPath)
            throw SystemError(stage: "read the container's pid", subject: options.pidPath, errno: 0)
        }
        state.pid = pid
        oom = OOMCounter(pid: pid)
        oomAtStart = oom?.read() ?? 0
    }

    private func listen() throws(SystemError) {
        unlink(options.socketPath)
        guard var address = UnixSocketAddress.make(options.socketPath) else {
            throw SystemError(stage: "socket", subject: options.socketPath, errno: ENAMETOOLONG, detail: "a unix socket path has at most 107 bytes; use a shorter --state-dir")
        }
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw SystemError(stage: "socket", subject: options.socketPath, errno: errno) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, UnixSocketAddress.length(of: options.socketPath)) }
        }
        guard bound == 0, Glibc.listen(listener, 16) == 0 else { throw SystemError(stage: "listen", subject: options.socketPath, errno: errno) }
        chmod(options.socketPath, 0o600)
    }

    /// Serves until berthd's `delete`.
    public func run() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !deleted {
            var entries = outputs.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            entries.append(pollfd(fd: signals, events: Int16(POLLIN), revents: 0))
            entries.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            let ready = poll(&entries, nfds_t(entries.count), -1)
            if ready < 0 { continue }
            readOutputs(entries, into: &buffer)
            if entries[entries.count - 2].revents != 0 { handleSignals() }
            if entries[entries.count - 1].revents != 0 { acceptRequest() }
        }
        close(listener)
        unlink(options.socketPath)
    }

    /// Moves what the ready pipes hold into the log; a pipe at its end is finished and closed.
    private func readOutputs(_ entries: [pollfd], into buffer: inout [UInt8]) {
        for (index, output) in outputs.enumerated().reversed() where entries[index].revents != 0 {
            let count = buffer.withUnsafeMutableBytes { read(output.descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.withUnsafeBytes { log.append(output.stream, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                log.finish(output.stream)
                close(output.descriptor)
                outputs.remove(at: index)
            }
        }
    }

    private func handleSignals() {
        var record = [UInt8](repeating: 0, count: 128)
        _ = record.withUnsafeMutableBytes { read(signals, $0.baseAddress, 128) }
        // Reap everything: the init, and orphans of the container reparented to us.
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            if pid == state.pid && state.status != .exited { recordExit(status) }
        }
    }

    /// Reads what is left in the output pipes, until their end or `seconds` (a process
    /// that outlived the init may hold them open).
    private func drainOutputs(seconds: Int) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Clock.monotonicNanoseconds() + Int64(seconds) * 1_000_000_000
        while !outputs.isEmpty {
            let remaining = Int32(max(0, (deadline - Clock.monotonicNanoseconds()) / 1_000_000))
            var entries = outputs.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            if poll(&entries, nfds_t(entries.count), remaining) <= 0 { return }
            readOutputs(entries, into: &buffer)
        }
    }

    private func recordExit(_ status: Int32) {
        // The last lines the container wrote reach the log before anyone hears of the exit.
        drainOutputs(seconds: 2)
        state.status = .exited
        state.exitCode = berth_wifexited(status) != 0 ? berth_wexitstatus(status) : 128 + berth_wtermsig(status)
        state.exitedAt = Clock.rfc3339(nanoseconds: Clock.nowNanoseconds())
        state.oomKilled = (oom?.read() ?? 0) > oomAtStart
        // Written before anyone is told: berthd after a restart reads it even if the shim
        // is gone by then.
        try? FileSystem.writeAtomically(options.exitPath, Array(state.json.serialized().utf8), mode: 0o600)
        for waiter in waiters {
            answer(waiter, .ok(state.json))
            close(waiter)
        }
        waiters = []
    }

    private func acceptRequest() {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        // A client that connects and says nothing must not hold the shim up.
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count < 4096, read(connection, &byte, 1) == 1, byte != 10 { bytes.append(byte) }
        let request: ShimRequest
        do {
            request = try ShimRequest(parsing: String(decoding: bytes, as: UTF8.self))
        } catch {
            answer(connection, .failed(error.message))
            close(connection)
            return
        }
        if case .wait = request, state.status != .exited {
            waiters.append(connection)
            return
        }
        answer(connection, handle(request))
        close(connection)
    }

    private func handle(_ request: ShimRequest) -> Reply {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        do {
            switch request {
            case .start:
                guard state.status == .created else { return .failed("container \(options.id) is \(state.status.rawValue), not created") }
                try options.runtime.run(["start", options.id], input: null, output: null, error: null)
                if state.status == .created { state.status = .running }
                state.startedAt = Clock.rfc3339(nanoseconds: Clock.nowNanoseconds())
            case .kill(let signal, let all):
                guard state.status != .exited else { return .ok(state.json) }
                try options.runtime.run(["kill"] + (all ? ["--all"] : []) + [options.id, String(signal)], input: null, output: null, error: null)
            case .state, .wait:
                break
            case .reopenLog:
                try log.reopen()
            case .delete:
                guard state.status != .running else { return .failed("container \(options.id) is running: kill it before delete") }
                try options.runtime.run(["delete", "--force", options.id], input: null, output: null, error: null)
                deleted = true
            }
            return .ok(state.json)
        } catch {
            return .failed("\(error)")
        }
    }

    private func answer(_ connection: Int32, _ result: Reply) {
        let reply: JSONValue
        switch result {
        case .ok(let value): reply = ["ok": true, "state": value]
        case .failed(let message): reply = ["ok": false, "error": .string(message)]
        }
        try? FileSystem.writeAll(connection, Array((reply.serialized() + "\n").utf8), path: options.socketPath)
    }
}

/// An answer to berthd: the state, or why the request failed.
enum Reply {
    case ok(JSONValue)
    case failed(String)
}
