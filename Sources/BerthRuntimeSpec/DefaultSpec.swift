import BerthJSON

/// The config.json `berth spec` writes: runc's default (a shell in a busybox-like rootfs,
/// the usual /proc, /dev, /sys mounts, masked and read-only paths, a terminal).
public enum DefaultSpec {
    public static func make(rootless: Bool = false, uid: UInt32 = 0, gid: UInt32 = 0) -> JSONValue {
        let capabilities: JSONValue = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var mounts: [JSONValue] = [
            ["destination": "/proc", "type": "proc", "source": "proc"],
            ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ["destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": rootless ? ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] : ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]],
            ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
            ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]],
        ]
        if rootless {
            mounts.append(["destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]])
        } else {
            mounts.append(["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]])
        }
        mounts.append(["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]])

        var linux = JSONObject()
        if rootless {
            linux["uidMappings"] = [["containerID": 0, "hostID": .int(uid), "size": 1]]
            linux["gidMappings"] = [["containerID": 0, "hostID": .int(gid), "size": 1]]
            linux["namespaces"] = [["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "user"]]
        } else {
            linux["resources"] = ["devices": [["allow": false, "access": "rwm"]]]
            linux["namespaces"] = [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "cgroup"]]
        }
        linux["maskedPaths"] = [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        ]
        linux["readonlyPaths"] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

        return [
            "ociVersion": .string(Spec.currentVersion),
            "process": [
                "terminal": true,
                "user": ["uid": 0, "gid": 0],
                "args": ["sh"],
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                "cwd": "/",
                "capabilities": ["bounding": capabilities, "effective": capabilities, "permitted": capabilities],
                "rlimits": [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]],
                "noNewPrivileges": true,
            ],
            "root": ["path": "rootfs", "readonly": true],
            "hostname": "berth",
            "mounts": .array(mounts),
            "linux": .object(linux),
        ]
    }
}
