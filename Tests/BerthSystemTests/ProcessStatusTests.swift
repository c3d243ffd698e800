import BerthSystem
import Glibc
import Testing

/// A stat line with fields 3 onwards as given, after `pid (comm)`.
private func statLine(comm: String, state: String = "S", parent: String = "7", startTime: String = "987654") -> [UInt8] {
    var fields = [state, parent, "42", "42", "0", "-1", "4194560", "100", "0", "0", "0", "1", "2", "0", "0", "20", "0", "1", "0", startTime]
    fields += ["12345678", "300", "18446744073709551615", "1", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "17", "1", "0", "0", "0", "0", "0"]
    return Array("4242 (\(comm)) \(fields.joined(separator: " "))\n".utf8)
}

@Suite("ProcessStatus")
struct ProcessStatusTests {
    @Test("this process's real stat line parses")
    func realStatLine() throws {
        let bytes = try FileSystem.read("/proc/self/stat")
        let status = try #require(ProcessStatus.parse(bytes))
        #expect(status.parentPid == getppid())
        #expect(status.startTime > 0)
        #expect(!status.hasExited)
        #expect("RSD".contains(status.state))
    }

    @Test("reading by pid gives the same start time as parsing")
    func readByPid() throws {
        let parsed = try #require(ProcessStatus.parse(try FileSystem.read("/proc/\(getpid())/stat")))
        let read = try #require(ProcessStatus.read(pid: getpid()))
        #expect(read.startTime == parsed.startTime)
        #expect(read.parentPid == parsed.parentPid)
    }

    @Test("a command name with spaces and parentheses parses")
    func awkwardCommandName() throws {
        let status = try #require(ProcessStatus.parse(statLine(comm: "my (odd) name) S 1 2")))
        #expect(status.state == "S")
        #expect(status.parentPid == 7)
        #expect(status.startTime == 987654)
    }

    @Test("a zombie has exited")
    func zombie() throws {
        #expect(try #require(ProcessStatus.parse(statLine(comm: "sh", state: "Z"))).hasExited)
        #expect(try #require(ProcessStatus.parse(statLine(comm: "sh", state: "X"))).hasExited)
        #expect(try !#require(ProcessStatus.parse(statLine(comm: "sh", state: "T"))).hasExited)
    }

    @Test("lines without a command name or with too few fields are refused")
    func malformed() {
        #expect(ProcessStatus.parse(Array("4242 sh S 1 2 3".utf8)) == nil)
        #expect(ProcessStatus.parse(Array("4242 (sh) S 1 2 3".utf8)) == nil)
        #expect(ProcessStatus.parse([]) == nil)
        #expect(ProcessStatus.parse(statLine(comm: "sh", parent: "x")) == nil)
        #expect(ProcessStatus.parse(statLine(comm: "sh", startTime: "-1")) == nil)
    }

    @Test("no pid or a pid that does not exist reads as nil")
    func missingProcess() {
        #expect(ProcessStatus.read(pid: 0) == nil)
        #expect(ProcessStatus.read(pid: -1) == nil)
        #expect(ProcessStatus.read(pid: Int32.max) == nil)
    }
}
