import Foundation
import Testing

@testable import MDRDetection
import MDRDomain

/// Microsoft Graph security alerts v2 (DOMAIN.md, "Detection" and "Privacy"): each alert is normalised on its own, only
/// identifiers survive, and unknown enumeration values never reject an alert.
@Suite struct GraphAlertParserTests {
    static let fixture: Data = {
        let url = Bundle.module.url(forResource: "graph-alerts", withExtension: "json", subdirectory: "Fixtures")!
        return try! Data(contentsOf: url)
    }()

    /// The fixture's alerts as JSON objects, for re-framing as an array or NDJSON.
    static var fixtureAlerts: [Any] {
        let object = try! JSONSerialization.jsonObject(with: fixture) as! [String: Any]
        return object["value"] as! [Any]
    }

    static func parseFixture() throws -> ParsedBatch { try GraphAlertParser.parseBatch(fixture) }

    static func signal(_ batch: ParsedBatch, at index: Int) throws -> Signal {
        try #require(batch.signals.first(where: { $0.index == index })).signal
    }

    /// Content planted in the fixture that must not survive parsing: subjects, bodies, URLs with their query strings,
    /// command lines with secrets, descriptions, comments and free-text `additionalData`.
    static let forbidden = [
        "Uw factuur", "factuur 2026-118", "Beste Anna", "klik hier", "invoice=", "s3cr3t", "session-token", "hunter2",
        "beacon", "?", "Zomer2026", "Password", "powershell.exe -NoProfile", "Salarisstrook", "salary", "board minutes",
        "CFO", "Isolate the device", "billing@", "ACME Facturatie", "factuur-acme", "Anna de Vries", "Documents",
        "Finance", "CustomDetails", "MessageBodyPreview", "S-1-5-18",
    ]

    @Test func eachAlertOfAListResponseIsParsedOnItsOwnAndBadOnesAreRejectedWithTheirIndex() throws {
        let batch = try Self.parseFixture()
        #expect(batch.count == 7)
        #expect(batch.signals.map(\.index) == [0, 1, 2, 3])
        #expect(batch.rejections.map(\.index) == [4, 5, 6])
        #expect(batch.rejections.allSatisfy { $0.code == .invalidSignal })
        #expect(batch.rejections[0].reason == "id is required")
        #expect(batch.rejections[1].reason.contains("createdDateTime"))
        #expect(batch.rejections[2].reason.contains("evidence"))
    }

    @Test func anEndpointAlertKeepsItsDeviceAndTheHashesOfItsFilesAndProcesses() throws {
        let signal = try Self.signal(Self.parseFixture(), at: 0)
        #expect(signal.source == .endpoint)
        #expect(signal.sourceAlertID == "da638321887511155401_-1489032421")
        #expect(signal.severity == .high)
        #expect(signal.status == .new)
        #expect(signal.title == "Ransomware behavior detected in the file system")
        #expect(signal.observedAt == Timestamp.parse("2026-11-29T10:15:30.7211305Z"))
        #expect(signal.mitreTechniques == ["T1486", "T1059.001"])
        #expect(signal.entities.devices == [DeviceID(rawValue: "73e7e2de709dff64ef64b1d0c30e67fab63279db")!])
        #expect(
            signal.entities.fileHashes == [
                "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec", "5f1e8acedc065031aad553b710838eb366cfee9a",
                "de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c",
            ])
        #expect(signal.category == "Impact")
        #expect(signal.providerAlertID == "da638321887511155401_-1489032421")
        #expect(signal.providerIncidentID == "4711")
        // The device's interface addresses link it to firewall events; the process's SYSTEM account and an ipEvidence
        // of the wrong shape add nothing.
        #expect(signal.entities.users.isEmpty)
        #expect(signal.entities.ips == ["10.0.0.42"])
    }

    @Test func aPhishingAlertKeepsOnlyTheRecipientTheRelayingServerAndAnIPLiteralURLHost() throws {
        let signal = try Self.signal(Self.parseFixture(), at: 1)
        #expect(signal.source == .microsoft365)
        #expect(signal.status == .inProgress)
        #expect(signal.severity == .medium)
        #expect(signal.observedAt == Timestamp.parse("2026-11-29T09:58:02Z"))
        #expect(signal.entities.users == ["anna@acme.example"])
        #expect(signal.entities.ips == ["198.51.100.23", "203.0.113.66"])
        #expect(signal.entities.devices.isEmpty)
        #expect(signal.entities.fileHashes.isEmpty)
    }

    @Test func unknownEnumerationValuesMapToDefaultsInsteadOfRejectingTheAlert() throws {
        let batch = try Self.parseFixture()
        let identity = try Self.signal(batch, at: 2)
        #expect(identity.severity == .unknown)  // unknownFutureValue: never down-ranked
        #expect(identity.rawSeverity == "unknownFutureValue")
        #expect(identity.status == .resolved)
        #expect(identity.source == .microsoft365)
        #expect(identity.entities.users == ["anna@acme.example"])  // the UPN before the object id and the SID
        #expect(identity.entities.ips == ["2001:db8::7"])
        #expect(identity.observedAt == Timestamp.parse("2026-11-29T09:02:11Z"))

        let antivirus = try Self.signal(batch, at: 3)
        #expect(antivirus.status == .new)  // someNewStatus
        #expect(antivirus.source == .antivirus)
        #expect(antivirus.entities.devices == [DeviceID(rawValue: "ws-0042.acme.local")!])
        #expect(antivirus.entities.users == ["9a8b7c6d-0000-1111-2222-333344445555"])
    }

    @Test func noSubjectBodyURLCommandLineOrFreeTextSurvivesParsing() throws {
        let batch = try Self.parseFixture()
        let stored = String(decoding: try JSONCoding.encoder().encode(batch.signals.map(\.signal)), as: UTF8.self)
        for content in Self.forbidden {
            #expect(!stored.contains(content), "'\(content)' survived parsing")
        }
    }

    @Test(arguments: [
        ("microsoftDefenderForEndpoint", nil, SignalSource.endpoint),
        ("microsoftDefenderForEndpoint", "antivirus", .antivirus),
        ("microsoftDefenderForOffice365", nil, .microsoft365),
        ("microsoftDefenderForIdentity", nil, .microsoft365),
        ("microsoftDefenderForCloudApps", nil, .microsoft365),
        ("azureAdIdentityProtection", nil, .microsoft365),
        ("microsoft365Defender", "automatedInvestigation", .microsoft365),
        ("unknownFutureValue", nil, .microsoft365),
        (nil, nil, .microsoft365),
    ] as [(String?, String?, SignalSource)])
    func serviceAndDetectionSourceMapToTheFourSources(service: String?, detection: String?, expected: SignalSource) {
        #expect(GraphAlertParser.source(service: service, detection: detection) == expected)
    }

    @Test func severityAndStatusAreParsedLenientlyWithDocumentedDefaults() {
        #expect(
            ["informational", "low", "medium", "high", "High", "critical", "unknown", "unknownFutureValue", "severe", nil].map(GraphAlertParser.severity)
                == [.informational, .low, .medium, .high, .high, .critical, .unknown, .unknown, .unknown, .unknown])
        #expect(["new", "inProgress", "resolved", "unknown", nil].map(GraphAlertParser.status)
            == [.new, .inProgress, .resolved, .new, .new])
    }

    @Test func aBareArrayAndNDJSONGiveTheSameSignalsAsTheListResponse() throws {
        let expected = try Self.parseFixture()
        let array = try JSONSerialization.data(withJSONObject: Self.fixtureAlerts)
        let fromArray = try GraphAlertParser.parseBatch(array)
        #expect(fromArray.signals.map(\.signal) == expected.signals.map(\.signal))
        #expect(fromArray.rejections == expected.rejections)

        // NDJSON: one alert per line; the index is the line number and blank lines give nothing.
        var lines = try Self.fixtureAlerts.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        lines.insert("", at: 2)
        lines.append("{not json")
        let fromNDJSON = try GraphAlertParser.parseBatch(Data(lines.joined(separator: "\r\n").utf8))
        #expect(fromNDJSON.signals.map(\.signal) == expected.signals.map(\.signal))
        #expect(fromNDJSON.signals.map(\.index) == [0, 1, 3, 4])
        #expect(fromNDJSON.rejections.map(\.index) == [5, 6, 7, 8])
        #expect(fromNDJSON.rejections.last?.reason == "line 9 is not a JSON object")
    }

    @Test func aSingleAlertObjectIsABatchOfOne() throws {
        let one = try JSONSerialization.data(withJSONObject: Self.fixtureAlerts[2], options: .prettyPrinted)
        let batch = try GraphAlertParser.parseBatch(one)
        #expect(batch.signals.count == 1)
        #expect(batch.signals.first?.signal.sourceAlertID == "aadidp-2c7e0b5a-risky-signin")
    }

    @Test func aBodyThatIsNotJSONIsRefusedAsAWhole() {
        #expect(throws: DomainError.self) { try GraphAlertParser.parseBatch(Data("alert: ransomware".utf8)) }
        #expect(throws: DomainError.self) { try GraphAlertParser.parseBatch(Data("[{\"id\": 1}".utf8)) }
        #expect((try? GraphAlertParser.parseBatch(Data("  \n".utf8)))?.count == 0)
    }

    @Test func anAlertWithoutCreatedDateTimeUsesItsFirstActivity() throws {
        let body = #"[{"id": "x1", "severity": "high", "title": "t", "firstActivityDateTime": "2026-11-29T08:00:00Z"}]"#
        let signal = try #require(try GraphAlertParser.parseBatch(Data(body.utf8)).signals.first).signal
        #expect(signal.observedAt == Timestamp.parse("2026-11-29T08:00:00Z"))
    }

    @Test func aTypeMismatchRejectsOnlyThatAlertAndNamesTheField() throws {
        let body = #"{"value": [{"id": 42, "createdDateTime": "2026-11-29T08:00:00Z"}, {"id": "ok", "createdDateTime": "2026-11-29T08:00:00Z"}]}"#
        let batch = try GraphAlertParser.parseBatch(Data(body.utf8))
        #expect(batch.signals.map(\.index) == [1])
        #expect(batch.rejections.first?.reason.hasPrefix("id:") == true)
    }
}
