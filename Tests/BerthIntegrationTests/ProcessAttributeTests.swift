import Foundation
import Testing

@Suite("scheduler, I/O priority, CPU affinity, personality", .enabled(if: Binaries.available))
struct ProcessAttributeTests {
    @Test("the container process gets its scheduler policy and nice, I/O priority, final affinity and personality")
    func applied() throws {
        let sandbox = try Sandbox(tools: ["sh", "cat", "grep", "uname", "ionice"])
        let id = sandbox.newID("attributes")
        // /proc/self/stat: field 19 is nice, field 41 the policy (3 = SCHED_BATCH).
        let script = "grep Cpus_allowed_list /proc/self/status; uname -m; ionice -p $$; cat /proc/self/stat"
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", script]) { config in
            set(&config, ["process", "scheduler"], ["policy": "SCHED_BATCH", "nice": 5])
            set(&config, ["process", "ioPriority"], ["class": "IOPRIO_CLASS_BE", "priority": 6])
            set(&config, ["process", "execCPUAffinity"], ["initial": "0-1", "final": "0"])
            set(&config, ["linux", "personality"], ["domain": "LINUX32"])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix("\t0") == true, "\(output.stdout)")
        #expect(lines.count > 1 && lines[1].hasPrefix("i"), "\(output.stdout)")  // i686 under LINUX32
        #expect(lines.count > 2 && lines[2] == "best-effort: prio 6", "\(output.stdout)")
        let stat = lines.last ?? ""
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        #expect(fields.count > 38 && fields[16] == "5" && fields[38] == "3", "\(stat)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("unknown values are refused with the member named, before anything is made")
    func refused() throws {
        let sandbox = try Sandbox()
        let cases: [([String], Any, String)] = [
            (["process", "scheduler"], ["policy": "SCHED_FAST"], "process.scheduler.policy"),
            (["process", "ioPriority"], ["class": "IOPRIO_CLASS_BE", "priority": 9], "process.ioPriority.priority"),
            (["linux", "personality"], ["domain": "BSD"], "linux.personality.domain"),
        ]
        for (path, value, member) in cases {
            let id = sandbox.newID("badattribute")
            try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { set(&$0, path, value) }
            let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
            #expect(output.status == 1)
            #expect(output.stderr.contains(member), "\(output.stderr)")
            #expect(sandbox.leftovers(id: id).isEmpty)
        }
    }
}
