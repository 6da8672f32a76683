import Foundation
import Testing

@testable import MDRDetection
import MDRDomain

/// Syslog headers as RFC 5424 defines them and as firewalls send RFC 3164; the MSG is what is ingested.
@Suite struct SyslogMessageTests {
    static let receivedAt = Timestamp.parse("2026-11-29T10:30:00Z")!

    func parse(_ text: String, receivedAt: Date = receivedAt) throws -> SyslogMessage {
        try SyslogMessage.parse(Array(text.utf8), receivedAt: receivedAt).get()
    }

    func failure(_ text: String) -> SyslogParseError.Code? {
        if case .failure(let error) = SyslogMessage.parse(Array(text.utf8), receivedAt: Self.receivedAt) { return error.code }
        return nil
    }

    // MARK: RFC 5424

    @Test func rfc5424ExampleWithBOMAndNoStructuredData() throws {
        // RFC 5424 §6.5, example 1, with the BOM before the MSG.
        let m = try SyslogMessage.parse(
            Array("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ".utf8) + [0xEF, 0xBB, 0xBF]
                + Array("'su root' failed for lonvick on /dev/pts/8".utf8), receivedAt: Self.receivedAt
        ).get()
        #expect(m.format == .rfc5424)
        #expect(m.facility == 4)
        #expect(m.severity == 2)
        #expect(m.timestamp == Timestamp.parse("2003-10-11T22:14:15.003Z"))
        #expect(m.hostname == "mymachine.example.com")
        #expect(m.appName == "su")
        #expect(m.procID == nil)
        #expect(m.msgID == "ID47")
        #expect(m.structuredData.isEmpty)
        #expect(m.message == "'su root' failed for lonvick on /dev/pts/8")
    }

    @Test func rfc5424StructuredDataWithEscapesAndSeveralElements() throws {
        let m = try parse(
            #"<165>1 2003-10-11T22:14:15.003-07:00 myhost evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App \"x\" [1\]" path="C:\\tmp\d"][examplePriority@32473 class="high"] An application event"#
        )
        #expect(m.facility == 20)
        #expect(m.severity == 5)
        #expect(m.timestamp == Timestamp.parse("2003-10-12T05:14:15.003Z"))
        #expect(m.structuredData.count == 2)
        #expect(m.structuredData[0].id == "exampleSDID@32473")
        #expect(m.structuredData[0].parameters.map(\.name) == ["iut", "eventSource", "path"])
        #expect(m.structuredData[0].parameters[1].value == #"App "x" [1]"#)
        // `\\` is a backslash; a backslash before any other character is kept as it is.
        #expect(m.structuredData[0].parameters[2].value == #"C:\tmp\d"#)
        #expect(m.structuredData[1].parameters == [.init(name: "class", value: "high")])
        #expect(m.message == "An application event")
    }

    @Test func rfc5424AllNilValuesAndNoMessage() throws {
        let m = try parse("<13>1 - - - - - -")
        #expect(m.timestamp == nil)
        #expect(m.hostname == nil && m.appName == nil && m.procID == nil && m.msgID == nil)
        #expect(m.message == "")
    }

    @Test func rfc5424WithAnUnreadableTimestampKeepsTheMessage() throws {
        let m = try parse("<13>1 2026-13-45T99:00:00Z host app - - - CEF:0|a|b|c|d|e|5|")
        #expect(m.timestamp == nil)
        #expect(m.message == "CEF:0|a|b|c|d|e|5|")
    }

    @Test func rfc5424MalformedHeadersAreRefusedWithTheirCode() {
        #expect(failure("<13>1 2026-11-29T10:00:00Z host") == .invalidHeader)
        #expect(failure("<13>1 2026-11-29T10:00:00Z host app 12 ID1 [unterminated x=\"1\" msg") == .invalidStructuredData)
        #expect(failure("<13>1 2026-11-29T10:00:00Z host app 12 ID1 [id x=\"1] msg") == .invalidStructuredData)
        #expect(failure("<13>1 2026-11-29T10:00:00Z host app 12 ID1 nosd msg") == .invalidStructuredData)
        #expect(failure("<13>1 2026-11-29T10:00:00Z host app 12 ID1 -msg") == .invalidStructuredData)
        #expect(failure("<192>1 - - - - - -") == .invalidPriority)
        #expect(failure("<1x>hello") == .invalidPriority)
        #expect(failure("\r\n") == .empty)
    }

    /// Check Point Log Exporter sends CEF over RFC 5424.
    @Test func checkPointCEFOverRFC5424() throws {
        let m = try parse(CEFParserTests.checkPointAntiBot + "\n")
        #expect(m.format == .rfc5424)
        #expect(m.hostname == "cp-mgmt")
        #expect(m.appName == "CheckPoint")
        #expect(m.procID == "2519")
        #expect(m.message.hasPrefix("CEF:0|Check Point|Anti Bot|"))
        #expect(m.message.hasSuffix("loguid={0x5c2f3a1b,0x2,0x4f00a8c0,0xc0000001}"))
    }

    // MARK: RFC 3164

    @Test func rfc3164ExampleWithTagAndPid() throws {
        let m = try parse("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8")
        #expect(m.format == .rfc3164)
        #expect(m.facility == 4 && m.severity == 2)
        #expect(m.timestamp == Timestamp.parse("2026-10-11T22:14:15Z"))
        #expect(m.hostname == "mymachine")
        #expect(m.appName == "su")
        #expect(m.procID == "230")
        #expect(m.message == "'su root' failed for lonvick on /dev/pts/8")
    }

    @Test func rfc3164SpacePaddedDayAndYearFromTheReceiveTime() throws {
        let m = try parse("<13>Nov  9 08:00:01 fw01 kernel: dropped")
        #expect(m.timestamp == Timestamp.parse("2026-11-09T08:00:01Z"))
        // A December message read on 1 January is from the year before.
        let january = Timestamp.parse("2027-01-01T00:00:05Z")!
        let late = try parse("<13>Dec 31 23:59:58 fw01 kernel: dropped", receivedAt: january)
        #expect(late.timestamp == Timestamp.parse("2026-12-31T23:59:58Z"))
    }

    @Test func rfc3164WithYearOrISOTimestampOrNoTimestamp() throws {
        #expect(try parse("<13>Nov 29 2026 10:15:30 fw01 app: x").timestamp == Timestamp.parse("2026-11-29T10:15:30Z"))
        #expect(try parse("<13>Nov 29 10:15:30.250 2025 fw01 app: x").timestamp == Timestamp.parse("2025-11-29T10:15:30Z"))
        let iso = try parse("<13>2026-11-29T11:15:30+01:00 fw01 app: x")
        #expect(iso.timestamp == Timestamp.parse("2026-11-29T10:15:30Z"))
        #expect(iso.hostname == "fw01")
        let none = try parse("<13>fw01 app: hello")
        #expect(none.timestamp == nil)
        #expect(none.hostname == "fw01")
        #expect(none.appName == "app")
        #expect(none.message == "hello")
    }

    @Test func rfc3164WithoutHostOrWithoutTag() throws {
        let noHost = try parse("<13>Nov 29 10:15:30 sshd[42]: Accepted publickey")
        #expect(noHost.hostname == nil)
        #expect(noHost.appName == "sshd")
        #expect(noHost.procID == "42")
        #expect(noHost.message == "Accepted publickey")
        let noTag = try parse("<13>Nov 29 10:15:30 fw01 plain text without a tag")
        #expect(noTag.hostname == "fw01")
        #expect(noTag.appName == nil)
        #expect(noTag.message == "plain text without a tag")
    }

    @Test func aMessageWithoutPriorityGetsUserNotice() throws {
        let m = try parse(CEFParserTests.fortiGateTraffic)
        #expect(m.facility == 1 && m.severity == 5)
        #expect(m.hostname == "syslog-800c")
        #expect(m.message.hasPrefix("CEF:0|Fortinet|Fortigate|v5.6.0|00013|"))
    }

    /// Palo Alto PAN-OS CEF profile: `<PRI>Mmm dd hh:mm:ss HOST CEF:…` (no tag).
    @Test func paloAltoCEFAfterTheHost() throws {
        let line =
            "<14>Nov 29 10:15:30 PA-VM CEF:0|Palo Alto Networks|PAN-OS|10.1.0|THREAT|url|8|rt=Nov 29 2026 10:15:30 GMT "
            + "deviceExternalId=007200001056 src=10.0.0.42 dst=203.0.113.66 externalId=7139 request=http://evil.example/x?a=b"
        let m = try parse(line)
        #expect(m.hostname == "PA-VM")
        #expect(m.appName == nil)
        #expect(m.message.hasPrefix("CEF:0|Palo Alto Networks|PAN-OS|"))
        #expect(m.message.hasSuffix("a=b"))
    }

    /// FortiGate CEF directly after the PRI, and a FortiGate key=value log (not CEF) whose first word is no host.
    @Test func fortiGateFormats() throws {
        let cef = try parse(
            "<189>CEF:0|Fortinet|Fortigate|v7.2.5|00013|traffic:forward close|3|externalId=5663 src=10.0.0.42 dst=198.51.100.10")
        #expect(cef.facility == 23 && cef.severity == 5)
        #expect(cef.hostname == nil)
        #expect(cef.message.hasPrefix("CEF:0|Fortinet|"))
        let kv = try parse(#"<189>date=2026-11-29 time=10:15:30 devname="FGT-HQ" type="traffic""#)
        #expect(kv.hostname == nil)
        #expect(kv.message == #"date=2026-11-29 time=10:15:30 devname="FGT-HQ" type="traffic""#)
    }

    @Test func trailingLineEndsAndNULsAreNotPartOfTheMessage() throws {
        #expect(try parse("<13>Nov 29 10:15:30 fw01 app: x\r\n\0").message == "x")
    }

    /// Every parsed CEF MSG goes through the same CEF parser as a line posted over HTTP.
    @Test func theMessageOfEachVendorLineIsAValidCEFEvent() throws {
        for line in [CEFParserTests.fortiGateTraffic, CEFParserTests.fortiAnalyzerVirus, CEFParserTests.checkPointAntiBot] {
            let m = try parse(line)
            let signal = try CEFParser.signal(from: m.message[...], receivedAt: Self.receivedAt).get()
            #expect(signal.source == .firewall)
        }
    }
}
