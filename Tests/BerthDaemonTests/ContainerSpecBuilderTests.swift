import BerthCRI
import BerthImageSpec
import BerthJSON
import Foundation
import GRPCCore
import Testing

@testable import BerthDaemon

/// A rootfs with /etc/passwd and /etc/group, removed at the end.
final class RootfsFixture {
    let path: String

    init() throws {
        var template = Array("/tmp/berth-rootfs.XXXXXX".utf8CString)
        path = String(cString: try #require(mkdtemp(&template)))
        try FileManager.default.createDirectory(atPath: "\(path)/etc", withIntermediateDirectories: true)
        try "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n".write(toFile: "\(path)/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\napp:x:1000:\nvideo:x:44:app\nstaff:x:50:other,app\n".write(toFile: "\(path)/etc/group", atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("the OCI spec of a CRI container")
struct ContainerSpecBuilderTests {
    func builder(_ rootfs: String, image: ImageConfiguration.ExecutionParameters = .init(), configure: (inout Runtime_V1_ContainerConfig) -> Void = { _ in }) -> ContainerSpecBuilder {
        var config = Runtime_V1_ContainerConfig()
        config.metadata.name = "app"
        config.image.image = "registry/app:v1"
        configure(&config)
        var sandbox = Runtime_V1_PodSandboxConfig()
        sandbox.metadata.name = "web"
        let pod = ContainerSpecBuilder.Pod(
            id: "pod1", directory: "/run/berth/pods/pod1", pausePid: 42, namespaceOptions: Runtime_V1_NamespaceOption(), hostname: "web", cgroupParent: "/berth/pods/pod1")
        return ContainerSpecBuilder(
            id: "c1", config: config, sandbox: sandbox, pod: pod, image: image, imageName: "registry/app:v1", rootfs: rootfs, minimumOOMScoreAdjustment: 0)
    }

    @Test("command and args merge with the image's entrypoint and cmd as Docker and containerd merge them")
    func arguments() throws {
        let fixture = try RootfsFixture()
        let image = ImageConfiguration.ExecutionParameters(entrypoint: ["/entry"], command: ["default"])
        #expect(try builder(fixture.path, image: image).arguments() == ["/entry", "default"])
        #expect(try builder(fixture.path, image: image) { $0.args = ["given"] }.arguments() == ["/entry", "given"])
        #expect(try builder(fixture.path, image: image) { $0.command = ["/bin/other"] }.arguments() == ["/bin/other"])
        #expect(try builder(fixture.path, image: image) { $0.command = ["/bin/other"]; $0.args = ["x"] }.arguments() == ["/bin/other", "x"])
        #expect(throws: RPCError.self) { try builder(fixture.path).arguments() }
    }

    @Test("the environment: PATH and HOSTNAME, the image's, then the request's, a later value replacing an earlier one in place")
    func environment() throws {
        let fixture = try RootfsFixture()
        let image = ImageConfiguration.ExecutionParameters(environment: ["PATH=/image", "A=1", "B=2"])
        var variable = Runtime_V1_KeyValue()
        variable.key = "A"
        variable.value = "override"
        let environment = builder(fixture.path, image: image) { $0.envs = [variable] }.environment()
        #expect(environment == ["PATH=/image", "HOSTNAME=web", "A=override", "B=2"])
    }

    @Test("users: the image's name through the rootfs' passwd and group files, run_as_user/run_as_group over it, supplemental groups added; unknown names refused")
    func users() throws {
        let fixture = try RootfsFixture()
        var request = ContainerUser.Request()
        request.imageUser = "app"
        #expect(try ContainerUser.resolve(request, rootfs: fixture.path, what: "c") == ContainerUser(uid: 1000, gid: 1000, additionalGids: [44, 50]))
        request.runAsUser = 0
        request.runAsGroup = 7
        request.supplementalGroups = [9]
        #expect(try ContainerUser.resolve(request, rootfs: fixture.path, what: "c") == ContainerUser(uid: 0, gid: 7, additionalGids: [9]))
        var named = ContainerUser.Request()
        named.imageUser = "1000:video"
        #expect(try ContainerUser.resolve(named, rootfs: fixture.path, what: "c") == ContainerUser(uid: 1000, gid: 44, additionalGids: [50]))
        named.imageUser = "ghost"
        #expect(throws: ContainerUserError.self) { try ContainerUser.resolve(named, rootfs: fixture.path, what: "c") }
        // /etc/passwd as a link out of the rootfs resolves inside it (and is missing there).
        try FileManager.default.removeItem(atPath: "\(fixture.path)/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: "\(fixture.path)/etc/passwd", withDestinationPath: "/../../../../etc/passwd")
        named.imageUser = "root"
        #expect(throws: ContainerUserError.self, "the host's /etc/passwd is never read") { try ContainerUser.resolve(named, rootfs: fixture.path, what: "c") }
    }

    @Test("capabilities: the default set, adds and drops by either spelling, ALL; unknown names refused")
    func capabilities() throws {
        let fixture = try RootfsFixture()
        let defaults = try builder(fixture.path).capabilities(privileged: false)
        #expect(defaults.contains("CAP_NET_RAW") && !defaults.contains("CAP_SYS_ADMIN"))
        let changed = try builder(fixture.path) {
            $0.linux.securityContext.capabilities.addCapabilities = ["sys_admin"]
            $0.linux.securityContext.capabilities.dropCapabilities = ["CAP_NET_RAW"]
        }.capabilities(privileged: false)
        #expect(changed.contains("CAP_SYS_ADMIN") && !changed.contains("CAP_NET_RAW"))
        let minimal = try builder(fixture.path) {
            $0.linux.securityContext.capabilities.dropCapabilities = ["ALL"]
            $0.linux.securityContext.capabilities.addCapabilities = ["NET_BIND_SERVICE"]
        }.capabilities(privileged: false)
        #expect(minimal == ["CAP_NET_BIND_SERVICE"])
        #expect(throws: RPCError.self) { try builder(fixture.path) { $0.linux.securityContext.capabilities.addCapabilities = ["CAP_FLY"] }.capabilities(privileged: false) }
    }

    @Test("namespaces: network, uts and ipc of the pause process; pid the pod's, the container's own or the node's")
    func namespaces() throws {
        let fixture = try RootfsFixture()
        let shared = builder(fixture.path).namespaces()
        #expect(shared.contains(["type": "network", "path": "/proc/42/ns/net"]) && shared.contains(["type": "pid", "path": "/proc/42/ns/pid"]))
        let own = builder(fixture.path) { $0.linux.securityContext.namespaceOptions.pid = .container }.namespaces()
        #expect(own.contains(["type": "pid"]))
        let host = builder(fixture.path) { $0.linux.securityContext.namespaceOptions.pid = .node }.namespaces()
        #expect(!host.contains { $0["type"]?.stringValue == "pid" })
    }

    @Test("a whole spec: resources, the pod's files, masked paths, RuntimeDefault seccomp, the oom score never below berthd's")
    func whole() throws {
        let fixture = try RootfsFixture()
        var building = builder(fixture.path, image: ImageConfiguration.ExecutionParameters(user: "app", command: ["/bin/sh"])) {
            $0.linux.resources.memoryLimitInBytes = 1 << 26
            $0.linux.resources.cpuQuota = 50000
            $0.linux.resources.oomScoreAdj = -999
            $0.linux.securityContext.seccomp.profileType = .runtimeDefault
        }
        building.minimumOOMScoreAdjustment = 0
        let spec = try building.build()
        #expect(spec["linux"]?["resources"]?["memory"]?["limit"]?.int64Value == 1 << 26)
        #expect(spec["linux"]?["resources"]?["cpu"]?["quota"]?.int64Value == 50000)
        #expect(spec["process"]?["oomScoreAdj"]?.int64Value == 0, "a negative score is clamped to berthd's own")
        #expect(spec["process"]?["user"]?["uid"]?.int64Value == 1000)
        #expect(spec["linux"]?["cgroupsPath"]?.stringValue == "/berth/pods/pod1/c1")
        #expect(spec["linux"]?["seccomp"]?["defaultAction"]?.stringValue == "SCMP_ACT_ERRNO")
        let masked: [JSONValue] = spec["linux"]?["maskedPaths"]?.arrayValue ?? []
        #expect(masked.contains("/proc/kcore"))
        let destinations = (spec["mounts"]?.arrayValue ?? []).compactMap { $0["destination"]?.stringValue }
        for path in ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/dev/shm", "/proc", "/dev/pts"] {
            #expect(destinations.contains(path), "\(path)")
        }
        #expect(throws: RPCError.self, "tty needs streaming berthd does not have yet") { try builder(fixture.path, image: .init(command: ["/bin/sh"])) { $0.tty = true }.build() }
    }

    @Test("log paths stay in the pod's log directory; a relative one needs the directory")
    func logPaths() throws {
        #expect(try ContainerManager.logPath("/var/log/pods/p", "app/0.log", what: "c") == "/var/log/pods/p/app/0.log")
        #expect(try ContainerManager.logPath("/var/log/pods/p/", "./app//0.log", what: "c") == "/var/log/pods/p/app/0.log")
        #expect(try ContainerManager.logPath("", "/var/log/x.log", what: "c") == "/var/log/x.log")
        #expect(try ContainerManager.logPath("/logs", "", what: "c") == "")
        for (directory, path) in [("/var/log/pods/p", "../../../etc/passwd"), ("", "relative.log"), ("relative", "x.log"), ("/logs", "..")] {
            #expect(throws: RPCError.self, "\(directory) + \(path)") { try ContainerManager.logPath(directory, path, what: "c") }
        }
    }

    @Test("an update keeps the recorded resources it does not change (containerd merges non-zero fields)")
    func mergedResources() {
        var old = Runtime_V1_LinuxContainerResources()
        old.memoryLimitInBytes = 100
        old.cpuQuota = 5
        var new = Runtime_V1_LinuxContainerResources()
        new.cpuQuota = 7
        let merged = ContainerManager.merged(old, new)
        #expect(merged.memoryLimitInBytes == 100 && merged.cpuQuota == 7)
    }

    @Test("a privileged container gets the host's device nodes (nested ones too; not pts, shm, console, links or files), a requested device replacing the host's at its path")
    func privilegedDevices() throws {
        let fixture = try RootfsFixture()
        let dev = "\(fixture.path)/dev"
        for directory in ["pts", "shm", "net", "disk/by-id"] {
            try FileManager.default.createDirectory(atPath: "\(dev)/\(directory)", withIntermediateDirectories: true)
        }
        for (name, kind, major, minor) in [("null", S_IFCHR, 1, 3), ("loop0", S_IFBLK, 7, 0), ("net/tun", S_IFCHR, 10, 200), ("console", S_IFCHR, 5, 1), ("pts/0", S_IFCHR, 136, 0)] {
            // glibc's makedev for numbers below 256 (the macro is not imported).
            #expect(mknod("\(dev)/\(name)", kind | 0o640, dev_t(major << 8 | minor)) == 0, "mknod \(name)")
        }
        #expect(chown("\(dev)/loop0", 0, 6) == 0)
        try "not a device".write(toFile: "\(dev)/shm/file", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(dev)/disk/by-id/link", withDestinationPath: "../../loop0")
        #expect(HostDevices.list(root: dev).map(\.path) == ["/dev/loop0", "/dev/net/tun", "/dev/null"])
        #expect(HostDevices.list(root: dev).first == HostDevices.Node(path: "/dev/loop0", type: "b", major: 7, minor: 0, mode: 0o640, uid: 0, gid: 6))

        var requested = Runtime_V1_Device()
        requested.hostPath = "/dev/zero"
        requested.containerPath = "/dev/null"
        var privileged = builder(fixture.path) { $0.devices = [requested] }
        privileged.hostDeviceRoot = dev
        let devices = try privileged.devices(privileged: true)
        #expect(devices.map { $0["path"]?.stringValue } == ["/dev/loop0", "/dev/net/tun", "/dev/null"])
        #expect(devices.last?["minor"] == .int(5), "the requested /dev/zero takes /dev/null's place")
        var unprivileged = builder(fixture.path)
        unprivileged.hostDeviceRoot = dev
        #expect(try unprivileged.devices(privileged: false).isEmpty)
    }

    @Test("privileged means every capability berthd's own bounding set holds (a host's root may lack one)")
    func privilegedCapabilities() {
        let all = ContainerSpecBuilder.kernelCapabilities(status: "Name:\tberthd\nCapBnd:\t000001ffffffffff\n")
        #expect(all.contains("CAP_SYS_RESOURCE") && all.contains("CAP_SYS_ADMIN"))
        let lacking = ContainerSpecBuilder.kernelCapabilities(status: "CapPrm:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n")
        #expect(!lacking.contains("CAP_SYS_RESOURCE") && lacking.contains("CAP_SYS_ADMIN") && lacking.count == all.count - 1)
    }
}
