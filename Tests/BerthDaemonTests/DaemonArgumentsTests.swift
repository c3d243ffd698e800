import BerthDaemon
import Logging
import Testing

@Suite("berthd's command line")
struct DaemonArgumentsTests {
    @Test("with no flags every setting has its default")
    func defaults() throws {
        let parsed = try DaemonArguments.parse([]) { _ in nil }
        #expect(parsed.configuration.address == "/run/berth/berth.sock")
        #expect(parsed.configuration.root == "/var/lib/berth")
        #expect(parsed.configuration.state == "/run/berth")
        #expect(parsed.logLevel == .info && parsed.logFormat == .text)
    }

    @Test("flags take `--flag value` and `--flag=value`")
    func forms() throws {
        let parsed = try DaemonArguments.parse(["--address", "/tmp/b.sock", "--root=/tmp/root", "--state", "/tmp/state", "--log-level=debug", "--log-format", "json"])
        #expect(parsed.configuration.address == "/tmp/b.sock")
        #expect(parsed.configuration.root == "/tmp/root")
        #expect(parsed.configuration.state == "/tmp/state")
        #expect(parsed.logLevel == .debug && parsed.logFormat == .json)
    }

    @Test("bad input is refused naming the flag", arguments: [
        (["--log-level", "loud"], "--log-level \"loud\""),
        (["--log-format=xml"], "--log-format \"xml\""),
        (["--address"], "--address needs a value"),
        (["--root", "relative/dir"], "--root \"relative/dir\" must be an absolute path"),
        (["--frobnicate"], "unknown flag --frobnicate"),
    ])
    func refused(words: [String], expected: String) {
        #expect(throws: DaemonArguments.Invalid.self) { try DaemonArguments.parse(words) }
        do {
            _ = try DaemonArguments.parse(words)
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}

@Suite("berthd's log lines")
struct DaemonLogHandlerTests {
    @Test("text values with spaces or quotes are quoted; plain ones are not")
    func quoting() {
        #expect(DaemonLogHandler.quoted("plain") == "plain")
        #expect(DaemonLogHandler.quoted("two words") == "\"two words\"")
        #expect(DaemonLogHandler.quoted("say \"hi\"") == "\"say \\\"hi\\\"\"")
    }

    @Test("timestamps are RFC 3339 UTC with nanoseconds")
    func timestamp() {
        let stamp = DaemonLogHandler.timestamp()
        #expect(stamp.count == 30 && stamp.hasSuffix("Z") && stamp.dropFirst(10).hasPrefix("T"), "\(stamp)")
    }
}
