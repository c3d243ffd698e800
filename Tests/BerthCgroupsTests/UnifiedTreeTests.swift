import BerthCgroups
import BerthJSON
import BerthRuntimeSpec
import BerthSystem
import Glibc
import Testing

/// cgroup v2 behaviour against a temporary directory tree that mimics cgroupfs: this
/// machine has no v2 hierarchy with controllers.
@Suite("cgroup v2 against a mimic tree")
struct UnifiedTreeTests {
    let root: String

    init() throws {
        var template = Array("/tmp/berth-v2-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw SystemError.last("mkdtemp") }
        root = String(cString: made)
        try FileSystem.writeAtomically("\(root)/cgroup.controllers", Array("cpu memory pids io\n".utf8))
    }

    func manager(_ path: String) -> CgroupManager {
        let hierarchy = CgroupHierarchy(version: .v2, mountPoint: root, controllers: ["cpu", "memory", "pids", "io"])
        return CgroupManager(paths: CgroupPaths(directories: [(hierarchy, "\(root)\(path)")]))
    }

    @Test("controllers are enabled down the tree and the resources land in the leaf")
    func enableAndApply() throws {
        defer { try? FileSystem.removeTree(root) }
        var manager = manager("/kubepods/pod1/c1")
        try manager.create()
        // A real cgroupfs lists in a child the controllers its parent enabled.
        try FileSystem.writeAtomically("\(root)/kubepods/cgroup.controllers", Array("cpu memory pids io\n".utf8))
        try FileSystem.writeAtomically("\(root)/kubepods/pod1/cgroup.controllers", Array("cpu memory pids io\n".utf8))
        for level in [root, "\(root)/kubepods", "\(root)/kubepods/pod1"] { try FileSystem.writeAtomically("\(level)/cgroup.subtree_control", []) }
        manager.enableControllers()
        #expect(try FileSystem.readText("\(root)/cgroup.subtree_control") == "+cpu +memory +pids +io")
        #expect(try FileSystem.readText("\(root)/kubepods/pod1/cgroup.subtree_control") == "+cpu +memory +pids +io")
        var resources = LinuxResources()
        var memory = LinuxResources.Memory()
        memory.limit = 1 << 20
        resources.memory = memory
        resources.pids = LinuxResources.Pids(limit: 5)
        var cpu = LinuxResources.CPU()
        cpu.shares = 1024
        resources.cpu = cpu
        let leaf = "\(root)/kubepods/pod1/c1"
        for file in ["memory.max", "pids.max", "cpu.weight"] { try FileSystem.writeAtomically("\(leaf)/\(file)", []) }
        try manager.apply(try manager.writes(for: resources, allowedDevices: []))
        #expect(try FileSystem.readText("\(leaf)/memory.max") == "1048576")
        #expect(try FileSystem.readText("\(leaf)/pids.max") == "5")
        #expect(try FileSystem.readText("\(leaf)/cpu.weight") == "39")
    }

    @Test("a write the kernel refuses names the field, the value and the file")
    func refusedWrite() throws {
        defer { try? FileSystem.removeTree(root) }
        var manager = manager("/c2")
        try manager.create()
        var resources = LinuxResources()
        resources.pids = LinuxResources.Pids(limit: 5)
        // No pids.max file: the controller is not enabled here.
        do {
            try manager.apply(try manager.writes(for: resources, allowedDevices: []))
            Issue.record("the write succeeded")
        } catch {
            #expect(error.message.contains("linux.resources.pids.limit=5"))
            #expect(error.message.contains("\(root)/c2/pids.max"))
        }
    }

    @Test("stats read cpu.stat, memory and pids files the v2 way")
    func stats() throws {
        defer { try? FileSystem.removeTree(root) }
        var manager = manager("/c3")
        try manager.create()
        let leaf = "\(root)/c3"
        let files = [
            "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 2000\n",
            "memory.current": "4096\n", "memory.max": "max\n", "memory.events": "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n",
            "memory.stat": "anon 4096\nfile 0\n", "pids.current": "3\n", "pids.max": "10\n",
        ]
        for (file, text) in files { try FileSystem.writeAtomically("\(leaf)/\(file)", Array(text.utf8)) }
        let data = CgroupStats.collect(manager)
        #expect(data["cpu"]?["usage"]?["total"]?.int64Value == 1_500_000)
        #expect(data["cpu"]?["throttling"]?["throttled_periods"]?.int64Value == 4)
        #expect(data["memory"]?["usage"]?["usage"]?.int64Value == 4096)
        #expect(data["memory"]?["usage"]?["limit"]?.int64Value == 0)
        #expect(data["memory"]?["oom_kill"]?.int64Value == 1)
        #expect(data["pids"]?["current"]?.int64Value == 3)
        #expect(data["pids"]?["limit"]?.int64Value == 10)
    }
}
