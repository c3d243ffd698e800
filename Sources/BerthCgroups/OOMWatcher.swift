import BerthSystem
import CBerth
import Glibc

/// Tells when the kernel OOM-kills in a container's memory cgroup. v1: an eventfd
/// registered on memory.oom_control through cgroup.event_control (it also fires when the
/// cgroup is removed). v2: memory.events, which polls as POLLPRI when it changes, and its
/// `oom_kill` count.
public final class OOMWatcher {
    /// The descriptor to poll, and the events that mean "look again".
    public let descriptor: Int32
    public let events: Int16
    private let countFile: String
    private let version: CgroupHierarchy.Version
    private var seen: UInt64
    private var extra: Int32 = -1

    public init?(_ manager: CgroupManager) {
        if let directory = manager.directory(for: "memory") {
            let control = open("\(directory)/memory.oom_control", O_RDONLY | O_CLOEXEC)
            let eventfd = berth_eventfd()
            guard control >= 0, eventfd >= 0, (try? FileSystem.writeValue("\(directory)/cgroup.event_control", "\(eventfd) \(control)")) != nil else {
                if control >= 0 { close(control) }
                if eventfd >= 0 { close(eventfd) }
                return nil
            }
            descriptor = eventfd
            extra = control
            events = Int16(POLLIN)
            countFile = "\(directory)/memory.oom_control"
            version = .v1
        } else if let directory = manager.directory(for: ""), FileSystem.exists("\(directory)/memory.events") {
            let file = open("\(directory)/memory.events", O_RDONLY | O_CLOEXEC)
            guard file >= 0 else { return nil }
            descriptor = file
            events = Int16(POLLPRI)
            countFile = "\(directory)/memory.events"
            version = .v2
        } else {
            return nil
        }
        seen = CgroupStats.keyValues(countFile)["oom_kill"] ?? 0
    }

    deinit {
        close(descriptor)
        if extra >= 0 { close(extra) }
    }

    /// How many OOM kills happened since the last call (after the descriptor polled ready,
    /// or at any time). On v1 kernels without an `oom_kill` count, each notification is one.
    public func newKills() -> UInt64 {
        var notified = false
        if version == .v1 {
            var value: UInt64 = 0
            let flags = fcntl(descriptor, F_GETFL)
            _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
            if read(descriptor, &value, 8) == 8 { notified = true }
        }
        let count = CgroupStats.keyValues(countFile)["oom_kill"]
        guard let count else { return notified ? 1 : 0 }
        defer { seen = count }
        return count > seen ? count - seen : 0
    }
}
