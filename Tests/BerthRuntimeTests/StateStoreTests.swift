import BerthRuntime
import BerthRuntimeSpec
import BerthSystem
import Glibc
import Testing

/// A fresh state root under /tmp (not yet created: StateStore makes it), removed by `remove()`.
private struct TemporaryRoot {
    let base: String
    var root: String { "\(base)/state" }
    var store: StateStore { StateStore(root: root) }

    init() throws {
        var template = Array("/tmp/berth-unit-state-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SystemError.last("mkdtemp", "/tmp")
        }
        base = String(cString: made)
    }

    func remove() { try? FileSystem.removeTree(base) }
}

private func record(_ id: String = "c1") -> ContainerRecord {
    ContainerRecord(
        id: id, pid: Int32.max, startTime: UInt64.max, bundle: "/bundles/with \"quotes\"", rootfs: "/bundles/x/rootfs",
        created: "2026-01-02T03:04:05.123456789Z", ociVersion: "1.0.2-dev",
        annotations: ["org.example/b": "2", "org.example/a": "ä\n"],
        cgroupDirectories: ["/sys/fs/cgroup/memory/c1", "/sys/fs/cgroup/unified/c1"],
        cgroupCreated: ["/sys/fs/cgroup/unified/c1"],
        ownPidNamespace: true,
        poststart: [Spec.Hook(path: "/bin/poststart", args: ["poststart", "--flag"], env: ["A=1", "B=two"], timeout: 30)],
        poststop: [Spec.Hook(path: "/bin/one"), Spec.Hook(path: "/bin/two", timeout: 1)]
    )
}

private func code(_ body: () throws(RuntimeError) -> Void) -> RuntimeError.Code? {
    do {
        try body()
        return nil
    } catch {
        return error.code
    }
}

@Suite("StateStore")
struct StateStoreTests {
    @Test("claim creates the root and the container directory")
    func claimCreates() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        try temporary.store.claim("c1")
        #expect(FileSystem.isDirectory(temporary.store.directory("c1")))
        var info = stat()
        #expect(stat(temporary.root, &info) == 0)
        #expect(info.st_mode & 0o077 == 0)
    }

    @Test("claiming an id twice fails with alreadyExists")
    func claimTwice() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        try temporary.store.claim("c1")
        #expect(code { () throws(RuntimeError) in try temporary.store.claim("c1") } == .alreadyExists)
    }

    @Test("a saved record loads back with every field")
    func saveLoadRoundTrip() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        let store = temporary.store
        try store.claim("c1")
        let saved = record()
        try store.save(saved)
        let loaded = try store.load("c1")
        #expect(loaded.id == saved.id)
        #expect(loaded.pid == saved.pid)
        #expect(loaded.startTime == saved.startTime)
        #expect(loaded.bundle == saved.bundle)
        #expect(loaded.rootfs == saved.rootfs)
        #expect(loaded.created == saved.created)
        #expect(loaded.ociVersion == saved.ociVersion)
        #expect(loaded.annotations == saved.annotations)
        #expect(loaded.cgroupDirectories == saved.cgroupDirectories)
        #expect(loaded.cgroupCreated == saved.cgroupCreated)
        #expect(loaded.ownPidNamespace == saved.ownPidNamespace)
        #expect(loaded.poststart == saved.poststart)
        #expect(loaded.poststop == saved.poststop)
    }

    @Test("a record without hooks or annotations loads back without hooks")
    func saveLoadEmpty() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        let store = temporary.store
        try store.claim("bare")
        var bare = record("bare")
        bare.annotations = nil
        bare.poststart = nil
        bare.poststop = []
        bare.cgroupDirectories = []
        bare.cgroupCreated = []
        bare.ownPidNamespace = false
        try store.save(bare)
        let loaded = try store.load("bare")
        #expect(loaded.poststart == nil)
        #expect(loaded.poststop == [])
        #expect((loaded.annotations ?? [:]).isEmpty)
        #expect(loaded.cgroupDirectories.isEmpty)
        #expect(loaded.ownPidNamespace == false)
    }

    @Test("saving again replaces the record")
    func saveReplaces() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        try temporary.store.claim("c1")
        try temporary.store.save(record())
        var changed = record()
        changed.pid = 7
        try temporary.store.save(changed)
        #expect(try temporary.store.load("c1").pid == 7)
        #expect(try FileSystem.listDirectory(temporary.store.directory("c1")).sorted() == ["lock", "state.json"])
    }

    @Test("loading a missing id fails with notFound")
    func loadMissing() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        #expect(code { () throws(RuntimeError) in _ = try temporary.store.load("nope") } == .notFound)
        try temporary.store.claim("claimed")
        #expect(code { () throws(RuntimeError) in _ = try temporary.store.load("claimed") } == .notFound)
    }

    @Test("a corrupt record fails with a message naming its path")
    func loadCorrupt() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        let store = temporary.store
        try store.claim("c1")
        try FileSystem.writeAtomically(store.recordPath("c1"), Array(#"{"id":"c1"}"#.utf8))
        do {
            _ = try store.load("c1")
            Issue.record("loaded a corrupt record")
        } catch {
            #expect(error.code == .system)
            #expect(error.message.contains(store.recordPath("c1")))
        }
    }

    @Test("ids lists only directories holding a state.json, sorted")
    func ids() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        let store = temporary.store
        #expect(store.ids().isEmpty)
        for id in ["zeta", "alpha", "claimed-only"] { try store.claim(id) }
        try store.save(record("zeta"))
        try store.save(record("alpha"))
        try FileSystem.writeAtomically("\(temporary.root)/stray-file", [1])
        #expect(store.ids() == ["alpha", "zeta"])
        #expect(FileSystem.exists(store.recordPath("alpha")))
        #expect(!FileSystem.exists(store.recordPath("claimed-only")))
        #expect(FileSystem.exists(store.lockPath("claimed-only")))
    }

    @Test("remove deletes the container directory and its contents")
    func remove() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        let store = temporary.store
        try store.claim("c1")
        try store.save(record())
        try store.remove("c1")
        #expect(!FileSystem.exists(store.directory("c1")))
        #expect(store.ids().isEmpty)
        try store.remove("c1")
    }

    @Test("the lock of a missing container fails with notFound")
    func lockMissing() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        #expect(code { () throws(RuntimeError) in _ = try temporary.store.lock("nope") } == .notFound)
    }

    @Test("the lock of a claimed container can be taken and released")
    func lock() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        try temporary.store.claim("c1")
        let lock = try temporary.store.lock("c1")
        lock.release()
        #expect(FileSystem.exists(temporary.store.lockPath("c1")))
    }
}

@Suite("ContainerRecord status")
struct ContainerRecordStatusTests {
    /// A record whose init is this test process.
    private func ownRecord() throws -> ContainerRecord {
        var mine = record()
        mine.pid = getpid()
        mine.startTime = try #require(ProcessStatus.read(pid: getpid())).startTime
        mine.cgroupDirectories = []
        return mine
    }

    @Test("a live init with the exec socket present is created")
    func created() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        try temporary.store.claim("c1")
        #expect(mkfifo(temporary.store.execSocketPath("c1"), 0o600) == 0)
        #expect(try ownRecord().status(store: temporary.store) == .created)
    }

    @Test("a live init without the exec socket is running")
    func running() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        try temporary.store.claim("c1")
        #expect(try ownRecord().status(store: temporary.store) == .running)
    }

    @Test("a pid whose start time differs is a stopped container")
    func reusedPid() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        var reused = try ownRecord()
        reused.startTime += 1
        #expect(reused.status(store: temporary.store) == .stopped)
        #expect(reused.state(store: temporary.store).json["pid"] == 0)
    }

    @Test("a frozen cgroup makes a running container paused")
    func paused() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        try temporary.store.claim("c1")
        let freezer = "\(temporary.base)/freezer"
        try FileSystem.makeDirectories(freezer)
        try FileSystem.writeAtomically("\(freezer)/freezer.state", Array("FROZEN\n".utf8))
        var frozen = try ownRecord()
        frozen.cgroupDirectories = [freezer]
        #expect(frozen.status(store: temporary.store) == .paused)
    }

    @Test("the state of a record carries its identity and annotations")
    func state() throws {
        let temporary = try TemporaryRoot()
        defer { temporary.remove() }
        let state = try ownRecord().state(store: temporary.store, owner: "root")
        #expect(state.id == "c1")
        #expect(state.ociVersion == "1.0.2-dev")
        #expect(state.annotations["org.example/b"] == "2")
        #expect(state.owner == "root")
    }
}
