import BerthJSON
import BerthRuntimeSpec
import Testing

private func state(_ status: ContainerState.Status, annotations: [String: String] = [:]) -> ContainerState {
    ContainerState(id: "c1", status: status, pid: 4242, bundle: "/b", rootfs: "/b/rootfs", created: "2026-01-02T03:04:05.5Z", annotations: annotations, owner: "root")
}

@Suite("ContainerState")
struct ContainerStateTests {
    @Test("state JSON lists members in runc's order")
    func fieldOrder() throws {
        let object = try #require(state(.running, annotations: ["k": "v"]).json.objectValue)
        #expect(object.keys == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"])
    }

    @Test("state JSON leaves out annotations when there are none")
    func noAnnotations() throws {
        let object = try #require(state(.created).json.objectValue)
        #expect(object.keys == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"])
    }

    @Test("state JSON serializes compactly with every value")
    func serialized() {
        #expect(state(.running).json.serialized()
            == #"{"ociVersion":"1.2.0","id":"c1","pid":4242,"status":"running","bundle":"/b","rootfs":"/b/rootfs","created":"2026-01-02T03:04:05.5Z","owner":"root"}"#)
    }

    @Test("a stopped container shows pid 0")
    func stoppedPid() {
        #expect(state(.stopped).json["pid"] == 0)
        #expect(state(.stopped).json["status"] == "stopped")
    }

    @Test("a running container shows its pid")
    func runningPid() {
        #expect(state(.running).json["pid"] == 4242)
    }

    @Test("annotations are sorted by key")
    func sortedAnnotations() throws {
        let annotations = ["zeta": "1", "alpha": "2", "mid": "3"]
        #expect(state(.running, annotations: annotations).json["annotations"]?.objectValue?.keys == ["alpha", "mid", "zeta"])
        #expect(state(.running, annotations: annotations).hookJSON()["annotations"]?.objectValue?.keys == ["alpha", "mid", "zeta"])
    }

    @Test("hook state has the spec's members in order")
    func hookFieldOrder() throws {
        let object = try #require(state(.created, annotations: ["a": "b"]).hookJSON().objectValue)
        #expect(object.keys == ["ociVersion", "id", "status", "pid", "bundle", "annotations"])
        #expect(object["pid"] == 4242)
    }

    @Test("hook state has no pid once the container stopped")
    func hookStoppedHasNoPid() throws {
        let object = try #require(state(.stopped).hookJSON(pid: 77).objectValue)
        #expect(object["pid"] == nil)
        #expect(object.keys == ["ociVersion", "id", "status", "bundle"])
    }

    @Test("hook state takes an explicit pid over the stored one")
    func hookExplicitPid() {
        #expect(state(.creating).hookJSON(pid: 77)["pid"] == 77)
    }

    @Test("namespace kinds map to their /proc/<pid>/ns names")
    func namespaceProcNames() {
        #expect(NamespaceKind.network.procName == "net")
        #expect(NamespaceKind.mount.procName == "mnt")
        #expect(NamespaceKind.pid.procName == "pid")
        #expect(NamespaceKind(specName: "cgroup") == .cgroup)
        #expect(NamespaceKind(specName: "net") == nil)
    }
}
