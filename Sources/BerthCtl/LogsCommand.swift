import BerthCRI
import BerthSystem
import Glibc

/// `berthctl logs CONTAINER-ID`: reads the container's CRI log file itself (the path
/// from ContainerStatus), as crictl and the kubelet do: stdout records to stdout, stderr
/// records to stderr, partial (P) records joined by writing them as they come.
enum LogsCommand: CommandDefinition {
    static let names = ["logs"]
    static let summary = "Fetch the logs of a container"
    static let usageLine = "logs [flags] CONTAINER-ID"
    static let flags = [
        Flag("--follow", "-f", help: "follow log output"),
        Flag("--previous", "-p", help: "print the logs of the previous instance of the container"),
        Flag("--reopen", "-r", help: "reopen the container's log file first (ReopenContainerLog)"),
        Flag("--tail", value: true, help: "number of lines to show from the end of the logs (default all)"),
        Flag("--limit-bytes", value: true, help: "maximum bytes of logs to return (default no limit)"),
        Flag("--since", value: true, help: "show logs since a timestamp (2013-01-02T13:23:37Z) or a relative time (42m)"),
        Flag("--timestamps", "-t", help: "show timestamps"),
    ]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let flags = context.flags
        guard let id = flags.positional.first, !id.isEmpty else { throw CommandError("ID cannot be empty") }
        guard flags.positional.count == 1 else {
            context.console.out(help)
            return 0
        }
        let tail = try Int(flags.string("--tail") ?? "-1").orThrow(CommandError("--tail: give a number of lines"))
        let limit = try Int(flags.string("--limit-bytes") ?? "-1").orThrow(CommandError("--limit-bytes: give a number of bytes"))
        var since: Int64?
        if let text = flags.string("--since"), !text.isEmpty {
            since = try LogReader.since(text, now: Clock.nowNanoseconds())
        }
        let status = try await containerStatus(context, id)
        var path = status.logPath
        guard !path.isEmpty else { throw CommandError("the container has not set log path") }
        if flags.bool("--previous") {
            let attempt = status.metadata.attempt
            guard attempt > 0 else { throw CommandError("previous terminated container \(status.metadata.name) not found") }
            let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
            let dot = path.lastIndex(of: ".") ?? path.endIndex
            path = String(path[..<slash]) + String(attempt - 1) + String(path[dot...])
        }
        if flags.bool("--reopen") {
            try await context.withRuntime { runtime, options, endpoint in
                var request = Runtime_V1_ReopenContainerLogRequest()
                request.containerID = id
                do {
                    _ = try await runtime.reopenContainerLog(request, options: options)
                } catch {
                    throw CommandError.rpc("reopening the container log", error, endpoint: endpoint)
                }
            }
            context.console.error("Container logs reopened\n")
        }
        var reader = LogReader(path: path, tail: tail, limitBytes: limit, since: since, timestamps: flags.bool("--timestamps"), console: context.console)
        try reader.open()
        defer { reader.close() }
        reader.readAvailable()
        guard flags.bool("--follow") else { return 0 }
        while !reader.limitReached {
            // Until the container is no longer running: then what is left is read once more.
            let running = (try? await containerStatus(context, id))?.state == .containerRunning
            try await Task.sleep(for: .milliseconds(200))
            reader.readAvailable()
            reader.followRotation()
            if !running { break }
        }
        return 0
    }

    static func containerStatus(_ context: CommandContext, _ id: String) async throws -> Runtime_V1_ContainerStatus {
        try await context.withRuntime { runtime, options, endpoint in
            var request = Runtime_V1_ContainerStatusRequest()
            request.containerID = id
            do {
                return try await runtime.containerStatus(request, options: options).status
            } catch {
                throw CommandError.rpc("getting the status of the container \"\(id)\"", error, endpoint: endpoint)
            }
        }
    }
}

extension Optional {
    func orThrow(_ error: CommandError) throws(CommandError) -> Wrapped {
        guard let self else { throw error }
        return self
    }
}

/// Reads a CRI log file (`<RFC3339Nano> <stdout|stderr> <P|F> <message>`) and writes its
/// records; follows it by reading on from where it stopped.
struct LogReader {
    let path: String
    let tail: Int
    let limitBytes: Int
    let since: Int64?
    let timestamps: Bool
    let console: Console
    var descriptor: Int32 = -1
    var pending: [UInt8] = []
    var written = 0
    var atLineStart = true

    init(path: String, tail: Int, limitBytes: Int, since: Int64?, timestamps: Bool, console: Console) {
        self.path = path
        self.tail = tail
        self.limitBytes = limitBytes
        self.since = since
        self.timestamps = timestamps
        self.console = console
    }

    var limitReached: Bool { limitBytes >= 0 && written >= limitBytes }

    /// Opens the file positioned at the start of its last `tail` lines.
    mutating func open() throws(CommandError) {
        descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CommandError("failed to open log file \"\(path)\": \(String(cString: strerror(errno)))") }
        guard tail >= 0 else { return }
        let bytes = (try? FileSystem.readAll(descriptor, path: path)) ?? []
        var newlines = 0
        var start = bytes.count
        var index = bytes.count - 1
        // The file's last byte is a newline ending the last line: it does not start one.
        if index >= 0 && bytes[index] == 10 { index -= 1 }
        while index >= 0 {
            if bytes[index] == 10 {
                newlines += 1
                if newlines == tail { break }
            }
            index -= 1
        }
        start = tail == 0 ? bytes.count : index + 1
        pending = Array(bytes[start...])
        lseek(descriptor, off_t(bytes.count), SEEK_SET)
        processLines(final: false)
    }

    func close() { if descriptor >= 0 { Glibc.close(descriptor) } }

    /// When the log was rotated (the path names another file now: the kubelet moved it
    /// and the runtime reopened it), what is left of the old one is read and the new one
    /// followed from its start.
    mutating func followRotation() {
        var current = stat()
        var open = stat()
        guard stat(path, &current) == 0, fstat(descriptor, &open) == 0, current.st_ino != open.st_ino || current.st_dev != open.st_dev else { return }
        readAvailable()
        let next = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard next >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = next
        readAvailable()
    }

    /// Reads what the file has now and writes every complete record.
    mutating func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending += buffer[0..<count]
        }
        processLines(final: false)
    }

    mutating func processLines(final: Bool) {
        while let newline = pending.firstIndex(of: 10) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            write(line)
            if limitReached { return }
        }
    }

    mutating func write(_ line: [UInt8]) {
        // <timestamp> <stream> <tag> <content>
        let fields = line.split(separator: 32, maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return }
        let timestamp = String(decoding: fields[0], as: UTF8.self)
        let stream = String(decoding: fields[1], as: UTF8.self)
        guard stream == "stdout" || stream == "stderr", let time = Clock.nanoseconds(rfc3339: timestamp) else { return }
        if let since, time < since { return }
        let partial = fields[2].split(separator: 58).first.map { Array($0) } == [80]
        var content = fields.count > 3 ? Array(fields[3]) : []
        if !partial { content.append(10) }
        if timestamps && atLineStart { content = Array((Self.fixedTimestamp(time) + " ").utf8) + content }
        atLineStart = !partial
        if limitBytes >= 0 {
            let room = limitBytes - written
            if room <= 0 { return }
            if content.count > room { content = Array(content.prefix(room)) }
        }
        written += content.count
        let text = String(decoding: content, as: UTF8.self)
        if stream == "stdout" { console.out(text) } else { console.error(text) }
    }

    /// `2006-01-02T15:04:05.000000000Z`: always nine fractional digits.
    static func fixedTimestamp(_ nanoseconds: Int64) -> String {
        let text = Clock.rfc3339(nanoseconds: nanoseconds - nanoseconds % 1_000_000_000)
        let fraction = String(nanoseconds % 1_000_000_000)
        return text.dropLast() + "." + String(repeating: "0", count: 9 - fraction.count) + fraction + "Z"
    }

    /// `--since`: a Go duration before now (`42m`, `1h30m`, `10s`) or an RFC 3339 time
    /// (a date alone or without a zone is UTC).
    static func since(_ text: String, now: Int64) throws(CommandError) -> Int64 {
        if let seconds = ClientSettings.seconds(text), text.last?.isLetter == true {
            return now - Int64(seconds * 1e9)
        }
        for candidate in [text, text + "Z", text + "T00:00:00Z", text + ":00Z", text + ":00:00Z"] {
            if let value = Clock.nanoseconds(rfc3339: candidate) { return value }
        }
        if let seconds = Double(text) { return Int64(seconds * 1e9) }
        throw CommandError("failed to parse value as time or duration: \"\(text)\"")
    }
}
