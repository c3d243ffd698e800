import Foundation
import Testing

/// The container's root is host uid 100000 (65536 ids from there), as podman and
/// Kubernetes user namespaces map it.
let userNamespaceMappings: [[String: Int]] = [["containerID": 0, "hostID": 100000, "size": 65536]]

/// Adds a user namespace with `userNamespaceMappings` to a config.
func addUserNamespace(_ config: inout [String: Any]) {
    append(&config, ["linux", "namespaces"], ["type": "user"])
    set(&config, ["linux", "uidMappings"], userNamespaceMappings)
    set(&config, ["linux", "gidMappings"], userNamespaceMappings)
}

/// A sandbox whose directories the container's mapped root can traverse (mkdtemp makes
/// them 0700), as a bundle for a user namespace container must be.
func userNamespaceSandbox() throws -> Sandbox {
    let sandbox = try Sandbox()
    chmod(sandbox.directory, 0o755)
    return sandbox
}

@Suite("user namespaces and idmapped mounts", .enabled(if: Binaries.available))
struct UserNamespaceTests {
    @Test("root in the container is an unprivileged uid on the host; exec joins the same user namespace")
    func mapping() throws {
        let sandbox = try userNamespaceSandbox()
        let id = sandbox.newID("userns")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { addUserNamespace(&$0) }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try ProbeReport(output.stdout)
        #expect(report.int("uid") == 0 && report.int("gid") == 0)
        #expect((report["uidMap"] as? String)?.split(separator: " ", omittingEmptySubsequences: true) == ["0", "100000", "65536\n"])
        #expect((report["gidMap"] as? String)?.contains("100000") == true)
        #expect(report["setgroups"] as? String == "allow")
        #expect(sandbox.leftovers(id: id).isEmpty)

        let running = sandbox.newID("userns")
        // rlimits and the OOM score are set by the parent, on the host side of the user namespace.
        try sandbox.writeConfig(id: running, args: ["/bin/probe", "sleep", "1000"]) { config in
            addUserNamespace(&config)
            set(&config, ["process", "oomScoreAdj"], 300)
            set(&config, ["process", "rlimits"], [["type": "RLIMIT_NOFILE", "soft": 900, "hard": 1000]])
        }
        #expect(try sandbox.berth(["run", "-d", "-b", sandbox.bundle, running]).status == 0)
        let pid = try initPid(sandbox, running)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(status.contains("Uid:\t100000\t100000\t100000\t100000"), "the host sees uid 100000")
        let exec = try sandbox.berth(["exec", running, "/bin/probe"])
        #expect(exec.status == 0, "\(exec.stderr)")
        let inside = try ProbeReport(exec.stdout)
        #expect(inside.int("uid") == 0)
        #expect(inside["oomScoreAdj"] as? String == "300")
        #expect((inside["nofile"] as? [String: Int]) == ["soft": 900, "hard": 1000], "\(inside.object)")
        #expect((inside["namespaces"] as? [String: String])?["user"] == namespaceLinks(pid: pid)["user"])
        #expect(try sandbox.berth(["delete", "-f", running]).status == 0)
        #expect(sandbox.leftovers(id: running).isEmpty)
    }

    @Test("a container in a user namespace cannot write a root-owned host file bind-mounted into it")
    func boundHostFile() throws {
        let sandbox = try userNamespaceSandbox()
        let id = sandbox.newID("hostfile")
        // In a 0700 directory: the source is resolved on the host, not by the mapped root.
        let privateDirectory = "\(sandbox.directory)/private"
        try FileManager.default.createDirectory(atPath: privateDirectory, withIntermediateDirectories: true)
        chmod(privateDirectory, 0o700)
        let hostFile = "\(privateDirectory)/host-owned"
        try writeFile(hostFile, "original\n")
        try writeFile("\(sandbox.rootfs)/etc/host-owned", "")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "id -u; echo changed >> /etc/host-owned; echo written=$?"]) { config in
            addUserNamespace(&config)
            append(&config, ["mounts"], ["destination": "/etc/host-owned", "type": "bind", "source": hostFile, "options": ["bind"]])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.hasPrefix("0\n"), "root inside: \(output.stdout)")
        #expect(output.stdout.contains("written=1"), "\(output.stdout)")
        #expect(try String(contentsOfFile: hostFile, encoding: .utf8) == "original\n")
    }

    @Test("without a network namespace of its own, /sys is bound from the host; devices are bound, not made")
    func sysfsAndDevices() throws {
        let sandbox = try userNamespaceSandbox()
        let id = sandbox.newID("nonet")
        try sandbox.writeConfig(id: id, args: ["/bin/sh", "-c", "ls /sys/kernel >/dev/null && echo sys-ok; echo data > /dev/null && echo null-ok; /bin/probe"]) { config in
            addUserNamespace(&config)
            var namespaces = (config["linux"] as? [String: Any])?["namespaces"] as? [[String: String]] ?? []
            namespaces.removeAll { $0["type"] == "network" }
            set(&config, ["linux", "namespaces"], namespaces)
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("sys-ok") && output.stdout.contains("null-ok"), "\(output.stdout)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("overlapping mappings are refused naming the member, leaving nothing")
    func badMappings() throws {
        let sandbox = try userNamespaceSandbox()
        let id = sandbox.newID("overlap")
        try sandbox.writeConfig(id: id, args: ["/bin/probe"]) { config in
            addUserNamespace(&config)
            set(&config, ["linux", "uidMappings"], [["containerID": 0, "hostID": 100000, "size": 10], ["containerID": 5, "hostID": 200000, "size": 10]])
        }
        let output = try sandbox.berth(["run", "-b", sandbox.bundle, id])
        #expect(output.status == 1)
        #expect(output.stderr.contains("linux.uidMappings: write /proc/"), "\(output.stderr)")
        #expect(sandbox.leftovers(id: id).isEmpty)
    }

    @Test("idmapped mounts: mappings on a bind mount, and the idmap and ridmap options with the container's own mappings")
    func idmappedMounts() throws {
        let sandbox = try userNamespaceSandbox()
        let source = "\(sandbox.directory)/shared"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try writeFile("\(source)/owned-by-root", "x")
        try FileManager.default.createDirectory(atPath: "\(sandbox.rootfs)/mnt", withIntermediateDirectories: true)

        // Without a user namespace: root-owned files show as 100000, and root (unmapped in
        // the mount's namespace) cannot create files there.
        let plain = sandbox.newID("idmap")
        try sandbox.writeConfig(id: plain, args: ["/bin/sh", "-c", "stat -c =%u=%g= /mnt/owned-by-root; touch /mnt/new 2>&1; true"]) { config in
            append(&config, ["mounts"], ["destination": "/mnt", "type": "bind", "source": source, "options": ["bind"], "uidMappings": userNamespaceMappings, "gidMappings": userNamespaceMappings])
        }
        let first = try sandbox.berth(["run", "-b", sandbox.bundle, plain])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("=100000=100000="), "\(first.stdout)")
        #expect(first.stdout.contains("Value too large"), "\(first.stdout)")

        // In a user namespace with the same mappings: root's files are the container root's,
        // and what it creates belongs to root on the host.
        // ridmap: the same, recursively (a bind mount below the source is mapped too).
        for option in ["idmap", "ridmap"] {
            let mapped = sandbox.newID(option)
            try sandbox.writeConfig(id: mapped, args: ["/bin/sh", "-c", "stat -c =%u=%g= /mnt/owned-by-root; touch /mnt/made-\(option) && echo made"]) { config in
                addUserNamespace(&config)
                append(&config, ["mounts"], ["destination": "/mnt", "type": "bind", "source": source, "options": [option == "idmap" ? "bind" : "rbind", option]])
            }
            let second = try sandbox.berth(["run", "-b", sandbox.bundle, mapped])
            #expect(second.status == 0, "\(option): \(second.stderr)")
            #expect(second.stdout.contains("=0=0=") && second.stdout.contains("made"), "\(option): \(second.stdout)")
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(source)/made-\(option)")
            #expect(attributes[.ownerAccountID] as? Int == 0)
        }

        let refused = sandbox.newID("idmap")
        try sandbox.writeConfig(id: refused, args: ["/bin/probe"]) { config in
            append(&config, ["mounts"], ["destination": "/mnt", "type": "bind", "source": source, "options": ["bind", "idmap"]])
        }
        let noMappings = try sandbox.berth(["run", "-b", sandbox.bundle, refused])
        #expect(noMappings.status == 1)
        #expect(noMappings.stderr.contains("/mnt: an idmapped mount needs both uidMappings and gidMappings"), "\(noMappings.stderr)")
        #expect(sandbox.leftovers(id: refused).isEmpty)
    }
}
