import BerthSystem
import Glibc

/// `ps`'s table: the host's ps(1) output, filtered to the container's pids, as runc does.
enum ProcessTable {
    static func render(pids: [Int32], psArguments: [String]) throws -> String {
        let output = try capture("ps", psArguments)
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return "" }
        let header = lines.removeFirst()
        let columns = header.split(separator: " ")
        guard let pidColumn = columns.firstIndex(of: "PID") else {
            throw UsageError("ps \(psArguments.joined(separator: " ")): its output has no PID column")
        }
        let wanted = Set(pids)
        var text = header + "\n"
        for line in lines {
            let fields = line.split(separator: " ")
            if fields.count > pidColumn, let pid = Int32(fields[pidColumn]), wanted.contains(pid) { text += line + "\n" }
        }
        return text
    }

    /// Runs `program` (found on PATH) and returns its standard output.
    static func capture(_ program: String, _ arguments: [String]) throws -> String {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw SystemError.last("pipe") }
        let pid = fork()
        if pid < 0 { throw SystemError.last("fork", program) }
        if pid == 0 {
            dup2(pipeEnds[1], 1)
            close(pipeEnds[0])
            let argv = ([program] + arguments).map { strdup($0) } + [nil]
            execvp(program, argv)
            _exit(127)
        }
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        let bytes = try FileSystem.readAll(pipeEnds[0], path: program)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return String(decoding: bytes, as: UTF8.self)
    }
}
