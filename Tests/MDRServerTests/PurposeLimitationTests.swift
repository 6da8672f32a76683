import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// DOMAIN.md, Privacy — "the team does not see content": whatever content a source sends along (mail subjects and
/// bodies, chat messages, document text, secrets in command lines and URLs), none of it is stored. Shown over the
/// three real ingest paths (native JSON, Graph security alerts, CEF) by scanning every row of the event log.
@Suite struct PurposeLimitationTests {
    /// Content planted in the fixtures below. Each string is unique to this test, so the scan cannot pass or fail by
    /// accident; the markers (`CONFIDENTIAL-7731`, …) are checked on their own as well as in their sentence.
    static let content = [
        // mail: subject and body
        "Quarterly salary overview for Anna CONFIDENTIAL-7731",
        "Dear Anna, the bonus pool is attached BODYTEXT-4410",
        // chat (Teams)
        "lets discuss the layoffs after lunch CHAT-9902",
        // document and file content
        "Merger term sheet draft for Globex DOCTEXT-5813",
        "Patient intake notes page one FILETEXT-3307",
        // secrets in command lines and URLs
        "SECRET-PW-6620",
        "SECRET-NETUSE-3391",
        "URLTOKEN-1184",
        "SECRET-BEARER-8846",
        // free text of a firewall event
        "Salary slip of Tom attached CEFMSG-2287",
        // native JSON: fields the service does not know
        "Native description with the board minutes NATIVEDESC-4471",
    ]
    static let markers = [
        "CONFIDENTIAL-7731", "BODYTEXT-4410", "CHAT-9902", "DOCTEXT-5813", "FILETEXT-3307", "SECRET-PW-6620", "SECRET-NETUSE-3391",
        "URLTOKEN-1184", "SECRET-BEARER-8846", "CEFMSG-2287", "NATIVEDESC-4471",
    ]

    /// Native signals with content-laden fields next to the allow-listed ones.
    static let native = """
        {"signals": [
          {"source": "endpoint", "sourceAlertId": "pl-native-1", "severity": "high", "title": "Ransomware behaviour detected",
           "observedAt": "2026-11-29T10:15:30Z",
           "entities": {"devices": ["ws-0042"], "users": ["anna@acme-bv.example"], "ips": ["10.0.0.42"],
                        "fileHashes": ["de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c"]},
           "mitreTechniques": ["T1486"],
           "description": "Native description with the board minutes NATIVEDESC-4471",
           "emailSubject": "Quarterly salary overview for Anna CONFIDENTIAL-7731",
           "emailBody": "Dear Anna, the bonus pool is attached BODYTEXT-4410",
           "commandLine": "powershell.exe -NoProfile -Command Connect-Share -User admin -Password SECRET-PW-6620",
           "evidence": {"chatMessage": "lets discuss the layoffs after lunch CHAT-9902",
                        "fileContent": "Merger term sheet draft for Globex DOCTEXT-5813"}}
        ]}
        """

    /// Graph security alerts (v2): a phishing mail with subject, body preview and URLs; a Teams message; a DLP match on
    /// a document; a process with secrets on its command line.
    static let graph = """
        {"value": [
          {"@odata.type": "#microsoft.graph.security.alert", "id": "pl-graph-mail", "status": "new", "severity": "medium",
           "serviceSource": "microsoftDefenderForOffice365", "detectionSource": "microsoftDefenderForOffice365",
           "title": "Email messages containing malicious URL removed after delivery", "category": "InitialAccess",
           "createdDateTime": "2026-11-29T09:58:02Z", "mitreTechniques": ["T1566.002"],
           "description": "Emails with subject 'Quarterly salary overview for Anna CONFIDENTIAL-7731' were delivered",
           "additionalData": {"MessageBodyPreview": "Dear Anna, the bonus pool is attached BODYTEXT-4410"},
           "evidence": [
             {"@odata.type": "#microsoft.graph.security.analyzedMessageEvidence", "verdict": "malicious",
              "subject": "Quarterly salary overview for Anna CONFIDENTIAL-7731",
              "bodyPreview": "Dear Anna, the bonus pool is attached BODYTEXT-4410",
              "senderIp": "198.51.100.23", "recipientEmailAddress": "anna@acme-bv.example",
              "urls": ["https://files.example.net/share/doc?token=URLTOKEN-1184"]},
             {"@odata.type": "#microsoft.graph.security.urlEvidence", "url": "https://files.example.net/share/doc?token=URLTOKEN-1184"}
           ]},
          {"@odata.type": "#microsoft.graph.security.alert", "id": "pl-graph-teams", "status": "new", "severity": "low",
           "serviceSource": "microsoftDefenderForOffice365", "title": "Malicious Teams message detected",
           "createdDateTime": "2026-11-29T10:01:00Z",
           "additionalData": {"TeamsMessageText": "lets discuss the layoffs after lunch CHAT-9902"},
           "comments": [{"comment": "lets discuss the layoffs after lunch CHAT-9902", "createdByDisplayName": "Analyst"}],
           "evidence": [
             {"@odata.type": "#microsoft.graph.security.teamsMessageEvidence",
              "messageText": "lets discuss the layoffs after lunch CHAT-9902", "senderIp": "198.51.100.24"},
             {"@odata.type": "#microsoft.graph.security.mailboxEvidence", "primaryAddress": "anna@acme-bv.example",
              "displayName": "Anna van Dam"}
           ]},
          {"@odata.type": "#microsoft.graph.security.alert", "id": "pl-graph-dlp", "status": "new", "severity": "medium",
           "serviceSource": "microsoftDataLossPrevention", "title": "DLP policy match on a shared document",
           "createdDateTime": "2026-11-29T10:05:00Z",
           "description": "Matched content: Merger term sheet draft for Globex DOCTEXT-5813",
           "additionalData": {"MatchedSnippet": "Merger term sheet draft for Globex DOCTEXT-5813",
                              "FileText": "Patient intake notes page one FILETEXT-3307"},
           "evidence": [
             {"@odata.type": "#microsoft.graph.security.fileEvidence", "verdict": "suspicious",
              "fileDetails": {"sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                              "fileName": "termsheet.docx", "fileContent": "Patient intake notes page one FILETEXT-3307"}}
           ]},
          {"@odata.type": "#microsoft.graph.security.alert", "id": "pl-graph-process", "status": "new", "severity": "high",
           "serviceSource": "microsoftDefenderForEndpoint", "detectionSource": "microsoftDefenderForEndpoint",
           "title": "Suspicious PowerShell command line", "createdDateTime": "2026-11-29T10:14:50Z", "mitreTechniques": ["T1059.001"],
           "recommendedActions": "Reset the password SECRET-PW-6620",
           "evidence": [
             {"@odata.type": "#microsoft.graph.security.deviceEvidence", "mdeDeviceId": "ws-0042", "deviceDnsName": "ws-0042.acme.local"},
             {"@odata.type": "#microsoft.graph.security.processEvidence",
              "processCommandLine": "powershell.exe -NoProfile -Command Connect-Share -User admin -Password SECRET-PW-6620; curl -H 'Authorization: Bearer SECRET-BEARER-8846' https://files.example.net/x?token=URLTOKEN-1184",
              "imageFile": {"sha256": "de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c", "fileName": "powershell.exe"}}
           ]}
        ]}
        """

    /// CEF lines as firewalls send them, with free text, a file name, a URL with a query and a secret on a command line.
    static let cef = [
        "<134>1 2026-11-29T10:21:08Z fw01 CheckPoint 2519 - - CEF:0|Check Point|Anti Bot|R81|1001|Detect|High|"
            + "externalId=pl-cef-1 src=10.0.0.42 dst=203.0.113.66 suser=anna@acme-bv.example shost=ws-0042 "
            + "msg=Salary slip of Tom attached CEFMSG-2287 request=https://203.0.113.66/c2?token\\=URLTOKEN-1184",
        "<134>1 2026-11-29T10:22:08Z fw01 Fortinet 2519 - - CEF:0|Fortinet|FortiGate|7.2|0201009238|virus|5|"
            + "externalId=pl-cef-2 src=10.0.0.43 dst=203.0.113.80 fname=Merger term sheet draft for Globex DOCTEXT-5813.docx "
            + "cs1Label=Command cs1=net use Z: \\\\\\\\fs01\\\\share SECRET-NETUSE-3391 /user:anna",
    ].joined(separator: "\n")

    @Test func noContentOfAnyIngestPathIsStoredInTheEventLog() async throws {
        // The fixtures do carry every planted string: a scan of a log they never reached would prove nothing.
        let sent = [Self.native, Self.graph, Self.cef].joined(separator: "\n")
        for text in Self.content + Self.markers { #expect(sent.contains(text), "'\(text)' is not in the fixtures") }

        try await APIWorld.run { api in
            var onboarding = APIWorld.onboarding("acme-bv")
            onboarding["primaryContact"] = ["name": "Bea Bakker", "email": "bea@acme-bv.example", "phone": "+31 20 123 4567"]
            try await api.onboard("acme-bv", onboarding)
            let connector = try await api.token(.connector, "acme-bv")

            let native = try await api.send(.post, "/v1/tenants/acme-bv/signals", token: connector, raw: Data(Self.native.utf8))
            #expect(native.status == .ok, "\(native.text)")
            #expect(native.json["accepted"] as? Int == 1, "\(native.text)")
            let graph = try await api.send(.post, "/v1/tenants/acme-bv/signals/graph", token: connector, raw: Data(Self.graph.utf8))
            #expect(graph.status == .ok, "\(graph.text)")
            #expect(graph.json["accepted"] as? Int == 4, "\(graph.text)")
            let cef = try await api.sendCEF("acme-bv", Self.cef, token: connector)
            #expect(cef.status == .ok, "\(cef.text)")
            #expect(cef.json["accepted"] as? Int == 2, "\(cef.text)")
            // The correlator's incidents are in the log too.
            try await TenantPipeline([ProcessManager(CorrelationProcessor())], store: api.services.store, logger: TestDatabase.logger).drain()

            // Every row of the log, every column that holds text: payload, metadata, stream and type.
            let rows = try await api.services.database.client.query(
                "SELECT tenant_id, stream, type, data::text, metadata::text FROM events ORDER BY tenant_id, position",
                logger: TestDatabase.logger)
            var stored: [String] = []
            var signals = 0, incidents = 0
            for try await (tenant, stream, type, data, metadata) in rows.decode((String, String, String, String, String).self) {
                stored += [tenant, stream, type, data, metadata]
                if type == "SignalIngested" { signals += 1 }
                if type == "IncidentOpened" { incidents += 1 }
            }
            #expect(signals == 7)
            #expect(incidents >= 1)
            // The outcomes recorded for idempotency are part of what is stored as well.
            let results = try await api.services.database.client.query("SELECT result::text FROM commands", logger: TestDatabase.logger)
            for try await result in results.decode(String.self) { stored.append(result) }

            let everything = stored.joined(separator: "\n")
            for text in Self.content + Self.markers {
                #expect(!everything.localizedCaseInsensitiveContains(text), "'\(text)' was stored")
            }
            // What is kept: technical identifiers (so the scan did read the signals).
            #expect(everything.contains("de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c"))
            #expect(everything.contains("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
            #expect(everything.contains("198.51.100.23"))
            #expect(everything.contains("203.0.113.80"))
            #expect(everything.contains("pl-native-1") && everything.contains("pl-graph-teams") && everything.contains("pl-cef-2"))
        }
    }
}
