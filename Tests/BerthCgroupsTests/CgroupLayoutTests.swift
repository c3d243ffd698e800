import BerthCgroups
import Testing

/// The cgroup lines of this project's CI machine's /proc/self/mountinfo (hybrid: v1
/// hierarchies plus cgroup2 at /sys/fs/cgroup/unified), with a few unrelated mounts.
let hybridMountinfo = """
    22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
    23 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
    31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
    32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
    33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
    34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
    37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
    38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
    39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
    40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
    50 22 0:40 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
    """

/// A systemd host with only cgroup2.
let unifiedMountinfo = """
    22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
    25 22 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
    30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
    """

@Suite("CgroupLayout.parse(mountinfo:)")
struct CgroupLayoutTests {
    @Test("a hybrid host has its v1 hierarchies and the v2 one")
    func hybrid() throws {
        let layout = CgroupLayout.parse(mountinfo: hybridMountinfo)
        #expect(layout.mode == .hybrid)
        #expect(layout.v1.map(\.controllers) == [
            ["cpu"], ["cpuacct"], ["cpuset"], ["memory"], ["devices"], ["freezer"], ["blkio"], ["pids"], ["name=systemd"],
        ])
        #expect(layout.v1.map(\.mountPoint) == [
            "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory",
            "/sys/fs/cgroup/devices", "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/blkio", "/sys/fs/cgroup/pids",
            "/sys/fs/cgroup/systemd",
        ])
        let unified = try #require(layout.unified)
        #expect(unified.version == .v2)
        #expect(unified.mountPoint == "/sys/fs/cgroup/unified")
        #expect(unified.mountRoot == "/")
        #expect(layout.hierarchies.count == 10)
    }

    @Test("a pure v2 host is unified")
    func unified() throws {
        let layout = CgroupLayout.parse(mountinfo: unifiedMountinfo)
        #expect(layout.mode == .unified)
        #expect(layout.v1.isEmpty)
        #expect(layout.unified?.mountPoint == "/sys/fs/cgroup")
    }

    @Test("a host with only v1 hierarchies is legacy")
    func legacy() {
        let text = hybridMountinfo.split(separator: "\n").filter { !$0.contains("cgroup2") }.joined(separator: "\n")
        #expect(CgroupLayout.parse(mountinfo: text).mode == .legacy)
    }

    @Test("co-mounted controllers stay together and mount options are not controllers")
    func comountedControllers() {
        let text = """
            30 25 0:26 / /sys/fs/cgroup/systemd rw,nosuid shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
            31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup rw,cpu,cpuacct
            32 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:11 - cgroup cgroup rw,net_cls,net_prio
            33 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid shared:12 - cgroup cgroup rw,cpuset,clone_children,noprefix
            """
        let layout = CgroupLayout.parse(mountinfo: text)
        #expect(layout.v1.map(\.controllers) == [["name=systemd"], ["cpu", "cpuacct"], ["net_cls", "net_prio"], ["cpuset"]])
        #expect(layout.v1.map(\.procKey) == ["name=systemd", "cpu,cpuacct", "net_cls,net_prio", "cpuset"])
    }

    @Test("the favordynmods mount option is not taken for a controller")
    func favordynmods() {
        let text = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu,favordynmods"
        #expect(CgroupLayout.parse(mountinfo: text).v1.first?.controllers == ["cpu"])
    }

    @Test("a second mount of the same hierarchy is ignored")
    func firstMountWins() {
        let text = hybridMountinfo + """

            90 22 0:32 /sub /mnt/memory rw,relatime - cgroup cgroup rw,memory
            91 22 0:38 / /mnt/unified rw,relatime - cgroup2 cgroup2 rw
            """
        let layout = CgroupLayout.parse(mountinfo: text)
        #expect(layout.v1.filter { $0.controllers == ["memory"] }.map(\.mountPoint) == ["/sys/fs/cgroup/memory"])
        #expect(layout.unified?.mountPoint == "/sys/fs/cgroup/unified")
    }

    @Test("the mount root of a cgroup mount is kept")
    func mountRoot() {
        let text = "40 31 0:32 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory"
        #expect(CgroupLayout.parse(mountinfo: text).v1.first?.mountRoot == "/docker/abc")
    }

    @Test("octal escapes in mount points are undone")
    func escapes() {
        let text = #"40 31 0:32 / /mnt/my\040cgroups/mem\134ory rw - cgroup cgroup rw,memory"#
        #expect(CgroupLayout.parse(mountinfo: text).v1.first?.mountPoint == #"/mnt/my cgroups/mem\ory"#)
    }

    @Test("mountinfo unescaping handles a trailing escape and leaves stray backslashes alone")
    func unescape() {
        #expect(MountInfo.unescape(#"a\040"#) == "a ")
        #expect(MountInfo.unescape(#"tab\011x"#) == "tab\tx")
        #expect(MountInfo.unescape(#"a\04"#) == #"a\04"#)
        #expect(MountInfo.unescape(#"a\xyz"#) == #"a\xyz"#)
        #expect(MountInfo.unescape("plain") == "plain")
    }

    @Test("malformed and unrelated lines are skipped")
    func malformedLines() {
        let text = "garbage\n\n1 2 3\n40 31 0:32 / /x rw - cgroup\n" + unifiedMountinfo
        #expect(CgroupLayout.parse(mountinfo: text).hierarchies.count == 1)
    }

    @Test("the current host's layout can be read")
    func current() throws {
        let layout = try CgroupLayout.current()
        #expect(!layout.hierarchies.isEmpty)
    }
}

@Suite("CgroupHierarchy")
struct CgroupHierarchyTests {
    @Test("a cgroup path maps to a directory under the mount point")
    func directory() {
        let hierarchy = CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/memory", controllers: ["memory"])
        #expect(hierarchy.directory(for: "/a/b") == "/sys/fs/cgroup/memory/a/b")
        #expect(hierarchy.directory(for: "/") == "/sys/fs/cgroup/memory")
        #expect(hierarchy.directory(for: "//a//b/") == "/sys/fs/cgroup/memory/a/b")
    }

    @Test("the mount root is taken off the front of a cgroup path")
    func directoryUnderMountRoot() {
        let hierarchy = CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/memory", mountRoot: "/docker/abc", controllers: ["memory"])
        #expect(hierarchy.directory(for: "/docker/abc/c1") == "/sys/fs/cgroup/memory/c1")
        #expect(hierarchy.directory(for: "/docker/abc") == "/sys/fs/cgroup/memory")
    }

    @Test("the mount root is only taken off at a path component boundary")
    func mountRootBoundary() {
        let hierarchy = CgroupHierarchy(version: .v1, mountPoint: "/m", mountRoot: "/a", controllers: ["memory"])
        #expect(hierarchy.directory(for: "/ab/c") != "/m/b/c")
    }

    @Test("the v2 hierarchy's /proc/self/cgroup key is empty")
    func procKey() {
        #expect(CgroupHierarchy(version: .v2, mountPoint: "/sys/fs/cgroup", controllers: ["cpu", "memory"]).procKey == "")
        #expect(CgroupHierarchy(version: .v1, mountPoint: "/x", controllers: ["cpu", "cpuacct"]).procKey == "cpu,cpuacct")
    }
}
