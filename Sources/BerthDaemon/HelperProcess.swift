import BerthSystem
import Glibc

/// A short helper berthd runs and waits for (`ip netns`, `berth-shim`): its exit status
/// and what it printed (stdout and stderr together).
/// This blocks the calling thread while the helper runs (milliseconds; moving it off the
/// cooperative pool is open work).
enum HelperProcess {
    static func run(_ arguments: [String]) throws(SystemError) -> (status: Int32, output: String) {
        let ends = try ProcessSpawn.pipe()
        let pipeEnds = [ends.read, ends.write]
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let pid: pid_t
        do {
            pid = try ProcessSpawn.spawn(arguments, input: null, output: pipeEnds[1], error: pipeEnds[1])
        } catch {
            close(pipeEnds[0])
            close(pipeEnds[1])
            throw error
        }
        close(pipeEnds[1])
        // berth-shim's parent exits once the shim reports; the shim itself holds no copy
        // of this pipe (it redirects its stdio), so the read ends with the parent.
        let bytes = (try? FileSystem.readAll(pipeEnds[0], path: arguments[0])) ?? []
        close(pipeEnds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, String(decoding: bytes, as: UTF8.self))
    }
}
