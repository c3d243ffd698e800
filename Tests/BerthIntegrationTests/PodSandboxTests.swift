import BerthTestSupport
import Foundation
import Testing

/// A berthd that runs pods: the release berth as the runtime, the shim `swift test`
/// built, berth-pause, and a bridge network of the test's own.
final class PodDaemon {
    private(set) var daemon: RunningDaemon
    let bridge: String
    let subnet: String
    let config: String

    private static let firstSubnet = Int.random(in: 0..<250)
    private static let subnets = Counter()

    init(plugins: String? = nil, runtime: String = Binaries.berth, extraConfig: String = "", pluginsFor: ((String, String, String) -> String)? = nil) throws {
        let tag = String(UInt32.random(in: 0...0xffffff), radix: 16)
        bridge = "bpod\(tag)"
        // One subnet per daemon of this test run (suites run side by side: two bridges
        // with one subnet would route one pod's packets to the other's).
        subnet = "10.234.\((Self.firstSubnet + Self.subnets.next()) % 250 + 1)"
        config = """
            [runtime]
            berth = "\(runtime)"
            shim = "\(Binaries.shim)"
            pause = "\(Binaries.pause)"

            """ + extraConfig
        let daemon = try RunningDaemon(config: config)
        self.daemon = daemon
        let list = pluginsFor?(bridge, subnet, daemon.directory) ?? plugins ?? """
            {"cniVersion":"1.0.0","name":"podtest","plugins":[{"type":"bridge","bridge":"\(bridge)","isGateway":true,"ipMasq":false,
             "ipam":{"type":"host-local","ranges":[[{"subnet":"\(subnet).0/24"}]],"dataDir":"\(daemon.directory)/ipam"}}]}
            """
        // Sorted before the default berthd wrote: this network is the one in force.
        try writeFile("\(daemon.directory)/net.d/00-test.conflist", list)
    }

    /// A new berthd on the same directories (after the old one was killed).
    func restart() throws {
        daemon.keepDirectory = true
        _ = daemon.stop()
        daemon = try RunningDaemon(config: config, reusing: daemon.directory)
    }

    /// The network namespaces of pods whose RunPodSandbox failed (named in berthd's log)
    /// that are still there: other suites make namespaces at the same time, so the list
    /// as a whole cannot be compared.
    func leftNetworkNamespaces(before: String) throws -> [String] {
        let failed = daemon.log.split(separator: "\n").filter { $0.contains("pod failed") }.compactMap { line -> String? in
            guard let range = line.range(of: " pod=") else { return nil }
            return "berth-" + line[range.upperBound...].prefix(16)
        }
        #expect(!failed.isEmpty, "berthd logged the failed pod: \(daemon.log)")
        let now = try execute("/usr/sbin/ip", ["netns", "list"]).stdout
        return failed.filter { now.contains($0) && !before.contains($0) }
    }

    func run(_ name: String, uid: String = "uid-1") throws -> [String: Any] {
        try daemon.call("RuntimeService.RunPodSandbox", #"{"config": {"metadata": {"name": "\#(name)", "namespace": "default", "uid": "\#(uid)"}, "hostname": "\#(name)", "labels": {"app": "\#(name)"}}}"#)
    }

    deinit {
        for item in ((try? daemon.call("RuntimeService.ListPodSandbox"))?["items"] as? [[String: Any]]) ?? [] {
            _ = try? daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(item["id"] as? String ?? "")"}"#)
        }
        _ = try? execute("/usr/sbin/ip", ["link", "del", bridge])
        // berth made /berth/pods as the pause containers' parent cgroup; the last test to
        // finish removes it (rmdir fails harmlessly while another test's pod is in it).
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            rmdir("/sys/fs/cgroup/\(hierarchy)/berth/pods")
            rmdir("/sys/fs/cgroup/\(hierarchy)/berth")
        }
    }
}

@Suite("pods through the CRI: berth-pause under berth-shim, CNI networking", .serialized, .enabled(if: Binaries.daemonAvailable && Binaries.available))
struct PodSandboxTests {
    @Test("RunPodSandbox, status with the pod IP, list with filters, pods reach each other over the bridge; Stop and Remove are idempotent and leave nothing")
    func lifecycle() throws {
        let pods = try PodDaemon()
        let first = try pods.run("web")
        let id = try #require(first["podSandboxId"] as? String, "\(first)")
        let second = try #require(try pods.run("db", uid: "uid-2")["podSandboxId"] as? String)

        let status = try pods.daemon.call("RuntimeService.PodSandboxStatus", #"{"podSandboxId": "\#(id)"}"#)["status"] as? [String: Any]
        let ip = try #require((status?["network"] as? [String: Any])?["ip"] as? String, "\(String(describing: status))")
        #expect(ip.hasPrefix(pods.subnet + "."))
        #expect(status?["state"] == nil, "SANDBOX_READY is the zero value")
        let secondIP = try #require(((try pods.daemon.call("RuntimeService.PodSandboxStatus", #"{"podSandboxId": "\#(second)"}"#)["status"] as? [String: Any])?["network"] as? [String: Any])?["ip"] as? String)
        let namespace = "berth-\(id.prefix(16))"
        let ping = try execute("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/bin/busybox", "ping", "-c", "1", "-W", "2", secondIP])
        #expect(ping.status == 0, "pod to pod over the bridge: \(ping.stdout) \(ping.stderr)")

        let again = try pods.run("web")
        #expect((again["error"] as? [String: String])?["code"] == "ALREADY_EXISTS", "\(again)")
        let filtered = try pods.daemon.call("RuntimeService.ListPodSandbox", #"{"filter": {"labelSelector": {"app": "db"}}}"#)["items"] as? [[String: Any]]
        #expect(filtered?.map { $0["id"] as? String } == [second])

        _ = try pods.daemon.call("RuntimeService.StopPodSandbox", #"{"podSandboxId": "\#(id)"}"#)
        let stopped = try pods.daemon.call("RuntimeService.PodSandboxStatus", #"{"podSandboxId": "\#(id)"}"#)["status"] as? [String: Any]
        #expect(stopped?["state"] as? String == "SANDBOX_NOTREADY")
        #expect(try execute("/usr/sbin/ip", ["netns", "list"]).stdout.contains(namespace) == false, "the netns is gone")
        #expect((try pods.daemon.call("RuntimeService.StopPodSandbox", #"{"podSandboxId": "\#(id)"}"#))["error"] == nil, "stop again")
        for pod in [id, second] {
            #expect((try pods.daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(pod)"}"#))["error"] == nil)
        }
        #expect((try pods.daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(id)"}"#))["error"] == nil, "remove again")
        #expect(((try pods.daemon.call("RuntimeService.ListPodSandbox"))["items"] as? [Any] ?? []).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(pods.daemon.directory)/state/pods").isEmpty)
        let missing = try pods.daemon.call("RuntimeService.PodSandboxStatus", #"{"podSandboxId": "\#(id)"}"#)
        #expect((missing["error"] as? [String: String])?["code"] == "NOT_FOUND")
    }

    @Test("a pause container the runtime cannot create fails RunPodSandbox, and the network it had is taken back")
    func failedStart() throws {
        let pods = try PodDaemon(runtime: "/bin/false")
        let before = try execute("/usr/sbin/ip", ["netns", "list"]).stdout
        let result = try pods.run("web")
        #expect((result["error"] as? [String: String])?["code"] == "INTERNAL", "\(result)")
        #expect(try pods.leftNetworkNamespaces(before: before).isEmpty, "no netns left")
        let leases = ((try? FileManager.default.contentsOfDirectory(atPath: "\(pods.daemon.directory)/ipam/podtest")) ?? []).filter { $0.hasPrefix(pods.subnet) }
        #expect(leases.isEmpty, "the address went back: \(leases)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(pods.daemon.directory)/state/pods")) ?? []).isEmpty)
        let hostile = try pods.daemon.call("RuntimeService.RunPodSandbox", #"{"config": {"metadata": {"name": "x;IP=10.0.0.1", "namespace": "default", "uid": "u"}}}"#)
        #expect((hostile["error"] as? [String: String])?["code"] == "INVALID_ARGUMENT", "a name cannot smuggle CNI_ARGS: \(hostile)")
    }

    @Test("a network that cannot attach fails RunPodSandbox naming the plugin, and leaves no netns, shim, directory or row")
    func failedNetwork() throws {
        let pods = try PodDaemon(plugins: #"{"cniVersion":"1.0.0","name":"broken","plugins":[{"type":"no-such-plugin"}]}"#)
        let before = try execute("/usr/sbin/ip", ["netns", "list"]).stdout
        let result = try pods.run("web")
        let error = try #require(result["error"] as? [String: String], "\(result)")
        #expect(error["code"] == "FAILED_PRECONDITION" && error["details"]?.contains("no-such-plugin") == true, "\(error)")
        #expect(try pods.leftNetworkNamespaces(before: before).isEmpty, "no netns left")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(pods.daemon.directory)/state/pods")) ?? []).isEmpty)
        #expect(((try pods.daemon.call("RuntimeService.ListPodSandbox"))["items"] as? [Any] ?? []).isEmpty)
        let bad = try pods.daemon.call("RuntimeService.RunPodSandbox", #"{"config": {"metadata": {"name": "x"}}}"#)
        #expect((bad["error"] as? [String: String])?["code"] == "INVALID_ARGUMENT", "\(bad)")
    }
}
