import BerthCRI
import BerthSystem
import Glibc

/// The files and mounts a pod gives its containers: /etc/hostname, /etc/hosts,
/// /etc/resolv.conf (bound into each container), the /dev/shm tmpfs the pod's
/// containers share (they share its IPC namespace, so POSIX shared memory must be one
/// place), and berth's own per-pod cgroup parent.
enum PodFiles {
    static func writeHostname(_ hostname: String, to path: String) throws(SystemError) {
        try FileSystem.writeAtomically(path, Array("\(hostname)\n".utf8), mode: 0o644)
    }

    /// The pod's DNS config when the request has one (the kubelet's cluster DNS),
    /// otherwise the node's resolv.conf.
    static func writeResolvConf(_ dns: Runtime_V1_DNSConfig, hasConfig: Bool, to path: String) throws(SystemError) {
        guard hasConfig, !(dns.servers.isEmpty && dns.searches.isEmpty && dns.options.isEmpty) else {
            let node = (try? FileSystem.read("/etc/resolv.conf")) ?? []
            try FileSystem.writeAtomically(path, node, mode: 0o644)
            return
        }
        var text = ""
        if !dns.searches.isEmpty { text += "search \(dns.searches.joined(separator: " "))\n" }
        for server in dns.servers { text += "nameserver \(server)\n" }
        if !dns.options.isEmpty { text += "options \(dns.options.joined(separator: " "))\n" }
        try FileSystem.writeAtomically(path, Array(text.utf8), mode: 0o644)
    }

    /// localhost and the pod's own name and address; a host-network pod sees the node's.
    static func writeHosts(hostNetwork: Bool, ip: String, hostname: String, to path: String) throws(SystemError) {
        if hostNetwork {
            try FileSystem.writeAtomically(path, (try? FileSystem.read("/etc/hosts")) ?? [], mode: 0o644)
            return
        }
        var text = """
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            fe00::0\tip6-mcastprefix
            fe00::1\tip6-allnodes
            fe00::2\tip6-allrouters

            """
        if !ip.isEmpty { text += "\(ip)\t\(hostname)\n" }
        try FileSystem.writeAtomically(path, Array(text.utf8), mode: 0o644)
    }

    static func mountShm(at path: String) throws(SystemError) {
        _ = try FileSystem.makeDirectories(path, mode: 0o755)
        try Mount.mount(
            source: "shm", target: path, type: "tmpfs", flags: UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), data: "mode=1777,size=65536k", display: path)
    }

    static func unmountShm(at path: String) {
        try? Mount.unmount(path)
        rmdir(path)
    }

    /// Removes a cgroup, and the empty cgroups below it, in every hierarchy that has it.
    static func removeCgroup(_ path: String) {
        for hierarchy in (try? FileSystem.listDirectory("/sys/fs/cgroup")) ?? [] {
            removeEmptyTree("/sys/fs/cgroup/\(hierarchy)\(path)")
        }
        removeEmptyTree("/sys/fs/cgroup\(path)")
    }

    /// A cgroup and the cgroups below it, deepest first: a runtime whose create failed
    /// may leave its container's cgroup inside the pod's (crun does), which would keep
    /// the pod's from going. A cgroup that still has processes stays (EBUSY).
    private static func removeEmptyTree(_ directory: String) {
        for entry in (try? FileSystem.listDirectory(directory)) ?? [] {
            var info = stat()
            if lstat("\(directory)/\(entry)", &info) == 0, info.st_mode & S_IFMT == S_IFDIR { removeEmptyTree("\(directory)/\(entry)") }
        }
        rmdir(directory)
    }
}
