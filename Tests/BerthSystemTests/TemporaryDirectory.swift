import BerthSystem
import Glibc

/// A fresh directory under /tmp (canonical path, so readlink results compare), removed by
/// `remove()`.
struct TemporaryDirectory: ~Copyable {
    let path: String

    init(_ prefix: String = "berth-unit") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SystemError.last("mkdtemp", "/tmp")
        }
        path = try FileSystem.canonicalPath(String(cString: made))
    }

    func remove() { try? FileSystem.removeTree(path) }
}

/// Writes `text` into a new or existing file.
func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SystemError.last("create", path) }
    defer { close(fd) }
    try FileSystem.writeAll(fd, Array(text.utf8), path: path)
}
