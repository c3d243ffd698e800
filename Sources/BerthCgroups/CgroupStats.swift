import BerthJSON
import BerthSystem

/// A container's resource usage, read from its cgroup files, in the shape of runc's
/// `events --stats` data (cpu, memory, pids, blkio, hugetlb).
public enum CgroupStats {
    public static func collect(_ manager: CgroupManager) -> JSONValue {
        var data = JSONObject()
        let unified = manager.directory(for: "")
        let hasV1 = manager.paths.directories.contains { $0.hierarchy.version == .v1 }
        data["cpu"] = hasV1 ? v1CPU(manager) : unified.map(v2CPU) ?? .null
        data["memory"] = hasV1 ? v1Memory(manager) : unified.map(v2Memory) ?? .null
        let pidsDirectory = hasV1 ? manager.directory(for: "pids") : unified
        data["pids"] = pidsDirectory.map { directory in
            ["current": .int(number("\(directory)/pids.current") ?? 0), "limit": .int(limit("\(directory)/pids.max"))]
        } ?? .null
        data["blkio"] = hasV1 ? v1Blkio(manager) : unified.map(v2Blkio) ?? .null
        data["hugetlb"] = hugetlb(manager)
        return .object(data)
    }

    // MARK: reading

    static func text(_ path: String) -> String? { try? FileSystem.readText(path) }

    static func number(_ path: String) -> UInt64? {
        text(path).flatMap { UInt64($0.split(separator: "\n").first ?? "") }
    }

    /// A limit file: "max" (v2) or a huge v1 number both mean unlimited, shown as 0 like runc.
    static func limit(_ path: String) -> UInt64 {
        guard let value = text(path)?.split(separator: "\n").first else { return 0 }
        return UInt64(value) ?? 0
    }

    /// "key value" lines (cpu.stat, memory.stat, memory.events) as a dictionary.
    public static func keyValues(_ path: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in (text(path) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }

    static func object(_ values: [String: UInt64]) -> JSONValue {
        .object(JSONObject(values.sorted { $0.key < $1.key }.map { (key: $0.key, value: .int($0.value)) }))
    }

    // MARK: v1

    static func v1CPU(_ manager: CgroupManager) -> JSONValue {
        var usage = JSONObject()
        if let directory = manager.directory(for: "cpuacct") {
            usage["total"] = .int(number("\(directory)/cpuacct.usage") ?? 0)
            let percpu = (text("\(directory)/cpuacct.usage_percpu") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
            usage["percpu"] = .array(percpu.map { .int($0) })
            // cpuacct.stat is in USER_HZ (100 per second).
            let stat = keyValues("\(directory)/cpuacct.stat")
            usage["kernel"] = .int((stat["system"] ?? 0) * 10_000_000)
            usage["user"] = .int((stat["user"] ?? 0) * 10_000_000)
        }
        var throttling = JSONObject()
        if let directory = manager.directory(for: "cpu") {
            let stat = keyValues("\(directory)/cpu.stat")
            throttling["periods"] = .int(stat["nr_periods"] ?? 0)
            throttling["throttled_periods"] = .int(stat["nr_throttled"] ?? 0)
            throttling["throttled_time"] = .int(stat["throttled_time"] ?? 0)
        }
        return ["usage": .object(usage), "throttling": .object(throttling)]
    }

    static func v1Memory(_ manager: CgroupManager) -> JSONValue {
        guard let directory = manager.directory(for: "memory") else { return .null }
        func entry(_ prefix: String) -> JSONValue {
            [
                "usage": .int(number("\(directory)/\(prefix)usage_in_bytes") ?? 0), "max": .int(number("\(directory)/\(prefix)max_usage_in_bytes") ?? 0),
                "failcnt": .int(number("\(directory)/\(prefix)failcnt") ?? 0), "limit": .int(limit("\(directory)/\(prefix)limit_in_bytes")),
            ]
        }
        let raw = keyValues("\(directory)/memory.stat")
        return [
            "cache": .int(raw["cache"] ?? 0), "usage": entry("memory."), "swap": entry("memory.memsw."), "kernel": entry("memory.kmem."),
            "kernelTCP": entry("memory.kmem.tcp."), "oom_kill": .int(keyValues("\(directory)/memory.oom_control")["oom_kill"] ?? 0),
            "raw": object(raw),
        ]
    }

    static func v1Blkio(_ manager: CgroupManager) -> JSONValue {
        guard let directory = manager.directory(for: "blkio") else { return .null }
        func entries(_ file: String) -> JSONValue {
            var list: [JSONValue] = []
            for line in (text("\(directory)/\(file)") ?? "").split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 3, let value = UInt64(parts[2]) else { continue }
                let device = parts[0].split(separator: ":")
                guard device.count == 2, let major = UInt64(device[0]), let minor = UInt64(device[1]) else { continue }
                list.append(["major": .int(major), "minor": .int(minor), "op": .string(String(parts[1])), "value": .int(value)])
            }
            return .array(list)
        }
        return [
            "ioServiceBytesRecursive": entries("blkio.throttle.io_service_bytes_recursive"),
            "ioServicedRecursive": entries("blkio.throttle.io_serviced_recursive"),
        ]
    }

    // MARK: v2

    static func v2CPU(_ directory: String) -> JSONValue {
        let stat = keyValues("\(directory)/cpu.stat")
        return [
            "usage": ["total": .int((stat["usage_usec"] ?? 0) * 1000), "kernel": .int((stat["system_usec"] ?? 0) * 1000), "user": .int((stat["user_usec"] ?? 0) * 1000)],
            "throttling": ["periods": .int(stat["nr_periods"] ?? 0), "throttled_periods": .int(stat["nr_throttled"] ?? 0), "throttled_time": .int((stat["throttled_usec"] ?? 0) * 1000)],
        ]
    }

    static func v2Memory(_ directory: String) -> JSONValue {
        let raw = keyValues("\(directory)/memory.stat")
        let events = keyValues("\(directory)/memory.events")
        return [
            "usage": ["usage": .int(number("\(directory)/memory.current") ?? 0), "max": .int(number("\(directory)/memory.peak") ?? 0), "failcnt": .int(events["max"] ?? 0), "limit": .int(limit("\(directory)/memory.max"))],
            "swap": ["usage": .int(number("\(directory)/memory.swap.current") ?? 0), "limit": .int(limit("\(directory)/memory.swap.max"))],
            "oom_kill": .int(events["oom_kill"] ?? 0), "raw": object(raw),
        ]
    }

    static func v2Blkio(_ directory: String) -> JSONValue {
        var bytes: [JSONValue] = []
        var ios: [JSONValue] = []
        for line in (text("\(directory)/io.stat") ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            let device = parts.first?.split(separator: ":") ?? []
            guard device.count == 2, let major = UInt64(device[0]), let minor = UInt64(device[1]) else { continue }
            var values: [String: UInt64] = [:]
            for pair in parts.dropFirst() {
                let keyValue = pair.split(separator: "=")
                if keyValue.count == 2, let value = UInt64(keyValue[1]) { values[String(keyValue[0])] = value }
            }
            bytes.append(["major": .int(major), "minor": .int(minor), "op": "Read", "value": .int(values["rbytes"] ?? 0)])
            bytes.append(["major": .int(major), "minor": .int(minor), "op": "Write", "value": .int(values["wbytes"] ?? 0)])
            ios.append(["major": .int(major), "minor": .int(minor), "op": "Read", "value": .int(values["rios"] ?? 0)])
            ios.append(["major": .int(major), "minor": .int(minor), "op": "Write", "value": .int(values["wios"] ?? 0)])
        }
        return ["ioServiceBytesRecursive": .array(bytes), "ioServicedRecursive": .array(ios)]
    }

    /// Per page size: usage, max and failcnt, from the v1 hugetlb hierarchy or, on a hybrid
    /// host, the unified one.
    static func hugetlb(_ manager: CgroupManager) -> JSONValue {
        var result = JSONObject()
        if let directory = manager.directory(for: "hugetlb") {
            for name in ((try? FileSystem.listDirectory(directory)) ?? []).sorted() where name.hasSuffix(".usage_in_bytes") && name.hasPrefix("hugetlb.") {
                let size = String(name.dropFirst(8).dropLast(15))
                result[size] = [
                    "usage": .int(number("\(directory)/hugetlb.\(size).usage_in_bytes") ?? 0),
                    "max": .int(number("\(directory)/hugetlb.\(size).max_usage_in_bytes") ?? 0),
                    "failcnt": .int(number("\(directory)/hugetlb.\(size).failcnt") ?? 0),
                ]
            }
        } else if let directory = manager.directory(for: "") {
            for name in ((try? FileSystem.listDirectory(directory)) ?? []).sorted() where name.hasPrefix("hugetlb.") && name.hasSuffix(".current") && !name.contains(".rsvd.") {
                let size = String(name.dropFirst(8).dropLast(8))
                result[size] = [
                    "usage": .int(number("\(directory)/hugetlb.\(size).current") ?? 0),
                    "max": .int(limit("\(directory)/hugetlb.\(size).max")),
                    "failcnt": .int(keyValues("\(directory)/hugetlb.\(size).events")["max"] ?? 0),
                ]
            }
        }
        return .object(result)
    }
}
