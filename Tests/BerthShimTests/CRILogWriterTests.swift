import BerthShimProtocol
import BerthSystem
import Glibc
import Testing

@testable import BerthShim

@Suite("the CRI log file")
struct CRILogWriterTests {
    func withWriter(maximum: Int = 16 * 1024, _ body: (CRILogWriter, String) throws -> Void) throws {
        var template = Array("/tmp/berth-crilog-XXXXXX".utf8CString)
        let directory = String(cString: mkdtemp(&template))
        defer { _ = try? FileSystem.removeTree(directory) }
        let writer = try CRILogWriter(path: "\(directory)/0.log", maximumLineBytes: maximum, now: { 1_795_953_068_000_000_001 })
        try body(writer, "\(directory)/0.log")
    }

    func feed(_ writer: CRILogWriter, _ stream: String, _ text: String) {
        Array(text.utf8).withUnsafeBytes { writer.append(stream, $0) }
    }

    @Test("one F record per line, each stream on its own; a line may arrive in pieces")
    func lines() throws {
        try withWriter { writer, path in
            feed(writer, "stdout", "hello\nwor")
            feed(writer, "stderr", "oops\n")
            feed(writer, "stdout", "ld\n\n")
            let text = try FileSystem.readText(path)
            #expect(text == """
                2026-11-29T11:51:08.000000001Z stdout F hello
                2026-11-29T11:51:08.000000001Z stderr F oops
                2026-11-29T11:51:08.000000001Z stdout F world
                2026-11-29T11:51:08.000000001Z stdout F\u{20}

                """)
        }
    }

    @Test("a line longer than the limit becomes P records, cut between UTF-8 sequences; an unfinished line is F at the end")
    func partial() throws {
        try withWriter(maximum: 8) { writer, path in
            feed(writer, "stdout", "abcdefgé€xyz1234\nend")
            writer.finish("stdout")
            let records = try FileSystem.readText(path).split(separator: "\n").map { $0.split(separator: " ", maxSplits: 3).dropFirst().joined(separator: " ") }
            // "abcdefg" + é (2 bytes) would be 9: the cut comes before é; then é€xyz (8
            // bytes), then the rest of the line.
            #expect(records == ["stdout P abcdefg", "stdout P é€xyz", "stdout F 1234", "stdout F end"])
        }
    }

    @Test("reopen writes to a new file at the same path after rotation")
    func reopen() throws {
        try withWriter { writer, path in
            feed(writer, "stdout", "before\n")
            rename(path, path + ".1")
            try writer.reopen()
            feed(writer, "stdout", "after\n")
            let rotated = try FileSystem.readText(path + ".1")
            let fresh = try FileSystem.readText(path)
            #expect(rotated.hasSuffix("stdout F before\n"))
            #expect(fresh.hasSuffix("stdout F after\n"))
        }
    }
}

@Suite("shim requests and states")
struct ShimProtocolTests {
    @Test("requests round-trip; bad ones are refused with the reason")
    func requests() throws {
        for request in [ShimRequest.start, .kill(signal: 15, all: true), .state, .wait, .reopenLog, .delete] {
            #expect(try ShimRequest(parsing: request.json.serialized()) == request)
        }
        #expect(throws: ShimProtocolError("unknown op \"launch\"")) { try ShimRequest(parsing: #"{"op":"launch"}"#) }
        #expect(throws: ShimProtocolError("kill needs a signal from 1 to 64")) { try ShimRequest(parsing: #"{"op":"kill","signal":99}"#) }
        #expect(throws: ShimProtocolError.self) { try ShimRequest(parsing: "not json") }
    }

    @Test("a state round-trips through its JSON (exit.json)")
    func state() throws {
        var state = ShimState(id: "c1", status: .exited, pid: 42, logPath: "/var/log/pods/x/0.log")
        state.exitCode = 137
        state.oomKilled = true
        state.exitedAt = "2026-11-29T09:11:08.5Z"
        #expect(try ShimState(state.json) == state)
    }
}
