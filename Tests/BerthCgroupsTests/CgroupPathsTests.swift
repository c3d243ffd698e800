import BerthCgroups
import Testing

private let ownCgroupText = """
    9:name=systemd:/user.slice/session-1.scope
    4:memory:/a/b
    2:cpu,cpuacct:/
    1:cpuset:/
    0::/user.slice/session-1.scope
    """

private let layout = CgroupLayout(hierarchies: [
    CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/memory", controllers: ["memory"]),
    CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/cpu,cpuacct", controllers: ["cpu", "cpuacct"]),
    CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/pids", controllers: ["pids"]),
    CgroupHierarchy(version: .v2, mountPoint: "/sys/fs/cgroup/unified", controllers: []),
])

private func resolve(_ cgroupsPath: String?, id: String = "c1") throws(CgroupError) -> [String] {
    try CgroupPaths.resolve(cgroupsPath: cgroupsPath, containerID: id, layout: layout, ownCgroups: CgroupPaths.parseProcCgroup(ownCgroupText))
        .directories.map(\.directory)
}

private func refusal(_ cgroupsPath: String) -> String? {
    do {
        _ = try resolve(cgroupsPath)
        return nil
    } catch {
        return error.message
    }
}

@Suite("CgroupPaths")
struct CgroupPathsTests {
    @Test("/proc/self/cgroup parses into hierarchy key and path")
    func parseProcCgroup() {
        let parsed = CgroupPaths.parseProcCgroup(ownCgroupText + "\n7:name=x:/with:colon\nbroken line\n")
        #expect(parsed["memory"] == "/a/b")
        #expect(parsed["cpu,cpuacct"] == "/")
        #expect(parsed["name=systemd"] == "/user.slice/session-1.scope")
        #expect(parsed[""] == "/user.slice/session-1.scope")
        #expect(parsed["name=x"] == "/with:colon")
        #expect(parsed.count == 6)
    }

    @Test("an absolute path is taken from each hierarchy's root")
    func absolute() throws {
        #expect(try resolve("/kubepods/burstable/pod123/c1") == [
            "/sys/fs/cgroup/memory/kubepods/burstable/pod123/c1",
            "/sys/fs/cgroup/cpu,cpuacct/kubepods/burstable/pod123/c1",
            "/sys/fs/cgroup/pids/kubepods/burstable/pod123/c1",
            "/sys/fs/cgroup/unified/kubepods/burstable/pod123/c1",
        ])
    }

    @Test("a relative path is taken from the runtime's own cgroup in each hierarchy")
    func relative() throws {
        #expect(try resolve("berth/c1") == [
            "/sys/fs/cgroup/memory/a/b/berth/c1",
            "/sys/fs/cgroup/cpu,cpuacct/berth/c1",
            "/sys/fs/cgroup/pids/berth/c1",
            "/sys/fs/cgroup/unified/user.slice/session-1.scope/berth/c1",
        ])
    }

    @Test("an empty or missing path means the container id under the runtime's own cgroup", arguments: [nil, ""] as [String?])
    func empty(cgroupsPath: String?) throws {
        #expect(try resolve(cgroupsPath, id: "mybox") == [
            "/sys/fs/cgroup/memory/a/b/mybox",
            "/sys/fs/cgroup/cpu,cpuacct/mybox",
            "/sys/fs/cgroup/pids/mybox",
            "/sys/fs/cgroup/unified/user.slice/session-1.scope/mybox",
        ])
    }

    @Test("each directory is paired with its hierarchy")
    func pairedWithHierarchy() throws {
        let paths = try CgroupPaths.resolve(cgroupsPath: "/x", containerID: "c1", layout: layout, ownCgroups: [:])
        #expect(paths.directories.map(\.hierarchy) == layout.hierarchies)
    }

    @Test("a systemd slice:prefix:name path is refused with a message about systemd")
    func systemdPath() throws {
        let message = try #require(refusal("system.slice:berth:c1"))
        #expect(message.contains("systemd"))
        #expect(message.contains("system.slice:berth:c1"))
    }

    @Test("an absolute path with a colon is not mistaken for a systemd path")
    func absoluteWithColon() throws {
        #expect(try resolve("/a:b").first == "/sys/fs/cgroup/memory/a:b")
    }

    @Test("a path with .. is refused", arguments: ["/a/../b", "../escape", "..", "a/.."])
    func dotDot(cgroupsPath: String) throws {
        let message = try #require(refusal(cgroupsPath))
        #expect(message.contains(".."))
    }

    @Test("a component that merely contains dots is allowed")
    func dotsInNames() throws {
        #expect(try resolve("/a..b/...").first == "/sys/fs/cgroup/memory/a..b/...")
    }

    @Test("an absolute path under a mount rooted in a sub-cgroup drops that root")
    func mountRoot() throws {
        let nested = CgroupLayout(hierarchies: [
            CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/memory", mountRoot: "/docker/abc", controllers: ["memory"]),
        ])
        let paths = try CgroupPaths.resolve(cgroupsPath: nil, containerID: "c1", layout: nested, ownCgroups: ["memory": "/docker/abc"])
        #expect(paths.directories.map(\.directory) == ["/sys/fs/cgroup/memory/c1"])
    }
}
