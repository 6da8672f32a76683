import Foundation
import Testing

@testable import MDRDetection
import MDRDomain

/// The native JSON signal form (DOMAIN.md, "Ingest signal(s)" and "Detection"): each bad signal is rejected with its
/// index and a reason naming the field, and never loses the others in its batch.
@Suite struct NativeSignalParserTests {
    static let sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

    /// A good signal as a JSON object, with `changes` applied (`nil` removes a field).
    static func element(_ changes: [String: Any?] = [:]) -> [String: Any] {
        var object: [String: Any] = [
            "source": "endpoint", "sourceAlertId": "da637", "severity": "high", "status": "new",
            "title": "Ransomware behaviour detected", "observedAt": "2026-11-29T10:15:30Z",
            "entities": ["devices": ["ws-0042"], "users": ["anna@acme.example"], "ips": ["203.0.113.7"], "fileHashes": [sha256]],
            "mitreTechniques": ["T1486"],
        ]
        for (key, value) in changes { object[key] = value }
        return object
    }

    static func element(entities: [String: Any]) -> [String: Any] { element(["entities": entities]) }

    static func body(_ elements: [Any], wrapped: Bool = true) -> Data {
        try! JSONSerialization.data(withJSONObject: wrapped ? ["signals": elements] as Any : elements)
    }

    static func parse(_ elements: [Any], wrapped: Bool = true) throws -> ParsedBatch {
        try NativeSignalParser.parseBatch(body(elements, wrapped: wrapped))
    }

    /// The one rejection of a one-element batch.
    static func rejection(of element: Any, sourceLocation: SourceLocation = #_sourceLocation) throws -> SignalRejection {
        let batch = try parse([element])
        #expect(batch.signals.isEmpty, sourceLocation: sourceLocation)
        return try #require(batch.rejections.first, sourceLocation: sourceLocation)
    }

    // MARK: Batches

    @Test(arguments: [true, false])
    func aBatchKeepsItsGoodSignalsWithTheirIndexesAndRejectsEachBadOneWithItsIndex(wrapped: Bool) throws {
        let batch = try Self.parse(
            [
                Self.element(["sourceAlertId": "a0"]),
                Self.element(["sourceAlertId": "a1", "severity": "urgent"]),
                Self.element(["sourceAlertId": "a2"]),
                Self.element(["sourceAlertId": "a3", "source": nil]),
                Self.element(entities: ["ips": ["300.1.1.1"]]),
                Self.element(["sourceAlertId": "a5", "severity": "low"]),
                42,
            ], wrapped: wrapped)
        #expect(batch.count == 7)
        #expect(batch.signals.map(\.index) == [0, 2, 5])
        #expect(batch.signals.map(\.signal.sourceAlertID) == ["a0", "a2", "a5"])
        #expect(batch.rejections.map(\.index) == [1, 3, 4, 6])
        #expect(batch.rejections.allSatisfy { $0.code == .invalidSignal })
        let reasons = batch.rejections.map(\.reason)
        #expect(reasons[0].hasPrefix("severity"))
        #expect(reasons[1].hasPrefix("source"))
        #expect(reasons[2].hasPrefix("entities.ips"))
        #expect(reasons[3].hasPrefix("signal"), "an element that is not an object is rejected as a whole signal")
    }

    @Test func wrappedAndBareBatchesParseAlike() throws {
        let elements: [Any] = [Self.element(), Self.element(["severity": 3]), Self.element(["observedAt": "yesterday"])]
        let wrapped = try Self.parse(elements, wrapped: true)
        let bare = try Self.parse(elements, wrapped: false)
        #expect(wrapped.signals.map(\.index) == bare.signals.map(\.index))
        #expect(wrapped.signals.map(\.signal) == bare.signals.map(\.signal))
        #expect(wrapped.rejections == bare.rejections, "reasons name the signal's field, not where the batch put it")
    }

    @Test func aGoodSignalBecomesTheNormalisedSignal() throws {
        let batch = try Self.parse([Self.element()])
        #expect(batch.rejections.isEmpty)
        #expect(batch.signals.first?.signal == Signal(
            source: .endpoint, sourceAlertID: "da637", severity: .high, status: .new, title: "Ransomware behaviour detected",
            observedAt: Fixtures.t0,
            entities: SignalEntities(devices: [Fixtures.ws42], users: ["anna@acme.example"], ips: ["203.0.113.7"], fileHashes: [Self.sha256]),
            mitreTechniques: ["T1486"]))
    }

    @Test func unknownFieldsAreIgnoredAndNeverKept() throws {
        var element = Self.element([
            "body": "Dear Anna, please find the invoice attached", "additionalData": ["subject": "Invoice"], "commandLine": "powershell -enc …",
        ])
        element["entities"] = ["devices": ["ws-0042"], "urls": ["https://evil.example/?q=secret"], "mailboxes": ["x"]]
        let batch = try Self.parse([element])
        #expect(batch.rejections.isEmpty)
        let signal = try #require(batch.signals.first?.signal)
        #expect(signal.entities == SignalEntities(devices: [Fixtures.ws42]))
        let stored = String(decoding: try JSONCoding.encoder().encode(signal), as: UTF8.self)
        #expect(!stored.contains("invoice") && !stored.contains("secret") && !stored.contains("powershell"))
    }

    @Test func onlySourceAlertIdSeverityAndObservedAtAreRequired() throws {
        let minimal: [String: Any] = ["source": "firewall", "sourceAlertId": "fw-1", "severity": "low", "observedAt": "2026-11-29T10:15:30Z"]
        let signal = try #require(try Self.parse([minimal]).signals.first?.signal)
        #expect(signal.status == .new, "the status defaults to new")
        #expect(signal.title == "")
        #expect(signal.entities.isEmpty)
        #expect(signal.mitreTechniques.isEmpty)
    }

    @Test func repeatedEntitiesAreKeptOnceAndHashesLowercased() throws {
        let batch = try Self.parse([
            Self.element(entities: [
                "devices": ["ws-0042", "ws-0042"], "ips": ["2001:DB8::1", "2001:db8::1"],
                "fileHashes": [Self.sha256.uppercased(), Self.sha256],
            ])
        ])
        let entities = try #require(batch.signals.first?.signal.entities)
        #expect(entities.devices == [Fixtures.ws42])
        #expect(entities.ips == ["2001:db8::1"])
        #expect(entities.fileHashes == [Self.sha256])
    }

    @Test func observedAtWithAnOffsetIsConvertedToTheInstant() throws {
        let batch = try Self.parse([Self.element(["observedAt": "2026-11-29T11:15:30.000+01:00"])])
        #expect(batch.signals.first?.signal.observedAt == Fixtures.t0)
    }

    @Test func anEmptyBatchParsesToNothing() throws {
        #expect(try Self.parse([]).count == 0)
        #expect(try Self.parse([], wrapped: false).count == 0)
    }

    @Test func oneBadSignalNeverLosesTheOthersInALargeBatch() throws {
        var elements: [Any] = (0..<2000).map { Self.element(["sourceAlertId": "a\($0)"]) }
        elements[1234] = Self.element(["mitreTechniques": ["T1"]])
        let batch = try Self.parse(elements)
        #expect(batch.signals.count == 1999)
        #expect(batch.rejections.map(\.index) == [1234])
    }

    // MARK: The body as a whole

    @Test(arguments: ["", "not json", "{", #"{"foo": []}"#, #"{"signals": 3}"#, #"{"signals": {"source": "endpoint"}}"#, "42", #""signals""#, "null"])
    func aBodyThatIsNotABatchIsRefusedAsAWhole(body: String) {
        let error = #expect(throws: DomainError.self) { try NativeSignalParser.parseBatch(Data(body.utf8)) }
        #expect(error?.code == .invalidSignal)
        #expect(error?.kind == .invalid)
    }

    // MARK: One signal's fields

    @Test(arguments: [
        ("source", nil, "source"), ("source", "edr", "source"), ("sourceAlertId", nil, "sourceAlertId"),
        ("sourceAlertId", "   ", "sourceAlertId"), ("sourceAlertId", String(repeating: "x", count: 201), "sourceAlertId"),
        ("severity", nil, "severity"), ("severity", "HIGH", "severity"), ("status", "closed", "status"),
        ("observedAt", nil, "observedAt"), ("observedAt", "2026-11-29T10:15:30", "observedAt"), ("observedAt", "2026-02-30T10:15:30Z", "observedAt"),
        ("title", String(repeating: "t", count: 301), "title"),
    ] as [(String, String?, String)])
    func aSignalWithAMissingOrUnknownFieldIsRejectedNamingTheField(field: String, value: String?, named: String) throws {
        let rejection = try Self.rejection(of: Self.element([field: value]))
        #expect(rejection.index == 0)
        #expect(rejection.code == .invalidSignal)
        #expect(rejection.reason.hasPrefix(named), "\(rejection.reason)")
    }

    @Test(arguments: [
        ("severity", "3", "severity"), ("observedAt", "1795947330", "observedAt"), ("entities", #""ws-0042""#, "entities"),
        ("mitreTechniques", #""T1486""#, "mitreTechniques"), ("source", "null", "source"), ("title", "[]", "title"),
    ])
    func aFieldOfTheWrongTypeIsRejectedNamingTheField(field: String, json: String, named: String) throws {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        let rejection = try Self.rejection(of: Self.element([field: value]))
        #expect(rejection.reason.hasPrefix(named), "\(rejection.reason)")
    }

    @Test func anEntityOfTheWrongTypeIsRejectedNamingTheList() throws {
        let rejection = try Self.rejection(of: Self.element(entities: ["devices": ["ws-0042", 7]]))
        #expect(rejection.reason.hasPrefix("entities.devices"), "\(rejection.reason)")
    }

    @Test(arguments: [
        "300.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.-4", "example.com", "", "1.2.3.4/24", ":", ":::", "1:::2", ":1::2", "1::2:",
        "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::1", "g::1", "fe80::1%eth0", "1.2.3.4::", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
    ])
    func aBadIpAddressIsRejected(ip: String) throws {
        let rejection = try Self.rejection(of: Self.element(entities: ["ips": [ip]]))
        #expect(rejection.reason.hasPrefix("entities.ips"), "\(rejection.reason)")
    }

    @Test(arguments: [
        ("203.0.113.7", "203.0.113.7"), (" 10.0.0.1 ", "10.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("::", "::"), ("::1", "::1"), ("2001:DB8::1", "2001:db8::1"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("fe80::", "fe80::"), ("::ffff:192.0.2.1", "::ffff:192.0.2.1"), ("::192.0.2.1", "::192.0.2.1"),
        ("1:2:3:4:5:6:192.0.2.1", "1:2:3:4:5:6:192.0.2.1"), ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7::"),
    ])
    func aGoodIpAddressIsKeptInItsUsualForm(ip: String, normalised: String) throws {
        let batch = try Self.parse([Self.element(entities: ["ips": [ip]])])
        #expect(batch.rejections.isEmpty, "\(batch.rejections)")
        #expect(batch.signals.first?.signal.entities.ips == [normalised])
    }

    @Test(arguments: [
        "abc", String(repeating: "a", count: 63), String(repeating: "a", count: 65), String(repeating: "g", count: 64),
        String(repeating: "a", count: 39), "sha256:" + String(repeating: "a", count: 64), "",
    ])
    func aBadFileHashIsRejected(hash: String) throws {
        let rejection = try Self.rejection(of: Self.element(entities: ["fileHashes": [hash]]))
        #expect(rejection.reason.hasPrefix("entities.fileHashes"), "\(rejection.reason)")
    }

    @Test(arguments: [String(repeating: "0", count: 32), String(repeating: "b", count: 40), sha256])
    func md5Sha1AndSha256HashesAreAccepted(hash: String) throws {
        #expect(try Self.parse([Self.element(entities: ["fileHashes": [hash]])]).signals.count == 1)
    }

    @Test(arguments: ["T15", "t1566", "T1566.1", "T1566.0011", "T1566-001", "TA0001", "1566", "T1566.", "T１５６６", ""])
    func aBadMitreTechniqueIdIsRejected(id: String) throws {
        let rejection = try Self.rejection(of: Self.element(["mitreTechniques": [id]]))
        #expect(rejection.reason.hasPrefix("mitreTechniques"), "\(rejection.reason)")
    }

    @Test func mitreTechniquesAndSubTechniquesAreAccepted() throws {
        let batch = try Self.parse([Self.element(["mitreTechniques": ["T1566", "T1566.001", "T1566"]])])
        #expect(batch.signals.first?.signal.mitreTechniques == ["T1566", "T1566.001"])
    }

    @Test(arguments: ["ws/0042", "", "ws-\n42"])
    func aBadDeviceIdIsRejected(device: String) throws {
        let rejection = try Self.rejection(of: Self.element(entities: ["devices": [device]]))
        #expect(rejection.reason.hasPrefix("entities.devices"), "\(rejection.reason)")
    }

    @Test(arguments: ["", "  ", "anna\n@acme.example", String(repeating: "u", count: 257)])
    func aBadAccountIdentifierIsRejected(user: String) throws {
        let rejection = try Self.rejection(of: Self.element(entities: ["users": [user]]))
        #expect(rejection.reason.hasPrefix("entities.users"), "\(rejection.reason)")
    }

    @Test func moreThan100EntitiesOfOneKindAreRejected() throws {
        let rejection = try Self.rejection(of: Self.element(entities: ["users": (0...100).map { "user\($0)@acme.example" }]))
        #expect(rejection.reason.hasPrefix("entities.users"), "\(rejection.reason)")
        #expect(try Self.parse([Self.element(entities: ["users": (0..<100).map { "user\($0)@acme.example" }])]).signals.count == 1)
    }
}
