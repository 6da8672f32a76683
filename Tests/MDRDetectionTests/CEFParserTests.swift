import Foundation
import Testing

@testable import MDRDetection
import MDRDomain

/// Firewall events in CEF over syslog (DOMAIN.md, "Detection" and "Privacy"), with example lines in the vendors'
/// documented formats.
@Suite struct CEFParserTests {
    static let receivedAt = Timestamp.parse("2026-11-29T10:30:00Z")!

    /// FortiGate traffic log as FortiOS sends it in CEF (FortiOS log message reference, "Traffic log support for CEF").
    static let fortiGateTraffic =
        "Feb 12 11:11:30 syslog-800c CEF:0|Fortinet|Fortigate|v5.6.0|00013|traffic:forward close|3|FTNTFGTlogid=0000000013 "
        + "cat=traffic:forward FTNTFGTsubtype=forward FTNTFGTlevel=notice FTNTFGTvd=vdom1 src=192.168.1.183 shost=192.168.1.183 "
        + "spt=45719 deviceInboundInterface=port15 dst=192.168.70.184 dhost=192.168.70.184 dpt=80 deviceOutboundInterface=port19 "
        + "FTNTFGTpoluuid=61c4243a-34ba-51e5-c32a-3859389a5162 externalId=56633 proto=6 act=close cs5=10 cs5Label=Policy Id "
        + "FTNTFGTdstcountry=Reserved FTNTFGTsrccountry=Reserved FTNTFGTtrandisp=snat sourceTranslatedAddress=192.168.70.214 "
        + "sourceTranslatedPort=45719 app=HTTP FTNTFGTappid=38783 FTNTFGTapp=Wget.Like out=398 in=1605 cn1=7 cn1Label=Duration"

    /// FortiGate UTM virus log forwarded by FortiAnalyzer (CEF version 0): no externalId, no rt.
    static let fortiAnalyzerVirus =
        "Dec 08 17:00:55 Alza-kvm41 CEF:0|Fortinet|FortiGate-VM64|6.4.8,build1914 (GA)|0201009238|virus utm monitored|5|"
        + "start=Dec 08 2022 17:00:55 logver=604081914 deviceExternalId=FGVM01000010XXXX dvchost=Alza-kvm41 ad.vd=root "
        + "ad.eventtime=1670490056812274807 ad.tz=+0800 ad.logid=0201009238 cat=utm ad.subtype=virus ad.eventtype=analytics "
        + "deviceSeverity=notice src=10.1.100.11 dst=203.0.113.80 spt=23456 dpt=80 act=monitored app=http fname=Factuur 2026-118.exe "
        + "ad.fsaverdict=malicious ad.analyticscksum=47fd6cadce503e53ad2c543eb728ae2d017277afb3db6b16954e49ac1cf4cc20 ad.dtype=fortisandbox"

    /// Check Point Log Exporter (CEF mapping per sk122323) over RFC 5424 syslog; rt in epoch milliseconds.
    static let checkPointAntiBot =
        "<134>1 2026-11-29T10:21:08Z cp-mgmt CheckPoint 2519 - - CEF:0|Check Point|Anti Bot|Check Point|Log|Detect|High|"
        + "act=Detect deviceDirection=0 rt=1795947667000 src=10.0.0.42 dst=203.0.113.66 spt=51234 dpt=443 proto=6 "
        + "suser=anna@acme.example shost=ws-0042 cs1Label=Threat Prevention Rule Name cs1=Default Policy "
        + "msg=Connection to a known C&C server request=http://203.0.113.66/c2/beacon?id\\=ws-0042&key\\=hunter2 "
        + "loguid={0x5c2f3a1b,0x2,0x4f00a8c0,0xc0000001}"

    /// Check Point firewall log with the severity `Unknown` in the header (Log Exporter CEF field mappings).
    static let checkPointFirewall =
        "CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|https|Unknown|act=Accept deviceDirection=1 rt=1795947667000 "
        + "spt=46455 dpt=443 cs2Label=Rule Name cs2=Allow web layer src=10.0.0.42 dst=198.51.100.10 proto=6"

    /// PAN-OS threat log in its CEF custom log format over RFC 3164 syslog: rt as `MMM dd yyyy HH:mm:ss zone`,
    /// a domain account with an escaped backslash, the sequence number as externalId.
    static let paloAltoThreat =
        "<14>Nov 29 10:21:07 PA-3260 CEF:0|Palo Alto Networks|PAN-OS|11.1.2|spyware|THREAT|8|rt=Nov 29 2026 10:21:07 GMT "
        + "deviceExternalId=007654321012 src=10.0.0.42 dst=203.0.113.66 sourceTranslatedAddress=198.51.100.2 "
        + "suser=acme\\\\anna duser= app=web-browsing cs3Label=Virtual System cs3=vsys1 cs4Label=Source Zone cs4=trust "
        + "externalId=7412369 act=reset-both request=beacon.example.net/c2?id\\=ws-0042 "
        + "cs1Label=Rule cs1=Block-Threats shost=ws-0042 c6a2=2001:DB8::42 c6a3=2001:db8:0:0:0:0:0:66 "
        + "msg=Cobalt Strike beacon (14512)"

    static func signal(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Signal {
        try CEFParser.signal(from: line[...], receivedAt: receivedAt).get()
    }

    @Test func aFortiGateTrafficLineBecomesAFirewallSignalKeyedByItsExternalId() throws {
        let signal = try Self.signal(Self.fortiGateTraffic)
        #expect(signal.source == .firewall)
        #expect(signal.sourceAlertID == "56633")
        #expect(signal.severity == .low)
        #expect(signal.status == .new)
        #expect(signal.title == "traffic:forward close")
        // No time in the event: the syslog header's (no year in it: the receipt's).
        #expect(signal.observedAt == Timestamp.parse("2026-02-12T11:11:30Z"))
        #expect(signal.entities.ips == ["192.168.1.183", "192.168.70.184"])
        #expect(signal.entities.devices.isEmpty)  // shost and dhost are addresses, not device names
    }

    @Test func aLineWithoutExternalIdIsKeyedByVendorProductSignatureTimeAndAddresses() throws {
        let signal = try Self.signal(Self.fortiAnalyzerVirus)
        #expect(signal.sourceAlertID == "Fortinet|FortiGate-VM64|0201009238||10.1.100.11|203.0.113.80")
        #expect(signal.severity == .medium)
        #expect(signal.title == "virus utm monitored")
        // The same line again is the same alert: the id holds no receive time.
        let again = try CEFParser.signal(from: Self.fortiAnalyzerVirus[...], receivedAt: Self.receivedAt + 60).get()
        #expect(again.sourceAlertID == signal.sourceAlertID)
    }

    @Test func aCheckPointLineAfterAnRFC5424PrefixTakesItsTimeFromEpochMilliseconds() throws {
        let signal = try Self.signal(Self.checkPointAntiBot)
        #expect(signal.severity == .high)
        #expect(signal.title == "Detect")
        #expect(signal.observedAt == Timestamp.parse("2026-11-29T10:21:07Z"))
        #expect(signal.entities.ips == ["10.0.0.42", "203.0.113.66"])
        #expect(signal.entities.users == ["anna@acme.example"])
        #expect(signal.entities.devices == [DeviceID(rawValue: "ws-0042")!])
        #expect(signal.sourceAlertID == "Check Point|Anti Bot|Log|1795947667000|10.0.0.42|203.0.113.66")
    }

    @Test func checkPointSeverityUnknownIsInformational() throws {
        #expect(try Self.signal(Self.checkPointFirewall).severity == .informational)
    }

    @Test func aPaloAltoLineAfterAnRFC3164PrefixKeepsIPv6AndTheDomainAccount() throws {
        let signal = try Self.signal(Self.paloAltoThreat)
        #expect(signal.sourceAlertID == "7412369")
        #expect(signal.severity == .high)
        #expect(signal.title == "THREAT")
        #expect(signal.observedAt == Timestamp.parse("2026-11-29T10:21:07Z"))
        #expect(signal.entities.ips == ["10.0.0.42", "203.0.113.66", "2001:db8::42", "2001:db8:0:0:0:0:0:66"])
        #expect(signal.entities.users == ["acme\\anna"])  // duser is empty
        #expect(signal.entities.devices == [DeviceID(rawValue: "ws-0042")!])
    }

    @Test func messagesURLsFileNamesAndCustomFieldsAreNotKept() throws {
        let lines = [Self.fortiGateTraffic, Self.fortiAnalyzerVirus, Self.checkPointAntiBot, Self.checkPointFirewall, Self.paloAltoThreat]
        let batch = CEFParser.parseLines(lines.joined(separator: "\n"), receivedAt: Self.receivedAt)
        #expect(batch.signals.count == 5)
        let stored = String(decoding: try JSONCoding.encoder().encode(batch.signals.map(\.signal)), as: UTF8.self)
        for content in ["hunter2", "beacon", "c2", "Factuur", ".exe", "C&C", "Cobalt", "Default Policy", "Block-Threats", "vsys1", "?"] {
            #expect(!stored.contains(content), "'\(content)' survived parsing")
        }
    }

    @Test(arguments: [
        ("0", Severity.low), ("3", .low), ("4", .medium), ("6", .medium), ("7", .high), ("8", .high), ("9", .critical),
        ("10", .critical), ("Low", .low), ("medium", .medium), ("High", .high), ("Very-High", .critical), ("Unknown", .informational),
    ])
    func severityMapsTheZeroToTenScaleAndTheWords(raw: String, expected: Severity) {
        #expect(CEFParser.severity(raw) == expected)
    }

    @Test(arguments: ["11", "-1", "5.5", "urgent", ""])
    func aSeverityOutsideTheScaleIsRejected(raw: String) {
        #expect(CEFParser.severity(raw) == nil)
    }

    @Test func headerEscapesAreUnescaped() throws {
        let record = try CEFParser.parseRecord(#"CEF:0|Acme\|Corp|Fire\\wall|1.0|100|Detected a \| pipe|7|src=10.0.0.1"#[...]).get()
        #expect(record.deviceVendor == "Acme|Corp")
        #expect(record.deviceProduct == #"Fire\wall"#)
        #expect(record.name == "Detected a | pipe")
        #expect(record["src"] == "10.0.0.1")
    }

    @Test func extensionValuesKeepSpacesAndTheirEscapes() throws {
        let line = #"CEF:0|V|P|1|1|N|5|msg=line one\nline two has a \= sign and a \\ backslash\r cs1Label=Rule Name cs1=Allow all  act=block"#
        let record = try CEFParser.parseRecord(line[...]).get()
        #expect(record.extensions.map(\.key) == ["msg", "cs1Label", "cs1", "act"])
        #expect(record["msg"] == "line one\nline two has a = sign and a \\ backslash\r")
        #expect(record["cs1Label"] == "Rule Name")
        #expect(record["cs1"] == "Allow all")
        #expect(record["act"] == "block")
    }

    @Test func anUnescapedEqualsSignInsideAValueStaysInTheValue() throws {
        let record = try CEFParser.parseRecord("CEF:0|V|P|1|1|N|5|request=http://x.example/?a=b&c=d suser=anna"[...]).get()
        #expect(record["request"] == "http://x.example/?a=b&c=d")
        #expect(record["suser"] == "anna")
    }

    @Test func aHeaderWithoutExtensionIsAccepted() throws {
        let record = try CEFParser.parseRecord("CEF:1|V|P|1|sig|Name|Low"[...]).get()
        #expect(record.severity == "Low")
        #expect(record.extensions.isEmpty)
    }

    @Test func anUnparseableRtFallsBackToTheReceiveTimeAndAZoneIsHonoured() throws {
        let bad = try Self.signal("CEF:0|V|P|1|1|N|5|rt=yesterday src=10.0.0.1")
        #expect(bad.observedAt == Self.receivedAt)
        let zoned = try Self.signal("CEF:0|V|P|1|1|N|5|rt=Nov 29 2026 11:21:07.250 +01:00 src=10.0.0.1")
        #expect(zoned.observedAt == Timestamp.parse("2026-11-29T10:21:07.250Z"))
        let noZone = try Self.signal("CEF:0|V|P|1|1|N|5|rt=Nov 9 2026 10:21:07")
        #expect(noZone.observedAt == Timestamp.parse("2026-11-09T10:21:07Z"))
    }

    @Test func invalidEntityValuesAreDroppedNotTheLine() throws {
        let signal = try Self.signal("CEF:0|V|P|1|1|N|5|src=999.1.1.1 dst=10.0.0.1 shost=a/b dhost=srv-01 suser=   ")
        #expect(signal.entities.ips == ["10.0.0.1"])
        #expect(signal.entities.devices == [DeviceID(rawValue: "srv-01")!])
        #expect(signal.entities.users.isEmpty)
    }

    @Test func eachBadLineIsRejectedWithItsLineNumberAndBlankLinesAreSkipped() {
        let text = [
            Self.fortiGateTraffic,
            "",
            "<13>Nov 29 10:00:00 fw01 sshd[42]: Accepted password for admin",
            "CEF:0|Fortinet|Fortigate|v5.6.0|00013",
            "CEF:0|V|P|1|1|N|urgent|src=10.0.0.1",
            "CEF:x|V|P|1|1|N|5|src=10.0.0.1",
            "   ",
            Self.paloAltoThreat,
        ].joined(separator: "\r\n")
        let batch = CEFParser.parseLines(text, receivedAt: Self.receivedAt)
        #expect(batch.signals.map(\.index) == [0, 7])
        #expect(batch.rejections.map(\.index) == [2, 3, 4, 5])
        #expect(batch.rejections.map(\.reason) == [
            "no 'CEF:' header in the line",
            "the CEF header has 5 of its 8 '|'-separated parts",
            "severity 'urgent' is not 0–10, Unknown, Low, Medium, High or Very-High",
            "CEF version 'x' is not a number",
        ])
    }

    @Test func anAlertIdLongerThanTheLimitIsRejected() {
        let vendor = String(repeating: "v", count: 250)
        let result = CEFParser.signal(from: "CEF:0|\(vendor)|P|1|1|N|5|src=10.0.0.1"[...], receivedAt: Self.receivedAt)
        #expect(throws: CEFParser.ParseFailure.self) { try result.get() }
    }
}
