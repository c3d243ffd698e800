import BerthCRI
import BerthJSON
import Foundation
import Testing

@testable import BerthCtl

@Suite("YAML config files, read as crictl reads them")
struct YAMLDocumentTests {
    @Test("a crictl pod config: nested mappings, sequences at and below their key, - key: value items, flow collections, quotes, comments")
    func podConfig() throws {
        let text = """
            ---
            # a pod, as in the crictl docs
            metadata:
              name: nginx-sandbox
              namespace: default
              attempt: 1
              uid: hdishd83djaidwnduwk28bcsb
            log_directory: /tmp
            linux:
              security_context:
                namespace_options: {network: 2, pid: 1}
            port_mappings:
            - container_port: 80
              host_port: 8080
            - {container_port: 53, protocol: 1}
            labels: {app: "web", tier: 'front # not a comment', "x:y": it''s}
            dns_config:
              servers:
                - 10.0.0.10
              options: [ndots:5, "edns0"]  # a comment
            annotations:
              quoted: "a: b \\u00e9"
              empty: ""
              nothing:
              port: "8080"
              privileged: yes
              mode: 0755
            command:
            - sh
            - -c
            - echo hi; echo there
            """
        let value = try YAMLDocument.parse(text)
        let expected = try JSONParser.parse(#"""
            {"metadata": {"name": "nginx-sandbox", "namespace": "default", "attempt": 1, "uid": "hdishd83djaidwnduwk28bcsb"},
             "log_directory": "/tmp", "linux": {"security_context": {"namespace_options": {"network": 2, "pid": 1}}},
             "port_mappings": [{"container_port": 80, "host_port": 8080}, {"container_port": 53, "protocol": 1}],
             "labels": {"app": "web", "tier": "front # not a comment", "x:y": "it''s"},
             "dns_config": {"servers": ["10.0.0.10"], "options": ["ndots:5", "edns0"]},
             "annotations": {"quoted": "a: b é", "empty": "", "nothing": null, "port": "8080", "privileged": true, "mode": 493},
             "command": ["sh", "-c", "echo hi; echo there"]}
            """#)
        #expect(value == expected, "\(value.serialized())")
    }

    @Test("what berthctl -o yaml prints reads back as the same value")
    func roundTrip() throws {
        let value = try JSONParser.parse(#"{"a":{"b":[{"c":"1","d":[]},{"e":{}}],"f":"yes","g":"sha256:abc","h":"2024-01-01T00:00:00Z","i":""},"z":[["x"]]}"#)
        #expect(try YAMLDocument.parse(YAMLEmitter.emit(value)) == value, "\(YAMLEmitter.emit(value))")
    }

    @Test("what it cannot read is refused with the line", arguments: [
        ("a: 1\n\tb: 2\n", 2, "tabs"), ("a: |\n  text\n", 1, "block scalars"), ("a: \"open\n", 1, "does not end"),
        ("a: 1\na: 2\n", 2, "twice"), ("a: &anchor 1\n", 1, "anchors"), ("a: 1\n---\nb: 2\n", 2, "one document"),
        ("a:\n  b: 1\n c: 2\n", 3, "indentation"), ("a: [1, 2\n", 1, "does not end with ]"), ("just text\n", 1, "key: value"),
    ])
    func refused(text: String, line: Int, mention: String) {
        do {
            _ = try YAMLDocument.parse(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.line == line && error.message.contains(mention), "\(error)")
        }
    }

    @Test("runp's config file may be YAML: the pod config it describes")
    func configFile() throws {
        let path = NSTemporaryDirectory() + "berthctl-pod-\(getpid()).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "metadata:\n  name: web\n  namespace: default\n  uid: u1\nhostname: web\nlinux:\n  security_context:\n    privileged: true\n".write(toFile: path, atomically: true, encoding: .utf8)
        let config = try CRIConfigFile.load(path, as: Runtime_V1_PodSandboxConfig.self, what: "podSandboxConfig")
        #expect(config.metadata.name == "web" && config.metadata.uid == "u1" && config.hostname == "web" && config.linux.securityContext.privileged)
        try "metadata: [a, b]\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CommandError.self) { try CRIConfigFile.load(path, as: Runtime_V1_PodSandboxConfig.self, what: "podSandboxConfig") }
    }
}
