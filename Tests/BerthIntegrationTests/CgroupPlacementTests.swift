import Foundation
import Testing

@Suite("cgroup placement on this host's layout", .enabled(if: Binaries.available))
struct CgroupPlacementTests {
    @Test("the container lives in its cgroupsPath in every hierarchy, which delete removes with the parents berth made")
    func placement() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("cgroup")
        let parent = "berth-test-kube-\(id)"
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "100"]) { config in
            set(&config, ["linux", "cgroupsPath"], "/\(parent)/burstable/pod1234/\(id)")
            // Without a cgroup namespace the container sees its full path.
            set(&config, ["linux", "namespaces"], [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]])
        }
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        let state = try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["state", id]).stdout.utf8)) as? [String: Any]
        let pid = try #require(state?["pid"] as? Int)
        let procCgroup = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        for line in procCgroup.split(separator: "\n") {
            #expect(line.hasSuffix("/\(parent)/burstable/pod1234/\(id)"), "\(line)")
        }
        let hierarchies = try FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")
        for hierarchy in hierarchies {
            let procs = "/sys/fs/cgroup/\(hierarchy)/\(parent)/burstable/pod1234/\(id)/cgroup.procs"
            #expect(try String(contentsOfFile: procs, encoding: .utf8).contains("\(pid)"), "\(procs)")
        }
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
        for hierarchy in hierarchies {
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)/\(parent)"), "\(hierarchy)")
        }
    }

    @Test("a parent cgroup that existed before is left in place")
    func existingParentStays() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("keepparent")
        let parent = "berth-test-existing-\(id)"
        let hierarchies = try FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")
        for hierarchy in hierarchies { mkdir("/sys/fs/cgroup/\(hierarchy)/\(parent)", 0o755) }
        defer { for hierarchy in hierarchies { rmdir("/sys/fs/cgroup/\(hierarchy)/\(parent)") } }
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "exit", "0"]) { set(&$0, ["linux", "cgroupsPath"], "/\(parent)/\(id)") }
        #expect(try sandbox.berth(["run", "-b", sandbox.bundle, id]).status == 0)
        for hierarchy in hierarchies {
            #expect(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)/\(parent)"))
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)/\(parent)/\(id)"))
        }
    }

    @Test("with a cgroup namespace the container sees its own cgroup as the root, read-only")
    func cgroupNamespace() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("cgroupns")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        for line in (report["cgroup"] as? String ?? "").split(separator: "\n") {
            #expect(line.hasSuffix(":/"), "\(line)")
        }
        let memory = try #require(report.mount(at: "/sys/fs/cgroup/memory"))
        #expect(memory["options"]?.hasPrefix("ro") == true)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("kill --all signals every process in the container's cgroup")
    func killAll() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("killall")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "/bin/probe sleep 100 & /bin/probe sleep 100 & wait"])
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        let directory = try #require(Sandbox.cgroupDirectories(id: id).first { $0.contains("/pids/") })
        try waitFor { ((try? String(contentsOfFile: "\(directory)/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n").count == 3 }
        #expect(try sandbox.berth(["kill", "--all", id, "KILL"]).status == 0)
        try waitFor { (try? sandbox.berth(["state", id]).stdout.contains("\"stopped\"")) == true }
        try waitFor { ((try? String(contentsOfFile: "\(directory)/cgroup.procs", encoding: .utf8)) ?? "x").isEmpty }
        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("delete removes the cgroups a container made below its own")
    func childCgroupsRemoved() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("nested")
        // A writable cgroup mount lets the container make sub-cgroups (as systemd or a
        // nested runtime inside it would) and move itself into one.
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "mkdir -p /sys/fs/cgroup/pids/inner/deeper && echo $$ > /sys/fs/cgroup/pids/inner/deeper/cgroup.procs && exec /bin/probe sleep 100"]) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts[mounts.count - 1]["options"] = ["nosuid", "noexec", "nodev"]
            config["mounts"] = mounts
        }
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        let inner = "/sys/fs/cgroup/pids/berth-test/\(id)/inner/deeper"
        try waitFor { ((try? String(contentsOfFile: "\(inner)/cgroup.procs", encoding: .utf8)) ?? "").isEmpty == false }
        // ps finds the process in the sub-cgroup.
        let pids = try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["ps", "--format", "json", id]).stdout.utf8)) as? [Int]
        #expect(pids?.count == 1)
        #expect(try sandbox.berth(["delete", "--force", id]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/berth-test/\(id)"))
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("--systemd-cgroup is a clear error where systemd is not PID 1")
    func systemdDriver() throws {
        let output = try execute(Binaries.berth, ["--systemd-cgroup", "list"])
        #expect(output.status == 1)
        #expect(output.stderr.contains("--systemd-cgroup"))
    }
}
