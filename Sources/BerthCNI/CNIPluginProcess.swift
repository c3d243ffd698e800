import BerthSystem
import Glibc

/// Runs one CNI plugin as the CNI spec's exec protocol says: the network config as JSON
/// on stdin, the request in CNI_* environment variables, the result (or the error) as
/// JSON on stdout, exit status 0 for success.
enum CNIPluginProcess {
    struct Output {
        let status: Int32
        let stdout: [UInt8]
    }

    static func run(_ path: String, environment: [String: String], input: [UInt8], timeout: Double) throws(CNIError) -> Output {
        let stdinPipe: [Int32]
        let stdoutPipe: [Int32]
        do {
            let input = try ProcessSpawn.pipe()
            stdinPipe = [input.read, input.write]
            do {
                let output = try ProcessSpawn.pipe()
                stdoutPipe = [output.read, output.write]
            } catch {
                close(input.read)
                close(input.write)
                throw error
            }
        } catch {
            throw CNIError("\(path): \(error)")
        }
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let spawned: Result<pid_t, SystemError>
        do {
            spawned = .success(try ProcessSpawn.spawn([path], environment: environment, input: stdinPipe[0], output: stdoutPipe[1], error: null))
        } catch {
            spawned = .failure(error)
        }
        close(stdinPipe[0])
        close(stdoutPipe[1])
        defer { close(stdoutPipe[0]) }
        guard case .success(let pid) = spawned else {
            close(stdinPipe[1])
            if case .failure(let error) = spawned { throw CNIError("\(path): cannot run it: \(error)") }
            throw CNIError("\(path): cannot run it")
        }
        // Small configs fit the pipe; a plugin that never reads its stdin cannot block us.
        try? FileSystem.writeAll(stdinPipe[1], input, path: path)
        close(stdinPipe[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        let deadline = Clock.monotonicNanoseconds() + Int64(timeout * 1e9)
        while true {
            let remaining = Int32(max(0, (deadline - Clock.monotonicNanoseconds()) / 1_000_000))
            var entry = pollfd(fd: stdoutPipe[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                throw CNIError("\(path): no answer within \(Int(timeout)) s; killed")
            }
            let count = read(stdoutPipe[0], &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: code, stdout: output)
    }
}
