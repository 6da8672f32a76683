import Foundation
import MDRDomain
import Testing

@testable import MDRDetection

/// The time of a firewall event is the source's, not the arrival's: a log that arrives minutes late (as syslog does)
/// is placed when it happened, so that it lands in the incident of its attack. docs/detection.md, "Event time".
@Suite struct CEFEventTimeTests {
    static let receivedAt = Timestamp.parse("2026-11-29T10:30:00Z")!
    static let header = "CEF:0|Vendor|Product|1.0|100|Blocked C2 traffic|8|"

    static func observed(_ line: String, receivedAt: Date = receivedAt, sourceLocation: SourceLocation = #_sourceLocation) throws -> Date {
        try CEFParser.signal(from: line[...], receivedAt: receivedAt).get().observedAt
    }

    static func at(_ iso: String) -> Date { Timestamp.parse(iso)! }

    @Test(arguments: [
        // rt as ArcSight documents it, and ISO 8601.
        ("rt=1795947667000", "2026-11-29T10:21:07Z"),
        ("rt=Nov 29 2026 10:21:07", "2026-11-29T10:21:07Z"),
        ("rt=Nov 29 2026 10:21:07.250 GMT", "2026-11-29T10:21:07.250Z"),
        ("rt=Nov 29 2026 11:21:07 +01:00", "2026-11-29T10:21:07Z"),
        ("rt=Nov 29 2026 11:21:07 +0100", "2026-11-29T10:21:07Z"),
        ("rt=Nov 29 10:21:07", "2026-11-29T10:21:07Z"),
        ("rt=Nov  9 10:21:07.5 UTC", "2026-11-09T10:21:07.500Z"),
        ("rt=2025-10-07T14:03:19.250Z", "2025-10-07T14:03:19.250Z"),  // Sophos Central
        ("rt=2026-11-29T11:21:07+01:00", "2026-11-29T10:21:07Z"),
        // FortiGate's own fields: eventtime in ns (FortiOS ≥ 6.2), µs, ms or s; date + time + tz.
        ("FTNTFGTeventtime=1795947667123456789", "2026-11-29T10:21:07.123Z"),
        ("FTNTFGTeventtime=1795947667123456", "2026-11-29T10:21:07.123Z"),
        ("FTNTFGTeventtime=1795947667123", "2026-11-29T10:21:07.123Z"),
        ("FTNTFGTeventtime=1795947667", "2026-11-29T10:21:07Z"),
        ("eventtime=1795947667", "2026-11-29T10:21:07Z"),
        ("FTNTFGTdate=2026-11-29 FTNTFGTtime=11:21:07 FTNTFGTtz=+0100", "2026-11-29T10:21:07Z"),
        ("FTNTFGTdate=2026-11-29 FTNTFGTtime=10:21:07", "2026-11-29T10:21:07Z"),
        // CEF start (Palo Alto's generated time, Check Point's start).
        ("start=Nov 29 2026 10:21:07 GMT", "2026-11-29T10:21:07Z"),
    ])
    func theEventsOwnTimeIsRead(_ field: String, _ expected: String) throws {
        #expect(try Self.observed(Self.header + field + " src=10.0.0.42") == Self.at(expected))
    }

    @Test(arguments: [
        // RFC 5424 and RFC 3164 headers, with and without <PRI> (relays and files drop it).
        ("<134>1 2026-11-29T11:21:08.5+01:00 fw01 cef - - - ", "2026-11-29T10:21:08.500Z"),
        ("<14>Nov 29 10:21:07 PA-3260 ", "2026-11-29T10:21:07Z"),
        ("<14>Nov 29 2026 10:21:07 asa ", "2026-11-29T10:21:07Z"),
        ("Nov 29 10:21:07 syslog-800c ", "2026-11-29T10:21:07Z"),
        ("2026-11-29T10:21:07Z relay ", "2026-11-29T10:21:07Z"),
    ])
    func withoutATimeOfItsOwnTheSyslogHeadersIsUsed(_ prefix: String, _ expected: String) throws {
        #expect(try Self.observed(prefix + Self.header + "src=10.0.0.42") == Self.at(expected))
    }

    @Test func theFieldOrderIsRtThenVendorFieldsThenStartThenTheHeader() throws {
        let all = "<14>Nov 29 10:00:04 fw " + Self.header
            + "start=Nov 29 2026 10:00:03 FTNTFGTeventtime=1795946402000 rt=Nov 29 2026 10:00:01 src=10.0.0.42"
        #expect(try Self.observed(all) == Self.at("2026-11-29T10:00:01Z"))
        let noRt = "<14>Nov 29 10:00:04 fw " + Self.header + "start=Nov 29 2026 10:00:03 FTNTFGTeventtime=1795946402000 src=10.0.0.42"
        #expect(try Self.observed(noRt) == Self.at("2026-11-29T10:00:02Z"))
        let startOnly = "<14>Nov 29 10:00:04 fw " + Self.header + "start=Nov 29 2026 10:00:03 src=10.0.0.42"
        #expect(try Self.observed(startOnly) == Self.at("2026-11-29T10:00:03Z"))
        let headerOnly = "<14>Nov 29 10:00:04 fw " + Self.header + "src=10.0.0.42"
        #expect(try Self.observed(headerOnly) == Self.at("2026-11-29T10:00:04Z"))
        // An unreadable value is skipped, not fatal: the next source of time is used.
        let unreadable = "<14>Nov 29 10:00:04 fw " + Self.header + "rt=yesterday src=10.0.0.42"
        #expect(try Self.observed(unreadable) == Self.at("2026-11-29T10:00:04Z"))
        // Nothing at all: the receive time.
        #expect(try Self.observed(Self.header + "src=10.0.0.42") == Self.receivedAt)
    }

    /// A time without a year is placed in the receipt's year, or the year before when that would put it more than a
    /// day after the receipt (December's logs read in January).
    @Test func aTimeWithoutAYearTakesTheReceiptsYear() throws {
        let newYear = Self.at("2027-01-01T00:05:00Z")
        #expect(try Self.observed(Self.header + "rt=Dec 31 23:59:00", receivedAt: newYear) == Self.at("2026-12-31T23:59:00Z"))
        #expect(try Self.observed("<14>Dec 31 23:59:00 fw " + Self.header, receivedAt: newYear) == Self.at("2026-12-31T23:59:00Z"))
        #expect(try Self.observed(Self.header + "rt=Jan  1 00:04:00", receivedAt: newYear) == Self.at("2027-01-01T00:04:00Z"))
    }

    /// A late log keeps its time: it is placed when it happened, minutes before it arrived.
    @Test func aLogThatArrivesLateIsPlacedWhenItHappened() throws {
        let late = Self.receivedAt.addingTimeInterval(20 * 60)
        #expect(try Self.observed(Self.header + "rt=Nov 29 2026 10:21:07 src=10.0.0.42", receivedAt: late) == Self.at("2026-11-29T10:21:07Z"))
    }

    /// A time more than 5 minutes after the receipt is a wrong clock (or zone): the receive time is used, and the batch
    /// notes it on the line's item (`event_time_in_future`). Up to 5 minutes ahead is clock skew, and kept.
    @Test func aTimeFarAheadOfTheReceiptIsReplacedAndNoted() throws {
        let lines = [
            Self.header + "rt=Nov 29 2026 11:30:00 src=10.0.0.1",  // an hour ahead: a local time sent as UTC
            Self.header + "rt=Nov 29 2026 10:34:00 src=10.0.0.2",  // 4 minutes ahead: skew
        ]
        let batch = CEFParser.parseLines(lines.joined(separator: "\n"), receivedAt: Self.receivedAt)
        #expect(batch.signals.map(\.signal.observedAt) == [Self.receivedAt, Self.at("2026-11-29T10:34:00Z")])
        #expect(batch.notes.map(\.index) == [0])
        #expect(batch.notes.first?.code == .eventTimeInFuture)
        #expect(batch.notes.first?.reason.contains("2026-11-29T11:30:00") == true)
        let bytes = CEFParser.parseLines(utf8: Array(lines.joined(separator: "\n").utf8), receivedAt: Self.receivedAt)
        #expect(bytes.notes.map(\.index) == [0])
        #expect(try Self.observed(lines[0]) == Self.receivedAt)
    }
}
