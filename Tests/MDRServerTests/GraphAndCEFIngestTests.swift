import Foundation
import HTTPTypes
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// Graph security alerts and CEF lines: the same batch rules, roles and idempotency as native signals, and nothing
/// but technical metadata reaches the database.
@Suite struct GraphAndCEFIngestTests {
    /// The Graph fixture of the parser tests: a list response of seven alerts (0–3 good, 4–6 bad) full of content.
    static let graphFixture: Data = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MDRDetectionTests/Fixtures/graph-alerts.json")
        return try! Data(contentsOf: url)
    }()

    static var graphAlerts: [Any] {
        let object = try! JSONSerialization.jsonObject(with: graphFixture) as! [String: Any]
        return object["value"] as! [Any]
    }

    /// Content planted in the Graph fixture: subjects, bodies, URL query strings, command-line secrets,
    /// descriptions, comments and free-text `additionalData`.
    static let graphForbidden = [
        "Uw factuur", "factuur 2026-118", "Beste Anna", "klik hier", "invoice=", "s3cr3t", "session-token", "hunter2",
        "beacon", "Zomer2026", "Password", "powershell.exe -NoProfile", "Salarisstrook", "salary", "board minutes",
        "CFO", "Isolate the device", "billing@", "ACME Facturatie", "factuur-acme", "Anna de Vries", "Documents",
        "Finance", "CustomDetails", "MessageBodyPreview", "S-1-5-18",
    ]

    /// CEF lines as firewalls send them, carrying free text, URLs with query strings, file names and a secret.
    static let cefLines = [
        "<134>1 2026-11-29T10:21:08Z cp-mgmt CheckPoint 2519 - - CEF:0|Check Point|Anti Bot|Check Point|Log|Detect|High|"
            + "act=Detect deviceDirection=0 rt=1795947667000 src=10.0.0.42 dst=203.0.113.66 spt=51234 dpt=443 proto=6 "
            + "suser=anna@acme.example shost=ws-0042 cs1Label=Threat Prevention Rule Name cs1=Default Policy "
            + "msg=Connection to a known C&C server request=http://203.0.113.66/c2/beacon?id\\=ws-0042&key\\=hunter2",
        "<14>Nov 29 10:21:07 PA-3260 CEF:0|Palo Alto Networks|PAN-OS|11.1.2|spyware|THREAT|8|rt=Nov 29 2026 10:21:07 GMT "
            + "deviceExternalId=007654321012 src=10.0.0.42 dst=203.0.113.66 externalId=7412369 act=reset-both "
            + "request=beacon.example.net/c2?session\\=tok-9f8e7d shost=ws-0042 msg=Cobalt Strike beacon (14512)",
        "Dec 08 17:00:55 fw01 CEF:0|Fortinet|FortiGate-VM64|6.4.8|0201009238|virus utm monitored|5|"
            + "src=10.1.100.11 dst=203.0.113.80 act=monitored fname=Factuur 2026-118.exe "
            + "cs1Label=Command cs1=Invoke-Login -User anna -Password Zomer2026 msg=Salarisstrook van Tom bijgevoegd",
    ]

    static let cefForbidden = [
        "Connection to a known", "hunter2", "?id", "?session", "tok-9f8e7d", "Cobalt Strike", "Factuur", "Zomer2026",
        "-Password", "Salarisstrook", "bijgevoegd",
    ]

    // MARK: Graph

    @Test func aGraphBatchWithAGoodAndABadAlertReportsEachOnItsOwn() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let alerts = Self.graphAlerts
            let reply = try await api.post("/v1/tenants/acme-bv/signals/graph", token: connector, [alerts[0], alerts[4]])
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["accepted"] as? Int == 1)
            #expect(reply.json["rejected"] as? Int == 1)
            let items = reply.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["index"] as? Int } == [0, 1])
            #expect(items.map { $0["outcome"] as? String } == ["accepted", "rejected"])
            #expect(items[0]["signalId"] as? String != nil)
            #expect(items[1]["code"] as? String == "invalid_signal")
            #expect(items[1]["reason"] as? String == "id is required")
            try await api.expectHead("acme-bv", 2)

            // The list response form; the alert already stored is a duplicate.
            let list = try await api.post("/v1/tenants/acme-bv/signals/graph", token: connector, ["value": [alerts[0], alerts[1]]])
            #expect(list.status == .ok, "\(list.text)")
            #expect((list.json["items"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["duplicate", "accepted"])
            try await api.expectHead("acme-bv", 3)
        }
    }

    @Test func graphAlertsAsNDJSONAreJudgedLineByLine() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let soc = try await api.token(.soc)
            let alerts = Self.graphAlerts
            let lines = try [alerts[1], alerts[5], alerts[2]].map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
            let body = Data((lines.joined(separator: "\n") + "\n").utf8)
            let reply = try await api.send(
                .post, "/v1/tenants/acme-bv/signals/graph", token: soc, raw: body, headers: [(.contentType, "application/x-ndjson")])
            #expect(reply.status == .ok, "\(reply.text)")
            let items = reply.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["index"] as? Int } == [0, 1, 2])
            #expect(items.map { $0["outcome"] as? String } == ["accepted", "rejected", "accepted"])
            #expect((items[1]["reason"] as? String)?.contains("createdDateTime") == true)
            try await api.expectHead("acme-bv", 3)
        }
    }

    @Test func emptyAndUnreadableGraphBatchesAreRefused() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            expectProblem(try await api.post("/v1/tenants/acme-bv/signals/graph", token: connector, [Any]()), .unprocessableContent, "batch_empty")
            expectProblem(
                try await api.post("/v1/tenants/acme-bv/signals/graph", token: connector, ["value": [Any]()]), .unprocessableContent,
                "batch_empty")
            try await api.expectHead("acme-bv", 1)
        }
    }

    // MARK: CEF

    @Test func aCEFBatchWithAGoodAndABadLineReportsEachOnItsOwn() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let text = Self.cefLines[0] + "\n" + "<13>Nov 29 10:00:00 fw01 sshd[42]: Accepted password for admin\n"
            let reply = try await api.sendCEF("acme-bv", text, token: connector)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["accepted"] as? Int == 1)
            #expect(reply.json["rejected"] as? Int == 1)
            let items = reply.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["index"] as? Int } == [0, 1])
            #expect(items.map { $0["outcome"] as? String } == ["accepted", "rejected"])
            #expect(items[1]["code"] as? String == "invalid_signal")
            try await api.expectHead("acme-bv", 2)

            expectProblem(try await api.sendCEF("acme-bv", "\n  \n", token: connector), .unprocessableContent, "batch_empty")
            try await api.expectHead("acme-bv", 2)
        }
    }

    /// A line whose own time lies far after its receipt (a wrong clock) is accepted at the receive time, and its item
    /// says so; the line beside it keeps its own time.
    @Test func aCEFLineTimedInTheFutureIsAcceptedAtReceiptWithANote() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let before = Date()
            let reply = try await api.sendCEF(
                "acme-bv",
                "CEF:0|Sophos|XG|19|1|C2 blocked|8|rt=2099-01-01T00:00:00Z src=10.0.0.42\n"
                    + "CEF:0|Sophos|XG|19|2|C2 blocked|8|rt=2026-11-29T10:21:07.250Z src=10.0.0.43",
                token: connector)
            #expect(reply.status == .ok, "\(reply.text)")
            let items = reply.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["outcome"] as? String } == ["accepted", "accepted"])
            #expect(items.first?["code"] as? String == "event_time_in_future")
            #expect((items.first?["reason"] as? String)?.contains("2099-01-01T00:00:00") == true, "\(reply.text)")
            #expect(items.last?["code"] == nil)
            var observed: [Date] = []
            for event in try await api.services.store.readLog(tenant: TenantID(rawValue: "acme-bv")!, after: 0, types: [SignalIngested.eventType]) {
                if case .signalIngested(let ingested) = try event.decoded() { observed.append(ingested.signal.observedAt) }
            }
            #expect(observed.count == 2)
            #expect(observed.first.map { $0 >= before.addingTimeInterval(-1) && $0 <= Date() } == true)
            #expect(observed.last == Timestamp.parse("2026-11-29T10:21:07.250Z"))
        }
    }

    /// A line that is not UTF-8 is rejected on its own, as the JSON routes refuse such text; it was stored with
    /// replacement characters. The lines around it are accepted.
    @Test func aCEFLineThatIsNotUTF8IsRejectedAndTheOthersAreAccepted() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            var body = Data((Self.cefLines[0] + "\r\n").utf8)
            // "Café" in Latin-1: 0xE9 alone is not UTF-8.
            body.append(contentsOf: Array(Self.cefLines[1].utf8) + [0x20, 0x63, 0x73, 0x31, 0x3D, 0x43, 0x61, 0x66, 0xE9, 0x0A])
            body.append(contentsOf: Array((Self.cefLines[2] + "\n").utf8))
            let reply = try await api.send(.post, "/v1/tenants/acme-bv/signals/cef", token: connector, raw: body, headers: [(.contentType, "text/plain")])
            #expect(reply.status == .ok, "\(reply.text)")
            let items = reply.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["index"] as? Int } == [0, 1, 2])
            #expect(items.map { $0["outcome"] as? String } == ["accepted", "rejected", "accepted"], "\(reply.text)")
            #expect((items[1]["reason"] as? String)?.contains("UTF-8") == true, "\(reply.text)")
            try await api.expectHead("acme-bv", 3)
        }
    }

    @Test func aRepeatedCEFRequestWithItsKeyIsReplayedAndTheKeyOnAnotherFormatIsRefused() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let key = UUID().uuidString
            let first = try await api.sendCEF("acme-bv", Self.cefLines[1], token: connector, key: key)
            #expect(first.status == .ok, "\(first.text)")
            #expect(!first.replayed)
            let again = try await api.sendCEF("acme-bv", Self.cefLines[1], token: connector, key: key)
            #expect(again.status == .ok, "\(again.text)")
            #expect(again.replayed)
            #expect(again.json["accepted"] as? Int == 1)
            let graph = try await api.post("/v1/tenants/acme-bv/signals/graph", token: connector, [Self.graphAlerts[0]], key: key)
            expectProblem(graph, .unprocessableContent, "idempotency_key_reused")
            try await api.expectHead("acme-bv", 2)
        }
    }

    /// JSON Graph batches are served from the bytes as received (`SignalBatchMiddleware`): the same replay, the same
    /// correlation id and the same refusal of a reused key as every other command.
    @Test func aRepeatedGraphBatchWithItsKeyIsReplayedWithItsFirstReportAndItsCorrelationID() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let body = try JSONSerialization.data(withJSONObject: [Self.graphAlerts[0], Self.graphAlerts[1]])
            let headers: [(HTTPField.Name, String)] = [(.idempotencyKey, "graph-batch-1"), (.correlationID, "case-2026-0099")]
            let first = try await api.send(.post, "/v1/tenants/acme-bv/signals/graph", token: connector, raw: body, headers: headers)
            #expect(first.status == .ok, "\(first.text)")
            #expect(!first.replayed)
            #expect(first.json["accepted"] as? Int == 2)
            let head = try await api.head("acme-bv")
            let again = try await api.send(.post, "/v1/tenants/acme-bv/signals/graph", token: connector, raw: body, headers: headers)
            #expect(again.status == .ok, "\(again.text)")
            #expect(again.replayed)
            #expect(again.json["accepted"] as? Int == 2, "the first report, not duplicates")
            #expect(again.body == first.body)
            try await api.expectHead("acme-bv", head)
            let events = try await api.services.store.readLog(tenant: TenantID(rawValue: "acme-bv")!, after: 0, limit: 100, types: ["SignalIngested"])
            #expect(events.count == 2)
            #expect(events.allSatisfy { $0.metadata.correlationID == "case-2026-0099" })
            let other = try JSONSerialization.data(withJSONObject: [Self.graphAlerts[2]])
            expectProblem(
                try await api.send(.post, "/v1/tenants/acme-bv/signals/graph", token: connector, raw: other, headers: headers),
                .unprocessableContent, "idempotency_key_reused")
        }
    }

    // MARK: Access

    @Test func aConnectorOfAnotherTenantGetsNotFoundOnBothFormats() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("globex-nl")
            let other = try await api.token(.connector, "globex-nl")
            expectProblem(
                try await api.post("/v1/tenants/acme-bv/signals/graph", token: other, [Self.graphAlerts[0]]), .notFound, "tenant_not_found")
            expectProblem(try await api.sendCEF("acme-bv", Self.cefLines[0], token: other), .notFound, "tenant_not_found")
            let customer = try await api.token(.customer, "acme-bv")
            expectProblem(try await api.sendCEF("acme-bv", Self.cefLines[0], token: customer), .forbidden, "forbidden")
            try await api.expectHead("acme-bv", 1)
        }
    }

    // MARK: Privacy

    @Test func noPlantedContentReachesTheDatabase() async throws {
        let graphText = String(decoding: Self.graphFixture, as: UTF8.self)
        let cefText = Self.cefLines.joined(separator: "\n")
        // The fixtures do carry the content (a missing fixture must not pass the test vacuously).
        for content in Self.graphForbidden { #expect(graphText.contains(content), "\(content) is not in the Graph fixture") }
        for content in Self.cefForbidden { #expect(cefText.contains(content), "\(content) is not in the CEF lines") }

        try await APIWorld.run { api in
            // The whole table is checked: the tenant's contact must not be one of the names planted in the fixtures.
            var onboarding = APIWorld.onboarding("acme-bv")
            onboarding["primaryContact"] = ["name": "Bea Bakker", "email": "bea@acme-bv.example", "phone": "+31 20 123 4567"]
            onboarding["consent"] = ["grantedBy": "Bea Bakker", "grantedOn": "2026-01-01"]
            try await api.onboard("acme-bv", onboarding)
            let connector = try await api.token(.connector, "acme-bv")
            let graph = try await api.send(.post, "/v1/tenants/acme-bv/signals/graph", token: connector, raw: Self.graphFixture)
            #expect(graph.status == .ok, "\(graph.text)")
            #expect(graph.json["accepted"] as? Int == 4)
            let cef = try await api.sendCEF("acme-bv", cefText, token: connector)
            #expect(cef.status == .ok, "\(cef.text)")
            #expect(cef.json["accepted"] as? Int == 3, "\(cef.text)")

            let rows = try await api.services.database.client.query(
                "SELECT data::text, metadata::text FROM events", logger: TestDatabase.logger)
            var stored: [String] = []
            for try await (data, metadata) in rows.decode((String, String).self) {
                stored += [data, metadata]
            }
            // Onboarding, four Graph alerts, three CEF lines: data and metadata of each.
            let expectedTexts = 16
            #expect(stored.count == expectedTexts)
            let everything = stored.joined(separator: "\n")
            for content in Self.graphForbidden + Self.cefForbidden {
                #expect(!everything.localizedCaseInsensitiveContains(content), "'\(content)' was stored")
            }
            // What is kept: identifiers of devices, hashes and addresses.
            #expect(everything.contains("73e7e2de709dff64ef64b1d0c30e67fab63279db"))
            #expect(everything.contains("203.0.113.66"))
        }
    }
}

extension APIWorld {
    /// Posts CEF lines as `text/plain`.
    func sendCEF(_ tenant: String, _ text: String, token: String?, key: String? = nil) async throws -> Reply {
        var headers: [(HTTPField.Name, String)] = [(.contentType, "text/plain")]
        if let key { headers.append((.idempotencyKey, key)) }
        return try await send(.post, "/v1/tenants/\(tenant)/signals/cef", token: token, raw: Data(text.utf8), headers: headers)
    }
}
