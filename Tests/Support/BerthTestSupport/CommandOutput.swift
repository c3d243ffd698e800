import Foundation

/// The result of running a command to completion.
public struct CommandOutput: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs a program to completion with optional stdin, capturing its output in files (not
/// pipes: a container that `create` or `run -d` leaves behind inherits berth's stdout and
/// stderr and would keep a pipe open forever). A program still running after `timeout`
/// seconds gets SIGTERM (SIGKILL 90 s later) and this throws, naming it and showing its
/// output so far.
@discardableResult
public func runCommand(
    _ path: String, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil,
    workingDirectory: String? = nil, timeout: Double = 300
) throws -> CommandOutput {
    let directory = NSTemporaryDirectory() + "berth-command-\(UUID().uuidString.prefix(12))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Data((stdin ?? "").utf8).write(to: URL(fileURLWithPath: "\(directory)/in"))
    let child = try ChildProcess(
        path, arguments, environment: environment, workingDirectory: workingDirectory,
        input: .file("\(directory)/in"), output: .file("\(directory)/out"), error: .file("\(directory)/err"))
    func contents(_ name: String) -> String { (try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)) ?? "" }
    let status: Int32
    do {
        status = try child.waitOrKill(timeout: timeout, grace: 90)
    } catch {
        // A killed command's output so far says where it hung; without it a CI log shows
        // only that it did.
        throw CommandTimedOut(reason: "\(error)", stdout: contents("out"), stderr: contents("err"))
    }
    return CommandOutput(status: status, stdout: contents("out"), stderr: contents("err"))
}

/// Reads one line from `descriptor` (the newline not included), giving up after `timeout`
/// seconds or at end of file; nil if no whole line came.
public func readLine(from descriptor: Int32, timeout: Double) -> String? {
    var line = [UInt8]()
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return nil }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, Int32(remaining * 1000) + 1)
        if ready < 0 && errno == EINTR { continue }
        guard ready > 0 else { return nil }
        var byte: UInt8 = 0
        let count = read(descriptor, &byte, 1)
        if count < 0 && errno == EINTR { continue }
        guard count == 1 else { return nil }
        if byte == 10 { return String(decoding: line, as: UTF8.self) }
        line.append(byte)
    }
}

/// A pipe whose two ends are closed on exec (children get an end only through
/// `ChildStream.descriptor`).
public func makePipe() throws -> (read: Int32, write: Int32) {
    var descriptors: [Int32] = [0, 0]
    guard pipe(&descriptors) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EMFILE) }
    for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
    return (descriptors[0], descriptors[1])
}

/// A command killed at its deadline, with what it had printed until then.
public struct CommandTimedOut: Error, CustomStringConvertible {
    public let reason: String
    public let stdout: String
    public let stderr: String

    public var description: String {
        "\(reason)\n--- its standard output so far:\n\(stdout.suffix(8000))\n--- its standard error so far:\n\(stderr.suffix(4000))"
    }
}
