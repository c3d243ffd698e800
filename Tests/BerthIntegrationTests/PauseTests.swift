import BerthTestSupport
import Foundation
import Testing

extension Binaries {
    /// berth-pause, which `make build` compiles with gcc; built here when missing.
    static let pause: String = {
        if let path = ProcessInfo.processInfo.environment["BERTH_PAUSE"] { return path }
        let path = "\(packageRoot)/.build/berth-pause-test"
        if !FileManager.default.isExecutableFile(atPath: path) {
            _ = try? runCommand("/usr/bin/gcc", ["-static", "-Os", "-s", "-o", path, "\(packageRoot)/tools/pause/pause.c"], timeout: 120)
        }
        return path
    }()
}

@Suite("berth-pause: a pod's infra process", .enabled(if: Binaries.available))
struct PauseTests {
    @Test("as a container's init it reaps orphans that land on it, and SIGTERM ends it (pid 1 with a handler)")
    func pause() throws {
        let sandbox = try Sandbox()
        try FileManager.default.copyItem(atPath: Binaries.pause, toPath: "\(sandbox.rootfs)/pause")
        let id = sandbox.newID("pause")
        try sandbox.writeConfig(id: id, args: ["/pause"])
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        // An orphan: the exec'd shell exits at once, its background sleep is reparented to
        // pid 1 of the container's pid namespace, which must reap it when it ends.
        #expect(try sandbox.berth(["exec", id, "/bin/sh", "-c", "sleep 0.3 & exit 0"]).status == 0)
        usleep(1_000_000)
        let pids = try sandbox.berth(["ps", "--format", "json", id]).stdout
        let list = try #require(JSONSerialization.jsonObject(with: Data(pids.utf8)) as? [Int], "\(pids)")
        for pid in list {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            #expect(state != "Z", "no zombie: \(stat)")
        }
        #expect(list.count == 1, "only the pause process is left: \(list)")
        #expect(try sandbox.berth(["kill", id, "TERM"]).status == 0)
        try waitFor { (try? sandbox.berth(["state", id]).stdout.contains("\"stopped\"")) == true }
        #expect(try sandbox.berth(["delete", id]).status == 0)
        let version = try execute(Binaries.pause, ["--version"])
        #expect(version.stdout == "berth-pause 0.1.0\n")
    }
}
