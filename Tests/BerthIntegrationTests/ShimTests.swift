import BerthTestSupport
import Foundation
import Testing

extension Binaries {
    /// berth-shim: the debug build `swift test` makes, unless BERTH_SHIM_BINARY names another.
    static let shim = ProcessInfo.processInfo.environment["BERTH_SHIM_BINARY"] ?? "\(packageRoot)/.build/debug/berth-shim"
}

/// berth-shim around one container of a Sandbox, driven over its socket as berthd will.
struct ShimClient {
    let stateDirectory: String
    var socket: String { "\(stateDirectory)/shim.sock" }

    /// Ends a shim a failed test left behind (SIGKILL; the Sandbox removes the container).
    func stop() {
        guard let text = try? String(contentsOfFile: "\(stateDirectory)/shim.pid", encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("berth-shim")
        else { return }
        kill(pid, SIGKILL)
    }

    /// One request; the answer's JSON.
    func send(_ request: String, timeout: Int = 30) throws -> [String: Any] {
        let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socket.utf8.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(connected == 0, "connect \(socket): \(String(cString: strerror(errno)))")
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let line = Array((request + "\n").utf8)
        _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(descriptor, &byte, 1) == 1, byte != 10 { bytes.append(byte) }
        return try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], "no answer to \(request)")
    }
}

@Suite("berth-shim: one container's monitor", .serialized, .enabled(if: Binaries.available))
struct ShimTests {
    /// Starts a shim for a new container of `sandbox` running `args`.
    func shim(_ sandbox: Sandbox, _ id: String, args: [String], edit: (inout [String: Any]) -> Void = { _ in }) throws -> (ShimClient, Output, String) {
        try sandbox.writeConfig(id: id, args: args, edit: edit)
        let stateDirectory = "\(sandbox.directory)/shim-\(id)"
        let logPath = "\(sandbox.directory)/\(id).log"
        let output = try execute(Binaries.shim, [
            "--id", id, "--bundle", sandbox.bundle, "--state-dir", stateDirectory, "--log-path", logPath,
            "--runtime", Binaries.berth, "--runtime-root", sandbox.root,
        ])
        return (ShimClient(stateDirectory: stateDirectory), output, logPath)
    }

    @Test("create, start, wait: the output lands in the CRI log file, the exit code in the state and exit.json; delete ends the shim")
    func lifecycle() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("shim")
        let (client, created, logPath) = try shim(sandbox, id, args: ["/bin/sh", "-c", "echo out; echo err >&2; printf 'no newline'; exit 3"])
        defer { client.stop() }
        try #require(created.status == 0, "\(created.stderr)")
        let pid = try #require(Int32(created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(created.stdout)")
        #expect(try sandbox.berth(["state", id]).stdout.contains("\"created\""))
        #expect(kill(pid, 0) == 0, "the init lives")

        let started = try client.send(#"{"op":"start"}"#)
        #expect(started["ok"] as? Bool == true, "\(started)")
        let waited = try client.send(#"{"op":"wait"}"#)
        let state = try #require(waited["state"] as? [String: Any], "\(waited)")
        #expect(state["status"] as? String == "exited" && state["exitCode"] as? Int == 3, "\(state)")
        #expect(state["oomKilled"] as? Bool == false)
        let exitFile = try String(contentsOfFile: "\(client.stateDirectory)/exit.json", encoding: .utf8)
        #expect(exitFile.contains("\"exitCode\":3"), "\(exitFile)")

        // Drained before the exit was answered: no waiting for the last lines.
        let records = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1) }
        #expect(records.map { $0.last ?? "" }.sorted() == ["stderr F err", "stdout F no newline", "stdout F out"], "\(records)")
        #expect(records.allSatisfy { $0.first?.hasSuffix("Z") == true && $0.first?.contains("T") == true }, "RFC 3339 times")

        let deleted = try client.send(#"{"op":"delete"}"#)
        #expect(deleted["ok"] as? Bool == true, "\(deleted)")
        try waitFor { !FileManager.default.fileExists(atPath: client.socket) }
        #expect(sandbox.leftovers(id: id).isEmpty, "\(sandbox.leftovers(id: id))")
    }

    @Test("kill through the shim: an init without a handler ignores SIGTERM, SIGKILL ends it (exit 137); delete of a running one is refused")
    func killing() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("shimkill")
        let (client, created, _) = try shim(sandbox, id, args: ["/bin/sleep", "1000"])
        defer { client.stop() }
        try #require(created.status == 0, "\(created.stderr)")
        #expect(try client.send(#"{"op":"start"}"#)["ok"] as? Bool == true)
        let refused = try client.send(#"{"op":"delete"}"#)
        #expect(refused["ok"] as? Bool == false && (refused["error"] as? String)?.contains("is running") == true, "\(refused)")
        // sleep is the pid namespace's init: without a handler it ignores SIGTERM (which is
        // why berthd follows the grace period with SIGKILL).
        #expect(try client.send(#"{"op":"kill","signal":15}"#)["ok"] as? Bool == true)
        usleep(300_000)
        #expect((try client.send(#"{"op":"state"}"#)["state"] as? [String: Any])?["status"] as? String == "running")
        #expect(try client.send(#"{"op":"kill","signal":9}"#)["ok"] as? Bool == true)
        let state = try client.send(#"{"op":"wait"}"#)["state"] as? [String: Any]
        #expect(state?["exitCode"] as? Int == 137, "\(String(describing: state))")
        #expect(try client.send(#"{"op":"delete"}"#)["ok"] as? Bool == true)
        try waitFor { !FileManager.default.fileExists(atPath: client.socket) }
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a create the runtime refuses: the shim says why, exits 1 and leaves no socket, process or container")
    func refusedCreate() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("shimbad")
        let (client, created, _) = try shim(sandbox, id, args: ["/bin/true"]) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = [["type": "bogus"]]
            config["linux"] = linux
        }
        #expect(created.status == 1 && created.stderr.contains("bogus"), "the runtime's own error: \(created.stdout) \(created.stderr)")
        #expect(!FileManager.default.fileExists(atPath: client.socket))
        #expect(!FileManager.default.fileExists(atPath: "\(client.stateDirectory)/shim.pid"), "no shim lives on")
        #expect(sandbox.leftovers(id: id).isEmpty, "\(sandbox.leftovers(id: id))")
    }
}
