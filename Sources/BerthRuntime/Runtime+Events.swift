import BerthCgroups
import BerthJSON
import BerthSystem
import Glibc

extension Runtime {
    /// One `stats` event of the container, as runc prints it.
    public func statsEvent(id: String) throws(RuntimeError) -> JSONValue {
        try ContainerID.validate(id)
        let record = try store.load(id)
        if record.status(store: store) == .stopped { throw RuntimeError(.invalidState, "container \(id) is not running") }
        return ["type": "stats", "id": .string(id), "data": CgroupStats.collect(try cgroupManager(for: record))]
    }

    /// One event line as runc prints it: type, id, and data when there is any.
    static func event(_ type: String, id: String, data: JSONValue? = nil) -> String {
        var object = JSONObject([(key: "type", value: .string(type)), (key: "id", value: .string(id))])
        if let data { object["data"] = data }
        return JSONValue.object(object).serialized()
    }

    /// `events`: a stats event every `interval` seconds and an `oom` event whenever the
    /// kernel OOM-kills in the container, until the container stops. Each event goes to
    /// `emit` as one JSON line.
    public func events(id: String, interval: Double, emit: (String) -> Void) throws(RuntimeError) {
        try ContainerID.validate(id)
        let record = try store.load(id)
        guard record.status(store: store) != .stopped else { throw RuntimeError(.invalidState, "container \(id) is not running") }
        let manager = try cgroupManager(for: record)
        let watcher = OOMWatcher(manager)
        var nextStats = Clock.monotonicNanoseconds()
        while true {
            let now = Clock.monotonicNanoseconds()
            if now >= nextStats {
                emit(Self.event("stats", id: id, data: CgroupStats.collect(manager)))
                nextStats = now + Int64(interval * 1e9)
            }
            let wait = Int32(max(0, min(nextStats - Clock.monotonicNanoseconds(), 500_000_000)) / 1_000_000)
            if let watcher {
                var entry = pollfd(fd: watcher.descriptor, events: watcher.events, revents: 0)
                _ = poll(&entry, 1, wait)
                let kills = watcher.newKills()
                for _ in 0..<kills { emit(Self.event("oom", id: id)) }
            } else {
                usleep(UInt32(wait) * 1000)
            }
            if record.status(store: store) == .stopped || !FileSystem.exists(store.recordPath(id)) {
                // A kill that stopped the container is reported before leaving.
                if let watcher { for _ in 0..<watcher.newKills() { emit(Self.event("oom", id: id)) } }
                return
            }
        }
    }
}
