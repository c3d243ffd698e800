import Foundation
import Testing

@Suite("cgroup resources, update, pause, ps", .enabled(if: Binaries.available))
struct ResourceTests {
    func cgroupFile(_ id: String, _ controller: String, _ file: String) throws -> String {
        try String(contentsOfFile: "/sys/fs/cgroup/\(controller)/berth-test/\(id)/\(file)", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("limits land in the cgroup files and are visible inside; update changes them; pause and resume freeze and thaw")
    func limitsUpdatePause() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("limits")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; exec /bin/probe sleep 100"]) { config in
            set(&config, ["linux", "resources"], [
                "memory": ["limit": 64 << 20], "pids": ["limit": 40], "cpu": ["shares": 512, "quota": 50000, "period": 100000],
                "devices": [["allow": false, "access": "rwm"]],
            ])
        }
        let log = "\(sandbox.directory)/limits.out"
        let script = "exec \(Binaries.berth) --root \(sandbox.root) run -d -b \(sandbox.bundle) \(id) > \(log) 2>&1"
        #expect(try execute("/bin/sh", ["-c", script]).status == 0)
        try waitFor { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count >= 2 }
        #expect(try String(contentsOfFile: log, encoding: .utf8).hasPrefix("67108864\n40\n"))
        #expect(try cgroupFile(id, "cpu", "cpu.shares") == "512")
        #expect(try cgroupFile(id, "cpu", "cpu.cfs_quota_us") == "50000")

        #expect(try sandbox.berth(["update", "--memory", "128m", "--pids-limit", "99", "--cpu-shares", "256", id]).status == 0)
        #expect(try cgroupFile(id, "memory", "memory.limit_in_bytes") == "134217728")
        #expect(try cgroupFile(id, "pids", "pids.max") == "99")
        #expect(try cgroupFile(id, "cpu", "cpu.shares") == "256")
        let refused = try sandbox.berth(["update", "--memory", "1k", id])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("memory.limit_in_bytes"), "\(refused.stderr)")

        // -r takes runc's resources JSON, here from stdin; checkBeforeUpdate refuses a limit
        // below the current usage.
        #expect(try sandbox.berth(["update", "-r", "-", id], stdin: "{\"pids\": {\"limit\": 55}, \"unknownField\": 1}").status == 0)
        #expect(try cgroupFile(id, "pids", "pids.max") == "55")
        let checked = try sandbox.berth(["update", "-r", "-", id], stdin: "{\"memory\": {\"limit\": 4096, \"checkBeforeUpdate\": true}}")
        #expect(checked.status == 1)
        #expect(checked.stderr.contains("checkBeforeUpdate"), "\(checked.stderr)")
        let ps = try sandbox.berth(["ps", "--format", "json", id])
        let pids = try JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [Int]
        #expect(pids?.count == 1)
        #expect(try sandbox.berth(["ps", id]).stdout.contains("probe sleep 100"))

        #expect(try sandbox.berth(["pause", id]).status == 0)
        #expect(try sandbox.berth(["state", id]).stdout.contains("\"paused\""))
        #expect(try cgroupFile(id, "freezer", "freezer.state") == "FROZEN")
        #expect(try sandbox.berth(["pause", id]).stderr.contains("container not running"))
        #expect(try sandbox.berth(["resume", id]).status == 0)
        #expect(try sandbox.berth(["state", id]).stdout.contains("\"running\""))
        #expect(try sandbox.berth(["pause", id]).status == 0)
        // kill and delete --force work on a paused container.
        #expect(try sandbox.berth(["delete", "--force", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a memory hog is OOM-killed: run exits 137")
    func oomKill() throws {
        let sandbox = try Sandbox(tools: ["sh", "cat", "tail", "head"])
        let id = sandbox.newID("oom")
        // tail buffers all of /dev/zero looking for the last line: it only grows.
        try sandbox.writeConfig(id: id, args: ["/bin/tail", "/dev/zero"]) { config in
            set(&config, ["linux", "resources"], ["memory": ["limit": 32 << 20, "swap": 32 << 20]])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 137, "\(output.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a fork bomb stops at pids.limit")
    func pidsLimit() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("pids")
        // A subshell forks 30 background sleeps against a limit of 10 (busybox sh gives up
        // when fork fails); the outer shell then reads the count and the refusals with
        // builtins only, since no fork is left to spare.
        let script = "(for i in $(seq 1 30); do sleep 5 & done) 2>/dev/null; read n < /sys/fs/cgroup/pids/pids.current; read e < /sys/fs/cgroup/pids/pids.events; echo $n; echo $e"
        try FileManager.default.createSymbolicLink(atPath: "\(sandbox.rootfs)/bin/seq", withDestinationPath: "busybox")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", script]) { config in
            set(&config, ["linux", "resources"], ["pids": ["limit": 10]])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        let lines = output.stdout.split(separator: "\n")
        let count = Int(lines.first ?? "") ?? 0
        #expect(count > 0 && count <= 10, "\(output.stdout) \(output.stderr)")
        #expect(lines.count == 2 && lines[1].hasPrefix("max ") && lines[1] != "max 0", "\(output.stdout)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}

@Suite("berth events", .enabled(if: Binaries.available))
struct EventsTests {
    @Test("events --stats reports cpu throttling, memory and pids; events reports the OOM kill and ends with the container")
    func statsAndOOM() throws {
        let sandbox = try Sandbox(tools: ["sh", "sleep", "tail", "cat"])
        let id = sandbox.newID("events")
        // A busy loop under a 10% CPU quota is throttled; then a memory hog is OOM-killed.
        let script = "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; sleep 0.5; tail /dev/zero; sleep 1"
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", script]) { config in
            set(&config, ["linux", "resources"], [
                "memory": ["limit": 32 << 20, "swap": 32 << 20], "cpu": ["quota": 10000, "period": 100000], "pids": ["limit": 20],
            ])
        }
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        let stats = try sandbox.berth(["events", "--stats", id])
        #expect(stats.status == 0, "\(stats.stderr)")
        let event = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(event?["type"] as? String == "stats")
        let data = event?["data"] as? [String: Any]
        let memory = (data?["memory"] as? [String: Any])?["usage"] as? [String: Any]
        #expect(memory?["limit"] as? Int == 32 << 20)
        #expect(((data?["pids"] as? [String: Any])?["limit"] as? Int) == 20)
        #expect(((data?["memory"] as? [String: Any])?["raw"] as? [String: Any])?["rss"] != nil)

        let watch = try sandbox.berth(["events", "--interval", "200ms", id])
        #expect(watch.status == 0, "\(watch.stderr)")
        let lines = watch.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.contains { $0["type"] as? String == "oom" && $0["id"] as? String == id }, "\(watch.stdout.prefix(400))")
        let throttled = lines.compactMap { (($0["data"] as? [String: Any])?["cpu"] as? [String: Any])?["throttling"] as? [String: Any] }
            .compactMap { $0["throttled_periods"] as? Int }.max() ?? 0
        #expect(throttled > 0)
        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}
