import BerthTestSupport
import Foundation
import Testing

extension ContainerFixture {
    /// What berthd left behind of pods and containers that were all removed: mounts under
    /// its directory, state directories, container snapshots, rows in its database, shim
    /// processes, and the network namespaces, cgroups and IP leases of `pods`.
    func leftovers(pods: [String]) throws -> [String] {
        var found = mounts.map { "mount: \($0)" }
        let fileManager = FileManager.default
        for directory in ["state/containers", "state/pods"] {
            found += ((try? fileManager.contentsOfDirectory(atPath: "\(daemon.directory)/\(directory)")) ?? []).map { "\(directory)/\($0)" }
        }
        found += try fileManager.contentsOfDirectory(atPath: "\(daemon.directory)/root/snapshots").filter { $0.hasPrefix("c-") }.map { "snapshot \($0)" }
        found += ((try daemon.call("RuntimeService.ListPodSandbox"))["items"] as? [[String: Any]] ?? []).map { "listed pod \($0["id"] ?? "")" }
        found += ((try daemon.call("RuntimeService.ListContainers"))["containers"] as? [[String: Any]] ?? []).map { "listed container \($0["id"] ?? "")" }
        // The rows themselves, read with SQLite beside berthd (WAL allows the reader).
        let rows = try execute(
            "/usr/bin/python3",
            ["-c", "import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); print(' '.join(f'{t}={d.execute(f\"select count(*) from {t}\").fetchone()[0]}' for t in ('podSandbox', 'container', 'containerSnapshot')))", "\(daemon.directory)/root/metadata.db"])
        if rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines) != "podSandbox=0 container=0 containerSnapshot=0" {
            found.append("database rows: \(rows.stdout) \(rows.stderr)")
        }
        // Shims (their command lines name the daemon's state directory); not berthd itself.
        for entry in (try? fileManager.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != daemon.process.pid,
                let commandLine = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))
            else { continue }
            let text = String(decoding: commandLine.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if text.contains(daemon.directory) { found.append("process \(pid): \(text)") }
        }
        let namespaces = try execute("/usr/sbin/ip", ["netns", "list"]).stdout
        for pod in pods {
            if namespaces.contains("berth-\(pod.prefix(16))") { found.append("netns of pod \(pod)") }
            for hierarchy in ["memory", "pids", "cpu", "freezer"] where fileManager.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)/berth/pods/\(pod)") {
                found.append("cgroup \(hierarchy)/berth/pods/\(pod)")
            }
        }
        let leases = ((try? fileManager.contentsOfDirectory(atPath: "\(daemon.directory)/ipam/podtest")) ?? []).filter { $0.hasPrefix(self.pods.subnet + ".") }
        found += leases.map { "IP lease \($0)" }
        return found
    }

    func errorCode(_ response: [String: Any]) -> String? { (response["error"] as? [String: String])?["code"] }
    func errorDetails(_ response: [String: Any]) -> String { (response["error"] as? [String: String])?["details"] ?? "" }
}

/// Hostile and repeated CRI input: each refusal has the right code and names the input,
/// and nothing of a refused or removed pod or container stays on the machine.
@Suite("the CRI under hostile input and pod churn", .serialized, .enabled(if: Binaries.daemonAvailable && Binaries.available))
struct CRIRobustnessTests {
    @Test("missing metadata, a reused name, unknown ids, a log path or mount outside, bad seccomp profiles: the right code, a message naming the input, nothing left behind")
    func hostileInput() throws {
        let fixture = try ContainerFixture()
        let daemon = fixture.daemon
        let pod = try fixture.pod("web")
        let image = fixture.image.reference

        let noPodMetadata = try daemon.call("RuntimeService.RunPodSandbox", #"{"config": {"hostname": "x"}}"#)
        #expect(fixture.errorCode(noPodMetadata) == "INVALID_ARGUMENT" && fixture.errorDetails(noPodMetadata).contains("metadata"), "\(noPodMetadata)")
        let noMetadata = try daemon.call("RuntimeService.CreateContainer", #"{"podSandboxId": "\#(pod)", "config": {"image": {"image": "\#(image)"}}}"#)
        #expect(fixture.errorCode(noMetadata) == "INVALID_ARGUMENT" && fixture.errorDetails(noMetadata).contains("metadata"), "\(noMetadata)")
        let noImage = try daemon.call("RuntimeService.CreateContainer", #"{"podSandboxId": "\#(pod)", "config": {"metadata": {"name": "x"}}}"#)
        #expect(fixture.errorCode(noImage) == "INVALID_ARGUMENT" && fixture.errorDetails(noImage).contains("image"), "\(noImage)")

        let first = try #require(try fixture.create(pod: pod, name: "app", config: #", "command": ["sleep", "600"]"#, start: false)["containerId"] as? String)
        let reused = try fixture.create(pod: pod, name: "app", start: false)
        #expect(fixture.errorCode(reused) == "ALREADY_EXISTS" && fixture.errorDetails(reused).contains(first), "the message names the holder: \(reused)")
        let reusedPod = try daemon.call("RuntimeService.RunPodSandbox", #"{"config": {"metadata": {"name": "web", "namespace": "default", "uid": "uid-web"}}}"#)
        #expect(fixture.errorCode(reusedPod) == "ALREADY_EXISTS", "\(reusedPod)")

        let profiles = try makeTemporaryDirectory(prefix: "berth-seccomp")
        defer { try? FileManager.default.removeItem(atPath: profiles) }
        try writeFile("\(profiles)/garbage.json", "{not json")
        try writeFile("\(profiles)/no-action.json", #"{"syscalls": []}"#)
        try writeFile("\(profiles)/bad-action.json", #"{"defaultAction": "SCMP_ACT_NONSENSE"}"#)
        let outside = try daemon.call(
            "RuntimeService.CreateContainer",
            #"{"podSandboxId": "\#(pod)", "config": {"metadata": {"name": "bad"}, "image": {"image": "\#(image)"}, "logPath": "../../../../etc/evil.log"}}"#)
        #expect(fixture.errorCode(outside) == "INVALID_ARGUMENT" && fixture.errorDetails(outside).contains("../../../../etc/evil.log"), "\(outside)")
        let refused: [(String, String)] = [
            (#", "mounts": [{"containerPath": "/data", "hostPath": "/no/such/dir"}]"#, "/no/such/dir"),
            (#", "linux": {"securityContext": {"seccompProfilePath": "nonsense/profile"}}"#, "nonsense/profile"),
            (#", "linux": {"securityContext": {"seccomp": {"profileType": "Localhost", "localhostRef": "relative.json"}}}"#, "relative.json"),
            (#", "linux": {"securityContext": {"seccomp": {"profileType": "Localhost", "localhostRef": "\#(profiles)/missing.json"}}}"#, "missing.json"),
            (#", "linux": {"securityContext": {"seccomp": {"profileType": "Localhost", "localhostRef": "\#(profiles)/garbage.json"}}}"#, "garbage.json"),
            (#", "linux": {"securityContext": {"seccomp": {"profileType": "Localhost", "localhostRef": "\#(profiles)/no-action.json"}}}"#, "no-action.json"),
        ]
        for (extra, mention) in refused {
            let response = try fixture.create(pod: pod, name: "bad", config: extra, start: false)
            #expect(fixture.errorCode(response) == "INVALID_ARGUMENT" && fixture.errorDetails(response).contains(mention), "\(extra): \(response)")
        }
        // A profile only the runtime can judge: refused when the shim runs `create`.
        let badAction = try fixture.create(
            pod: pod, name: "bad", config: #", "linux": {"securityContext": {"seccomp": {"profileType": "Localhost", "localhostRef": "\#(profiles)/bad-action.json"}}}"#, start: false)
        #expect(fixture.errorCode(badAction) != nil && fixture.errorDetails(badAction).contains("SCMP_ACT_NONSENSE"), "\(badAction)")

        let unknown = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        for (method, request) in [
            ("StartContainer", #"{"containerId": "\#(unknown)"}"#), ("StopContainer", #"{"containerId": "\#(unknown)"}"#),
            ("ContainerStatus", #"{"containerId": "\#(unknown)"}"#), ("ReopenContainerLog", #"{"containerId": "\#(unknown)"}"#),
            ("UpdateContainerResources", #"{"containerId": "\#(unknown)"}"#), ("ExecSync", #"{"containerId": "\#(unknown)", "cmd": ["true"]}"#),
            ("ContainerStatus", #"{"containerId": "../../../etc"}"#), ("PodSandboxStatus", #"{"podSandboxId": "\#(unknown)"}"#),
            ("CreateContainer", #"{"podSandboxId": "\#(unknown)", "config": {"metadata": {"name": "x"}, "image": {"image": "\#(image)"}}}"#),
        ] {
            let response = try daemon.call("RuntimeService.\(method)", request)
            #expect(fixture.errorCode(response) == "NOT_FOUND", "\(method) \(request): \(response)")
        }
        for (method, request) in [
            ("RemoveContainer", #"{"containerId": "\#(unknown)"}"#), ("StopPodSandbox", #"{"podSandboxId": "\#(unknown)"}"#),
            ("RemovePodSandbox", #"{"podSandboxId": "\#(unknown)"}"#),
        ] {
            #expect(try daemon.call("RuntimeService.\(method)", request)["error"] == nil, "\(method) of an unknown id is idempotent")
        }

        #expect(try daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(pod)"}"#)["error"] == nil)
        let left = try fixture.leftovers(pods: [pod])
        #expect(left.isEmpty, "\(left)")
    }

    @Test("50 pods, each with a container, created and removed in a loop leave no mounts, cgroups, netns, IP leases, processes or database rows")
    func churn() throws {
        let fixture = try ContainerFixture()
        var pods: [String] = []
        for index in 0..<50 {
            let pod = try fixture.pod("churn-\(index)")
            pods.append(pod)
            // Half exit at once, half run until the pod stops them (SIGTERM, trapped).
            let command = index % 2 == 0 ? #"["echo", "done"]"# : #"["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]"#
            let created = try fixture.create(pod: pod, name: "app", config: #", "command": \#(command)"#)
            #expect(created["containerId"] != nil, "pod \(index): \(created)")
            // Every third pod is stopped first; the others removed while running.
            if index % 3 == 0 {
                #expect(try fixture.daemon.call("RuntimeService.StopPodSandbox", #"{"podSandboxId": "\#(pod)"}"#)["error"] == nil)
            }
            let removed = try fixture.daemon.call("RuntimeService.RemovePodSandbox", #"{"podSandboxId": "\#(pod)"}"#)
            #expect(removed["error"] == nil, "pod \(index): \(removed)")
        }
        let left = try fixture.leftovers(pods: pods)
        #expect(left.isEmpty, "\(left)")
    }
}
