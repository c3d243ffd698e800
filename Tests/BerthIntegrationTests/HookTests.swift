import Foundation
import Testing

@Suite("OCI hooks", .enabled(if: Binaries.available))
struct HookTests {
    /// A hook script that appends its name, the status it was given and where it ran.
    func hook(_ sandbox: Sandbox, _ name: String, exitCode: Int = 0, sleep: Int = 0) throws -> [String: Any] {
        let path = "\(sandbox.directory)/hook-\(name).sh"
        let log = "\(sandbox.directory)/hooks.log"
        let script = """
            #!/bin/sh
            state=$(cat)
            status=$(echo "$state" | sed -n 's/.*"status":"\\([a-z]*\\)".*/\\1/p')
            echo "\(name) $status $(hostname)" >> \(log)
            sleep \(sleep)
            exit \(exitCode)

            """
        try writeFile(path, script)
        chmod(path, 0o755)
        return ["path": path, "args": [path], "timeout": 5]
    }

    func log(_ sandbox: Sandbox) -> [String] {
        ((try? String(contentsOfFile: "\(sandbox.directory)/hooks.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("all six hooks run at their points with the state on stdin, in order")
    func order() throws {
        let sandbox = try Sandbox(tools: ["sh", "hostname", "cat", "sed", "sleep", "echo"])
        let id = sandbox.newID("hooks")
        let hooks: [String: Any] = [
            "prestart": [try hook(sandbox, "prestart")], "createRuntime": [try hook(sandbox, "createRuntime")],
            "createContainer": [try hook(sandbox, "createContainer")], "poststart": [try hook(sandbox, "poststart")],
            "poststop": [try hook(sandbox, "poststop")],
        ]
        // startContainer runs inside the container: its path resolves in the rootfs.
        let inside = "#!/bin/sh\nstate=$(cat)\necho \"startContainer $(hostname)\" > /tmp/started\n"
        try writeFile("\(sandbox.rootfs)/bin/start-hook", inside)
        chmod("\(sandbox.rootfs)/bin/start-hook", 0o755)
        try sandbox.writeConfig(id: id, args: ["/bin/cat", "/tmp/started"]) { config in
            var all = hooks
            all["startContainer"] = [["path": "/bin/start-hook"]]
            config["hooks"] = all
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout == "startContainer berth-test\n")
        let host = ProcessInfo.processInfo.hostName
        let lines = log(sandbox)
        #expect(lines.map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["prestart", "createRuntime", "createContainer", "poststart", "poststop"])
        #expect(lines.first == "prestart creating \(host)")
        #expect(lines.contains("createContainer creating \(host)") || lines.contains { $0.hasPrefix("createContainer creating") })
        #expect(lines.contains { $0.hasPrefix("poststart running") })
        #expect(lines.last?.hasPrefix("poststop stopped") == true)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a failing prestart hook fails create, runs poststop and leaves nothing")
    func failingPrestart() throws {
        let sandbox = try Sandbox(tools: ["sh", "hostname", "cat", "sed", "sleep", "echo"])
        let id = sandbox.newID("hookfail")
        let failing = try hook(sandbox, "prestart", exitCode: 7)
        let poststop = try hook(sandbox, "poststop")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            config["hooks"] = ["prestart": [failing], "poststop": [poststop]]
        }
        let output = try sandbox.berth(["create", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("error running prestart hook #0"), "\(output.stderr)")
        #expect(output.stderr.contains("exit status 7"))
        #expect(log(sandbox).map { String($0.prefix(8)) } == ["prestart", "poststop"])
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a hook that runs past its timeout is killed and fails create")
    func timeout() throws {
        let sandbox = try Sandbox(tools: ["sh", "hostname", "cat", "sed", "sleep", "echo"])
        let id = sandbox.newID("hooktimeout")
        var slow = try hook(sandbox, "createRuntime", sleep: 30)
        slow["timeout"] = 1
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in config["hooks"] = ["createRuntime": [slow]] }
        let started = Date()
        let output = try sandbox.berth(["create", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("timeout of 1s"), "\(output.stderr)")
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a failing startContainer hook fails start with its reason, and the program never runs")
    func failingStartContainer() throws {
        let sandbox = try Sandbox(tools: ["sh", "cat", "echo"])
        try writeFile("\(sandbox.rootfs)/bin/start-hook", "#!/bin/sh\necho refused-by-hook >&2\nexit 9\n")
        chmod("\(sandbox.rootfs)/bin/start-hook", 0o755)
        let id = sandbox.newID("starthook")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "echo program-ran"]) { config in
            config["hooks"] = ["startContainer": [["path": "/bin/start-hook"]]]
        }
        #expect(try sandbox.berth(["create", "-b", sandbox.bundle, id]).status == 0)
        let start = try sandbox.berth(["start", id])
        #expect(start.status == 1)
        #expect(start.stderr.contains("error running startContainer hook #0"), "\(start.stderr)")
        #expect(start.stderr.contains("refused-by-hook"))
        try waitFor { (try? sandbox.berth(["state", id]).stdout.contains("\"stopped\"")) == true }
        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a failing poststop hook is reported but the container is still deleted")
    func failingPoststop() throws {
        let sandbox = try Sandbox(tools: ["sh", "hostname", "cat", "sed", "sleep", "echo"])
        let id = sandbox.newID("poststop")
        let failing = try hook(sandbox, "poststop", exitCode: 3)
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "exit", "0"]) { config in config["hooks"] = ["poststop": [failing]] }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0)
        #expect(output.stderr.contains("error running poststop hook #0"))
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}
