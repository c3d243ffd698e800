import Foundation
import Testing

/// Edits a nested dictionary member: `set(&config, ["process", "user", "uid"], 1000)`.
func set(_ dictionary: inout [String: Any], _ path: [String], _ value: Any?) {
    guard let first = path.first else { return }
    if path.count == 1 {
        dictionary[first] = value
        return
    }
    var child = dictionary[first] as? [String: Any] ?? [:]
    set(&child, Array(path.dropFirst()), value)
    dictionary[first] = child
}

func append(_ dictionary: inout [String: Any], _ path: [String], _ value: Any) {
    var list = (path.reduce(dictionary as Any?) { ($0 as? [String: Any])?[$1] }) as? [Any] ?? []
    list.append(value)
    set(&dictionary, path, list)
}

@Suite("what a container gets from config.json", .enabled(if: Binaries.available))
struct ContainerConfigTests {
    func run(_ sandbox: Sandbox, _ id: String, args: [String] = ["/bin/probe"], edit: (inout [String: Any]) -> Void) throws -> Output {
        try sandbox.writeConfig(id: id, args: args, edit: edit)
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(sandbox.leftovers(id: id).isEmpty)
        return output
    }

    @Test("the process gets its user, groups, umask, rlimits, cwd, env and no_new_privs")
    func processSettings() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("process")
        let output = try run(sandbox, id) { config in
            set(&config, ["process", "user"], ["uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 0o027])
            set(&config, ["process", "cwd"], "/home/work")
            set(&config, ["process", "env"], ["PATH=/bin", "GREETING=hello world"])
            set(&config, ["process", "rlimits"], [["type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000]])
            set(&config, ["process", "noNewPrivileges"], true)
            set(&config, ["process", "oomScoreAdj"], 500)
        }
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        #expect(report.int("uid") == 1000)
        #expect(report.int("gid") == 1000)
        #expect((report["groups"] as? [Int])?.sorted() == [10, 20])
        #expect(report.int("umask") == 0o027)
        #expect(report["cwd"] as? String == "/home/work")
        #expect((report["nofile"] as? [String: Int]) == ["soft": 512, "hard": 1000])
        #expect(report["noNewPrivs"] as? String == "1")
        #expect(report["oomScoreAdj"] as? String == "500")
        let env = report["env"] as? [String] ?? []
        #expect(env.contains("GREETING=hello world"))
        #expect(env.contains("HOME=/home/user"))
    }

    @Test("limits this host refuses are clear errors that name the setting")
    func refusedLimits() throws {
        let sandbox = try Sandbox()
        let negative = sandbox.newID("oom")
        let oom = try run(sandbox, negative) { set(&$0, ["process", "oomScoreAdj"], -500) }
        #expect(oom.status == 1)
        #expect(oom.stderr.contains("oomScoreAdj"), "\(oom.stderr)")
        let high = sandbox.newID("nofile")
        let nofile = try run(sandbox, high) { set(&$0, ["process", "rlimits"], [["type": "RLIMIT_NOFILE", "soft": 1048576, "hard": 1048576]]) }
        #expect(nofile.status == 1)
        #expect(nofile.stderr.contains("RLIMIT_NOFILE"), "\(nofile.stderr)")
    }

    @Test("hostname and domainname are set in the container's uts namespace")
    func names() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("uts")
        let output = try run(sandbox, id) { config in
            config["hostname"] = "inside"
            config["domainname"] = "example.test"
        }
        let report = try ProbeReport(output.stdout)
        #expect(report["hostname"] as? String == "inside")
        #expect(report["domainname"] as? String == "example.test")
    }

    @Test("new namespaces differ from the host's; one joined by path is the same as its owner's")
    func namespaces() throws {
        let sandbox = try Sandbox()
        let host = try ProbeReport(try execute(Binaries.probe, []).stdout)["namespaces"] as? [String: String] ?? [:]
        let owner = sandbox.newID("owner")
        try sandbox.writeConfig(id: owner, args: ["/bin/probe", "sleep", "100"])
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, owner]).status == 0)
        let ownerPid = (try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["state", owner]).stdout.utf8)) as? [String: Any])?["pid"] as? Int ?? 0
        let ownerNet = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(ownerPid)/ns/net")
        let ownerPidNs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(ownerPid)/ns/pid")

        let joiner = sandbox.newID("joiner")
        let output = try run(sandbox, joiner) { config in
            set(&config, ["linux", "namespaces"], [
                ["type": "pid", "path": "/proc/\(ownerPid)/ns/pid"], ["type": "network", "path": "/proc/\(ownerPid)/ns/net"],
                ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "cgroup"], ["type": "time"],
            ])
        }
        #expect(output.status == 0, "\(output.stderr)")
        let seen = try ProbeReport(output.stdout)["namespaces"] as? [String: String] ?? [:]
        #expect(seen["net"] == ownerNet)
        #expect(seen["pid"] == ownerPidNs)
        for kind in ["mnt", "uts", "ipc", "cgroup", "time"] { #expect(seen[kind] != host[kind], "\(kind)") }
        #expect(try ProbeReport(output.stdout).int("pid") != 1)
        #expect(try sandbox.berth(["delete", "-f", owner]).status == 0)
        #expect(sandbox.leftovers(id: owner).isEmpty)
    }

    @Test("a time namespace applies boottime offsets")
    func timeOffsets() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("time")
        let output = try run(sandbox, id, args: ["/bin/cat", "/proc/uptime"]) { config in
            append(&config, ["linux", "namespaces"], ["type": "time"])
            set(&config, ["linux", "timeOffsets"], ["boottime": ["secs": 86400 * 365, "nanosecs": 0]])
        }
        #expect(output.status == 0, "\(output.stderr)")
        let uptime = Double(output.stdout.split(separator: " ").first ?? "") ?? 0
        #expect(uptime > 86400 * 365)
    }

    @Test("mounts land in order with their options; tmpfs size and mode, read-only binds")
    func mounts() throws {
        let sandbox = try Sandbox()
        let shared = "\(sandbox.directory)/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try writeFile("\(shared)/note", "from the host")
        let id = sandbox.newID("mounts")
        let output = try run(sandbox, id, args: ["/bin/sh", "-c", "/bin/probe; cat /data/note; touch /data/x 2>/dev/null && echo writable || echo readonly; touch /scratch/x && echo scratch-ok"]) { config in
            append(&config, ["mounts"], ["destination": "/data", "type": "bind", "source": shared, "options": ["rbind", "ro", "nosuid"]])
            append(&config, ["mounts"], ["destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777", "noexec"]])
            append(&config, ["mounts"], ["destination": "/scratch/inner", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m"]])
        }
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        let data = try #require(report.mount(at: "/data"))
        #expect(data["options"]?.hasPrefix("ro,nosuid") == true, "\(data)")
        let scratch = try #require(report.mount(at: "/scratch"))
        #expect(scratch["type"] == "tmpfs")
        #expect(scratch["options"]?.contains("noexec") == true)
        #expect(report.mount(at: "/scratch/inner") != nil)
        #expect(output.stdout.contains("from the host"))
        #expect(output.stdout.contains("readonly"))
        #expect(output.stdout.contains("scratch-ok"))
        #expect(!FileManager.default.fileExists(atPath: "\(shared)/x"))
    }

    @Test("a read-only root, masked paths, read-only paths and sysctls")
    func protections() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("protect")
        let script = "cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-readonly; touch /rootfile 2>/dev/null && echo root-writable || echo root-readonly; cat /proc/sys/net/ipv4/ip_forward"
        let output = try run(sandbox, id, args: ["/bin/sh", "-c", script]) { config in
            set(&config, ["root", "readonly"], true)
            set(&config, ["linux", "sysctl"], ["net.ipv4.ip_forward": "1"])
        }
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines == ["0", "0", "sys-readonly", "root-readonly", "1"], "\(output.stdout)")
    }

    @Test("a sysctl that no namespace isolates is refused before anything is made")
    func hostSysctl() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("sysctl")
        let before = try String(contentsOfFile: "/proc/sys/vm/swappiness", encoding: .utf8)
        let output = try run(sandbox, id) { set(&$0, ["linux", "sysctl"], ["vm.swappiness": "7"]) }
        #expect(output.status == 1)
        #expect(output.stderr.contains("vm.swappiness"), "\(output.stderr)")
        #expect(try String(contentsOfFile: "/proc/sys/vm/swappiness", encoding: .utf8) == before)
    }

    @Test("rootfsPropagation is applied; an unknown one is a clear error")
    func rootfsPropagation() throws {
        let sandbox = try Sandbox()
        for propagation in ["rprivate", "rslave", "shared", "private"] {
            let id = sandbox.newID("propagation")
            let output = try run(sandbox, id) { set(&$0, ["linux", "rootfsPropagation"], propagation) }
            #expect(output.status == 0, "\(propagation): \(output.stderr)")
        }
        let id = sandbox.newID("propagation")
        let output = try run(sandbox, id) { set(&$0, ["linux", "rootfsPropagation"], "sideways") }
        #expect(output.status == 1)
        #expect(output.stderr.contains("rootfsPropagation"), "\(output.stderr)")
    }

    @Test("default devices, linux.devices and the /dev links exist")
    func devices() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("devices")
        let output = try run(sandbox, id, args: ["/bin/sh", "-c", "stat -c '%n %t:%T %a %u' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/fuse; readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx"]) { config in
            set(&config, ["linux", "devices"], [["type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 0o600, "uid": 0, "gid": 0]])
        }
        #expect(output.status == 0, "\(output.stderr)")
        for line in ["/dev/null 1:3 666 0", "/dev/zero 1:5 666 0", "/dev/full 1:7 666 0", "/dev/random 1:8 666 0", "/dev/urandom 1:9 666 0", "/dev/tty 5:0 666 0", "/dev/fuse a:e5 600 0", "/proc/self/fd", "/proc/self/fd/0", "pts/ptmx"] {
            #expect(output.stdout.contains(line + "\n"), "\(line) in \(output.stdout)")
        }
    }

    @Test("--no-pivot enters the rootfs by move and chroot")
    func noPivot() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("nopivot")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        let output = try sandbox.berth(["run", "--no-pivot", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(try ProbeReport(output.stdout).int("pid") == 1)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("every ociVersion from 1.0.0 to 1.3.x runs")
    func versions() throws {
        let sandbox = try Sandbox()
        for version in ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0"] {
            let id = sandbox.newID("version")
            let output = try run(sandbox, id) { config in
                config["ociVersion"] = version
                config["futureField"] = ["anything": [1, 2, 3]]
                set(&config, ["process", "futureProcessField"], "ignored")
            }
            #expect(output.status == 0, "\(version): \(output.stderr)")
        }
    }
}
