import Foundation
import Testing

/// A datagram socket standing in for systemd's NOTIFY_SOCKET.
final class NotifyReceiver {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0, "bind \(path): \(errno)")
    }

    /// The next datagram, waiting up to `seconds`.
    func receive(seconds: Int32 = 10) -> String? {
        var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, seconds * 1000) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

@Suite("socket activation and sd_notify", .enabled(if: Binaries.available))
struct ActivationTests {
    @Test("LISTEN_FDS meant for berth are passed on as fds 3.. with LISTEN_FDS=N and LISTEN_PID=1; others are not")
    func listenFds() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("listen")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        let berth = "\(Binaries.berth) --root \(sandbox.root) run -b \(sandbox.bundle)"
        // `exec` keeps the shell's pid, so LISTEN_PID=$$ names berth.
        let passed = try execute("/bin/sh", ["-c", "exec 3</etc/hostname 4</etc/hostname; LISTEN_FDS=2 LISTEN_PID=$$ exec \(berth) \(id)"])
        #expect(passed.status == 0, "\(passed.stderr)")
        let report = try ProbeReport(passed.stdout)
        #expect(report.fds.contains(3) && report.fds.contains(4), "\(report.fds)")
        let env = report["env"] as? [String] ?? []
        #expect(env.contains("LISTEN_FDS=2") && env.contains("LISTEN_PID=1"), "\(env)")

        let other = sandbox.newID("listen")
        let notMine = try execute("/bin/sh", ["-c", "exec 3</etc/hostname 4</etc/hostname; LISTEN_FDS=2 LISTEN_PID=1 exec \(berth) \(other)"])
        let otherReport = try ProbeReport(notMine.stdout)
        #expect(!otherReport.fds.contains(3), "descriptors meant for another process stay closed")
        #expect(!(otherReport["env"] as? [String] ?? []).contains("LISTEN_FDS=2"))
    }

    @Test("NOTIFY_SOCKET: run -d and start return once the container sent READY=1, which reaches the caller with MAINPID")
    func notify() throws {
        let sandbox = try Sandbox()
        let receiver = try NotifyReceiver(path: "\(sandbox.directory)/systemd-notify.sock")
        let id = sandbox.newID("notify")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "sleep 0.3; /bin/probe notify 'STATUS=serving\nREADY=1' 1000"])
        let environment = ["NOTIFY_SOCKET": receiver.path, "PATH": "/usr/bin:/bin"]
        let run = try execute(Binaries.berth, ["--root", sandbox.root, "run", "-d", "-b", sandbox.bundle, id], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let message = try #require(receiver.receive(seconds: 1), "READY=1 was passed on before run -d returned")
        #expect(message.contains("READY=1") && message.contains("STATUS=serving"), "\(message)")
        #expect(message.contains("MAINPID=\(try initPid(sandbox, id))\n"), "\(message)")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)

        let created = sandbox.newID("notify")
        #expect(try execute(Binaries.berth, ["--root", sandbox.root, "create", "-b", sandbox.bundle, created], environment: environment).status == 0)
        let start = try execute(Binaries.berth, ["--root", sandbox.root, "start", created], environment: environment)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(receiver.receive(seconds: 1)?.contains("MAINPID=\(try initPid(sandbox, created))") == true)
        #expect(try sandbox.berth(["delete", "-f", created]).status == 0)
        #expect(sandbox.leftovers(id: created).isEmpty)
    }

    @Test("NOTIFY_SOCKET with a user namespace: the notify directory in berth's 0700 state root is bound from the host")
    func notifyInUserNamespace() throws {
        let sandbox = try userNamespaceSandbox()
        let receiver = try NotifyReceiver(path: "\(sandbox.directory)/systemd-notify.sock")
        // The mount point exists, as in an image whose files the mapped root owns (it cannot
        // create directories in this root-owned rootfs).
        try FileManager.default.createDirectory(atPath: "\(sandbox.rootfs)/run/notify", withIntermediateDirectories: true)
        let id = sandbox.newID("notifyuserns")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "notify", "READY=1", "1000"]) { addUserNamespace(&$0) }
        let run = try execute(Binaries.berth, ["--root", sandbox.root, "run", "-d", "-b", sandbox.bundle, id], environment: ["NOTIFY_SOCKET": receiver.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(receiver.receive(seconds: 1)?.contains("READY=1") == true)
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}
