import BerthTestSupport
import Foundation
import Testing

@Suite("berth lifecycle and command line", .enabled(if: Binaries.available))
struct LifecycleTests {
    @Test("run prints what the probe sees from inside: pid 1, the hostname, uid 0, stdio only")
    func runReportsFromInside() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("run")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        let output = try sandbox.berth(["run", "--bundle", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        #expect(report.int("pid") == 1)
        #expect(report["hostname"] as? String == "berth-test")
        #expect(report.int("uid") == 0)
        #expect(report["cwd"] as? String == "/")
        #expect(report.int("umask") == 0o022)
        #expect(report.fds == [0, 1, 2])
        #expect(report.mount(at: "/")?["path"] == "/")
        #expect(report.mount(at: "/proc")?["type"] == "proc")
        #expect(report.mount(at: "/dev")?["type"] == "tmpfs")
        #expect(report.mount(at: "/sys")?["options"]?.hasPrefix("ro") == true)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("create, start, state, kill and delete walk created, running, stopped and gone")
    func lifecycle() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("life")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "100"])
        let pidFile = "\(sandbox.directory)/pid"
        let create = try sandbox.berth(["create", "-b", sandbox.bundle, "--pid-file", pidFile, id])
        #expect(create.status == 0, "\(create.stderr)")
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)))
        var state = try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["state", id]).stdout.utf8)) as! [String: Any]
        #expect(state["status"] as? String == "created")
        #expect(state["pid"] as? Int == Int(pid))
        #expect(state["bundle"] as? String == sandbox.bundle)
        #expect(state["id"] as? String == id)
        // The init waits: the user program has not started.
        #expect(try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8).hasPrefix("berth"))

        #expect(try sandbox.berth(["start", id]).status == 0)
        state = try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["state", id]).stdout.utf8)) as! [String: Any]
        #expect(state["status"] as? String == "running")
        #expect(try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8).hasPrefix("probe"))

        let startAgain = try sandbox.berth(["start", id])
        #expect(startAgain.status == 1)
        #expect(startAgain.stderr.contains("cannot start an already running container"))
        let deleteRunning = try sandbox.berth(["delete", id])
        #expect(deleteRunning.status == 1)
        #expect(deleteRunning.stderr.contains("cannot delete container \(id) that is not stopped: running"))

        #expect(try sandbox.berth(["kill", id, "KILL"]).status == 0)
        try waitFor { (try? sandbox.berth(["state", id]).stdout.contains("\"stopped\"")) == true }
        state = try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["state", id]).stdout.utf8)) as! [String: Any]
        #expect(state["pid"] as? Int == 0)
        let killStopped = try sandbox.berth(["kill", id])
        #expect(killStopped.status == 1)
        #expect(killStopped.stderr.contains("container not running"))
        #expect(try sandbox.berth(["kill", "--all", id, "KILL"]).status == 0)
        let startStopped = try sandbox.berth(["start", id])
        #expect(startStopped.stderr.contains("cannot start a container that has stopped"))

        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
        let gone = try sandbox.berth(["state", id])
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("does not exist"))
    }

    @Test("run exits with the container's code, and 128+N when it is killed by signal N")
    func exitCodes() throws {
        let sandbox = try Sandbox()
        let first = sandbox.newID("exit")
        try sandbox.writeConfig(id: first, args: ["/bin/probe", "exit", "3"])
        #expect(try sandbox.berth(["run", "-b", sandbox.bundle, first]).status == 3)
        #expect(sandbox.leftovers(id: first).isEmpty)

        let second = sandbox.newID("killed")
        try sandbox.writeConfig(id: second, args: ["/bin/probe", "sleep", "100"])
        let runner = try ChildProcess(Binaries.berth, ["--root", sandbox.root, "run", "-b", sandbox.bundle, second])
        defer { runner.killNow() }
        try waitFor { (try? sandbox.berth(["state", second]).stdout.contains("\"running\"")) == true }
        #expect(try sandbox.berth(["kill", second, "SIGKILL"]).status == 0)
        #expect(try runner.waitOrKill(timeout: 60) == 137)
        #expect(sandbox.leftovers(id: second).isEmpty)
    }

    @Test("a foreground run forwards the signals it receives to the container")
    func signalForwarding() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("signals")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "trap"])
        let outputPath = "\(sandbox.directory)/trap.out"
        let runner = try ChildProcess(Binaries.berth, ["--root", sandbox.root, "run", "-b", sandbox.bundle, id], output: .file(outputPath))
        defer { runner.killNow() }
        try waitFor { (try? sandbox.berth(["state", id]).stdout.contains("\"running\"")) == true }
        usleep(200_000)
        runner.signal(SIGHUP)
        usleep(200_000)
        runner.signal(SIGUSR1)
        usleep(200_000)
        runner.signal(SIGTERM)
        let status = try runner.waitOrKill(timeout: 60)
        let text = try String(contentsOfFile: outputPath, encoding: .utf8)
        #expect(status == 42)
        #expect(text.contains("signal 1\n"))
        #expect(text.contains("signal 10\n"))
        #expect(text.contains("signal 15\n"))
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("run --detach returns at once and leaves the container running; delete --force ends it")
    func detachAndForceDelete() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("detach")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "100"])
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        #expect(try sandbox.berth(["state", id]).stdout.contains("\"running\""))
        let list = try sandbox.berth(["list"])
        #expect(list.stdout.range(of: "^ID +PID +STATUS +BUNDLE +CREATED +OWNER\n", options: .regularExpression) != nil)
        #expect(list.stdout.contains(id))
        #expect(try sandbox.berth(["list", "-q"]).stdout == "\(id)\n")
        let json = try JSONSerialization.jsonObject(with: Data(try sandbox.berth(["list", "--format", "json"]).stdout.utf8)) as? [[String: Any]]
        #expect(json?.first?["status"] as? String == "running")
        #expect(try sandbox.berth(["delete", "--force", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
        #expect(try sandbox.berth(["list", "--format", "json"]).stdout == "null\n")
        // delete --force of an unknown container is not an error (containerd relies on it).
        #expect(try sandbox.berth(["delete", "--force", id]).status == 0)
    }

    @Test("run --keep keeps the stopped container until delete")
    func keep() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("keep")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "exit", "0"])
        #expect(try sandbox.berth(["run", "--keep", "-b", sandbox.bundle, id]).status == 0)
        #expect(try sandbox.berth(["state", id]).stdout.contains("\"stopped\""))
        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("delete of a created container kills its init and removes it, as runc does")
    func deleteCreated() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("created")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "100"])
        #expect(try sandbox.berth(["create", "-b", sandbox.bundle, id]).status == 0)
        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("SIGTERM stops a created container, as with runc; SIGUSR1 leaves it created")
    func killCreated() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("termcreated")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "100"])
        #expect(try sandbox.berth(["create", "-b", sandbox.bundle, id]).status == 0)
        #expect(try sandbox.berth(["kill", id, "USR1"]).status == 0)
        usleep(100_000)
        #expect(try sandbox.berth(["state", id]).stdout.contains("\"created\""))
        #expect(try sandbox.berth(["kill", id]).status == 0)
        try waitFor { (try? sandbox.berth(["state", id]).stdout.contains("\"stopped\"")) == true }
        #expect(try sandbox.berth(["start", id]).stderr.contains("cannot start a container that has stopped"))
        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("unknown containers, bad ids, duplicates and bad signals are clear errors")
    func errors() throws {
        let sandbox = try Sandbox()
        for command in [["state", "nosuch"], ["start", "nosuch"], ["kill", "nosuch"], ["delete", "nosuch"]] {
            let output = try sandbox.berth(command)
            #expect(output.status == 1)
            #expect(output.stderr.contains("container nosuch does not exist"), "\(command): \(output.stderr)")
        }
        for bad in ["../x", "a/b", "..", "a b", "a:b"] {
            let output = try sandbox.berth(["create", "-b", sandbox.bundle, bad])
            #expect(output.status == 1)
            #expect(output.stderr.contains("invalid container id format"), "\(bad): \(output.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.directory)/x"))

        let id = sandbox.newID("dup")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "100"])
        #expect(try sandbox.berth(["create", "-b", sandbox.bundle, id]).status == 0)
        let duplicate = try sandbox.berth(["create", "-b", sandbox.bundle, id])
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("container with id \(id) already exists"))
        let badSignal = try sandbox.berth(["kill", id, "NOSUCHSIG"])
        #expect(badSignal.status == 1)
        #expect(badSignal.stderr.contains("unknown signal \\\"NOSUCHSIG\\\""))
        #expect(try sandbox.berth(["state", id]).stdout.contains("\"created\""))
        #expect(try sandbox.berth(["delete", id]).status == 0)

        let unknown = try sandbox.berth(["frobnicate"])
        #expect(unknown.status == 3)
        let missingArgument = try sandbox.berth(["start"])
        #expect(missingArgument.status == 1)
        #expect(missingArgument.stderr.contains("requires exactly 1 argument"))
        let badFlag = try sandbox.berth(["create", "--frob", id])
        #expect(badFlag.stderr.contains("flag provided but not defined: --frob"))
    }

    @Test("a broken config.json is refused with the file and the member named, leaving nothing")
    func brokenConfigs() throws {
        let sandbox = try Sandbox()
        let cases: [(String, String)] = [
            ("{\"ociVersion\": \"1.0.2\", \"process\": {", "invalid json"),
            ("{bad", "invalid json"),
            ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"rootfs\"}}", "process property must not be empty"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"args\": 5, \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}, \"root\": {\"path\": \"rootfs\"}}", "process.args"),
            ("{\"ociVersion\": \"9.0.0\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}, \"root\": {\"path\": \"rootfs\"}}", "ociVersion \\\"9.0.0\\\" is not supported"),
        ]
        for (text, expected) in cases {
            let id = sandbox.newID("broken")
            try writeFile("\(sandbox.bundle)/config.json", text)
            let output = try sandbox.berth(["create", "-b", sandbox.bundle, id])
            #expect(output.status == 1)
            #expect(output.stderr.contains("config.json"), "\(output.stderr)")
            #expect(output.stderr.contains(expected), "\(output.stderr)")
            #expect(sandbox.leftovers(id: id).isEmpty)
        }
        let id = sandbox.newID("terminal")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            var process = config["process"] as! [String: Any]
            process["terminal"] = true
            config["process"] = process
        }
        let terminal = try sandbox.berth(["create", "-b", sandbox.bundle, id])
        #expect(terminal.status == 1)
        #expect(terminal.stderr.contains("cannot allocate tty if berth will detach without setting console socket"), "\(terminal.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
        let missing = sandbox.newID("noexe")
        try sandbox.writeConfig(id: missing, args: ["/bin/nonexistent"])
        let noExecutable = try sandbox.berth(["create", "-b", sandbox.bundle, missing])
        #expect(noExecutable.status == 1)
        #expect(noExecutable.stderr.contains("exec: \\\"/bin/nonexistent\\\": stat /bin/nonexistent: no such file or directory"), "\(noExecutable.stderr)")
        #expect(sandbox.leftovers(id: missing).isEmpty)
        let missingBundle = try sandbox.berth(["create", "-b", "\(sandbox.directory)/nope", sandbox.newID()])
        #expect(missingBundle.stderr.contains("nope"))
    }

    @Test("--log with --log-format json writes runc's JSON error lines; stderr gets the bare message")
    func jsonLog() throws {
        let sandbox = try Sandbox()
        let log = "\(sandbox.directory)/log.json"
        let output = try execute(Binaries.berth, ["--root", sandbox.root, "--log", log, "--log-format", "json", "state", "nosuch"])
        #expect(output.status == 1)
        #expect(output.stderr == "container nosuch does not exist\n")
        let line = try String(contentsOfFile: log, encoding: .utf8)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(object?["level"] == "error")
        #expect(object?["msg"] == "container nosuch does not exist")
        #expect(object?["time"]?.hasSuffix("Z") == true)
        #expect(line.hasPrefix("{\"level\":\"error\",\"msg\":"))
        let text = try execute(Binaries.berth, ["--root", sandbox.root, "state", "nosuch"])
        #expect(text.stderr.hasPrefix("time=\""))
        #expect(text.stderr.contains("level=error msg=\"container nosuch does not exist\""))
    }

    @Test("a --log file that cannot be opened is a warning, not a failure (shims name logs in deleted bundles)")
    func unopenableLog() throws {
        let sandbox = try Sandbox()
        let output = try execute(Binaries.berth, ["--root", sandbox.root, "--log", "\(sandbox.directory)/gone/log.json", "--log-format", "json", "delete", "--force", "nosuch"])
        #expect(output.status == 0)
        #expect(output.stderr.contains("\"level\":\"warning\""))
    }

    @Test("spec writes a default config.json that berth can run, and refuses to overwrite one")
    func specCommand() throws {
        let sandbox = try Sandbox()
        let directory = "\(sandbox.directory)/specbundle"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(try sandbox.berth(["spec", "--bundle", directory]).status == 0)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/config.json"))) as? [String: Any]
        #expect((config?["process"] as? [String: Any])?["args"] as? [String] == ["sh"])
        let again = try sandbox.berth(["spec", "--bundle", directory])
        #expect(again.status == 1)
        #expect(again.stderr.contains("exists"))
        let rootless = "\(sandbox.directory)/rootless"
        try FileManager.default.createDirectory(atPath: rootless, withIntermediateDirectories: true)
        #expect(try sandbox.berth(["spec", "--rootless", "-b", rootless]).status == 0)
        #expect(try String(contentsOfFile: "\(rootless)/config.json", encoding: .utf8).contains("\"uidMappings\""))
        // The default spec runs as is on a busybox rootfs.
        try? FileManager.default.removeItem(atPath: "\(sandbox.bundle)/config.json")
        #expect(try sandbox.berth(["spec", "-b", sandbox.bundle]).status == 0)
        let text = try String(contentsOfFile: "\(sandbox.bundle)/config.json", encoding: .utf8)
        try text.replacingOccurrences(of: "\"sh\"\n", with: "\"/bin/probe\"\n").write(toFile: "\(sandbox.bundle)/config.json", atomically: false, encoding: .utf8)
        let id = sandbox.newID("spec")
        let run = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try ProbeReport(run.stdout)["hostname"] as? String == "berth")
    }

    @Test("features lists what berth supports")
    func features() throws {
        let output = try execute(Binaries.berth, ["features"])
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        #expect(object?["ociVersionMin"] as? String == "1.0.0")
        #expect((object?["hooks"] as? [String])?.count == 6)
        let linux = object?["linux"] as? [String: Any]
        #expect((linux?["namespaces"] as? [String])?.contains("user") == true)
        #expect(((linux?["mountExtensions"] as? [String: Any])?["idmap"] as? [String: Bool])?["enabled"] == true)
        #expect((linux?["apparmor"] as? [String: Bool])?["enabled"] == SecurityModuleTests.appArmorEnabled)
        #expect((linux?["selinux"] as? [String: Bool])?["enabled"] == FileManager.default.fileExists(atPath: "/sys/fs/selinux/enforce"))
        #expect((object?["mountOptions"] as? [String])?.contains("rbind") == true)
    }

    @Test("two concurrent creates of one id: exactly one wins")
    func concurrentCreate() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("race")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "100"])
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let status = (try? sandbox.berth(["create", "-b", sandbox.bundle, id]).status) ?? -1
            results.append(status)
        }
        #expect(results.values.filter { $0 == 0 }.count == 1)
        #expect(results.values.filter { $0 == 1 }.count == 3)
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Int32] = []
    func append(_ value: Int32) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func waitFor(seconds: Double = 10, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    Issue.record("condition not met within \(seconds)s")
}
