import BerthCgroups
import BerthJSON
import BerthRuntimeSpec
import BerthSystem
import Glibc

extension Runtime {
    /// `update`: applies new resource limits to a created, running or paused container.
    public func update(id: String, resources: LinuxResources) throws(RuntimeError) {
        try ContainerID.validate(id)
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        if record.status(store: store) == .stopped {
            throw RuntimeError(.invalidState, "container \(id) is stopped; there is nothing to update")
        }
        let manager = try cgroupManager(for: record)
        if resources.memory?.checkBeforeUpdate == true, let limit = resources.memory?.limit, limit > 0 {
            // Refuse a limit below what the container already uses, instead of letting
            // the kernel reclaim or OOM-kill to get there.
            let usage = CgroupStats.collect(manager)["memory"]?["usage"]?["usage"]?.int64Value ?? 0
            if usage > limit {
                throw RuntimeError(.invalidArgument, "update \(id): linux.resources.memory.limit \(limit) is below the current usage \(usage) (checkBeforeUpdate)")
            }
        }
        do {
            try manager.apply(try manager.writes(for: resources, allowedDevices: DeviceRules.defaultAllowed))
            try manager.applyDevices(resources.devices, allowed: DeviceRules.defaultAllowed)
        } catch {
            throw RuntimeError(.system, "update \(id): \(error)")
        }
    }

    /// `pause`: freezes every process of the container (v1 freezer, v2 cgroup.freeze).
    public func pause(id: String) throws(RuntimeError) {
        try ContainerID.validate(id)
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        guard record.status(store: store) == .running else { throw RuntimeError(.invalidState, "container not running") }
        try freeze(record, frozen: true)
    }

    /// `resume`: thaws a paused container.
    public func resume(id: String) throws(RuntimeError) {
        try ContainerID.validate(id)
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        guard record.status(store: store) == .paused else { throw RuntimeError(.invalidState, "container not paused") }
        try freeze(record, frozen: false)
    }

    /// `ps`: the pids of the container's processes (its cgroup and those below it).
    public func processes(id: String) throws(RuntimeError) -> [Int32] {
        try ContainerID.validate(id)
        let record = try store.load(id)
        if record.status(store: store) == .stopped { return [] }
        return record.processes().sorted()
    }

    func cgroupManager(for record: ContainerRecord) throws(RuntimeError) -> CgroupManager {
        do {
            return CgroupManager(paths: CgroupPaths.recorded(record.cgroupDirectories, layout: try CgroupLayout.current()), created: record.cgroupCreated)
        } catch {
            throw RuntimeError(.system, "cgroups of \(record.id): \(error)")
        }
    }

    /// Freezes or thaws the container and waits until the kernel reports it done.
    func freeze(_ record: ContainerRecord, frozen: Bool) throws(RuntimeError) {
        do {
            try CgroupFreezer.set(record.cgroupDirectories, frozen: frozen, wait: true)
        } catch {
            throw RuntimeError(.system, "\(frozen ? "pause" : "resume") \(record.id): \(error)")
        }
    }
}

/// `update`'s command-line values: byte sizes with runc's suffixes (k, m, g, t; b, kb...).
public enum ByteSize {
    public static func parse(_ text: String) -> Int64? {
        if text == "-1" { return -1 }
        var digits = text.lowercased()
        var multiplier: Int64 = 1
        let suffixes: [(String, Int64)] = [
            ("tb", 1 << 40), ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10),
            ("t", 1 << 40), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1),
        ]
        for (suffix, factor) in suffixes where digits.hasSuffix(suffix) {
            digits.removeLast(suffix.count)
            multiplier = factor
            break
        }
        guard let value = Int64(digits), value >= 0 else { return nil }
        return value * multiplier
    }
}
