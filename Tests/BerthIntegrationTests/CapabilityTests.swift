import Foundation
import Testing

@Suite("process.capabilities", .enabled(if: Binaries.available))
struct CapabilityTests {
    static let defaultSet = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    @Test("root gets exactly the configured sets, the bounding set included")
    func rootSets() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("caps")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            set(&config, ["process", "capabilities"], ["bounding": Self.defaultSet, "effective": Self.defaultSet, "permitted": Self.defaultSet])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        // AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10).
        #expect(report["capEff"] as? String == "0000000020000420")
        #expect(report["capBnd"] as? String == "0000000020000420")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("a non-root user keeps an ambient capability across exec")
    func ambient() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("ambient")
        let net = ["CAP_NET_BIND_SERVICE"]
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            set(&config, ["process", "user"], ["uid": 1000, "gid": 1000])
            set(&config, ["process", "capabilities"], ["bounding": Self.defaultSet, "effective": net, "permitted": net, "inheritable": net, "ambient": net])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        #expect(report.int("uid") == 1000)
        #expect(report["capEff"] as? String == "0000000000000400")
        #expect(report["capAmb"] as? String == "0000000000000400")
    }

    @Test("an ambient capability that is not inheritable is left out, as runc does (runc spec's default lists such)")
    func ambientWithoutInheritable() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("ambient")
        let net = ["CAP_NET_BIND_SERVICE"]
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            set(&config, ["process", "capabilities"], ["bounding": net, "effective": net, "permitted": net, "ambient": net])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        #expect(report["capEff"] as? String == "0000000000000400")
        #expect(report["capAmb"] as? String == "0000000000000000")
    }

    @Test("without process.capabilities nothing is dropped; an unknown name is refused before anything is made")
    func absentAndUnknown() throws {
        let sandbox = try Sandbox()
        let id = sandbox.newID("nocaps")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"])
        let full = try ProbeReport(try sandbox.berth(["run", "-b", sandbox.bundle, id]).stdout)
        // The same bounding set as berth's caller.
        let own = try String(contentsOfFile: "/proc/self/status", encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("CapBnd:") }.map { $0.dropFirst(7).trimmingCharacters(in: .whitespaces) }
        #expect(full["capBnd"] as? String == own)
        let bad = sandbox.newID("badcap")
        try sandbox.writeConfig(id: bad, args: ["/bin/probe"]) { set(&$0, ["process", "capabilities"], ["bounding": ["CAP_FLY"]]) }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, bad])
        #expect(output.status == 1)
        #expect(output.stderr.contains("unknown capability \\\"CAP_FLY\\\""), "\(output.stderr)")
        #expect(sandbox.leftovers(id: bad).isEmpty)
    }
}
