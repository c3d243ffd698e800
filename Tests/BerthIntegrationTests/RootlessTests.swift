import Foundation
import Testing

/// An unprivileged system user made for the test, and removed again (unless it existed).
final class UnprivilegedUser {
    let name = "berth-rootless-test"
    let uid: Int
    let gid: Int
    private let created: Bool

    init() throws {
        if try execute("/usr/bin/id", ["-u", name]).status != 0 {
            let made = try execute("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
            try #require(made.status == 0, "useradd: \(made.stderr)")
            created = true
        } else {
            created = false
        }
        uid = try #require(Int(try execute("/usr/bin/id", ["-u", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        gid = try #require(Int(try execute("/usr/bin/id", ["-g", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Runs berth as this user, with `runtimeDirectory` as XDG_RUNTIME_DIR.
    func berth(_ arguments: [String], runtimeDirectory: String, workingDirectory: String) throws -> Output {
        try execute(
            "/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", Binaries.berth] + arguments,
            environment: ["XDG_RUNTIME_DIR": runtimeDirectory, "PATH": "/usr/bin:/bin"], workingDirectory: workingDirectory)
    }

    deinit {
        if created { _ = try? execute("/usr/sbin/userdel", [name]) }
    }
}

@Suite("rootless berth, run by a real unprivileged user", .serialized, .enabled(if: Binaries.available))
struct RootlessTests {
    @Test("spec --rootless, run, exec, ps, list and delete work as an unprivileged user; state lives in $XDG_RUNTIME_DIR/berth")
    func lifecycle() throws {
        let sandbox = try userNamespaceSandbox()
        let user = try UnprivilegedUser()
        let bundle = "\(sandbox.directory)/rootless"
        let runtimeDirectory = "\(sandbox.directory)/xdg"
        for directory in [bundle, runtimeDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chown(directory, uid_t(user.uid), gid_t(user.gid))
        }
        chmod(runtimeDirectory, 0o700)
        let stateRoot = "\(runtimeDirectory)/berth"
        var ids: [String] = []
        defer {
            for id in ids { _ = try? execute(Binaries.berth, ["--root", stateRoot, "delete", "-f", id]) }
        }

        let spec = try user.berth(["spec", "--rootless"], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        try #require(spec.status == 0, "\(spec.stderr)")
        // The generated config, pointed at the sandbox's rootfs and the probe.
        var config = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(bundle)/config.json"))) as? [String: Any])
        set(&config, ["root", "path"], sandbox.rootfs)
        set(&config, ["process", "terminal"], false)
        set(&config, ["process", "args"], ["/bin/probe"])
        let data = try JSONSerialization.data(withJSONObject: config)
        try writeFile("\(bundle)/config.json", String(decoding: data, as: UTF8.self))

        let id = sandbox.newID("rootless")
        ids.append(id)
        let run = try user.berth(["run", id], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try ProbeReport(run.stdout)
        #expect(report.int("uid") == 0, "the user is root inside")
        #expect((report["uidMap"] as? String)?.split(separator: " ", omittingEmptySubsequences: true) == ["0", "\(user.uid)", "1\n"])
        #expect(report["setgroups"] as? String == "deny")
        #expect(run.stderr.contains("rootless: cannot create cgroup"), "cgroups it cannot write are skipped with a warning: \(run.stderr)")

        set(&config, ["process", "args"], ["/bin/probe", "sleep", "1000"])
        try writeFile("\(bundle)/config.json", String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self))
        let running = sandbox.newID("rootless")
        ids.append(running)
        let detached = try user.berth(["run", "-d", running], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        #expect(detached.status == 0, "\(detached.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(stateRoot)/\(running)/state.json"))
        let list = try user.berth(["list"], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        #expect(list.stdout.contains(running) && list.stdout.contains(user.name), "\(list.stdout)")
        let exec = try user.berth(["exec", running, "/bin/probe"], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        #expect(exec.status == 0, "\(exec.stderr)")
        #expect(try ProbeReport(exec.stdout).int("uid") == 0)
        let sleeper = try user.berth(["exec", "-d", "--pid-file", "\(runtimeDirectory)/exec.pid", running, "/bin/probe", "sleep", "1000"], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        #expect(sleeper.status == 0, "\(sleeper.stderr)")
        let ps = try user.berth(["ps", "--format", "json", running], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        let execPid = try String(contentsOfFile: "\(runtimeDirectory)/exec.pid", encoding: .utf8)
        #expect(ps.stdout.contains(execPid), "ps finds the processes by pid namespace when there are no cgroups: \(ps.stdout)")
        let delete = try user.berth(["delete", "-f", running], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []).isEmpty)
        try waitFor { !isAlive(pid: Int(execPid) ?? 0) }

        // Without a user namespace an unprivileged berth can do nothing useful: refused.
        var noUser = config
        set(&noUser, ["linux", "namespaces"], [["type": "pid"], ["type": "mount"], ["type": "uts"]])
        set(&noUser, ["linux", "uidMappings"], nil)
        set(&noUser, ["linux", "gidMappings"], nil)
        try writeFile("\(bundle)/config.json", String(decoding: try JSONSerialization.data(withJSONObject: noUser), as: UTF8.self))
        let refused = try user.berth(["run", sandbox.newID("rootless")], runtimeDirectory: runtimeDirectory, workingDirectory: bundle)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("rootless: berth runs as uid \(user.uid) and needs a user namespace"), "\(refused.stderr)")
    }
}
