import BerthJSON
import BerthSystem
import CBerth
import Glibc

/// The OCI runtime the shim drives through runc's command line (berth, runc or crun):
/// `--root`, `--log FILE --log-format json`, then the command. A failed command's error is
/// the last `error` line of that JSON log, as containerd reads it.
public struct RuntimeCommand: Sendable {
    public let path: String
    public let root: String?
    public let logPath: String

    public init(path: String, root: String?, logPath: String) {
        self.path = path
        self.root = root
        self.logPath = logPath
    }

    /// Runs `arguments` with the given descriptors as its stdio and waits for it.
    public func run(_ arguments: [String], input: Int32, output: Int32, error: Int32) throws(SystemError) {
        var words = [path]
        if let root { words += ["--root", root] }
        words += ["--log", logPath, "--log-format", "json"] + arguments
        // Each command's errors only: an earlier command's must not be reported as this one's.
        truncate(logPath, 0)
        let pid = try ProcessSpawn.spawn(words, input: input, output: output, error: error)
        let status = ProcessSpawn.waitStatus(pid)
        guard status == 0 else {
            let code = status > 128 ? "signal \(status - 128)" : "exit status \(status)"
            throw SystemError(stage: "\(path) \(arguments.first ?? "")", errno: 0, detail: lastError() ?? code)
        }
    }

    /// The message of the runtime log's last error line.
    func lastError() -> String? {
        guard let text = try? FileSystem.readText(logPath) else { return nil }
        for line in text.split(separator: "\n").reversed() {
            guard let value = try? JSONParser.parse(String(line)) else { continue }
            if value["level"]?.stringValue == "error" || value["level"]?.stringValue == "fatal", let message = value["msg"]?.stringValue { return message }
        }
        return nil
    }
}
