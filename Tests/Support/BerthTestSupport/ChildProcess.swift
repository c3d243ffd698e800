import CTestProcess
import Foundation
import Synchronization

/// What a child's standard input, output or error is connected to.
public enum ChildStream: Sendable {
    /// /dev/null.
    case null
    /// A file opened for reading (input) or truncated and written (output).
    case file(String)
    /// A descriptor of the test process, duplicated into the child.
    case descriptor(Int32)
}

/// A program the tests run, waited for with a deadline so that no child can hang the test
/// run (a stuck child is killed and the test fails naming it). Foundation's `Process` is
/// not used: its `waitUntilExit` spins a run loop and can wait forever when many parallel
/// tests wait on many children.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The command line, for messages.
    public let commandLine: String
    private let exitStatus = Mutex<Int32?>(nil)

    public init(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, workingDirectory: String? = nil,
        input: ChildStream = .null, output: ChildStream = .null, error: ChildStream = .null
    ) throws {
        commandLine = ([path] + arguments).joined(separator: " ")
        let inputDescriptor = try Self.open(input, forWriting: false)
        defer { if case .descriptor = input {} else { close(inputDescriptor) } }
        let outputDescriptor = try Self.open(output, forWriting: true)
        defer { if case .descriptor = output {} else { close(outputDescriptor) } }
        let errorDescriptor = try Self.open(error, forWriting: true)
        defer { if case .descriptor = error {} else { close(errorDescriptor) } }
        let environmentList = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var spawnError: Int32 = 0
        let spawned = withCStrings([path] + arguments) { argv in
            withCStrings(environmentList) { envp in
                berth_test_spawn(path, argv, envp, workingDirectory, inputDescriptor, outputDescriptor, errorDescriptor, &spawnError)
            }
        }
        guard spawned > 0 else { throw ChildProcessError.spawnFailed(commandLine, String(cString: strerror(spawnError))) }
        pid = spawned
    }

    /// Waits up to `timeout` seconds (nil: forever). The exit code, 128+N for a signal, or
    /// nil while it still runs.
    @discardableResult
    public func wait(timeout: Double?) -> Int32? {
        if let known = exitStatus.withLock({ $0 }) { return known }
        var status: Int32 = 0
        let milliseconds = timeout.map { Int32(max(0, min($0 * 1000, Double(Int32.max)))) } ?? -1
        guard berth_test_wait(pid, milliseconds, &status) == 1 else {
            // Reaped meanwhile by another thread's wait: that one stored the status.
            return exitStatus.withLock { $0 }
        }
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus.withLock { $0 = code }
        return code
    }

    /// Waits for the exit; after `timeout` seconds the child is stopped and this throws.
    /// With a `grace`, it first gets SIGTERM and that long to clean up (the client smoke
    /// scripts unmount and remove what they made in their TERM trap, which bash runs once
    /// the step it waits for ends: their steps are bounded), then SIGKILL.
    @discardableResult
    public func waitOrKill(timeout: Double, grace: Double = 0) throws -> Int32 {
        if let status = wait(timeout: timeout) { return status }
        if grace > 0 {
            kill(pid, SIGTERM)
            if wait(timeout: grace) == nil { kill(pid, SIGKILL) }
        } else {
            kill(pid, SIGKILL)
        }
        wait(timeout: nil)
        throw ChildProcessError.timedOut(commandLine, timeout)
    }

    public var isRunning: Bool { wait(timeout: 0) == nil }

    public func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// SIGTERM, `grace` seconds, then SIGKILL; the exit status.
    @discardableResult
    public func stop(grace: Double = 10) -> Int32 {
        signal(SIGTERM)
        if let status = wait(timeout: grace) { return status }
        kill(pid, SIGKILL)
        return wait(timeout: nil) ?? 137
    }

    /// SIGKILL and reap.
    @discardableResult
    public func killNow() -> Int32 {
        signal(SIGKILL)
        return wait(timeout: nil) ?? 137
    }

    private static func open(_ stream: ChildStream, forWriting: Bool) throws -> Int32 {
        let path: String
        switch stream {
        case .descriptor(let descriptor): return descriptor
        case .null: path = "/dev/null"
        case .file(let file): path = file
        }
        let flags = forWriting ? (O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC) : (O_RDONLY | O_CLOEXEC)
        let descriptor = Glibc.open(path, flags, 0o644)
        guard descriptor >= 0 else { throw ChildProcessError.spawnFailed(path, "open: \(String(cString: strerror(errno)))") }
        return descriptor
    }
}

public enum ChildProcessError: Error, CustomStringConvertible {
    case spawnFailed(String, String)
    case timedOut(String, Double)

    public var description: String {
        switch self {
        case .spawnFailed(let command, let reason): "could not start \(command): \(reason)"
        case .timedOut(let command, let seconds): "\(command) did not finish within \(Int(seconds)) s and was killed"
        }
    }
}

/// A NULL-terminated C string array for the duration of `body`.
func withCStrings<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result) -> Result {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
