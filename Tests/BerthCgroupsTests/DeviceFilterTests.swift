@testable import BerthCgroups
import BerthRuntimeSpec
import BerthSystem
import Glibc
import Testing

@Suite("cgroup v2 device programs")
struct DeviceFilterTests {
    @Test("a deny-all then allow list compiles to checks from the last rule back, allowing what matches nothing")
    func program() {
        let program = DeviceFilter.program([LinuxResources.DeviceRule(allow: false, access: "rwm")], allowed: ["c 1:5 rwm"])
        // 6 loads, the c 1:5 block (type, major, minor, verdict, exit), the deny-all block
        // (verdict, exit), and no default: nothing gets past a rule that matches all.
        #expect(program.count == 6 + 5 + 2)
        #expect(program[6].code == DeviceFilter.jumpNotEqualImmediate && program[6].immediate == 2 && program[6].offset == 4)
        #expect(program[9].immediate == 1)  // allow
        #expect(program[11].immediate == 0)  // deny all
        #expect(program.last?.code == DeviceFilter.exit)
    }

    static var unifiedAvailable: Bool {
        getuid() == 0 && FileSystem.isDirectory("/sys/fs/cgroup/unified") || FileSystem.exists("/sys/fs/cgroup/cgroup.controllers")
    }

    @Test("attached to a real cgroup2 directory, the program denies /dev/null and allows /dev/zero", .enabled(if: unifiedAvailable))
    func enforced() throws {
        let base = FileSystem.isDirectory("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup"
        let directory = "\(base)/berth-device-test-\(getpid())"
        #expect(mkdir(directory, 0o755) == 0)
        defer { rmdir(directory) }
        try DeviceFilter.attach([LinuxResources.DeviceRule(allow: false, access: "rwm")], allowed: ["c 1:5 rwm"], to: directory)
        // A child moves itself into the cgroup and reports what it may open, as its exit
        // status: bit 0 /dev/null opened, bit 1 /dev/zero opened.
        let procs = strdup("\(directory)/cgroup.procs")!
        let null = strdup("/dev/null")!
        let zero = strdup("/dev/zero")!
        defer { free(procs); free(null); free(zero) }
        let pid = fork()
        if pid == 0 {
            let fd = open(procs, O_WRONLY)
            var zeroByte: UInt8 = 0x30
            if fd < 0 || write(fd, &zeroByte, 1) != 1 { _exit(100) }
            close(fd)
            var result: Int32 = 0
            if open(null, O_RDONLY) >= 0 { result |= 1 }
            if open(zero, O_RDONLY) >= 0 { result |= 2 }
            _exit(result)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect((status >> 8) & 0xff == 2, "exit status \((status >> 8) & 0xff): expected /dev/zero only")
    }
}
