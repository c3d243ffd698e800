import BerthSystem
import Glibc

/// The CRI log file a container's output goes to, one record per line:
///
///     2026-11-29T12:00:00.123456789Z stdout F hello
///
/// `F` ends a line; a line longer than `maximumLineBytes` is cut into `P` (partial)
/// records before its final `F` one, never inside a UTF-8 sequence. Output without a
/// final newline is written as `F` when its stream ends. The kubelet reads these files.
public final class CRILogWriter {
    public let path: String
    public let maximumLineBytes: Int
    private var descriptor: Int32
    private var pending: [String: [UInt8]] = [:]
    private let now: () -> Int64

    public init(path: String, maximumLineBytes: Int = 16 * 1024, now: @escaping () -> Int64 = Clock.nowNanoseconds) throws(SystemError) {
        self.path = path
        self.maximumLineBytes = max(maximumLineBytes, 4)
        self.now = now
        descriptor = try Self.open(path)
    }

    deinit {
        close(descriptor)
    }

    /// Bytes a stream ("stdout" or "stderr") produced.
    public func append(_ stream: String, _ bytes: UnsafeRawBufferPointer) {
        var buffer = pending[stream] ?? []
        buffer.append(contentsOf: bytes)
        var start = 0
        var records: [UInt8] = []
        // One timestamp for the lines of one read: formatted once, not per line.
        let time = Clock.rfc3339(nanoseconds: now())
        while start < buffer.count {
            if let newline = buffer[start...].firstIndex(of: 10), newline - start <= maximumLineBytes {
                records += record(time, stream, "F", buffer[start..<newline])
                start = newline + 1
            } else if buffer.count - start > maximumLineBytes {
                let cut = Self.boundary(buffer, from: start, limit: maximumLineBytes)
                records += record(time, stream, "P", buffer[start..<cut])
                start = cut
            } else {
                break
            }
        }
        pending[stream] = Array(buffer[start...])
        write(records)
    }

    /// The stream ended: what is left is a last, full line.
    public func finish(_ stream: String) {
        guard let rest = pending.removeValue(forKey: stream), !rest.isEmpty else { return }
        write(record(Clock.rfc3339(nanoseconds: now()), stream, "F", rest[...]))
    }

    /// Opens the file again at its path (after log rotation moved it away).
    public func reopen() throws(SystemError) {
        let fresh = try Self.open(path)
        close(descriptor)
        descriptor = fresh
    }

    private func record(_ time: String, _ stream: String, _ tag: String, _ content: ArraySlice<UInt8>) -> [UInt8] {
        Array("\(time) \(stream) \(tag) ".utf8) + content + [10]
    }

    private func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        // Errors (a full disk) lose this output rather than stopping the container.
        try? FileSystem.writeAll(descriptor, bytes, path: path)
    }

    /// Where to cut at most `limit` bytes after `start` without splitting a UTF-8
    /// sequence (continuation bytes are 10xxxxxx).
    static func boundary(_ bytes: [UInt8], from start: Int, limit: Int) -> Int {
        var cut = start + limit
        while cut > start + 1 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        return cut > start + limit - 4 ? cut : start + limit
    }

    /// Never through a symlink at the file itself: log directories are often mounted into
    /// log-shipping pods, which could otherwise point the next log at a host file.
    private static func open(_ path: String) throws(SystemError) -> Int32 {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard descriptor >= 0 else { throw SystemError(stage: "open log file", subject: path, errno: errno) }
        return descriptor
    }
}
