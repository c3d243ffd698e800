import Testing

@testable import BerthCtl

@Suite("CREATED as crictl prints it (go-units HumanDuration)")
struct HumanDurationTests {
    @Test("go-units' own test vectors")
    func vectors() {
        let minute = 60.0
        let hour = 60 * minute
        let day = 24 * hour
        let cases: [(Double, String)] = [
            (0.45, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"), (35 * minute + 40, "35 minutes"),
            (hour + 29 * minute, "About an hour"), (hour + 31 * minute, "2 hours"), (3 * hour + 59 * minute, "4 hours"), (24 * hour, "24 hours"),
            (36 * hour, "36 hours"), (2 * day, "2 days"), (13 * day + 5 * hour, "13 days"), (14 * day, "2 weeks"), (30 * day, "4 weeks"),
            (44 * day, "6 weeks"), (60 * day, "2 months"), (24 * 30 * day, "24 months"), (24 * 30 * day + 14 * day, "2 years"),
            (3 * 365 * day + 60 * day, "3 years"), (-5, "Less than a second"),
        ]
        for (seconds, expected) in cases {
            #expect(HumanDuration.describe(seconds: seconds) == expected, "\(seconds) s")
        }
        #expect(HumanDuration.ago(nanoseconds: 0, now: 120_000_000_000) == "2 minutes ago")
    }

    @Test("log lines: --since as a duration or a time; a fixed nine-digit timestamp for -t")
    func logs() throws {
        let now: Int64 = 1_800_000_000 * 1_000_000_000
        #expect(try LogReader.since("10m", now: now) == now - 600 * 1_000_000_000)
        #expect(try LogReader.since("2027-01-15T08:00:00Z", now: now) == now)
        #expect(try LogReader.since("2027-01-15", now: now) == now - 8 * 3600 * 1_000_000_000)
        #expect(throws: CommandError.self) { try LogReader.since("soon", now: now) }
        #expect(LogReader.fixedTimestamp(1_800_000_000 * 1_000_000_000 + 5_000) == "2027-01-15T08:00:00.000005000Z")
    }
}
