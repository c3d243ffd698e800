import BerthJSON
import BerthSystem
import BerthTestSupport
import Foundation
import Testing

@testable import BerthCNI

@Suite("CNI configs and results")
struct CNIConfigTests {
    @Test("a conflist and a single .conf both read as lists; bad ones name the file and the member")
    func parsing() throws {
        let list = try CNINetworkList.parse(Array(CNINetworkList.defaultList().serialized().utf8), source: "default")
        #expect(list.name == "berth" && list.cniVersion == "1.0.0" && list.plugins.map { $0["type"]?.stringValue } == ["bridge", "portmap"])
        let single = try CNINetworkList.parse(Array(#"{"cniVersion":"0.4.0","name":"one","type":"bridge"}"#.utf8), source: "x.conf")
        #expect(single.plugins.count == 1)
        #expect(throws: CNIError("network config y.conf: \"name\" is missing")) { try CNINetworkList.parse(Array(#"{"type":"bridge"}"#.utf8), source: "y.conf") }
        #expect(throws: CNIError.self) { try CNINetworkList.parse(Array(#"{"name":"../x","type":"bridge"}"#.utf8), source: "z.conf") }
    }

    @Test("pod IPs come without prefix, IPv4 first")
    func podIPs() throws {
        let result = try CNIResult(try JSONParser.parse(#"{"ips":[{"address":"fd00::2/64"},{"address":"10.88.0.5/16","gateway":"10.88.0.1"}]}"#), source: "t")
        #expect(result.podIPs == ["10.88.0.5", "fd00::2"])
    }
}

/// A network namespace, a bridge and the CNI directories of one test, all removed at the end.
final class CNIFixture {
    let directory: String
    let namespace: String
    let bridge: String
    let cni: CNI

    init(plugins: [JSONValue]? = nil) throws {
        let template = NSTemporaryDirectory() + "berth-cni-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: template, withIntermediateDirectories: true)
        directory = template
        let tag = String(UInt32.random(in: 0...0xffffff), radix: 16)
        namespace = "bcni-\(tag)"
        bridge = "bcni\(tag)"
        let subnetByte = Int.random(in: 1...250)
        let list: JSONValue = [
            "cniVersion": "1.0.0", "name": "berth-test",
            "plugins": .array(plugins ?? [[
                "type": "bridge", "bridge": .string(bridge), "isGateway": true, "ipMasq": false,
                "ipam": ["type": "host-local", "ranges": [[["subnet": .string("10.231.\(subnetByte).0/24")]]], "dataDir": .string("\(directory)/ipam")],
            ]]),
        ]
        try FileManager.default.createDirectory(atPath: "\(directory)/net.d", withIntermediateDirectories: true)
        try list.prettySerialized().write(toFile: "\(directory)/net.d/10-test.conflist", atomically: true, encoding: .utf8)
        cni = CNI(configDirectory: "\(directory)/net.d", cacheDirectory: "\(directory)/cache")
        _ = try ip(["netns", "add", namespace])
    }

    var namespacePath: String { "/var/run/netns/\(namespace)" }

    func ip(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let output = try runCommand("/usr/sbin/ip", arguments, timeout: 30)
        return (output.status, output.stdout + output.stderr)
    }

    deinit {
        _ = try? ip(["netns", "del", namespace])
        _ = try? ip(["link", "del", bridge])
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite("CNI through Debian's plugins", .serialized, .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
struct CNIPluginTests {
    @Test("ADD gives the pod an address on the bridge and lo up; DEL removes it, and DEL again is no error")
    func addAndDelete() throws {
        let fixture = try CNIFixture()
        var attachment = CNI.Attachment(containerID: "pod-1", networkNamespace: fixture.namespacePath)
        attachment.arguments = [("K8S_POD_NAMESPACE", "default"), ("K8S_POD_NAME", "web")]
        let result = try fixture.cni.add(attachment)
        let ip = try #require(result.podIPs.first, "\(result.raw.serialized())")
        #expect(ip.hasPrefix("10.231."))
        #expect(try fixture.ip(["-n", fixture.namespace, "-4", "addr", "show", "eth0"]).output.contains("inet \(ip)/24"))
        #expect(try fixture.ip(["-n", fixture.namespace, "link", "show", "lo"]).output.contains("UP"))
        #expect(FileManager.default.fileExists(atPath: "\(fixture.directory)/cache/results/berth-test-pod-1-eth0"))

        try fixture.cni.delete(attachment)
        #expect(try fixture.ip(["-n", fixture.namespace, "link", "show", "eth0"]).status != 0, "eth0 is gone")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.directory)/cache/results/berth-test-pod-1-eth0"))
        try fixture.cni.delete(attachment)
        // The address went back to the pool: the next pod may have it.
        let again = try fixture.cni.add(CNI.Attachment(containerID: "pod-2", networkNamespace: fixture.namespacePath))
        #expect(again.podIPs.first != nil)
        try fixture.cni.delete(CNI.Attachment(containerID: "pod-2", networkNamespace: fixture.namespacePath))
    }

    @Test("a plugin that fails (or is missing) fails ADD naming it, and what the plugins before it added is taken back")
    func failedAdd() throws {
        let fixture = try CNIFixture()
        let bridge: JSONValue = [
            "type": "bridge", "bridge": .string(fixture.bridge), "isGateway": true,
            "ipam": ["type": "host-local", "ranges": [[["subnet": "10.232.7.0/24"]]], "dataDir": .string("\(fixture.directory)/ipam")],
        ]
        let list: JSONValue = ["cniVersion": "1.0.0", "name": "berth-test", "plugins": [bridge, ["type": "no-such-plugin"]]]
        try list.prettySerialized().write(toFile: "\(fixture.directory)/net.d/10-test.conflist", atomically: true, encoding: .utf8)
        #expect {
            _ = try fixture.cni.add(CNI.Attachment(containerID: "pod-3", networkNamespace: fixture.namespacePath))
        } throws: { error in
            "\(error)".contains("plugin \"no-such-plugin\" not found")
        }
        #expect(try fixture.ip(["-n", fixture.namespace, "link", "show", "eth0"]).status != 0, "the bridge plugin's veth was removed")
        let leases = (try? FileManager.default.contentsOfDirectory(atPath: "\(fixture.directory)/ipam/berth-test")) ?? []
        #expect(!leases.contains { $0.hasPrefix("10.232.") }, "no address stays leased: \(leases)")
    }

    @Test("without any network config the reason says where it looked; the default list is written only then")
    func missingConfig() throws {
        let directory = NSTemporaryDirectory() + "berth-cni-empty-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cni = CNI(configDirectory: "\(directory)/net.d", cacheDirectory: "\(directory)/cache")
        #expect(throws: CNIError("no network config in \(directory)/net.d")) { try cni.network() }
        try cni.writeDefault(CNINetworkList.defaultList())
        #expect(try cni.network().name == "berth")
        try cni.writeDefault(CNINetworkList.defaultList(bridge: "other"))
        let text = try String(contentsOfFile: "\(directory)/net.d/10-berth.conflist", encoding: .utf8)
        #expect(text.contains("berth0") && !text.contains("other"), "an existing config is kept")
    }
}
