import Glibc

/// berthctl's stdout and stderr, and whether stdout is a terminal (the live pull display).
public struct Console: Sendable {
    public var isTerminal: Bool { isatty(1) == 1 }

    public init() {}

    public func out(_ text: String) {
        write(1, text)
    }

    public func error(_ text: String) {
        write(2, text)
    }

    private func write(_ descriptor: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
