import BerthSystem
import Glibc

/// The log files `rm` deletes (unless `--keep-logs`): the container's log and its
/// rotations (`0.log.<suffix>`), as crictl does.
enum LogFiles {
    static func remove(_ path: String) {
        unlink(path)
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        for entry in (try? FileSystem.listDirectory(directory.isEmpty ? "/" : directory)) ?? [] where entry.hasPrefix(name + ".") {
            unlink("\(directory)/\(entry)")
        }
    }
}
