@testable import BerthCgroups
import BerthSystem
import Glibc
import Testing

/// A temporary directory standing in for the cgroup mounts: `cpuset` and `memory` (v1)
/// and `unified` (v2) each with a pre-existing `parent` cgroup.
private struct FakeCgroupRoot {
    let path: String

    init() throws {
        var template = Array("/tmp/berth-unit-cgroups-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SystemError.last("mkdtemp", "/tmp")
        }
        path = String(cString: made)
        for name in ["cpuset", "memory", "unified"] {
            try FileSystem.makeDirectories("\(path)/\(name)/parent")
        }
    }

    var layout: CgroupLayout {
        CgroupLayout(hierarchies: [
            CgroupHierarchy(version: .v1, mountPoint: "\(path)/cpuset", controllers: ["cpuset"]),
            CgroupHierarchy(version: .v1, mountPoint: "\(path)/memory", controllers: ["memory"]),
            CgroupHierarchy(version: .v2, mountPoint: "\(path)/unified", controllers: []),
        ])
    }

    func manager(_ cgroupsPath: String = "/parent/berth/c1") throws -> CgroupManager {
        CgroupManager(paths: try CgroupPaths.resolve(cgroupsPath: cgroupsPath, containerID: "c1", layout: layout, ownCgroups: [:]))
    }

    func remove() { try? FileSystem.removeTree(path) }
}

private func write(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SystemError.last("create", path) }
    defer { close(fd) }
    try FileSystem.writeAll(fd, Array(text.utf8), path: path)
}

@Suite("CgroupManager on a fake cgroup tree")
struct CgroupManagerTests {
    @Test("create makes the nested path in every hierarchy")
    func createMakesDirectories() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        var manager = try root.manager()
        try manager.create()
        #expect(manager.directories == ["\(root.path)/cpuset/parent/berth/c1", "\(root.path)/memory/parent/berth/c1", "\(root.path)/unified/parent/berth/c1"])
        for directory in manager.directories {
            #expect(FileSystem.isDirectory(directory))
        }
    }

    @Test("create records exactly the directories it made, not pre-existing parents")
    func createRecordsCreated() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        try FileSystem.makeDirectories("\(root.path)/memory/parent/berth")
        var manager = try root.manager()
        try manager.create()
        #expect(manager.created == [
            "\(root.path)/cpuset/parent/berth", "\(root.path)/cpuset/parent/berth/c1",
            "\(root.path)/memory/parent/berth/c1",
            "\(root.path)/unified/parent/berth", "\(root.path)/unified/parent/berth/c1",
        ])
    }

    @Test("create does not invent cpuset files that the kernel did not make")
    func createWithoutCpusetFiles() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        try write("\(root.path)/cpuset/parent/cpuset.cpus", "0-3\n")
        var manager = try root.manager()
        try manager.create()
        #expect(try FileSystem.listDirectory("\(root.path)/cpuset/parent/berth/c1").isEmpty)
    }

    @Test("an empty cpuset level copies cpus and mems from its parent")
    func cpusetInheritsFromParent() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        let parent = "\(root.path)/cpuset/parent"
        try write("\(parent)/cpuset.cpus", "0-3\n")
        try write("\(parent)/cpuset.mems", "0\n")
        try FileSystem.makeDirectories("\(parent)/child")
        try write("\(parent)/child/cpuset.cpus", "")
        try write("\(parent)/child/cpuset.mems", "\n")
        try CgroupManager.inheritCpuset("\(parent)/child")
        #expect(try FileSystem.readText("\(parent)/child/cpuset.cpus") == "0-3")
        #expect(try FileSystem.readText("\(parent)/child/cpuset.mems") == "0")
    }

    @Test("a cpuset level that already has cpus keeps them")
    func cpusetKeepsOwnValues() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        let parent = "\(root.path)/cpuset/parent"
        try write("\(parent)/cpuset.cpus", "0-3\n")
        try FileSystem.makeDirectories("\(parent)/child")
        try write("\(parent)/child/cpuset.cpus", "1\n")
        try CgroupManager.inheritCpuset("\(parent)/child")
        #expect(try FileSystem.readText("\(parent)/child/cpuset.cpus") == "1\n")
        #expect(!FileSystem.exists("\(parent)/child/cpuset.mems"))
    }

    @Test("join writes the pid into cgroup.procs of every hierarchy")
    func join() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        var manager = try root.manager()
        try manager.create()
        for directory in manager.directories { try write("\(directory)/cgroup.procs", "") }
        try manager.join(pid: 4242)
        for directory in manager.directories {
            #expect(try FileSystem.readText("\(directory)/cgroup.procs") == "4242")
        }
    }

    @Test("join fails naming the cgroup.procs it could not write")
    func joinFailure() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        var manager = try root.manager()
        try manager.create()
        do {
            try manager.join(pid: 1)
            Issue.record("joined a cgroup without cgroup.procs")
        } catch {
            #expect(error.message.contains("\(root.path)/cpuset/parent/berth/c1/cgroup.procs"))
        }
    }

    @Test("processes lists the pids of the first hierarchy that has them")
    func processes() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        var manager = try root.manager()
        try manager.create()
        #expect(manager.processes().isEmpty)
        try write("\(manager.directories[1])/cgroup.procs", "12\n34\n")
        #expect(manager.processes() == [12, 34])
    }

    @Test("destroy removes only the created directories and keeps pre-existing parents")
    func destroy() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        try FileSystem.makeDirectories("\(root.path)/memory/parent/berth")
        var manager = try root.manager()
        try manager.create()
        try manager.destroy()
        for directory in manager.created {
            #expect(!FileSystem.exists(directory))
        }
        #expect(FileSystem.isDirectory("\(root.path)/memory/parent/berth"))
        for name in ["cpuset", "memory", "unified"] {
            #expect(FileSystem.isDirectory("\(root.path)/\(name)/parent"))
        }
    }

    @Test("a manager rebuilt from a saved record destroys the same directories")
    func destroyFromRecord() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        var original = try root.manager()
        try original.create()
        let restored = CgroupManager(paths: try root.manager().paths, created: original.created)
        try restored.destroy()
        #expect(!FileSystem.exists("\(root.path)/cpuset/parent/berth"))
        #expect(FileSystem.isDirectory("\(root.path)/cpuset/parent"))
    }

    @Test("destroy twice is not an error")
    func destroyTwice() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        var manager = try root.manager()
        try manager.create()
        try manager.destroy()
        try manager.destroy()
    }

    @Test("destroy reports a directory it cannot remove and still removes the others")
    func destroyFailure() throws {
        let root = try FakeCgroupRoot()
        defer { root.remove() }
        var manager = try root.manager("/parent/c1")
        try manager.create()
        try write("\(root.path)/memory/parent/c1/leftover", "x")
        do {
            try manager.destroy()
            Issue.record("removed a non-empty directory")
        } catch {
            #expect(error.message.contains("\(root.path)/memory/parent/c1"))
        }
        #expect(!FileSystem.exists("\(root.path)/cpuset/parent/c1"))
        #expect(!FileSystem.exists("\(root.path)/unified/parent/c1"))
    }
}
