import BerthTestSupport
import Foundation
import Testing

/// The init's pid, from `berth state`.
func initPid(_ sandbox: Sandbox, _ id: String) throws -> Int {
    let state = try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["state", id]).stdout.utf8)) as? [String: Any]
    return try #require(state?["pid"] as? Int)
}

/// Where the namespace links of `pid` point, as seen from the host.
func namespaceLinks(pid: Int) -> [String: String] {
    var links: [String: String] = [:]
    for name in ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"] {
        links[name] = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(name)")
    }
    return links
}

/// Whether `pid` exists and is not a zombie.
func isAlive(pid: Int) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    return !stat[close...].hasPrefix(") Z")
}

@Suite("exec", .enabled(if: Binaries.available))
struct ExecTests {
    /// A running container whose init sleeps, with `edit` applied to its config.
    func running(_ sandbox: Sandbox, _ name: String, edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let id = sandbox.newID(name)
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "1000"], edit: edit)
        let run = try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id])
        try #require(run.status == 0, "\(run.stderr)")
        return id
    }

    @Test("the process joins every namespace of the init and its cgroups, and its exit code comes back")
    func joins() throws {
        let sandbox = try Sandbox()
        let id = try running(sandbox, "exec")
        let output = try sandbox.berth(["exec", id, "/bin/probe"])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        let expected = namespaceLinks(pid: try initPid(sandbox, id))
        let namespaces = try #require(report["namespaces"] as? [String: String])
        for name in ["cgroup", "ipc", "mnt", "net", "pid", "uts"] {
            #expect(namespaces[name] == expected[name], "\(name)")
        }
        #expect(report["hostname"] as? String == "berth-test")
        #expect(report["ppid"] as? Int == 0, "the parent (berth exec) is outside the container's pid namespace")

        let detached = try sandbox.berth(["exec", "-d", "--pid-file", "\(sandbox.directory)/exec.pid", id, "/bin/probe", "sleep", "1000"])
        #expect(detached.status == 0, "\(detached.stderr)")
        let pid = try #require(Int(try String(contentsOfFile: "\(sandbox.directory)/exec.pid", encoding: .utf8)))
        let cgroups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        for line in cgroups.split(separator: "\n") where line.contains(":memory:") || line.contains(":pids:") {
            #expect(line.hasSuffix("/berth-test/\(id)"), "\(line)")
        }
        let ps = try sandbox.berth(["ps", "--format", "json", id])
        #expect(ps.stdout.contains("\(pid)"), "\(ps.stdout)")

        #expect(try sandbox.berth(["exec", id, "/bin/sh", "-c", "exit 7"]).status == 7)
        #expect(try sandbox.berth(["exec", id, "/bin/sh", "-c", "kill -9 $$"]).status == 137)
        #expect(try sandbox.berth(["exec", id, "/bin/cat"], stdin: "through stdin\n").stdout == "through stdin\n")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
        #expect(!isAlive(pid: pid), "the detached exec process died with the container")
    }

    @Test("runc's exec flags: user, groups, env, cwd, capabilities, no_new_privs, preserved fds")
    func flags() throws {
        let sandbox = try Sandbox()
        let id = try running(sandbox, "flags") { config in
            let capabilities = ["CAP_CHOWN", "CAP_KILL"]
            set(&config, ["process", "capabilities"], ["bounding": capabilities, "effective": capabilities, "permitted": capabilities])
        }
        let output = try sandbox.berth([
            "exec", "--user", "1000:1000", "--additional-gids", "5", "--additional-gids", "6", "--env", "EXTRA=yes", "--cwd", "/tmp",
            "--cap", "CAP_NET_ADMIN", "--no-new-privs", id, "/bin/probe",
        ])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        #expect(report["uid"] as? Int == 1000)
        #expect(report["gid"] as? Int == 1000)
        #expect(report["groups"] as? [Int] == [5, 6])
        #expect(report["cwd"] as? String == "/tmp")
        let env = report["env"] as? [String] ?? []
        #expect(env.contains("EXTRA=yes") && env.contains("PATH=/bin:/usr/bin"), "\(env)")
        // CAP_CHOWN (0), CAP_KILL (5) and the added CAP_NET_ADMIN (12) bound the process.
        #expect(report["capBnd"] as? String == "0000000000001021")
        #expect(report["noNewPrivs"] as? String == "1")

        let root = try ProbeReport(try sandbox.berth(["exec", id, "/bin/probe"]).stdout)
        #expect(root["capEff"] as? String == "0000000000000021", "the container's own capabilities by default")
        #expect(root["noNewPrivs"] as? String == "0")

        let shell = "exec 3</etc/hostname; \(Binaries.berth) --root \(sandbox.root) exec --preserve-fds 1 \(id) /bin/probe"
        let withThree = try execute("/bin/sh", ["-c", shell])
        #expect(try ProbeReport(withThree.stdout).fds.contains(3), "\(withThree.stdout) \(withThree.stderr)")
        let withoutThree = try execute("/bin/sh", ["-c", "exec 3</etc/hostname; \(Binaries.berth) --root \(sandbox.root) exec \(id) /bin/probe"])
        #expect(!(try ProbeReport(withoutThree.stdout).fds.contains(3)), "fds are closed unless preserved")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
    }

    @Test("--process takes a whole process.json")
    func processFile() throws {
        let sandbox = try Sandbox()
        let id = try running(sandbox, "process")
        let process: [String: Any] = [
            "terminal": false, "user": ["uid": 1000, "gid": 1000], "args": ["/bin/probe"], "env": ["ONLY=this"], "cwd": "/etc",
        ]
        try writeFile("\(sandbox.directory)/process.json", String(decoding: try JSONSerialization.data(withJSONObject: process), as: UTF8.self))
        let output = try sandbox.berth(["exec", "--process", "\(sandbox.directory)/process.json", id])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        #expect(report["uid"] as? Int == 1000)
        #expect(report["cwd"] as? String == "/etc")
        #expect((report["env"] as? [String] ?? []).contains("ONLY=this"))
        try writeFile("\(sandbox.directory)/broken.json", "{\"args\": [")
        let broken = try sandbox.berth(["exec", "--process", "\(sandbox.directory)/broken.json", id])
        #expect(broken.status == 255, "runc's exec fails with 255")
        #expect(broken.stderr.contains("--process \(sandbox.directory)/broken.json"), "\(broken.stderr)")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
    }

    @Test("the container's seccomp filter applies to exec'd processes")
    func seccomp() throws {
        let sandbox = try Sandbox()
        let id = try running(sandbox, "seccomp") { config in
            set(&config, ["linux", "seccomp"], [
                "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
                "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1]],
            ])
        }
        let output = try sandbox.berth(["exec", id, "/bin/sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/denied 2>&1; echo made >/tmp/allowed"])
        #expect(output.stdout.contains("Seccomp:\t2"), "\(output.stdout)")
        #expect(output.stdout.contains("Operation not permitted"), "\(output.stdout)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/denied"))
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/allowed"), "only mkdir is refused")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
    }

    @Test("exec refuses clearly: unknown, stopped and paused containers (unless --ignore-paused: it runs once resumed), a missing program, no command")
    func refusals() throws {
        let sandbox = try Sandbox()
        let unknown = try sandbox.berth(["exec", "nosuch", "/bin/true"])
        #expect(unknown.status == 255, "runc's exec fails with 255")
        #expect(unknown.stderr.contains("nosuch"), "\(unknown.stderr)")

        let id = try running(sandbox, "refuse")
        let missing = try sandbox.berth(["exec", id, "/bin/nonexistent"])
        #expect(missing.status == 255, "runc's exec fails with 255")
        #expect(missing.stderr.contains("exec failed: unable to start container process: exec: \\\"/bin/nonexistent\\\""), "\(missing.stderr)")
        let processes = try sandbox.berth(["ps", "--format", "json", id]).stdout
        #expect(processes == "[\(try initPid(sandbox, id))]\n", "nothing of a failed exec is left: \(processes)")
        let noCommand = try sandbox.berth(["exec", id])
        #expect(noCommand.status == 255, "runc's exec fails with 255")
        #expect(noCommand.stderr.contains("command"), "\(noCommand.stderr)")
        let badUser = try sandbox.berth(["exec", "--user", "bob", id, "/bin/true"])
        #expect(badUser.stderr.contains("--user \\\"bob\\\""), "\(badUser.stderr)")

        #expect(try sandbox.berth(["pause", id]).status == 0)
        let paused = try sandbox.berth(["exec", id, "/bin/true"])
        #expect(paused.status == 255, "runc's exec fails with 255")
        #expect(paused.stderr.contains("paused"), "\(paused.stderr)")
        // --ignore-paused: the exec joins the frozen container and runs once it is resumed.
        let ignoring = try ChildProcess(
            Binaries.berth, ["--root", sandbox.root, "exec", "--ignore-paused", id, "/bin/touch", "/tmp/after-resume"], output: .file("\(sandbox.directory)/ignore.out"),
            error: .file("\(sandbox.directory)/ignore.err"))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/after-resume"), "frozen with the container")
        #expect(try sandbox.berth(["resume", id]).status == 0)
        let ignored = try ignoring.waitOrKill(timeout: 20)
        #expect(ignored == 0, "\((try? String(contentsOfFile: "\(sandbox.directory)/ignore.err", encoding: .utf8)) ?? "")")
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/after-resume"))

        #expect(try sandbox.berth(["kill", id, "KILL"]).status == 0)
        try waitFor { (try? sandbox.berth(["state", id]).stdout.contains("\"stopped\"")) == true }
        let stopped = try sandbox.berth(["exec", id, "/bin/true"])
        #expect(stopped.status == 255, "runc's exec fails with 255")
        #expect(stopped.stderr.contains("cannot exec in a stopped container"), "\(stopped.stderr)")
        #expect(try sandbox.berth(["delete", id]).status == 0)
    }

    @Test("a cgroup v2 directory with controllers for sub-cgroups cannot take the process: it joins the init's cgroup there")
    func cgroupV2Subgroups() throws {
        guard FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.subtree_control") else { return }
        let sandbox = try Sandbox()
        let id = try running(sandbox, "subgroups")
        let container = try #require(Sandbox.cgroupDirectories(id: id).first { $0.contains("/unified/") })
        let leaf = "\(container)/init"
        try FileManager.default.createDirectory(atPath: leaf, withIntermediateDirectories: false)
        try writeFile("\(leaf)/cgroup.procs", "\(try initPid(sandbox, id))")
        try writeFile("\(container)/cgroup.subtree_control", "+hugetlb")
        let output = try sandbox.berth(["exec", "-d", "--pid-file", "\(sandbox.directory)/sub.pid", id, "/bin/probe", "sleep", "1000"])
        #expect(output.status == 0, "\(output.stderr)")
        let pid = try #require(Int(try String(contentsOfFile: "\(sandbox.directory)/sub.pid", encoding: .utf8)))
        let cgroups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        #expect(cgroups.contains("0::/berth-test/\(id)/init"), "\(cgroups)")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}
