import BerthTestSupport
import Foundation
import Testing

/// A pod daemon with the basic test image (busybox, user app, StopSignal SIGINT) pulled
/// from a registry of the test's own.
final class ContainerFixture {
    let registryDirectory: String
    let registry: BackgroundTool
    let image: PushedImage
    let pods: PodDaemon
    var daemon: RunningDaemon { pods.daemon }

    /// `plugins`: the CNI network list for (bridge, subnet prefix, daemon directory).
    /// `sandboxImage`: the test image runs as each pod's pause process.
    init(handlers: String = "", plugins: ((String, String, String) -> String)? = nil, sandboxImage: Bool = false) throws {
        registryDirectory = try makeTemporaryDirectory(prefix: "berth-registry")
        registry = try BackgroundTool("registry.py", ["--dir", registryDirectory])
        image = try PushedImage(registry: registry.port, name: "test/busybox", recipe: "basic")
        // Keys of [runtime] first (the table PodDaemon's config ends with).
        let sandbox = sandboxImage ? "sandbox_image = \"\(image.reference)\"\n" : ""
        pods = try PodDaemon(extraConfig: sandbox + handlers, pluginsFor: plugins)
        let pulled = try pods.daemon.call("ImageService.PullImage", #"{"image": {"image": "\#(image.reference)"}}"#)
        guard pulled["imageRef"] != nil else { throw FixtureError.pull("\(pulled)") }
    }

    enum FixtureError: Error { case pull(String) }

    var logDirectory: String { "\(daemon.directory)/logs" }

    /// A pod; its id.
    func pod(_ name: String, handler: String = "", extra: String = "") throws -> String {
        let response = try daemon.call(
            "RuntimeService.RunPodSandbox",
            #"{"runtimeHandler": "\#(handler)", "config": {"metadata": {"name": "\#(name)", "namespace": "default", "uid": "uid-\#(name)"}, "hostname": "\#(name)", "logDirectory": "\#(logDirectory)/\#(name)"\#(extra)}}"#)
        return try #require(response["podSandboxId"] as? String, "\(response)")
    }

    /// Creates (and starts) a container; the response of CreateContainer.
    func create(pod: String, name: String, config: String = "", start: Bool = true) throws -> [String: Any] {
        let request = #"{"podSandboxId": "\#(pod)", "config": {"metadata": {"name": "\#(name)"}, "image": {"image": "\#(image.reference)"}, "logPath": "\#(name)/0.log"\#(config)}, "sandboxConfig": {"metadata": {"name": "p", "namespace": "default", "uid": "u"}}}"#
        let response = try daemon.call("RuntimeService.CreateContainer", request)
        if start, let id = response["containerId"] as? String {
            let started = try daemon.call("RuntimeService.StartContainer", #"{"containerId": "\#(id)"}"#)
            if started["error"] != nil { return started }
        }
        return response
    }

    func status(_ id: String) throws -> [String: Any] {
        try daemon.call("RuntimeService.ContainerStatus", #"{"containerId": "\#(id)"}"#)["status"] as? [String: Any] ?? [:]
    }

    /// ExecSync: stdout, stderr and exit code (or the error).
    func exec(_ id: String, _ command: [String], timeout: Int = 10) throws -> [String: Any] {
        let list = command.map { "\"\($0.replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: ",")
        return try daemon.call("RuntimeService.ExecSync", #"{"containerId": "\#(id)", "cmd": [\#(list)], "timeout": "\#(timeout)"}"#)
    }

    static func text(_ base64: Any?) -> String {
        String(decoding: Data(base64Encoded: base64 as? String ?? "") ?? Data(), as: UTF8.self)
    }

    /// Waits until the container's state is `state` (up to 20 s).
    func wait(_ id: String, for state: String) throws -> [String: Any] {
        var last: [String: Any] = [:]
        try waitFor(seconds: 20) {
            last = (try? self.status(id)) ?? [:]
            return (last["state"] as? String ?? "CONTAINER_CREATED") == state
        }
        return last
    }

    /// Mounts under the daemon's directory (the rootfs overlays, pod /dev/shm).
    var mounts: [String] {
        ((try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).filter { $0.contains(daemon.directory) }
    }

    /// The end of a RuntimeClass handler's lifecycle test: the container's first log line,
    /// stop (Completed), the pod removed; nothing left, the handler's runtime holds nothing.
    func finishHandlerPod(_ pod: String, container id: String, runtime: String, handler: String) throws {
        try waitFor { ((try? String(contentsOfFile: "\(self.logDirectory)/web/app/0.log", encoding: .utf8)) ?? "").contains("hello from berth") }
        #expect(try daemon.call("RuntimeService.StopContainer", #"{"containerId": "\#(id)", "timeout": "5"}"#)["error"] == nil)
        #expect(try status(id)["reason"] as? String == "Completed")
        #expect(try daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(pod)"}"#)["error"] == nil)
        let left = try leftovers(pods: [pod])
        #expect(left.isEmpty, "\(left)")
        #expect(try execute(runtime, ["--root", "\(daemon.directory)/state/runtime/\(handler)", "list", "-q"]).stdout.isEmpty)
    }

    deinit { try? FileManager.default.removeItem(atPath: registryDirectory) }
}

@Suite("containers through the CRI: images, shims, logs, exec, stop, OOM, restart recovery", .serialized, .enabled(if: Binaries.daemonAvailable && Binaries.available))
struct ContainerTests {
    @Test("create, start, logs, ExecSync (user, exit code, timeout), list filters, stop with the image's StopSignal, remove; nothing left behind")
    func lifecycle() throws {
        let fixture = try ContainerFixture()
        let pod = try fixture.pod("web")
        let created = try fixture.create(pod: pod, name: "app")
        let id = try #require(created["containerId"] as? String, "\(created)")
        let running = try fixture.wait(id, for: "CONTAINER_RUNNING")
        #expect((running["image"] as? [String: Any])?["image"] as? String == fixture.image.reference)
        #expect(running["imageRef"] as? String == fixture.image.configDigest)
        let logPath = try #require(running["logPath"] as? String)
        #expect(logPath == "\(fixture.logDirectory)/web/app/0.log")
        try waitFor { ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").contains("berth-test: hello from berth") }
        let firstLine = try #require((try String(contentsOfFile: logPath, encoding: .utf8)).split(separator: "\n").first)
        #expect(firstLine.split(separator: " ")[1...2] == ["stdout", "F"], "CRI log format: \(firstLine)")

        // The image's user, working directory and environment; the pod's hostname.
        let identity = try fixture.exec(id, ["sh", "-c", "id -u; pwd; echo $GREETING; hostname; cat /etc/hostname"])
        #expect(ContainerFixture.text(identity["stdout"]) == "1000\n/home/app\nhello from berth\nweb\nweb\n", "\(identity)")
        let failing = try fixture.exec(id, ["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(failing["exitCode"] as? Int == 3 && ContainerFixture.text(failing["stdout"]) == "out\n" && ContainerFixture.text(failing["stderr"]) == "err\n", "\(failing)")
        let slow = try fixture.exec(id, ["sleep", "30"], timeout: 1)
        #expect((slow["error"] as? [String: String])?["code"] == "DEADLINE_EXCEEDED", "\(slow)")

        let listed = try fixture.daemon.call("RuntimeService.ListContainers", #"{"filter": {"podSandboxId": "\#(pod)", "state": {"state": "CONTAINER_RUNNING"}}}"#)
        #expect((listed["containers"] as? [[String: Any]])?.map { $0["id"] as? String } == [id], "\(listed)")
        let none = try fixture.daemon.call("RuntimeService.ListContainers", #"{"filter": {"state": {"state": "CONTAINER_EXITED"}}}"#)
        #expect((none["containers"] as? [Any] ?? []).isEmpty)

        let again = try fixture.create(pod: pod, name: "app", start: false)
        #expect((again["error"] as? [String: String])?["code"] == "ALREADY_EXISTS", "\(again)")

        // ReopenContainerLog: the old file rotated away, the shim writes a new one.
        try FileManager.default.moveItem(atPath: logPath, toPath: logPath + ".1")
        #expect(try fixture.daemon.call("RuntimeService.ReopenContainerLog", #"{"containerId": "\#(id)"}"#)["error"] == nil)
        #expect(FileManager.default.fileExists(atPath: logPath), "reopened")

        // StopSignal SIGINT: the script traps it and exits 0 (its last line in the new file).
        #expect(try fixture.daemon.call("RuntimeService.StopContainer", #"{"containerId": "\#(id)", "timeout": "10"}"#)["error"] == nil)
        let stopped = try fixture.status(id)
        #expect(stopped["state"] as? String == "CONTAINER_EXITED")
        #expect(stopped["exitCode"] == nil && stopped["reason"] as? String == "Completed", "exit 0 by SIGINT: \(stopped)")
        #expect(try String(contentsOfFile: logPath, encoding: .utf8).contains("berth-test: got SIGINT"))
        #expect(try !String(contentsOfFile: logPath, encoding: .utf8).contains("hello from berth"), "the first lines stayed in the rotated file")
        #expect(try fixture.daemon.call("RuntimeService.StopContainer", #"{"containerId": "\#(id)"}"#)["error"] == nil, "stop again")

        #expect(try fixture.daemon.call("RuntimeService.RemoveContainer", #"{"containerId": "\#(id)"}"#)["error"] == nil)
        #expect(try fixture.daemon.call("RuntimeService.RemoveContainer", #"{"containerId": "\#(id)"}"#)["error"] == nil, "remove again")
        let gone = try fixture.daemon.call("RuntimeService.ContainerStatus", #"{"containerId": "\#(id)"}"#)
        #expect((gone["error"] as? [String: String])?["code"] == "NOT_FOUND")
        #expect(try fixture.daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(pod)"}"#)["error"] == nil)
        #expect(fixture.mounts.isEmpty, "no rootfs or shm mount left: \(fixture.mounts)")
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(fixture.daemon.directory)/root/snapshots").filter { $0.hasPrefix("c-") }
        #expect(snapshots.isEmpty, "\(snapshots)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(fixture.daemon.directory)/state/containers").isEmpty)
    }

    @Test("a create that cannot succeed (image not pulled, unknown user, unknown pod, bad mount) fails with the right code and leaves nothing")
    func failedCreate() throws {
        let fixture = try ContainerFixture()
        let pod = try fixture.pod("web")
        let notPulled = try fixture.daemon.call(
            "RuntimeService.CreateContainer", #"{"podSandboxId": "\#(pod)", "config": {"metadata": {"name": "bad"}, "image": {"image": "127.0.0.1:1/not/pulled:v1"}}}"#)
        let notPulledError = try #require(notPulled["error"] as? [String: String], "\(notPulled)")
        #expect(notPulledError["code"] == "NOT_FOUND" && notPulledError["details"]?.contains("not pulled") == true, "\(notPulledError)")
        let cases: [(String, String)] = [
            (#", "linux": {"securityContext": {"runAsUsername": "nobody-here"}}"#, "nobody-here"),
            (#", "mounts": [{"containerPath": "/data", "hostPath": "/no/such/dir"}]"#, "/no/such/dir"),
            (#", "linux": {"securityContext": {"capabilities": {"addCapabilities": ["CAP_NO_SUCH"]}}}"#, "CAP_NO_SUCH"),
        ]
        for (extra, mention) in cases {
            let response = try fixture.create(pod: pod, name: "bad", config: extra, start: false)
            let error = try #require(response["error"] as? [String: String], "\(extra): \(response)")
            #expect(error["code"] == "INVALID_ARGUMENT" && error["details"]?.contains(mention) == true, "\(extra): \(error)")
        }
        let unknownPod = try fixture.create(pod: "0123456789abcdef", name: "bad", start: false)
        #expect((unknownPod["error"] as? [String: String])?["code"] == "NOT_FOUND", "\(unknownPod)")
        #expect(((try fixture.daemon.call("RuntimeService.ListContainers"))["containers"] as? [Any] ?? []).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(fixture.daemon.directory)/state/containers").isEmpty)
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(fixture.daemon.directory)/root/snapshots").filter { $0.hasPrefix("c-") }
        #expect(snapshots.isEmpty, "\(snapshots)")
        #expect(fixture.mounts.filter { $0.contains("/containers/") }.isEmpty, "\(fixture.mounts)")
    }

    @Test("containers of two pods reach each other and the host over the CNI bridge")
    func network() throws {
        let fixture = try ContainerFixture()
        let first = try fixture.pod("one")
        let second = try fixture.pod("two")
        let root = #", "command": ["sleep", "600"], "linux": {"securityContext": {"runAsUser": {"value": "0"}}}"#
        // a has a PID namespace of its own (as the kubelet asks without shareProcessNamespace).
        let ownPid = #", "command": ["sleep", "600"], "linux": {"securityContext": {"runAsUser": {"value": "0"}, "namespaceOptions": {"pid": "CONTAINER"}}}"#
        let a = try #require(try fixture.create(pod: first, name: "a", config: ownPid)["containerId"] as? String)
        let b = try #require(try fixture.create(pod: second, name: "b", config: root)["containerId"] as? String)
        _ = try fixture.wait(a, for: "CONTAINER_RUNNING")
        _ = try fixture.wait(b, for: "CONTAINER_RUNNING")
        let secondIP = try #require(((try fixture.daemon.call("RuntimeService.PodSandboxStatus", #"{"podSandboxId": "\#(second)"}"#)["status"] as? [String: Any])?["network"] as? [String: Any])?["ip"] as? String)
        let ping = try fixture.exec(a, ["ping", "-c", "1", "-W", "3", secondIP])
        #expect(ping["exitCode"] == nil, "container to container: \(ping) \(ContainerFixture.text(ping["stdout"]))")
        let gateway = try fixture.exec(b, ["ping", "-c", "1", "-W", "3", "\(fixture.pods.subnet).1"])
        #expect(gateway["exitCode"] == nil, "container to host: \(gateway)")
        let fromHost = try execute("/usr/bin/busybox", ["ping", "-c", "1", "-W", "3", secondIP])
        #expect(fromHost.status == 0, "host to container: \(fromHost.stdout)")

        // PID mode TARGET (kubectl debug --target): the debug container sees a's processes.
        let debug = try #require(
            try fixture.create(pod: first, name: "debug", config: #", "command": ["sleep", "600"], "linux": {"securityContext": {"namespaceOptions": {"pid": "TARGET", "targetId": "\#(a)"}}}"#)["containerId"] as? String)
        _ = try fixture.wait(debug, for: "CONTAINER_RUNNING")
        let processes = ContainerFixture.text(try fixture.exec(debug, ["ps"])["stdout"])
        #expect(processes.split(separator: "\n").filter { $0.contains("sleep 600") }.count == 2, "a's sleep and its own: \(processes)")
        #expect(!processes.contains("pause"), "not the pod's namespace: \(processes)")
    }

    @Test("a pod's port mapping (CNI portmap) reaches the container's server from the host")
    func portMapping() throws {
        let tag = String(UInt32.random(in: 0...0xffffff), radix: 16)
        let fixture = try ContainerFixture(plugins: { bridge, subnet, directory in
            #"{"cniVersion":"1.0.0","name":"porttest\#(tag)","plugins":[{"type":"bridge","bridge":"\#(bridge)","isGateway":true,"ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"\#(subnet).0/24"}]],"dataDir":"\#(directory)/ipam"}},{"type":"portmap","capabilities":{"portMappings":true}}]}"#
        })
        let hostPort = Int.random(in: 20000...29999)
        let pod = try fixture.pod("web", extra: #", "portMappings": [{"containerPort": 8080, "hostPort": \#(hostPort)}]"#)
        let server = try #require(
            try fixture.create(pod: pod, name: "server", config: #", "command": ["sh", "-c", "while true; do echo served-by-berth | nc -l -p 8080; done"]"#)["containerId"] as? String)
        _ = try fixture.wait(server, for: "CONTAINER_RUNNING")
        var answer = ""
        try waitFor(seconds: 15) {
            answer = (try? execute("/usr/bin/busybox", ["nc", "-w", "2", "\(fixture.pods.subnet).1", "\(hostPort)"], stdin: "hi\n"))?.stdout ?? ""
            return answer.contains("served-by-berth")
        }
        if !answer.contains("served-by-berth") {
            // What the host's routes and NAT rules were when it did not answer.
            let routes = (try? execute("/usr/sbin/ip", ["-4", "route"]).stdout) ?? ""
            let nat = (try? execute("/usr/sbin/iptables", ["-t", "nat", "-S"]).stdout) ?? ""
            Issue.record("no answer from \(fixture.pods.subnet).1:\(hostPort)\nroutes:\n\(routes)\nnat:\n\(nat)\n\(fixture.daemon.log.suffix(2000))")
        }
        #expect(try fixture.daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(pod)"}"#)["error"] == nil)
        let rules = try execute("/usr/sbin/iptables", ["-t", "nat", "-S"]).stdout
        #expect(!rules.contains("\(hostPort)"), "the DNAT rule went with the pod")
        // portmap's per-host chains stay after the last pod: removed when nothing uses them.
        _ = try execute("\(Binaries.packageRoot)/Tests/tools/portmap_cleanup.sh", [])
    }

    @Test("pod and container settings reach the container: DNS config, sysctls, read-only rootfs, read-only and recursive read-only mounts, a device, the node's network")
    func settings() throws {
        let fixture = try ContainerFixture()
        let pod = try fixture.pod(
            "tuned",
            extra: #", "dnsConfig": {"servers": ["10.9.9.9"], "searches": ["a.example", "b.example"], "options": ["ndots:3"]}, "linux": {"sysctls": {"net.ipv4.ip_unprivileged_port_start": "100", "kernel.shm_rmid_forced": "1"}}"#)
        let volume = try makeTemporaryDirectory(prefix: "berth-volume")
        defer { try? FileManager.default.removeItem(atPath: volume) }
        chmod(volume, 0o755)
        let config = #"""
            , "command": ["sleep", "600"], "linux": {"securityContext": {"readonlyRootfs": true, "runAsUser": {"value": "0"}}},
            "mounts": [{"containerPath": "/ro", "hostPath": "\#(volume)", "readonly": true}, {"containerPath": "/rro", "hostPath": "\#(volume)", "readonly": true, "recursiveReadOnly": true}],
            "devices": [{"containerPath": "/dev/mynull", "hostPath": "/dev/null", "permissions": "rw"}]
            """#
        let created = try fixture.create(pod: pod, name: "tuned", config: config)
        let id = try #require(created["containerId"] as? String, "\(created)")
        _ = try fixture.wait(id, for: "CONTAINER_RUNNING")
        func run(_ script: String) throws -> String { ContainerFixture.text(try fixture.exec(id, ["sh", "-c", script])["stdout"]) }
        let resolv = try run("cat /etc/resolv.conf")
        #expect(resolv.contains("nameserver 10.9.9.9") && resolv.contains("search a.example b.example") && resolv.contains("options ndots:3"), "\(resolv)")
        #expect(try run("cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced") == "100\n1\n")
        #expect(try run("touch /written 2>&1; touch /ro/written 2>&1; touch /rro/written 2>&1; true").components(separatedBy: "Read-only file system").count == 4)
        #expect(try run("grep ' /rro ' /proc/self/mountinfo").contains(" ro"), "the recursive read-only mount is read-only")
        #expect(try run("stat -c '%t %T %F' /dev/mynull; echo data > /dev/mynull && echo written") == "1 3 character special file\nwritten\n")
        #expect(!FileManager.default.fileExists(atPath: "\(volume)/written"))

        // NODE network: the container is in the host's network namespace.
        let node = try fixture.pod("node", extra: #", "linux": {"securityContext": {"namespaceOptions": {"network": "NODE"}}}"#)
        let onNode = try #require(try fixture.create(pod: node, name: "onnode", config: #", "command": ["sleep", "600"]"#)["containerId"] as? String)
        _ = try fixture.wait(onNode, for: "CONTAINER_RUNNING")
        let namespace = ContainerFixture.text(try fixture.exec(onNode, ["readlink", "/proc/self/ns/net"])["stdout"])
        #expect(namespace == (try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) + "\n", "\(namespace)")
    }

    @Test("a privileged container (in a privileged pod) gets every capability and the host's device nodes; an unprivileged one neither")
    func privileged() throws {
        let fixture = try ContainerFixture()
        let pod = try fixture.pod("admin", extra: #", "linux": {"securityContext": {"privileged": true}}"#)
        let root = #""runAsUser": {"value": "0"}"#
        let created = try fixture.create(pod: pod, name: "admin", config: #", "command": ["sleep", "600"], "linux": {"securityContext": {"privileged": true, \#(root)}}"#)
        let admin = try #require(created["containerId"] as? String, "\(created)")
        let plain = try #require(try fixture.create(pod: pod, name: "plain", config: #", "command": ["sleep", "600"], "linux": {"securityContext": {\#(root)}}"#)["containerId"] as? String)
        _ = try fixture.wait(admin, for: "CONTAINER_RUNNING")
        _ = try fixture.wait(plain, for: "CONTAINER_RUNNING")
        // Character and block devices of the host's /dev (not pts, shm or the console).
        let host = try FileManager.default.contentsOfDirectory(atPath: "/dev").filter { name in
            var info = stat()
            return name != "console" && lstat("/dev/\(name)", &info) == 0 && (info.st_mode & S_IFMT == S_IFCHR || info.st_mode & S_IFMT == S_IFBLK)
        }
        let seen = Set(ContainerFixture.text(try fixture.exec(admin, ["ls", "/dev"])["stdout"]).split(separator: "\n").map(String.init))
        #expect(Set(host).subtracting(seen).isEmpty, "missing in the privileged container: \(Set(host).subtracting(seen).sorted())")
        let capabilities = ContainerFixture.text(try fixture.exec(admin, ["grep", "CapEff", "/proc/self/status"])["stdout"])
        let own = try String(contentsOfFile: "/proc/self/status", encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
        #expect(capabilities.split(separator: "\t").last == own?.split(separator: "\t").last.map { $0 + "\n" }, "every capability the host's root has: \(capabilities)")
        let plainDevices = Set(ContainerFixture.text(try fixture.exec(plain, ["ls", "/dev"])["stdout"]).split(separator: "\n").map(String.init))
        #expect(plainDevices.isSubset(of: ["console", "core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "termination-log", "tty", "urandom", "zero"]), "\(plainDevices.sorted())")
        let refused = try fixture.create(pod: try fixture.pod("plain"), name: "admin", config: #", "linux": {"securityContext": {"privileged": true}}"#, start: false)
        #expect((refused["error"] as? [String: String])?["code"] == "INVALID_ARGUMENT", "a privileged container needs a privileged pod: \(refused)")
    }

    @Test("a container that ignores its stop signal is killed after the grace period (137); a memory hog over its limit is OOMKilled (137)")
    func graceAndOOM() throws {
        let fixture = try ContainerFixture()
        let pod = try fixture.pod("web")
        let stubborn = try #require(
            try fixture.create(pod: pod, name: "stubborn", config: #", "command": ["sh", "-c", "trap '' INT TERM; echo ready; while true; do sleep 1; done"]"#)["containerId"] as? String)
        _ = try fixture.wait(stubborn, for: "CONTAINER_RUNNING")
        try waitFor { ((try? String(contentsOfFile: "\(fixture.logDirectory)/web/stubborn/0.log", encoding: .utf8)) ?? "").contains("ready") }
        let started = Date()
        #expect(try fixture.daemon.call("RuntimeService.StopContainer", #"{"containerId": "\#(stubborn)", "timeout": "2"}"#)["error"] == nil)
        #expect(Date().timeIntervalSince(started) >= 1.5, "the grace period was given")
        let killed = try fixture.status(stubborn)
        #expect(killed["exitCode"] as? Int == 137 && killed["reason"] as? String == "Error", "\(killed)")

        let hog = try #require(
            try fixture.create(pod: pod, name: "hog", config: #", "command": ["tail", "/dev/zero"], "linux": {"resources": {"memoryLimitInBytes": "33554432"}}"#)["containerId"] as? String)
        let exited = try fixture.wait(hog, for: "CONTAINER_EXITED")
        #expect(exited["exitCode"] as? Int == 137 && exited["reason"] as? String == "OOMKilled", "\(exited)")
        #expect(((exited["resources"] as? [String: Any])?["linux"] as? [String: Any])?["memoryLimitInBytes"] as? String == "33554432")
    }

    @Test("berthd killed with SIGKILL: the container keeps running and logging, no line is lost, and the restarted berthd lists and stops it; one that exited meanwhile is reported with its code and time; a killed shim makes its container exited with a reason")
    func restartRecovery() throws {
        let fixture = try ContainerFixture()
        let pod = try fixture.pod("web")
        let counter = #", "command": ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.05; done"]"#
        let id = try #require(try fixture.create(pod: pod, name: "counter", config: counter)["containerId"] as? String)
        let victim = try #require(try fixture.create(pod: pod, name: "victim", config: #", "command": ["sleep", "600"]"#)["containerId"] as? String)
        // One that exits while berthd is down, when the test says so (a file in a bind mount).
        let trigger = try makeTemporaryDirectory(prefix: "berth-trigger")
        defer { try? FileManager.default.removeItem(atPath: trigger) }
        chmod(trigger, 0o755)  // the image's user (1000) looks into it
        let brief = try #require(
            try fixture.create(
                pod: pod, name: "brief",
                config: #", "command": ["sh", "-c", "while [ ! -e /trigger/go ]; do sleep 0.05; done; echo bye; exit 7"], "mounts": [{"containerPath": "/trigger", "hostPath": "\#(trigger)"}]"#
            )["containerId"] as? String)
        _ = try fixture.wait(id, for: "CONTAINER_RUNNING")
        _ = try fixture.wait(victim, for: "CONTAINER_RUNNING")
        _ = try fixture.wait(brief, for: "CONTAINER_RUNNING")

        fixture.pods.daemon.process.killNow()
        let killed = Date()
        try writeFile("\(trigger)/go", "")
        Thread.sleep(forTimeInterval: 1.5)
        try fixture.pods.restart()
        let status = try fixture.status(id)
        #expect(status["state"] as? String == "CONTAINER_RUNNING", "\(status)")
        let listed = try fixture.daemon.call("RuntimeService.ListContainers")
        #expect(Set((listed["containers"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []) == [id, victim, brief])
        // The exit berthd did not see: code, reason and a finish time while it was down.
        let exited = try fixture.status(brief)
        #expect(exited["state"] as? String == "CONTAINER_EXITED" && exited["exitCode"] as? Int == 7 && exited["reason"] as? String == "Error", "\(exited)")
        let finished = Double(exited["finishedAt"] as? String ?? "0").map { $0 / 1e9 } ?? 0
        #expect(finished >= killed.timeIntervalSince1970 - 0.1 && finished <= Date().timeIntervalSince1970, "finished while berthd was down: \(exited)")
        #expect(try String(contentsOfFile: "\(fixture.logDirectory)/web/brief/0.log", encoding: .utf8).contains(" F bye"))
        #expect(try fixture.daemon.call("RuntimeService.StopContainer", #"{"containerId": "\#(id)", "timeout": "5"}"#)["error"] == nil)
        #expect(try fixture.status(id)["state"] as? String == "CONTAINER_EXITED")
        let numbers = try String(contentsOfFile: "\(fixture.logDirectory)/web/counter/0.log", encoding: .utf8).split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: " F line ") else { return nil }
            return Int(line[range.upperBound...])
        }
        #expect(numbers.count > 30 && numbers == Array(0..<numbers.count), "every line logged once, in order, across the restart (\(numbers.count) lines)")

        // The victim's shim dies: its container is killed and reported exited (255).
        let shimPid = try #require(Int32(try String(contentsOfFile: "\(fixture.daemon.directory)/state/containers/\(victim.prefix(16))/shim/shim.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(shimPid, SIGKILL)
        let dead = try fixture.wait(victim, for: "CONTAINER_EXITED")
        #expect(dead["exitCode"] as? Int == 255 && (dead["message"] as? String)?.contains("berth-shim") == true, "\(dead)")
    }

    @Test("a berthd killed between a pod's or container's steps and its row: the restarted berthd removes the shims, mounts, network, snapshot and directories left without a row")
    func interruptedCreates() throws {
        let fixture = try ContainerFixture()
        let pod = try fixture.pod("web")
        let id = try #require(try fixture.create(pod: pod, name: "app", config: #", "command": ["sleep", "600"]"#)["containerId"] as? String)
        _ = try fixture.wait(id, for: "CONTAINER_RUNNING")
        let directory = fixture.daemon.directory
        let shimPids = try ["pods/\(pod.prefix(16))", "containers/\(id.prefix(16))"].map { path in
            try #require(Int32(try String(contentsOfFile: "\(directory)/state/\(path)/shim/shim.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        fixture.pods.daemon.process.killNow()
        // The rows go, as if berthd had died just before writing them.
        let forget = try execute("/usr/bin/python3", [
            "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM container'); c.execute('DELETE FROM podSandbox'); c.commit()",
            "\(directory)/root/metadata.db",
        ])
        #expect(forget.status == 0, "\(forget.stderr)")
        try fixture.pods.restart()
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/state/pods").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/state/containers").isEmpty)
        #expect(fixture.mounts.isEmpty, "\(fixture.mounts)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/root/snapshots").filter { $0.hasPrefix("c-") }.isEmpty)
        #expect(!(try execute("/usr/sbin/ip", ["netns", "list"]).stdout.contains("berth-\(pod.prefix(16))")))
        // Gone, or a zombie waiting for init (no executable any more).
        try waitFor { shimPids.allSatisfy { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) == nil } }
        #expect(fixture.daemon.log.contains("removed what an interrupted"), "\(fixture.daemon.log)")
    }

    @Test("a configured sandbox image runs as the pod's pause process instead of berth-pause; it is pinned; nothing of it is left")
    func sandboxImage() throws {
        let fixture = try ContainerFixture(sandboxImage: true)
        let pod = try fixture.pod("web")
        let status = try fixture.daemon.call("RuntimeService.PodSandboxStatus", #"{"podSandboxId": "\#(pod)", "verbose": true}"#)
        let info = try #require((status["info"] as? [String: String])?["info"])
        let pid = try #require((try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])?["pid"] as? Int, "\(info)")
        let command = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
        #expect(command.hasPrefix("/bin/sh\0-c"), "the image's entrypoint: \(command)")
        let id = try #require(try fixture.create(pod: pod, name: "app")["containerId"] as? String)
        _ = try fixture.wait(id, for: "CONTAINER_RUNNING")
        let images = try fixture.daemon.call("ImageService.ListImages")["images"] as? [[String: Any]]
        #expect(images?.first?["pinned"] as? Bool == true, "\(String(describing: images))")
        #expect(try fixture.daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(pod)"}"#)["error"] == nil)
        #expect(fixture.mounts.isEmpty, "\(fixture.mounts)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(fixture.daemon.directory)/root/snapshots").filter { $0.hasPrefix("p-") || $0.hasPrefix("c-") }.isEmpty)
    }

    @Test("runc as a RuntimeClass handler runs the pause container and the pod's containers")
    func runcHandler() throws {
        // The whole lifecycle with runc: pod, container, exec, network, logs, stop, remove.
        let fixture = try ContainerFixture(handlers: "[runtime.handlers]\nrunc = \"/usr/sbin/runc\"\n")
        try writeFile("\(fixture.daemon.directory)/crictl.yaml", "")
        // crictl's YAML form of a pod config.
        try writeFile("\(fixture.daemon.directory)/pod.yaml", "metadata:\n  name: web\n  namespace: default\n  uid: u-web\nlog_directory: \(fixture.logDirectory)/web  # logs\n")
        let runp = try fixture.daemon.berthctl(["runp", "--runtime", "runc", "\(fixture.daemon.directory)/pod.yaml"])
        let pod = runp.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(runp.status == 0, "berthctl runp -r runc: \(runp.stderr)")
        let id = try #require(try fixture.create(pod: pod, name: "app")["containerId"] as? String)
        _ = try fixture.wait(id, for: "CONTAINER_RUNNING")
        let identity = try fixture.exec(id, ["id", "-u"])
        #expect(ContainerFixture.text(identity["stdout"]) == "1000\n", "\(identity)")
        let pods = try fixture.daemon.call("RuntimeService.ListPodSandbox")["items"] as? [[String: Any]]
        #expect(pods?.first?["runtimeHandler"] as? String == "runc")
        let unknown = try fixture.daemon.call("RuntimeService.RunPodSandbox", #"{"runtimeHandler": "kata", "config": {"metadata": {"name": "x", "namespace": "default", "uid": "u"}}}"#)
        #expect((unknown["error"] as? [String: String])?["details"]?.contains("kata") == true, "\(unknown)")
        // The pod's network: the host's bridge is reachable from a container of a runc pod
        // (ping needs root's CAP_NET_RAW; the image's user is 1000).
        let pinger = try #require(
            try fixture.create(
                pod: pod, name: "pinger",
                config: #", "command": ["ping", "-c", "1", "-W", "3", "\#(fixture.pods.subnet).1"], "linux": {"securityContext": {"runAsUser": {"value": "0"}}}"#
            )["containerId"] as? String)
        let pinged = try fixture.wait(pinger, for: "CONTAINER_EXITED")
        #expect(pinged["exitCode"] == nil && pinged["reason"] as? String == "Completed", "container to host over the bridge: \(pinged)")
        try fixture.finishHandlerPod(pod, container: id, runtime: "/usr/sbin/runc", handler: "runc")
    }

    @Test("crun as a RuntimeClass handler (wrapped to see cgroup v1 only on this hybrid host) runs the pause container and a container: exec, logs, stop, remove; nothing left", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/crun")))
    func crunHandler() throws {
        let fixture = try ContainerFixture(handlers: "[runtime.handlers]\ncrun = \"\(Binaries.packageRoot)/Tests/tools/crun-v1-only.sh\"\n")
        let pod = try fixture.pod("web", handler: "crun")
        let id = try #require(try fixture.create(pod: pod, name: "app")["containerId"] as? String)
        _ = try fixture.wait(id, for: "CONTAINER_RUNNING")
        let identity = try fixture.exec(id, ["sh", "-c", "id -u; hostname"])
        #expect(ContainerFixture.text(identity["stdout"]) == "1000\nweb\n", "\(identity)")
        let listed = try fixture.daemon.call("RuntimeService.ListPodSandbox")["items"] as? [[String: Any]]
        #expect(listed?.first?["runtimeHandler"] as? String == "crun")
        #expect(!(try execute("/usr/bin/crun", ["--root", "\(fixture.daemon.directory)/state/runtime/crun", "list", "-q"]).stdout.isEmpty), "crun holds the containers")
        try fixture.finishHandlerPod(pod, container: id, runtime: "/usr/bin/crun", handler: "crun")
    }

    @Test("berthctl's pod and container commands: runp, create, start, pods, ps (--latest), inspectp, inspect (-o yaml), exec, logs (--previous), update, stop, rm, stopp, rmp, run; crictl.yaml's pull-image-on-create")
    func berthctlCommands() throws {
        let fixture = try ContainerFixture()
        let directory = fixture.daemon.directory
        try writeFile("\(directory)/crictl.yaml", "")
        try writeFile("\(directory)/pod.json", #"{"metadata": {"name": "ctl", "namespace": "tools", "uid": "u-ctl"}, "hostname": "ctl", "log_directory": "\#(fixture.logDirectory)/ctl", "labels": {"tier": "demo"}}"#)
        try writeFile(
            "\(directory)/container.json",
            #"{"metadata": {"name": "talker"}, "image": {"image": "\#(fixture.image.reference)"}, "log_path": "talker/0.log", "command": ["sh", "-c", "echo first; echo oops >&2; echo second; sleep 600"], "labels": {"role": "talker"}}"#)
        let daemon = fixture.daemon
        let runp = try daemon.berthctl(["runp", "\(directory)/pod.json"])
        let pod = runp.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(runp.status == 0 && pod.count == 64, "\(runp.stderr)")
        let create = try daemon.berthctl(["create", pod, "\(directory)/container.json", "\(directory)/pod.json"])
        let container = create.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(create.status == 0 && container.count == 64, "\(create.stderr)")
        #expect(try daemon.berthctl(["start", container]).stdout == container + "\n")

        let pods = try daemon.berthctl(["pods"])
        let podLines = pods.stdout.split(separator: "\n")
        #expect(podLines.first?.hasPrefix("POD ID") == true && podLines.count == 2, "\(pods.stdout)")
        #expect(podLines.last?.contains("Ready") == true && podLines.last?.contains(String(pod.prefix(13))) == true && podLines.last?.contains("tools") == true)
        #expect(try daemon.berthctl(["pods", "-q", "--label", "tier=demo"]).stdout == pod + "\n")
        #expect(try daemon.berthctl(["pods", "-q", "--name", "^nothing$"]).stdout.isEmpty)
        let ps = try daemon.berthctl(["ps"])
        #expect(ps.stdout.split(separator: "\n").first?.hasPrefix("CONTAINER           IMAGE") == true, "\(ps.stdout)")
        #expect(ps.stdout.contains("talker") && ps.stdout.contains("Running"), "\(ps.stdout)")
        #expect(try daemon.berthctl(["ps", "-q", "--pod", pod, "--label", "role=talker"]).stdout == container + "\n")
        let json = try daemon.berthctl(["ps", "-o", "json"])
        #expect(json.stdout.contains("\"containers\"") && json.stdout.contains(container), "\(json.stdout)")

        let inspectPod = try daemon.berthctl(["inspectp", pod])
        #expect(inspectPod.stdout.contains("\"SANDBOX_READY\"") && inspectPod.stdout.contains("\"info\""), "\(inspectPod.stdout)")
        let inspect = try daemon.berthctl(["inspect", container])
        #expect(inspect.stdout.contains("\"CONTAINER_RUNNING\"") && inspect.stdout.contains("talker/0.log"), "\(inspect.stdout)")

        let sync = try daemon.berthctl(["exec", "--sync", container, "sh", "-c", "echo out; echo err >&2"])
        #expect(sync.status == 0 && sync.stdout == "out\n\nerr\n\n", "crictl prints stdout then stderr on stdout: \(sync.stdout)")
        let failing = try daemon.berthctl(["exec", "-s", container, "sh", "-c", "exit 3"])
        #expect(failing.status == 1 && failing.stderr.contains("exited with 3"), "\(failing.stderr)")
        let plain = try daemon.berthctl(["exec", container, "sh", "-c", "echo to-out; echo to-err >&2; exit 5"])
        #expect(plain.status == 5 && plain.stdout == "to-out\n" && plain.stderr == "to-err\n", "\(plain)")

        try waitFor { (try? daemon.berthctl(["logs", container]))?.stdout == "first\nsecond\n" }
        let logs = try daemon.berthctl(["logs", container])
        #expect(logs.stdout == "first\nsecond\n" && logs.stderr == "oops\n", "stdout and stderr apart: \(logs)")
        #expect(try daemon.berthctl(["logs", "--tail", "1", container]).stdout == "second\n")
        let stamped = try daemon.berthctl(["logs", "-t", container]).stdout
        #expect(stamped.split(separator: "\n").first.map { $0.hasSuffix("Z first") && $0.split(separator: ".")[1].prefix(10).count == 10 } == true, "\(stamped)")
        #expect(try daemon.berthctl(["logs", "--since", "2000-01-01T00:00:00Z", container]).stdout == "first\nsecond\n")
        #expect(try daemon.berthctl(["logs", "--since", "1h", container]).stdout == "first\nsecond\n")
        let noPrevious = try daemon.berthctl(["logs", "--previous", container])
        #expect(noPrevious.status == 1 && noPrevious.stderr.contains("previous terminated container talker not found"), "\(noPrevious.stderr)")
        let podsYAML = try daemon.berthctl(["pods", "-o", "yaml"]).stdout
        #expect(podsYAML.hasPrefix("items:\n") && podsYAML.contains("id: \(pod)"), "\(podsYAML)")
        let inspectYAML = try daemon.berthctl(["inspect", "-o", "yaml", container]).stdout
        #expect(inspectYAML.contains("state: CONTAINER_RUNNING"), "\(inspectYAML)")

        let update = try daemon.berthctl(["update", "--memory", "67108864", container])
        #expect(update.status == 0 && update.stdout == container + "\n", "\(update.stderr)")
        let limit = try fixture.exec(container, ["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"])
        #expect(ContainerFixture.text(limit["stdout"]) == "67108864\n", "\(limit)")

        let refused = try daemon.berthctl(["rm", container])
        #expect(refused.status == 1 && refused.stderr.contains("is running, please stop it first"), "\(refused.stderr)")
        #expect(try daemon.berthctl(["stop", "-t", "1", container]).stdout == container + "\n")
        #expect(try daemon.berthctl(["ps", "-a", "--state", "exited", "-q"]).stdout == container + "\n")
        // The kubelet's restart: attempt 1 of the same name; --previous reads attempt 0's log.
        try writeFile(
            "\(directory)/container-1.json",
            #"{"metadata": {"name": "talker", "attempt": 1}, "image": {"image": "\#(fixture.image.reference)"}, "log_path": "talker/1.log", "command": ["sh", "-c", "echo third"]}"#)
        let next = try daemon.berthctl(["create", pod, "\(directory)/container-1.json", "\(directory)/pod.json"])
        let restarted = next.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(next.status == 0 && restarted.count == 64, "\(next.stderr)")
        #expect(try daemon.berthctl(["ps", "--latest", "-q"]).stdout == restarted + "\n")
        #expect(try daemon.berthctl(["logs", "--previous", restarted]).stdout == "first\nsecond\n")
        #expect(try daemon.berthctl(["rm", restarted]).stdout == restarted + "\n")
        #expect(try daemon.berthctl(["rm", container]).stdout == container + "\n")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.logDirectory)/ctl/talker/0.log"), "rm removes the log file")
        #expect(try daemon.berthctl(["stopp", pod]).stdout == "Stopped sandbox \(pod)\n")
        #expect(try daemon.berthctl(["pods", "-q", "--state", "notready"]).stdout == pod + "\n")
        // As crictl: -f stops only a pod that is still ready.
        let rmp = try daemon.berthctl(["rmp", "-f", pod])
        #expect(rmp.stdout == "Removed sandbox \(pod)\n", "\(rmp)")

        let run = try daemon.berthctl(["run", "--no-pull", "\(directory)/container.json", "\(directory)/pod.json"])
        #expect(run.status == 0 && run.stdout.trimmingCharacters(in: .whitespacesAndNewlines).count == 64, "\(run.stderr)")
        #expect(try daemon.berthctl(["rmp", "-f", "-a"]).status == 0)
        #expect(try daemon.berthctl(["pods", "-q"]).stdout.isEmpty)
        let missing = try daemon.berthctl(["create", pod, "\(directory)/nothing.json", "\(directory)/pod.json"])
        #expect(missing.status == 1 && missing.stderr.contains("nothing.json"), "\(missing.stderr)")

        // crictl.yaml's pull-image-on-create: create pulls an image that is not there.
        #expect(try daemon.berthctl(["rmi", fixture.image.reference]).status == 0)
        try writeFile("\(directory)/crictl.yaml", "pull-image-on-create: true\n")
        let pulledPod = try daemon.berthctl(["runp", "\(directory)/pod.json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pulling = try daemon.berthctl(["create", pulledPod, "\(directory)/container.json", "\(directory)/pod.json"])
        #expect(pulling.status == 0 && pulling.stderr.contains("Pulling container image"), "\(pulling.stderr)")
        #expect(try daemon.berthctl(["images", "-q"]).stdout == "\(fixture.image.configDigest)\n")
        #expect(try daemon.berthctl(["rmp", "-f", "-a"]).status == 0)
        try writeFile("\(directory)/crictl.yaml", "")
    }
}
