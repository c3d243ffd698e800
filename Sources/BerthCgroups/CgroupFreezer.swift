import BerthSystem
import Glibc

/// Freezing a container's processes: the v1 freezer (`freezer.state`) or v2's
/// `cgroup.freeze`, found among the container's cgroup directories by the file each has.
/// One place for the status check, pause/resume and the thaw before a SIGKILL.
public enum CgroupFreezer {
    /// The control file and the values for frozen and thawed, and how to tell it is done.
    struct Control {
        let file: String
        let frozen: String
        let thawed: String
        let events: String?

        func reached(_ frozenWanted: Bool) -> Bool {
            if let events {
                return ((try? FileSystem.readText(events)) ?? "").contains("frozen \(frozenWanted ? 1 : 0)")
            }
            return ((try? FileSystem.readText(file)) ?? "").hasPrefix(frozenWanted ? frozen : thawed)
        }
    }

    static func control(in directories: [String]) -> Control? {
        for directory in directories where FileSystem.exists("\(directory)/freezer.state") {
            return Control(file: "\(directory)/freezer.state", frozen: "FROZEN", thawed: "THAWED", events: nil)
        }
        for directory in directories where FileSystem.exists("\(directory)/cgroup.freeze") {
            return Control(file: "\(directory)/cgroup.freeze", frozen: "1", thawed: "0", events: "\(directory)/cgroup.events")
        }
        return nil
    }

    /// Whether the container's cgroup is frozen.
    public static func isFrozen(_ directories: [String]) -> Bool {
        guard let control = control(in: directories) else { return false }
        return ((try? FileSystem.readText(control.file)) ?? "").hasPrefix(control.frozen)
    }

    /// Freezes or thaws, and with `wait` waits until the kernel reports it done (freezing
    /// takes a moment while tasks are stopped).
    public static func set(_ directories: [String], frozen: Bool, wait: Bool) throws(CgroupError) {
        guard let control = control(in: directories) else { throw CgroupError("no freezer cgroup among \(directories)") }
        let value = frozen ? control.frozen : control.thawed
        let deadline = Clock.monotonicNanoseconds() + 10_000_000_000
        repeat {
            do {
                try FileSystem.writeValue(control.file, value)
            } catch {
                throw CgroupError("write \(value) to \(control.file): \(SystemError.describe(errno: error.errno))")
            }
            if !wait || control.reached(frozen) { return }
            usleep(1_000)
        } while Clock.monotonicNanoseconds() < deadline
        throw CgroupError("\(control.file) did not reach \(value) within 10s")
    }
}
