import BerthTestSupport
import Foundation
import Testing

@Suite("linux.seccomp", .enabled(if: Binaries.available))
struct SeccompTests {
    func profile(_ action: String) -> [String: Any] {
        [
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
            "syscalls": [["names": ["mkdir", "mkdirat"], "action": action, "errnoRet": 13]],
        ]
    }

    @Test("a filter is in force in the container, with and without no_new_privs")
    func filter() throws {
        let sandbox = try Sandbox()
        for noNewPrivileges in [true, false] {
            let id = sandbox.newID("seccomp")
            try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/denied || echo refused"]) { config in
                set(&config, ["linux", "seccomp"], profile("SCMP_ACT_ERRNO"))
                set(&config, ["process", "noNewPrivileges"], noNewPrivileges)
            }
            let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.contains("Seccomp:\t2"), "\(output.stdout)")
            #expect(output.stdout.contains("refused"))
            #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/denied"))
            #expect(sandbox.leftovers(id: id).isEmpty)
        }
    }

    @Test("an unsupported action or operator is refused before anything is made")
    func refused() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("badseccomp")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { set(&$0, ["linux", "seccomp"], profile("SCMP_ACT_FROBNICATE")) }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("linux.seccomp.syscalls[0]: unsupported action SCMP_ACT_FROBNICATE"), "\(output.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    /// A profile that allows everything but applies `action` to mkdir.
    func mkdirProfile(_ action: String, errnoRet: Int? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var rule: [String: Any] = ["names": ["mkdir", "mkdirat"], "action": action]
        if let errnoRet { rule["errnoRet"] = errnoRet }
        var profile: [String: Any] = ["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"], "syscalls": [rule]]
        for (key, value) in extra { profile[key] = value }
        return profile
    }

    @Test("SCMP_ACT_ERRNO without errnoRet: mkdir fails with EPERM and nothing else does")
    func errnoDefault() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("eperm")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "mkdir /tmp/refused 2>&1; touch /tmp/allowed && echo touched; ls /tmp"]) {
            set(&$0, ["linux", "seccomp"], mkdirProfile("SCMP_ACT_ERRNO"))
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("mkdir: can't create directory '/tmp/refused': Operation not permitted"), "\(output.stdout)")
        #expect(output.stdout.contains("touched"))
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/refused"))
    }

    @Test("SCMP_ACT_KILL and SCMP_ACT_KILL_PROCESS kill the caller with SIGSYS", arguments: ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS"])
    func kill(action: String) throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("kill")
        try sandbox.writeConfig(id: id, args: ["/bin/mkdir", "/tmp/never"]) { set(&$0, ["linux", "seccomp"], mkdirProfile(action)) }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 128 + SIGSYS, "\(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/never"))
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("SCMP_ACT_NOTIFY: the listener gets the notify descriptor and the state, and answers mkdir for the container and for exec")
    func notify() throws {
        let sandbox = try Sandbox()
        let socketPath = "\(sandbox.directory)/listener.sock"
        let reportPath = "\(sandbox.directory)/listener.json"
        // ENOSPC (28): an answer only the listener gives.
        let listener = try ChildProcess("/usr/bin/python3", ["\(Binaries.packageRoot)/Tests/tools/seccomp_listener.py", socketPath, reportPath, "28"])
        defer { listener.killNow() }
        try waitFor { FileManager.default.fileExists(atPath: socketPath) }

        let id = sandbox.newID("notify")
        let profile = mkdirProfile("SCMP_ACT_NOTIFY", extra: ["listenerPath": socketPath, "listenerMetadata": "berth-test"])
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "mkdir /tmp/asked 2>&1; sleep 1000"]) { config in
            set(&config, ["linux", "seccomp"], profile)
            set(&config, ["process", "noNewPrivileges"], true)
        }
        let run = try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id])
        #expect(run.status == 0, "\(run.stderr)")
        let exec = try sandbox.berth(["exec", id, "/bin/sh", "-c", "mkdir /tmp/asked-by-exec 2>&1; echo exec-done"])
        #expect(exec.stdout.contains("No space left on device"), "the listener's errno reached the exec'd mkdir: \(exec.stdout)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/asked-by-exec"))
        let pid = try initPid(sandbox, id)
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
        try waitFor { ((try? String(contentsOfFile: reportPath, encoding: .utf8)) ?? "").split(separator: "\n").count >= 2 }
        let lines = try String(contentsOfFile: reportPath, encoding: .utf8).split(separator: "\n")
        let reports = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let first = try #require(reports.first { (($0["state"] as? [String: Any])?["state"] as? [String: Any])?["status"] as? String == "creating" })
        let state = try #require(first["state"] as? [String: Any])
        #expect(state["fds"] as? [String] == ["seccompFd"])
        #expect(state["metadata"] as? String == "berth-test")
        #expect(state["pid"] as? Int == pid)
        #expect((state["state"] as? [String: Any])?["id"] as? String == id)
        let mkdirNumbers: Set<Int> = [83, 258, 39, 34]  // x86_64 mkdir, mkdirat; aarch64 mkdirat (34)
        #expect(!Set(first["syscalls"] as? [Int] ?? []).isDisjoint(with: mkdirNumbers), "\(first)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/asked"))
    }

    @Test("NOTIFY as the default action or without listenerPath, and WAIT_KILLABLE_RECV where libseccomp lacks it, are refused clearly")
    func notifyRefusals() throws {
        let sandbox = try Sandbox()
        let cases: [([String: Any], String)] = [
            (["defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/tmp/x.sock"], "SCMP_ACT_NOTIFY cannot be the default action"),
            (mkdirProfile("SCMP_ACT_NOTIFY"), "linux.seccomp.listenerPath: required"),
        ]
        for (profile, expected) in cases {
            let id = sandbox.newID("badnotify")
            try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { set(&$0, ["linux", "seccomp"], profile) }
            let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
            #expect(output.status == 1)
            #expect(output.stderr.contains(expected), "\(output.stderr)")
            #expect(sandbox.leftovers(id: id).isEmpty)
        }
        let features = try JSONSerialization.jsonObject(with: Data(try execute(Binaries.berth, ["features"]).stdout.utf8)) as? [String: Any]
        let seccomp = (features?["linux"] as? [String: Any])?["seccomp"] as? [String: Any]
        let supported = seccomp?["supportedFlags"] as? [String] ?? []
        let id = sandbox.newID("waitkill")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { set(&$0, ["linux", "seccomp"], mkdirProfile("SCMP_ACT_ERRNO", extra: ["flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]])) }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        if supported.contains("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
            #expect(output.status == 0, "\(output.stderr)")
        } else {
            #expect(output.status == 1)
            #expect(output.stderr.contains("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs libseccomp 2.6"), "\(output.stderr)")
        }
    }

    @Test("syscall names unknown to the kernel or libseccomp are skipped, with a debug line naming them")
    func unknownNames() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("unknown")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            set(&config, ["linux", "seccomp"], [
                "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["frobnicate_the_kernel", "mkdir"], "action": "SCMP_ACT_ERRNO"]],
            ])
        }
        let output = try sandbox.berth(["--debug", "run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.contains("seccomp: skipping syscall frobnicate_the_kernel"), "\(output.stderr)")
    }

    @Test("SCMP_ACT_TRAP sends SIGSYS, SCMP_ACT_TRACE without a tracer fails the call with ENOSYS, SCMP_ACT_LOG allows it")
    func trapTraceLog() throws {
        let sandbox = try Sandbox()
        let trap = sandbox.newID("trap")
        try sandbox.writeConfig(id: trap, args: ["/bin/mkdir", "/tmp/trapped"]) { set(&$0, ["linux", "seccomp"], mkdirProfile("SCMP_ACT_TRAP")) }
        let trapped = try sandbox.berth(["run", "-b", sandbox.bundle, trap])
        #expect(trapped.status == 128 + SIGSYS, "\(trapped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/trapped"))

        let trace = sandbox.newID("trace")
        try sandbox.writeConfig(id: trace, args: ["/bin/sh", "-c", "mkdir /tmp/traced 2>&1; echo after"]) { set(&$0, ["linux", "seccomp"], mkdirProfile("SCMP_ACT_TRACE")) }
        let traced = try sandbox.berth(["run", "-b", sandbox.bundle, trace])
        #expect(traced.status == 0 && traced.stdout.contains("Function not implemented") && traced.stdout.contains("after"), "\(traced.stdout) \(traced.stderr)")

        let log = sandbox.newID("log")
        try sandbox.writeConfig(id: log, args: ["/bin/mkdir", "/tmp/logged"]) { set(&$0, ["linux", "seccomp"], mkdirProfile("SCMP_ACT_LOG")) }
        let logged = try sandbox.berth(["run", "-b", sandbox.bundle, log])
        #expect(logged.status == 0, "\(logged.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/logged"))
        for id in [trap, trace, log] { #expect(sandbox.leftovers(id: id).isEmpty) }
    }

    @Test("argument conditions: chmod refused for mode 0700 (SCMP_CMP_EQ) or any mode giving others rwx (SCMP_CMP_MASKED_EQ); two comparisons of one argument become two rules, as in runc")
    func argumentConditions() throws {
        let sandbox = try Sandbox(tools: ["sh", "touch", "chmod", "echo", "stat"])
        let id = sandbox.newID("args")
        var profile = mkdirProfile("SCMP_ACT_ERRNO")
        // libseccomp takes one comparison per argument and rule: the action applies when
        // either matches.
        profile["syscalls"] = [[
            "names": ["chmod"], "action": "SCMP_ACT_ERRNO",
            "args": [["index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"], ["index": 1, "value": 0o007, "valueTwo": 0o007, "op": "SCMP_CMP_MASKED_EQ"]],
        ]]
        let script = "touch /tmp/f; chmod 700 /tmp/f 2>&1; chmod 757 /tmp/f 2>&1; chmod 750 /tmp/f && stat -c %a /tmp/f"
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", script]) { set(&$0, ["linux", "seccomp"], profile) }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[0].contains("Operation not permitted") && lines[1].contains("Operation not permitted") && lines[2] == "750", "\(output.stdout)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("defaultAction SCMP_ACT_ERRNO with defaultErrnoRet: every syscall this kernel has allowed but mkdir, which fails with that errno; the TSYNC, LOG and SPEC_ALLOW flags are accepted")
    func defaultErrnoAndFlags() throws {
        let header = try String(contentsOfFile: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", encoding: .utf8)
        let names = header.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("#define __NR_") else { return nil }
            return String(line.dropFirst("#define __NR_".count).split(separator: " ")[0])
        }.filter { $0 != "mkdir" && $0 != "mkdirat" }
        #expect(names.count > 300)
        let sandbox = try Sandbox()
        let id = sandbox.newID("allowlist")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "mkdir /tmp/refused 2>&1; grep Seccomp: /proc/self/status"]) {
            set(&$0, ["linux", "seccomp"], [
                "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": Int(EROFS), "architectures": ["SCMP_ARCH_X86_64"],
                "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                "syscalls": [["names": names, "action": "SCMP_ACT_ALLOW"]],
            ])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("Read-only file system") && output.stdout.contains("Seccomp:\t2"), "\(output.stdout)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}
