import BerthRuntimeSpec

/// One cgroup file write that enforces a `linux.resources` member.
public struct CgroupWrite: Sendable, Equatable {
    /// The v1 controller whose hierarchy holds the file, or "" for the unified (v2) one.
    public var controller: String
    public var file: String
    public var value: String
    /// The config member, for messages: `linux.resources.memory.limit`.
    public var field: String

    public init(controller: String, file: String, value: String, field: String) {
        self.controller = controller
        self.file = file
        self.value = value
        self.field = field
    }
}

/// Turns `linux.resources` into cgroup file writes, for v1 and for v2, with the seed's
/// conversions. Pure: the manager performs the writes, and tests check these lists.
public enum ResourceWrites {
    /// The cgroup v2 weight for v1 CPU shares: 1 + ((shares - 2) * 9999) / 262142.
    public static func cpuWeight(shares: UInt64) -> UInt64 {
        let clamped = min(max(shares, 2), 262144)
        return 1 + ((clamped - 2) * 9999) / 262142
    }

    /// CPU shares for a milli-CPU request, as the kubelet computes them: max(2, m * 1024 / 1000).
    public static func cpuShares(milliCPU: UInt64) -> UInt64 {
        max(2, milliCPU * 1024 / 1000)
    }

    /// io.weight (1-10000) for a v1 blkio weight (10-1000).
    public static func ioWeight(blkioWeight: UInt16) -> UInt64 {
        let weight = UInt64(min(max(blkioWeight, 10), 1000))
        return 1 + (weight - 10) * 9999 / 990
    }

    /// `cpu.max` for quota and period: "quota period", where a missing or negative quota
    /// is "max".
    public static func cpuMax(quota: Int64?, period: UInt64?) -> String {
        let quotaText = (quota ?? -1) > 0 ? String(quota!) : "max"
        return period.map { "\(quotaText) \($0)" } ?? quotaText
    }

    /// rdma.max lines, one per device: "mlx4_0 hca_handle=2 hca_object=2000" (the same
    /// file format in v1 and v2).
    static func rdmaLines(_ resources: LinuxResources) -> [String] {
        (resources.rdma ?? [:]).sorted { $0.key < $1.key }.compactMap { device, limit in
            var parts = [device]
            if let handles = limit.hcaHandles { parts.append("hca_handle=\(handles)") }
            if let objects = limit.hcaObjects { parts.append("hca_object=\(objects)") }
            return parts.count > 1 ? parts.joined(separator: " ") : nil
        }
    }

    static func limitText(_ value: Int64) -> String { value < 0 ? "max" : String(value) }

    static func device(_ major: Int64?, _ minor: Int64?) -> String {
        "\(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*")"
    }

    // MARK: v1

    /// Writes for cgroup v1. `defaultDevices` are the nodes berth creates, allowed after
    /// the config's own device rules (as runc does) so that a deny-all still leaves them.
    public static func v1(_ resources: LinuxResources, allowedDevices: [String] = DeviceRules.defaultAllowed) throws(CgroupError) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        func add(_ controller: String, _ file: String, _ value: String, _ field: String) {
            writes.append(CgroupWrite(controller: controller, file: file, value: value, field: "linux.resources.\(field)"))
        }
        if let cpu = resources.cpu {
            if let shares = cpu.shares, shares > 0 { add("cpu", "cpu.shares", String(shares), "cpu.shares") }
            if let period = cpu.period, period > 0 { add("cpu", "cpu.cfs_period_us", String(period), "cpu.period") }
            if let quota = cpu.quota, quota != 0 { add("cpu", "cpu.cfs_quota_us", String(quota < 0 ? -1 : quota), "cpu.quota") }
            if let burst = cpu.burst { add("cpu", "cpu.cfs_burst_us", String(burst), "cpu.burst") }
            if let period = cpu.realtimePeriod, period > 0 { add("cpu", "cpu.rt_period_us", String(period), "cpu.realtimePeriod") }
            if let runtime = cpu.realtimeRuntime, runtime != 0 { add("cpu", "cpu.rt_runtime_us", String(runtime), "cpu.realtimeRuntime") }
            if let idle = cpu.idle { add("cpu", "cpu.idle", String(idle), "cpu.idle") }
            if let cpus = cpu.cpus, !cpus.isEmpty { add("cpuset", "cpuset.cpus", cpus, "cpu.cpus") }
            if let mems = cpu.mems, !mems.isEmpty { add("cpuset", "cpuset.mems", mems, "cpu.mems") }
        }
        if let memory = resources.memory {
            // memory+swap must stay >= memory: raise memsw first. The manager retries in
            // the other order when lowering.
            if let swap = memory.swap, swap != 0 { add("memory", "memory.memsw.limit_in_bytes", String(swap < 0 ? -1 : swap), "memory.swap") }
            if let limit = memory.limit, limit != 0 { add("memory", "memory.limit_in_bytes", String(limit < 0 ? -1 : limit), "memory.limit") }
            if let reservation = memory.reservation, reservation != 0 { add("memory", "memory.soft_limit_in_bytes", String(reservation < 0 ? -1 : reservation), "memory.reservation") }
            if let swappiness = memory.swappiness {
                guard swappiness <= 100 else { throw CgroupError("linux.resources.memory.swappiness \(swappiness) is out of range (0-100)") }
                add("memory", "memory.swappiness", String(swappiness), "memory.swappiness")
            }
            if memory.disableOOMKiller == true { add("memory", "memory.oom_control", "1", "memory.disableOOMKiller") }
        }
        if let pids = resources.pids {
            add("pids", "pids.max", pids.limit > 0 ? String(pids.limit) : "max", "pids.limit")
        }
        if let io = resources.blockIO {
            if let weight = io.weight, weight > 0 { add("blkio", "blkio.weight", String(weight), "blockIO.weight") }
            if let weight = io.leafWeight, weight > 0 { add("blkio", "blkio.leaf_weight", String(weight), "blockIO.leafWeight") }
            for entry in io.weightDevice ?? [] {
                if let weight = entry.weight { add("blkio", "blkio.weight_device", "\(entry.major):\(entry.minor) \(weight)", "blockIO.weightDevice") }
                if let weight = entry.leafWeight { add("blkio", "blkio.leaf_weight_device", "\(entry.major):\(entry.minor) \(weight)", "blockIO.weightDevice") }
            }
            let throttles: [([LinuxResources.ThrottleDevice]?, String, String)] = [
                (io.throttleReadBpsDevice, "blkio.throttle.read_bps_device", "throttleReadBpsDevice"),
                (io.throttleWriteBpsDevice, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice"),
                (io.throttleReadIOPSDevice, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice"),
                (io.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice"),
            ]
            for (list, file, field) in throttles {
                for entry in list ?? [] { add("blkio", file, "\(entry.major):\(entry.minor) \(entry.rate)", "blockIO.\(field)") }
            }
        }
        for limit in resources.hugepageLimits ?? [] {
            add("hugetlb", "hugetlb.\(limit.pageSize).limit_in_bytes", String(limit.limit), "hugepageLimits[\(limit.pageSize)]")
        }
        if let network = resources.network {
            if let classID = network.classID { add("net_cls", "net_cls.classid", String(classID), "network.classID") }
            for priority in network.priorities ?? [] {
                add("net_prio", "net_prio.ifpriomap", "\(priority.name) \(priority.priority)", "network.priorities")
            }
        }
        if let rules = resources.devices, !rules.isEmpty {
            for rule in DeviceRules.v1Lines(rules, allowed: allowedDevices) {
                add("devices", rule.file, rule.line, "devices")
            }
        }
        for line in rdmaLines(resources) { add("rdma", "rdma.max", line, "rdma") }
        if let unified = resources.unified, !unified.isEmpty {
            throw CgroupError("linux.resources.unified sets cgroup v2 files (\(unified.keys.sorted().joined(separator: ", "))), but this host's cgroups are v1")
        }
        return writes
    }

    // MARK: v2

    /// Writes for the unified hierarchy.
    public static func v2(_ resources: LinuxResources) throws(CgroupError) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        func add(_ file: String, _ value: String, _ field: String) {
            writes.append(CgroupWrite(controller: "", file: file, value: value, field: "linux.resources.\(field)"))
        }
        if let cpu = resources.cpu {
            if let shares = cpu.shares, shares > 0 { add("cpu.weight", String(cpuWeight(shares: shares)), "cpu.shares") }
            if cpu.quota != nil || cpu.period != nil { add("cpu.max", cpuMax(quota: cpu.quota, period: cpu.period), "cpu.quota") }
            if let burst = cpu.burst { add("cpu.max.burst", String(burst), "cpu.burst") }
            if let idle = cpu.idle { add("cpu.idle", String(idle), "cpu.idle") }
            if cpu.realtimeRuntime != nil || cpu.realtimePeriod != nil {
                throw CgroupError("linux.resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime CPU controller")
            }
            if let cpus = cpu.cpus, !cpus.isEmpty { add("cpuset.cpus", cpus, "cpu.cpus") }
            if let mems = cpu.mems, !mems.isEmpty { add("cpuset.mems", mems, "cpu.mems") }
        }
        if let memory = resources.memory {
            if let limit = memory.limit, limit != 0 { add("memory.max", limitText(limit), "memory.limit") }
            if let reservation = memory.reservation, reservation != 0 { add("memory.low", limitText(reservation), "memory.reservation") }
            if let swap = memory.swap, swap != 0 {
                // v1 swap is memory+swap; v2 swap.max is swap alone.
                let value: String
                if swap < 0 {
                    value = "max"
                } else if let limit = memory.limit, limit > 0 {
                    guard swap >= limit else {
                        throw CgroupError("linux.resources.memory.swap \(swap) is below memory.limit \(limit) (swap counts memory plus swap)")
                    }
                    value = String(swap - limit)
                } else {
                    throw CgroupError("linux.resources.memory.swap needs memory.limit on cgroup v2 (swap.max is swap alone, derived from swap - limit)")
                }
                add("memory.swap.max", value, "memory.swap")
            }
            if let swappiness = memory.swappiness, swappiness != 60 {
                throw CgroupError("linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness")
            }
            if memory.disableOOMKiller == true {
                throw CgroupError("linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer")
            }
        }
        if let pids = resources.pids { add("pids.max", pids.limit > 0 ? String(pids.limit) : "max", "pids.limit") }
        if let io = resources.blockIO {
            if let weight = io.weight, weight > 0 { add("io.weight", String(ioWeight(blkioWeight: weight)), "blockIO.weight") }
            for entry in io.weightDevice ?? [] {
                if let weight = entry.weight { add("io.weight", "\(entry.major):\(entry.minor) \(ioWeight(blkioWeight: weight))", "blockIO.weightDevice") }
            }
            let throttles: [([LinuxResources.ThrottleDevice]?, String, String)] = [
                (io.throttleReadBpsDevice, "rbps", "throttleReadBpsDevice"), (io.throttleWriteBpsDevice, "wbps", "throttleWriteBpsDevice"),
                (io.throttleReadIOPSDevice, "riops", "throttleReadIOPSDevice"), (io.throttleWriteIOPSDevice, "wiops", "throttleWriteIOPSDevice"),
            ]
            for (list, key, field) in throttles {
                for entry in list ?? [] { add("io.max", "\(entry.major):\(entry.minor) \(key)=\(entry.rate)", "blockIO.\(field)") }
            }
        }
        for limit in resources.hugepageLimits ?? [] {
            add("hugetlb.\(limit.pageSize).max", String(limit.limit), "hugepageLimits[\(limit.pageSize)]")
        }
        if resources.network?.classID != nil || !(resources.network?.priorities ?? []).isEmpty {
            throw CgroupError("linux.resources.network: net_cls and net_prio exist only in cgroup v1")
        }
        for line in rdmaLines(resources) { add("rdma.max", line, "rdma") }
        for (key, value) in (resources.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), !key.hasPrefix("."), key.contains(".") else {
                throw CgroupError("linux.resources.unified: \"\(key)\" is not a cgroup v2 file name")
            }
            add(key, value, "unified[\(key)]")
        }
        return writes
    }
}
