import BerthTestSupport
import Foundation
import Testing

extension Binaries {
    /// berthd: the debug build `swift test` makes, unless `make test` names another.
    static let berthd = ProcessInfo.processInfo.environment["BERTHD_BINARY"] ?? "\(packageRoot)/.build/debug/berthd"
    /// The Python with the CRI client package (`make test` makes .build/venv).
    static let criPython = ProcessInfo.processInfo.environment["CRI_PYTHON"] ?? "\(packageRoot)/.build/venv/bin/python"
    /// Under `make test` always (a missing piece then fails loudly, not skips).
    static var daemonAvailable: Bool {
        if ProcessInfo.processInfo.environment["CRI_PYTHON"] != nil { return true }
        return getuid() == 0 && FileManager.default.isExecutableFile(atPath: berthd) && FileManager.default.isExecutableFile(atPath: criPython)
    }
}

/// A berthd on a private socket, root and state directory, stopped (SIGTERM, then SIGKILL)
/// and removed when the test ends.
final class RunningDaemon {
    let directory: String
    let socket: String
    let process: ChildProcess
    let logPath: String
    /// Set when another daemon goes on with this directory (a restart).
    var keepDirectory = false

    /// `reusing`: the directory of an earlier daemon (a restart after a crash). `config`:
    /// TOML for berthd's config file, to which the test's own CNI config directory is added.
    init(extraArguments: [String] = [], config: String = "", reusing: String? = nil) throws {
        directory = try reusing ?? makeTemporaryDirectory(prefix: "berthd-it")
        socket = "\(directory)/berth.sock"
        logPath = "\(directory)/berthd-\(UUID().uuidString.prefix(8)).log"
        try writeFile(logPath, "")
        // An empty config unless the test brings one: a host's /etc/berth/berthd.toml must
        // not change what the tests see.
        var arguments = extraArguments
        if !arguments.contains("--config") {
            // The CNI config directory is always the test's own (berthd writes its default
            // network there; the host's /etc/cni/net.d is never touched). The table goes
            // last, after any top-level keys of `config`.
            try writeFile("\(directory)/berthd.toml", config + "\n[network]\nconfig_dir = \"\(directory)/net.d\"\n")
            arguments += ["--config", "\(directory)/berthd.toml"]
        }
        process = try ChildProcess(
            Binaries.berthd, ["--address", socket, "--root", "\(directory)/root", "--state", "\(directory)/state"] + arguments,
            error: .file(logPath))
        // Ready once it says so (the socket file exists a moment before it serves).
        try waitFor { log.contains("serving CRI v1") || !process.isRunning }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// One CRI call through the independent Python client: the response, or its error.
    func call(_ method: String, _ request: String = "{}") throws -> [String: Any] {
        let output = try execute(Binaries.criPython, ["\(Binaries.packageRoot)/Tests/tools/cri_client.py", socket, method, request])
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return try #require(object, "\(method): \(output.stdout) \(output.stderr)")
    }

    /// SIGTERM and the exit status; SIGKILL after 10 s.
    func stop() -> Int32 { process.stop(grace: 10) }

    deinit {
        _ = stop()
        guard !keepDirectory else { return }
        // Whatever a failed test left mounted below the directory (container rootfs
        // overlays, pod /dev/shm) is detached first: removing files through a mount
        // would reach into what it shows.
        let mounts = ((try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count > 1 && fields[1].hasPrefix(directory + "/") ? String(fields[1]) : nil
        }
        for mount in mounts.reversed() { umount2(mount, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite("berthd: the CRI daemon", .serialized, .enabled(if: Binaries.daemonAvailable))
struct DaemonTests {
    @Test("Version, Status (NetworkReady from the CNI config) and RuntimeConfig answer the independent Python CRI client; the rest is UNIMPLEMENTED")
    func answers() throws {
        let daemon = try RunningDaemon()
        let version = try daemon.call("RuntimeService.Version")
        #expect(version["runtimeName"] as? String == "berth")
        #expect(version["runtimeApiVersion"] as? String == "v1")
        let status = try daemon.call("RuntimeService.Status", "{\"verbose\": true}")
        let conditions = (status["status"] as? [String: Any])?["conditions"] as? [[String: Any]] ?? []
        #expect(conditions.contains { $0["type"] as? String == "RuntimeReady" && $0["status"] as? Bool == true })
        let network = conditions.first { $0["type"] as? String == "NetworkReady" }
        #expect(network?["status"] as? Bool == true, "the default network is written and Debian's plugins are there: \(conditions)")
        let written = try String(contentsOfFile: "\(daemon.directory)/net.d/10-berth.conflist", encoding: .utf8)
        #expect(written.contains("\"bridge\": \"berth0\"") || written.contains("\"bridge\":\"berth0\""), "\(written)")
        #expect(((status["info"] as? [String: String])?["config"])?.contains(daemon.socket) == true)
        let config = try daemon.call("RuntimeService.RuntimeConfig")
        #expect(((config["linux"] as? [String: Any])?["cgroupDriver"] as? String) == "CGROUPFS")
        let unimplemented = try daemon.call("RuntimeService.Attach", #"{"containerId": "x"}"#)
        #expect((unimplemented["error"] as? [String: String])?["code"] == "UNIMPLEMENTED")
        #expect((unimplemented["error"] as? [String: String])?["details"]?.contains("Attach") == true)
    }

    @Test("NetworkReady is false, with the reason, when a plugin the network names is missing")
    func networkNotReady() throws {
        let directory = try makeTemporaryDirectory(prefix: "berthd-net")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: "\(directory)/net.d", withIntermediateDirectories: true)
        try writeFile("\(directory)/net.d/10-x.conflist", #"{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"no-such-plugin"}]}"#)
        try writeFile("\(directory)/berthd.toml", "[network]\nconfig_dir = \"\(directory)/net.d\"\n")
        let daemon = try RunningDaemon(extraArguments: ["--config", "\(directory)/berthd.toml"])
        let status = try daemon.call("RuntimeService.Status")
        let conditions = (status["status"] as? [String: Any])?["conditions"] as? [[String: Any]] ?? []
        let network = conditions.first { $0["type"] as? String == "NetworkReady" }
        #expect(network?["status"] == nil && network?["reason"] as? String == "NetworkPluginNotReady", "\(conditions)")
        #expect((network?["message"] as? String)?.contains("plugin \"no-such-plugin\" not found") == true, "\(conditions)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/net.d") == ["10-x.conflist"], "an existing network is kept")
    }

    @Test("the socket is mode 0660; SIGTERM stops berthd cleanly and removes it; a second daemon on a live socket or the same root is refused")
    func lifecycle() throws {
        let daemon = try RunningDaemon()
        var info = stat()
        #expect(stat(daemon.socket, &info) == 0 && info.st_mode & 0o777 == 0o660)
        let second = try execute(Binaries.berthd, ["--address", daemon.socket, "--root", "\(daemon.directory)/root2"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("another daemon is listening there"), "\(second.stderr)")
        let sameRoot = try execute(Binaries.berthd, ["--config", "\(daemon.directory)/berthd.toml", "--address", "\(daemon.directory)/other.sock", "--root", "\(daemon.directory)/root"])
        #expect(sameRoot.status == 1 && sameRoot.stderr.contains("is in use by another berthd"), "one berthd per root: \(sameRoot.stderr)")
        #expect(daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socket))
        #expect(daemon.log.contains("level=info msg=\"shutting down\""), "\(daemon.log)")
    }

    @Test("bad flags are refused naming the flag; JSON logs are one object per line")
    func flagsAndLogs() throws {
        let bad = try execute(Binaries.berthd, ["--log-level", "loud"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("--log-level \"loud\""), "\(bad.stderr)")
        let daemon = try RunningDaemon(extraArguments: ["--log-format", "json"])
        _ = daemon.stop()
        let lines = daemon.log.split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.allSatisfy { $0 != nil }, "every line is one JSON object: \(daemon.log)")
        #expect(objects.first??["msg"] as? String == "serving CRI v1", "\(daemon.log)")
        #expect(objects.contains { $0?["msg"] as? String == "stopped" })
    }
}
