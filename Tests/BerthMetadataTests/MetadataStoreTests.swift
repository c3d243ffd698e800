import BerthMetadata
import Foundation
import Testing

final class DatabaseFixture {
    let directory: String
    let store: MetadataStore

    init() throws {
        var template = Array("/tmp/berth-metadata.XXXXXX".utf8CString)
        directory = String(cString: try #require(mkdtemp(&template)))
        store = try MetadataStore(directory: directory)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("the metadata store")
struct MetadataStoreTests {
    func image(_ id: String, names: [String], blobs: [String], snapshots: [String] = []) -> ImageRecord {
        ImageRecord(id: id, manifestDigest: "m-\(id)", size: 10, configJSON: Array("{}".utf8), created: 1, names: names, blobs: blobs, snapshots: snapshots)
    }

    @Test("an image is found by id, tag and digest name, with its parts")
    func find() throws {
        let fixture = try DatabaseFixture()
        try fixture.store.save(image("sha256:a", names: ["docker.io/library/busybox:latest", "docker.io/library/busybox@sha256:m"], blobs: ["sha256:m", "sha256:a", "sha256:l1"], snapshots: ["1"]))
        for reference in ["sha256:a", "docker.io/library/busybox:latest", "docker.io/library/busybox@sha256:m"] {
            #expect(try fixture.store.image(named: reference)?.id == "sha256:a", "\(reference)")
        }
        #expect(try fixture.store.image(named: "docker.io/library/other:latest") == nil)
        #expect(try fixture.store.images().first?.blobs == ["sha256:a", "sha256:l1", "sha256:m"])
    }

    @Test("a tag pulled again moves to the new image; the old one keeps its other names")
    func retag() throws {
        let fixture = try DatabaseFixture()
        try fixture.store.save(image("sha256:old", names: ["r/app:v1", "r/app@sha256:mold"], blobs: []))
        try fixture.store.save(image("sha256:new", names: ["r/app:v1"], blobs: []))
        #expect(try fixture.store.image(named: "r/app:v1")?.id == "sha256:new")
        #expect(try fixture.store.image(named: "sha256:old")?.names == ["r/app@sha256:mold"])
    }

    @Test("removing an image frees only the blobs and snapshots no other image holds")
    func removeFreesUnshared() throws {
        let fixture = try DatabaseFixture()
        try fixture.store.save(image("sha256:one", names: ["a:1"], blobs: ["sha256:shared", "sha256:only-one"], snapshots: ["base", "one"]))
        try fixture.store.save(image("sha256:two", names: ["b:1"], blobs: ["sha256:shared", "sha256:only-two"], snapshots: ["base", "two"]))
        let freed = try fixture.store.remove(imageID: "sha256:one")
        #expect(freed.blobs == ["sha256:only-one"])
        #expect(freed.snapshots == ["one"])
        #expect(try fixture.store.image(named: "a:1") == nil)
        #expect(try fixture.store.referenced().blobs == ["sha256:shared", "sha256:only-two"])
    }

    @Test("the database survives reopening (WAL, migrations run once)")
    func reopen() throws {
        let fixture = try DatabaseFixture()
        try fixture.store.save(image("sha256:kept", names: ["k:1"], blobs: []))
        let again = try MetadataStore(directory: fixture.directory)
        #expect(try again.image(named: "k:1")?.id == "sha256:kept")
    }

    @Test("a container keeps the layers it stands on after its image is removed; removing the container frees them")
    func containerHoldsLayers() throws {
        let fixture = try DatabaseFixture()
        try fixture.store.save(image("sha256:a", names: ["r/app:v1"], blobs: ["sha256:l"], snapshots: ["layer1", "layer2"]))
        let container = ContainerRecord(
            id: "c1", podSandboxID: "p1", name: "app", attempt: 0, image: "r/app:v1", imageID: "sha256:a", createdAt: 5, logPath: "", runtimeHandler: "berth",
            config: [1, 2], snapshots: ["layer1", "layer2", "c-c1"])
        try fixture.store.save(container)
        #expect(try fixture.store.containers() == [container])
        #expect(try fixture.store.containers(idPrefix: "c") == [container])
        #expect(try fixture.store.containers(idPrefix: "x").isEmpty)
        #expect(try fixture.store.referenced().snapshots == ["layer1", "layer2", "c-c1"])
        let freed = try fixture.store.remove(imageID: "sha256:a")
        #expect(freed.snapshots.isEmpty && freed.blobs == ["sha256:l"])
        var started = container
        started.startedAt = 9
        try fixture.store.save(started)
        #expect(try fixture.store.containers().first?.startedAt == 9)
        #expect(Set(try fixture.store.deleteContainer("c1")) == ["layer1", "layer2", "c-c1"])
        #expect(try fixture.store.containers().isEmpty)
        #expect(try fixture.store.referenced().snapshots.isEmpty)
    }
}
