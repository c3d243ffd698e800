import BerthTestSupport
import Foundation
import Testing

/// Tests/tools/console_receiver.py, listening on a socket in the sandbox: the peer that
/// conmon or containerd's shim would be.
final class ConsoleReceiver {
    let socketPath: String
    let outputPath: String
    let process: ChildProcess

    init(_ sandbox: Sandbox, name: String, input: String = "") throws {
        socketPath = "\(sandbox.directory)/\(name).sock"
        outputPath = "\(sandbox.directory)/\(name).out"
        process = try ChildProcess("/usr/bin/python3", ["\(Binaries.packageRoot)/Tests/tools/console_receiver.py", socketPath, input], output: .file(outputPath))
        try waitFor { FileManager.default.fileExists(atPath: socketPath) }
    }

    /// What the container wrote to its terminal, once the terminal has closed.
    func output() throws -> String {
        try waitFor(seconds: 20) { !process.isRunning }
        return try String(contentsOfFile: outputPath, encoding: .utf8)
    }

    deinit { process.killNow() }
}

@Suite("terminals", .enabled(if: Binaries.available))
struct TerminalTests {
    func terminalConfig(_ sandbox: Sandbox, _ id: String, args: [String], size: (Int, Int)? = nil) throws {
        try sandbox.writeConfig(id: id, args: args) { config in
            set(&config, ["process", "terminal"], true)
            if let (rows, columns) = size { set(&config, ["process", "consoleSize"], ["height": rows, "width": columns]) }
        }
    }

    @Test("create with terminal: the pty master reaches the console socket; consoleSize applies")
    func consoleSocket() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("console")
        try terminalConfig(sandbox, id, args: ["/bin/probe"], size: (40, 120))
        let receiver = try ConsoleReceiver(sandbox, name: "console")
        let create = try sandbox.berth(["create", "-b", sandbox.bundle, "--console-socket", receiver.socketPath, id])
        #expect(create.status == 0, "\(create.stderr)")
        #expect(try sandbox.berth(["start", id]).status == 0)
        let report = try ProbeReport(try receiver.output())
        #expect((report["tty"] as? String)?.hasPrefix("/dev/pts/") == true, "\(report.object)")
        #expect(report["terminalSize"] as? [String: Int] == ["rows": 40, "columns": 120])
        #expect(report.fds.filter { $0 > 2 }.isEmpty, "no pty master or other descriptor leaks into the container")
        #expect(try sandbox.berth(["delete", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("terminal rules: create needs a console socket, a console socket needs a terminal")
    func rules() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("rules")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        let noTerminal = try sandbox.berth(["create", "-b", sandbox.bundle, "--console-socket", "\(sandbox.directory)/none.sock", id])
        #expect(noTerminal.status == 1)
        #expect(noTerminal.stderr.contains("cannot use console socket if berth will not allocate a tty"), "\(noTerminal.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
        try terminalConfig(sandbox, id, args: ["/bin/probe"])
        let unreachable = try sandbox.berth(["create", "-b", sandbox.bundle, "--console-socket", "\(sandbox.directory)/none.sock", id])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("--console-socket \(sandbox.directory)/none.sock"), "\(unreachable.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a foreground run and exec -t proxy the terminal: input, output, exit code")
    func foreground() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("fg")
        try terminalConfig(sandbox, id, args: ["/bin/sh"])
        let run = try sandbox.berth(["run", "-b", sandbox.bundle, id], stdin: "tty; exit 3\n")
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stdout.contains("/dev/pts/0"), "\(run.stdout)")
        #expect(sandbox.leftovers(id: id).isEmpty)

        let running = sandbox.newID("fgexec")
        try sandbox.writeConfig(id: running, args: ["/bin/probe", "sleep", "1000"])
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, running]).status == 0)
        let exec = try sandbox.berth(["exec", "-t", running, "/bin/sh"], stdin: "tty; echo done; exit 4\n")
        #expect(exec.status == 4, "\(exec.stderr)")
        #expect(exec.stdout.contains("/dev/pts/"), "\(exec.stdout)")
        #expect(exec.stdout.contains("done\r\n"), "output passes through the terminal: \(exec.stdout)")

        let receiver = try ConsoleReceiver(sandbox, name: "exec", input: "tty; exit\n")
        let detached = try sandbox.berth(["exec", "-d", "-t", "--console-socket", receiver.socketPath, running, "/bin/sh"])
        #expect(detached.status == 0, "\(detached.stderr)")
        #expect(try receiver.output().contains("/dev/pts/"))
        let refused = try sandbox.berth(["exec", "-d", "-t", running, "/bin/sh"])
        #expect(refused.stderr.contains("console socket"), "\(refused.stderr)")
        #expect(try sandbox.berth(["delete", "-f", running]).status == 0)
    }

    @Test("exec -t and run on a terminal: the caller's size before the program starts, and window size changes follow (SIGWINCH)")
    func windowSize() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("winch")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "1000"])
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        let output = try execute("/usr/bin/python3", [
            "\(Binaries.packageRoot)/Tests/tools/pty_run.py", "30", "100", "50", "132", "0.2",
            // The second size is printed when SIGWINCH arrives (the resize follows the
            // first line), so no sleep has to guess how slow the machine is.
            Binaries.berth, "--root", sandbox.root, "exec", "-t", id, "/bin/sh", "-c", "trap 'stty size; exit 6' WINCH; stty size; while true; do sleep 0.1; done",
        ])
        #expect(output.status == 6, "\(output.stderr)")
        // A terminal ends lines with "\r\n" (one Character in Swift).
        let sizes = output.stdout.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
        #expect(sizes == ["30 100", "50 132"], "\(output.stdout)")

        // The caller's size is on the pty before the program starts (not set after it, which
        // would also send it a SIGWINCH it has no reason for): the probe reads it first thing.
        let probed = try execute("/usr/bin/python3", [
            "\(Binaries.packageRoot)/Tests/tools/pty_run.py", "27", "91", "27", "91", "0", Binaries.berth, "--root", sandbox.root, "exec", "-t", id, "/bin/probe", "report",
        ])
        #expect(probed.stdout.contains(#""terminalSize":{"columns":91,"rows":27}"#) || probed.stdout.contains(#""terminalSize":{"rows":27,"columns":91}"#), "\(probed.stdout)")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)

        let runID = sandbox.newID("winch-run")
        try terminalConfig(sandbox, runID, args: ["/bin/probe", "report"])
        let run = try execute("/usr/bin/python3", [
            "\(Binaries.packageRoot)/Tests/tools/pty_run.py", "33", "77", "33", "77", "0", Binaries.berth, "--root", sandbox.root, "run", "-b", sandbox.bundle, runID,
        ])
        #expect(run.stdout.contains(#""columns":77"#) && run.stdout.contains(#""rows":33"#), "\(run.stdout)")
    }

    @Test("exec -t with more input than the terminal buffers: input and output both keep flowing")
    func largeInput() throws {
        let sandbox = try Sandbox(tools: ["sh", "tee", "wc"])
        let id = sandbox.newID("bulk")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "1000"])
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        let line = String(repeating: "x", count: 99) + "\n"
        let input = String(repeating: line, count: 2000)  // 200 KB, far more than a pty holds
        // tee writes everything back while more input arrives; wc counts what got through.
        // (The terminal's own echo may drop characters under such load: the kernel's rule.)
        let output = try execute("/usr/bin/timeout", ["60", Binaries.berth, "--root", sandbox.root, "exec", "-t", id, "/bin/sh", "-c", "tee /dev/stderr | wc -c"], stdin: input)
        #expect(output.status == 0, "exit \(output.status) (124 is the timeout): \(output.stderr)")
        #expect(output.stdout.contains("200000\r\n"), "every byte reached the process")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
    }
}
