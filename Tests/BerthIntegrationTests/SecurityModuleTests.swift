import Foundation
import Testing

@Suite("AppArmor and SELinux", .enabled(if: Binaries.available))
struct SecurityModuleTests {
    static var appArmorEnabled: Bool {
        ((try? String(contentsOfFile: "/sys/module/apparmor/parameters/enabled", encoding: .utf8)) ?? "").hasPrefix("Y")
    }
    static var selinuxEnabled: Bool { FileManager.default.fileExists(atPath: "/sys/fs/selinux/enforce") }

    @Test("an AppArmor profile: applied where the kernel has AppArmor, otherwise refused like runc, leaving nothing")
    func appArmor() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("apparmor")
        try sandbox.writeConfig(id: id, args: ["/bin/cat", "/proc/self/attr/current"]) { set(&$0, ["process", "apparmorProfile"], "unconfined") }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        if Self.appArmorEnabled {
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.contains("unconfined"))
        } else {
            #expect(output.status == 1)
            #expect(output.stderr.contains("process.apparmorProfile \\\"unconfined\\\": AppArmor is not enabled on this host"), "\(output.stderr)")
        }
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("an SELinux label without SELinux is refused with runc's message; a mount label is then ignored")
    func selinux() throws {
        guard !Self.selinuxEnabled else { return }
        let sandbox = try Sandbox()
        let id = sandbox.newID("selinux")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { set(&$0, ["process", "selinuxLabel"], "system_u:system_r:container_t:s0") }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("selinux label is specified in config, but selinux is disabled or not supported"), "\(output.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
        let mountLabel = sandbox.newID("selinux")
        try sandbox.writeConfig(id: mountLabel, args: ["/bin/probe"]) { set(&$0, ["linux", "mountLabel"], "system_u:object_r:container_file_t:s0") }
        #expect(try sandbox.berth(["run", "-b", sandbox.bundle, mountLabel]).status == 0)
    }

    @Test("exec --apparmor and --process-label follow the same rules")
    func execFlags() throws {
        guard !Self.appArmorEnabled && !Self.selinuxEnabled else { return }
        let sandbox = try Sandbox()
        let id = sandbox.newID("lsmexec")
        try sandbox.writeConfig(id: id, args: ["/bin/probe", "sleep", "1000"])
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, id]).status == 0)
        let apparmor = try sandbox.berth(["exec", "--apparmor", "x", id, "/bin/true"])
        #expect(apparmor.status == 255)
        #expect(apparmor.stderr.contains("exec process.apparmorProfile \\\"x\\\""), "\(apparmor.stderr)")
        let label = try sandbox.berth(["exec", "--process-label", "y", id, "/bin/true"])
        #expect(label.stderr.contains("selinux is disabled"), "\(label.stderr)")
        #expect(try sandbox.berth(["delete", "-f", id]).status == 0)
    }
}
