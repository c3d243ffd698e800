import Foundation
import Testing

@Suite("linux.seccomp", .enabled(if: Binaries.available))
struct SeccompTests {
    func profile(_ action: String) -> [String: Any] {
        [
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
            "syscalls": [["names": ["mkdir", "mkdirat"], "action": action, "errnoRet": 13]],
        ]
    }

    @Test("a filter is in force in the container, with and without no_new_privs")
    func filter() throws {
        let sandbox = try Sandbox()
        for noNewPrivileges in [true, false] {
            let id = sandbox.newID("seccomp")
            try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/denied || echo refused"]) { config in
                set(&config, ["linux", "seccomp"], profile("SCMP_ACT_ERRNO"))
                set(&config, ["process", "noNewPrivileges"], noNewPrivileges)
            }
            let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.contains("Seccomp:\t2"), "\(output.stdout)")
            #expect(output.stdout.contains("refused"))
            #expect(!FileManager.default.fileExists(atPath: "\(sandbox.rootfs)/tmp/denied"))
            #expect(sandbox.leftovers(id: id).isEmpty)
        }
    }

    @Test("an unsupported action or operator is refused before anything is made")
    func refused() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("badseccomp")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { set(&$0, ["linux", "seccomp"], profile("SCMP_ACT_FROBNICATE")) }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("linux.seccomp.syscalls[0]: unsupported action SCMP_ACT_FROBNICATE"), "\(output.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }
}
