import BerthSystem
import Glibc
import Testing

@Suite("Signals")
struct SignalsTests {
    @Test("signal names parse with or without SIG, in any case", arguments: [
        ("KILL", 9), ("SIGKILL", 9), ("kill", 9), ("sigusr1", 10), ("SigTerm", 15), ("HUP", 1), ("CHLD", 17), ("SYS", 31),
    ] as [(String, Int32)])
    func names(text: String, number: Int32) {
        #expect(Signals.parse(text) == number)
    }

    @Test("numbers from 1 to 64 parse as themselves", arguments: ["1", "9", "15", "64"])
    func numbers(text: String) {
        #expect(Signals.parse(text) == Int32(text))
    }

    @Test("numbers outside 1 to 64 are refused", arguments: ["0", "65", "-9", "4294967305"])
    func outOfRange(text: String) {
        #expect(Signals.parse(text) == nil)
    }

    @Test("real-time signals parse relative to RTMIN and RTMAX", arguments: [
        ("RTMIN", 34), ("RTMIN+3", 37), ("SIGRTMIN+30", 64), ("rtmax", 64), ("RTMAX-1", 63), ("SIGRTMAX-30", 34),
    ] as [(String, Int32)])
    func realTime(text: String, number: Int32) {
        #expect(Signals.parse(text) == number)
    }

    @Test("real-time offsets beyond the range or in the wrong direction are refused", arguments: [
        "RTMIN+31", "RTMIN-1", "RTMAX+1", "RTMAX-31", "RTMIN+x",
    ])
    func badRealTime(text: String) {
        #expect(Signals.parse(text) == nil)
    }

    @Test("unknown names are refused", arguments: ["NOPE", "", "SIG", "SIGSIGKILL", "KILL "])
    func unknown(text: String) {
        #expect(Signals.parse(text) == nil)
    }

    @Test("forwarded signals exclude KILL, STOP, CHLD and glibc's reserved 32 and 33")
    func forwarded() {
        let forwarded = Signals.forwarded
        for excluded in [SIGKILL, SIGSTOP, SIGCHLD, 32, 33] {
            #expect(!forwarded.contains(excluded))
        }
        for included in [SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGWINCH, 34, 64] {
            #expect(forwarded.contains(included))
        }
        #expect(forwarded.count == 59)
    }
}
