import BerthSystem
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
        // A closed pipe (berthctl images | head) loses the rest, as with crictl.
        try? FileSystem.writeAll(descriptor, Array(text.utf8), path: descriptor == 1 ? "stdout" : "stderr")
    }
}
