import BerthSystem
import Testing

@Suite("Clock.rfc3339")
struct ClockTests {
    @Test("the epoch has no fraction")
    func epoch() {
        #expect(Clock.rfc3339(nanoseconds: 0) == "1970-01-01T00:00:00Z")
    }

    @Test("trailing zeros of the fraction are trimmed", arguments: [
        (1_500_000_000, "1970-01-01T00:00:01.5Z"),
        (1_000_000_010, "1970-01-01T00:00:01.00000001Z"),
        (120_000_000, "1970-01-01T00:00:00.12Z"),
    ] as [(Int64, String)])
    func trimmedFraction(nanoseconds: Int64, text: String) {
        #expect(Clock.rfc3339(nanoseconds: nanoseconds) == text)
    }

    @Test("a single nanosecond keeps its leading zeros")
    func oneNanosecond() {
        #expect(Clock.rfc3339(nanoseconds: 1) == "1970-01-01T00:00:00.000000001Z")
    }

    @Test("a full date and time is written with nine fraction digits")
    func fullDate() {
        #expect(Clock.rfc3339(nanoseconds: 1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z")
    }

    @Test("a leap day is written correctly")
    func leapDay() {
        // 2024-02-29T12:00:00Z
        #expect(Clock.rfc3339(nanoseconds: 1_709_208_000 * 1_000_000_000) == "2024-02-29T12:00:00Z")
    }

    @Test("a time before the epoch is written as a valid date")
    func beforeEpoch() {
        #expect(Clock.rfc3339(nanoseconds: -1_500_000_000) == "1969-12-31T23:59:58.5Z")
    }

    @Test("now is after 2020 and the monotonic clock does not go back")
    func now() {
        #expect(Clock.nowNanoseconds() > 1_577_836_800 * 1_000_000_000)
        let first = Clock.monotonicNanoseconds()
        #expect(Clock.monotonicNanoseconds() >= first)
    }

    @Test("RFC 3339 times read back to the nanosecond, with offsets; malformed ones are refused")
    func parse() {
        for value: Int64 in [0, 1_709_208_000 * 1_000_000_000, 1_796_000_000_123_456_789, -1_500_000_000] {
            #expect(Clock.nanoseconds(rfc3339: Clock.rfc3339(nanoseconds: value)) == value)
        }
        let noon: Int64 = 1_709_208_000 * 1_000_000_000
        #expect(Clock.nanoseconds(rfc3339: "2024-02-29T13:00:00+01:00") == noon)
        #expect(Clock.nanoseconds(rfc3339: "2024-02-29T12:00:00.5Z") == noon + 500_000_000)
        for bad in ["", "2024-02-29", "2024-02-29T12:00:00", "2024-13-01T00:00:00Z", "2024-02-29T12:00:00.Z", "2024-02-29T12:00:00Zjunk", "yesterday"] {
            #expect(Clock.nanoseconds(rfc3339: bad) == nil, "\(bad)")
        }
    }
}
