import Foundation
import Testing

@Suite("escape classes", .enabled(if: Binaries.available))
struct SecurityTests {
    @Test("a rootfs whose /etc points at the host's /etc cannot make a mount land on the host")
    func symlinkedMountDestination() throws {
        let sandbox = try Sandbox()
        let marker = "berth-escape-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try FileManager.default.removeItem(atPath: "\(sandbox.rootfs)/etc")
        try FileManager.default.createSymbolicLink(atPath: "\(sandbox.rootfs)/etc", withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: "\(sandbox.rootfs)/up", withDestinationPath: "../../../../../../../etc")
        for destination in ["/etc/\(marker)", "/up/\(marker)"] {
            let id = sandbox.newID("escape")
            try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
                append(&config, ["mounts"], ["destination": destination, "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]])
            }
            let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
            #expect(!FileManager.default.fileExists(atPath: "/etc/\(marker)"), "\(destination) reached the host")
            if output.status == 0 {
                // It resolved inside the rootfs instead.
                #expect(try ProbeReport(output.stdout).mounts.contains { $0["path"]?.hasSuffix(marker) == true })
            } else {
                #expect(output.stderr.contains(destination) || output.stderr.contains("mounts["), "\(output.stderr)")
            }
            #expect(sandbox.leftovers(id: id).isEmpty)
            rmdir("/etc/\(marker)")
        }
    }

    @Test("procfs cannot be mounted through a symlink")
    func symlinkedProc() throws {
        let sandbox = try Sandbox()
        try FileManager.default.removeItem(atPath: "\(sandbox.rootfs)/proc")
        try FileManager.default.createDirectory(atPath: "\(sandbox.rootfs)/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(sandbox.rootfs)/proc", withDestinationPath: "/elsewhere")
        let id = sandbox.newID("procsymlink")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("proc must be mounted on a real directory"), "\(output.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("descriptors berth inherits do not reach the container, except --preserve-fds")
    func descriptors() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("fds")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        // The shell opens fds 3 and 7 (not close-on-exec) before running berth.
        let script = "exec 3</etc/hostname 7</etc/passwd; exec \(Binaries.berth) --root \(sandbox.root) run -b \(sandbox.bundle) \(id)"
        let output = try execute("/bin/sh", ["-c", script])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        #expect(report.fds == [0, 1, 2])
        let preserved = sandbox.newID("preserve")
        try sandbox.writeConfig(id: preserved, args: ["/bin/probe"])
        let keep = "exec 3</etc/hostname 7</etc/passwd; exec \(Binaries.berth) --root \(sandbox.root) run --preserve-fds 1 -b \(sandbox.bundle) \(preserved)"
        let second = try ProbeReport(try execute("/bin/sh", ["-c", keep]).stdout)
        #expect(second.fds == [0, 1, 2, 3])
        // Nothing the container holds points at the host: every target is a pipe, a
        // device or a path inside the container.
        for entry in report.object["fds"] as? [[String: Any]] ?? [] {
            let target = entry["target"] as? String ?? ""
            #expect(!target.contains(sandbox.directory), "fd \(entry)")
        }
        #expect(report["cwd"] as? String == "/")
    }

    @Test("a container cannot reach the berth binary through /proc/self/exe (CVE-2019-5736 class)")
    func procSelfExe() throws {
        let sandbox = try Sandbox()
        let before = try Data(contentsOf: URL(fileURLWithPath: Binaries.berth))
        // An entrypoint that is a "#!/proc/self/exe" script: the kernel would run whatever
        // /proc/self/exe is at exec time. With the trampoline that is a sealed memfd that
        // refuses to run; the berth binary never runs inside the container.
        try writeFile("\(sandbox.rootfs)/bin/evil", "#!/proc/self/exe\n")
        chmod("\(sandbox.rootfs)/bin/evil", 0o755)
        let id = sandbox.newID("exe")
        try sandbox.writeConfig(id: id, args: ["/bin/evil"])
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 126, "\(output.stdout) \(output.stderr)")
        #expect(output.stderr.contains("refusing to run the exec trampoline"))
        // Exec'ing /proc/self/exe directly gets the same refusal.
        let direct = sandbox.newID("exe")
        try sandbox.writeConfig(id: direct, args: ["/proc/self/exe", "--version"])
        let directOutput = try sandbox.berth(["run", "-b", sandbox.bundle, direct])
        #expect(directOutput.status == 126, "\(directOutput.stderr)")
        #expect(!directOutput.stdout.contains("berth version"))
        // A program in the container that tries to write its own exe gets nowhere near berth.
        let writer = sandbox.newID("exe")
        try sandbox.writeConfig(id: writer, args: ["/bin/probe", "report"])
        let report = try ProbeReport(try sandbox.berth(["run", "-b", sandbox.bundle, writer]).stdout)
        #expect(report["exe"] as? String == "/bin/probe")
        #expect(try Data(contentsOf: URL(fileURLWithPath: Binaries.berth)) == before)
    }

    @Test("the waiting init of a created container is not dumpable, so its /proc files are root's")
    func nonDumpableInit() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("dumpable")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "100"]) { set(&$0, ["process", "user"], ["uid": 1000, "gid": 1000]) }
        #expect(try sandbox.berth(["create", "-b", sandbox.bundle, id]).status == 0)
        let state = try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["state", id]).stdout.utf8)) as? [String: Any]
        let pid = try #require(state?["pid"] as? Int)
        // The init already runs as uid 1000; a dumpable process's /proc/<pid> files would be
        // owned by 1000, a non-dumpable one's stay root's.
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(status.contains("Uid:\t1000"))
        let attributes = try FileManager.default.attributesOfItem(atPath: "/proc/\(pid)/environ")
        #expect(attributes[.ownerAccountID] as? Int == 0)
        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}

@Suite("refusals that protect the host", .enabled(if: Binaries.available))
struct HostProtectionTests {
    @Test("a mount namespace joined by path is refused (the rootfs would be built in it)")
    func joinedMountNamespace() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("mntpath")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            set(&config, ["linux", "namespaces"], [["type": "pid"], ["type": "mount", "path": "/proc/1/ns/mnt"]])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("a mount namespace cannot be joined by path"), "\(output.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a net sysctl in the host's network namespace, joined by path, is refused")
    func sysctlInHostNamespace() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("hostnet")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            set(&config, ["linux", "namespaces"], [["type": "pid"], ["type": "mount"], ["type": "uts"], ["type": "network", "path": "/proc/self/ns/net"]])
            set(&config, ["linux", "sysctl"], ["net.ipv4.ip_default_ttl": "13"])
        }
        let before = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_default_ttl", encoding: .utf8)
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("host's network namespace"), "\(output.stderr)")
        #expect(try String(contentsOfFile: "/proc/sys/net/ipv4/ip_default_ttl", encoding: .utf8) == before)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a cgroupsPath naming a cgroup that already has processes is refused")
    func populatedCgroup() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("busycg")
        // The test process's own memory cgroup has processes (this one).
        let own = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        let pidsPath = try #require(own.split(separator: "\n").first { $0.contains(":pids:") }?.split(separator: ":", maxSplits: 2).last)
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { set(&$0, ["linux", "cgroupsPath"], String(pidsPath)) }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("already has processes"), "\(output.stderr)")
    }

    @Test("--preserve-fds with a gap in the range is refused")
    func preserveGap() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("gap")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        let script = "exec 3</etc/hostname; exec \(Binaries.berth) --root \(sandbox.root) run --preserve-fds 3 -b \(sandbox.bundle) \(id)"
        let output = try execute("/bin/sh", ["-c", script])
        #expect(output.status == 1)
        #expect(output.stderr.contains("descriptor 4 is not open"), "\(output.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}
