import Foundation
import MDRDomain
@testable import MDRNotify
import Testing

/// Rendering an e-mail (pure): headers, encodings, line lengths, header injection.
struct SMTPMessageRenderingTests {
    let date = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 +0000

    func message(subject: String = "Hello", body: String = "Hi\n") -> EmailMessage {
        EmailMessage(messageID: "ntf_1@mdr", from: "mdr@example.com", to: ["soc@example.net"], subject: subject, textBody: body)
    }

    func headers(_ rendered: String) -> [String] {
        let head = rendered.components(separatedBy: "\r\n\r\n")[0]
        return head.components(separatedBy: "\r\n")
    }

    @Test func rendersTheStandardHeadersWithCRLF() throws {
        let rendered = try SMTPMessageRenderer.render(message(), defaultFrom: "bounce@example.com", date: date)
        #expect(headers(rendered) == [
            "From: mdr@example.com", "To: soc@example.net", "Subject: Hello", "Date: Tue, 14 Nov 2023 22:13:20 +0000",
            "Message-ID: <ntf_1@mdr>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 7bit",
        ])
        #expect(rendered.hasSuffix("\r\n\r\nHi\r\n"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func anEmptyFromIsTheConfiguredSender() throws {
        var plain = message()
        plain.from = ""
        let rendered = try SMTPMessageRenderer.render(plain, defaultFrom: "bounce@example.com", date: date)
        #expect(headers(rendered).first == "From: bounce@example.com")
    }

    @Test func aNonASCIISubjectBecomesEncodedWordsOfAtMost75Characters() throws {
        let subject = "[MDR] P1 incident confirmed — tenant acme — Überprüfung nötig, 日本語の件名もここにあります"
        let rendered = try SMTPMessageRenderer.render(message(subject: subject), defaultFrom: "b@example.com", date: date)
        let lines = headers(rendered)
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject: ") })
        var words = [String(lines[start].dropFirst("Subject: ".count))]
        for line in lines[(start + 1)...] where line.hasPrefix(" ") { words.append(String(line.dropFirst())) }
        #expect(words.count > 1)
        var decoded = Data()
        for word in words {
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?utf-8?B?") && word.hasSuffix("?="))
            decoded.append(try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))))
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
    }

    @Test func aLongASCIISubjectIsFoldedAtSpaces() throws {
        let subject = Array(repeating: "word", count: 40).joined(separator: " ")
        let rendered = try SMTPMessageRenderer.render(message(subject: subject), defaultFrom: "b@example.com", date: date)
        let lines = headers(rendered)
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject: ") })
        var unfolded = lines[start]
        for line in lines[(start + 1)...] where line.hasPrefix(" ") {
            #expect(line.count <= 78)
            unfolded += line
        }
        #expect(unfolded == "Subject: " + subject)
    }

    @Test func aNonASCIIBodyIsQuotedPrintable() throws {
        let rendered = try SMTPMessageRenderer.render(message(body: "Grüße = 100%\nend \n"), defaultFrom: "b@example.com", date: date)
        #expect(headers(rendered).contains("Content-Transfer-Encoding: quoted-printable"))
        #expect(rendered.hasSuffix("\r\n\r\nGr=C3=BC=C3=9Fe =3D 100%\r\nend=20\r\n"))
    }

    @Test func noLineIsLongerThan998Octets() throws {
        let long = String(repeating: "a", count: 3000)
        let rendered = try SMTPMessageRenderer.render(message(body: long + "\n.x\n"), defaultFrom: "b@example.com", date: date)
        let lines = rendered.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 || $0.hasPrefix("Content-") })
        #expect(headers(rendered).contains("Content-Transfer-Encoding: quoted-printable"))
        let body = rendered.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(body.replacingOccurrences(of: "=\r\n", with: "") == long + "\r\n.x\r\n")
    }

    @Test(arguments: ["Subject", "Message-ID", "From"])
    func crOrLFInAHeaderIsRefused(_ field: String) {
        for injected in ["x\r\nBcc: evil@example.org", "x\nBcc: evil@example.org", "x\rBcc: evil@example.org"] {
            var bad = message()
            switch field {
            case "Subject": bad.subject = injected
            case "Message-ID": bad.messageID = "a@b" + injected
            default: bad.from = "a@b" + injected
            }
            #expect(throws: EmailMessageError.self) { try SMTPMessageRenderer.render(bad, defaultFrom: "b@example.com", date: date) }
            #expect(throws: EmailMessageError.self) { try SMTPMessageRenderer.validate(bad, defaultFrom: "b@example.com") }
        }
    }

    @Test func crOrLFInARecipientOrAnExtraHeaderIsRefused() {
        var recipient = message()
        recipient.to = ["soc@example.net\r\nRCPT TO:<evil@example.org>"]
        #expect(throws: EmailMessageError(description: "invalid header To: address contains CR, LF or NUL")) {
            try SMTPMessageRenderer.validate(recipient, defaultFrom: "b@example.com")
        }
        var extra = message()
        extra.headers = ["X-MDR-Tenant": "acme\r\nBcc: evil@example.org"]
        #expect(throws: EmailMessageError(description: "invalid header X-MDR-Tenant: contains CR, LF or NUL")) {
            try SMTPMessageRenderer.validate(extra, defaultFrom: "b@example.com")
        }
        #expect(throws: EmailMessageError.self) { try SMTPMessageRenderer.validate(message(), defaultFrom: "b@example.com\n") }
    }

    @Test func addressesMustBePlainASCIILocalAtDomain() {
        for address in ["", "soc", "@example.com", "soc@", "Soc <soc@example.com>", "a,b@example.com", "sö@example.com"] {
            var bad = message()
            bad.to = [address]
            #expect(throws: EmailMessageError.self) { try SMTPMessageRenderer.validate(bad, defaultFrom: "b@example.com") }
        }
        var none = message()
        none.to = []
        #expect(throws: EmailMessageError(description: "invalid address To: no recipient")) {
            try SMTPMessageRenderer.validate(none, defaultFrom: "b@example.com")
        }
    }

    @Test func extraHeadersCannotReplaceStandardOnesAndAreSorted() throws {
        var bad = message()
        bad.headers = ["bcc": "evil@example.org"]
        #expect(throws: EmailMessageError(description: "invalid header bcc: set by the renderer")) {
            try SMTPMessageRenderer.validate(bad, defaultFrom: "b@example.com")
        }
        bad.headers = ["X Bad": "1"]
        #expect(throws: EmailMessageError.self) { try SMTPMessageRenderer.validate(bad, defaultFrom: "b@example.com") }
        var good = message()
        good.headers = ["X-B": "2", "X-A": "1"]
        let lines = headers(try SMTPMessageRenderer.render(good, defaultFrom: "b@example.com", date: date))
        #expect(Array(lines.suffix(3)) == ["X-A: 1", "X-B: 2", "Content-Transfer-Encoding: 7bit"])
    }

    @Test func theDataSectionIsDotStuffedAndEndsWithALoneDot() {
        let data = SMTPMessageRenderer.dataSection("Subject: x\r\n\r\n.hidden\r\n..two\nend\r\n")
        #expect(String(decoding: data, as: UTF8.self) == "Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n")
    }
}

/// SMTP replies and the dialogue (pure).
struct SMTPDialogueTests {
    func reply(_ code: Int, _ lines: String...) -> SMTPReply { SMTPReply(code: code, lines: lines) }

    func dialogue(
        security: SMTPConfiguration.Security = .none, credentials: (String, String)? = nil, allowClear: Bool = false,
        recipients: [String] = ["a@example.net"]
    ) -> SMTPDialogue {
        SMTPDialogue(
            heloName: "mdr.example.com", sender: "mdr@example.com", recipients: recipients, data: Array("x\r\n.\r\n".utf8),
            security: security, credentials: credentials.map { (username: $0.0, password: $0.1) },
            allowsAuthenticationWithoutTLS: allowClear)
    }

    @Test func multiLineRepliesAreAssembled() throws {
        var assembler = SMTPReplyAssembler()
        #expect(try assembler.feed(Array("250-mail.example.net Hello".utf8)) == nil)
        #expect(try assembler.feed(Array("250-STARTTLS".utf8)) == nil)
        #expect(try assembler.feed(Array("250 AUTH PLAIN LOGIN".utf8)) == reply(250, "mail.example.net Hello", "STARTTLS", "AUTH PLAIN LOGIN"))
        #expect(try assembler.feed(Array("354".utf8)) == reply(354, ""))
        #expect(throws: SMTPProtocolError.self) { try assembler.feed(Array("hello".utf8)) }
        var mixed = SMTPReplyAssembler()
        _ = try mixed.feed(Array("250-a".utf8))
        #expect(throws: SMTPProtocolError.self) { try mixed.feed(Array("251 b".utf8)) }
    }

    @Test func aPlainTransactionRunsInOrder() {
        var d = dialogue(recipients: ["a@example.net", "b@example.net"])
        #expect(d.receive(reply(220, "hi")) == .send("EHLO mdr.example.com"))
        #expect(d.receive(reply(250, "hi", "8BITMIME")) == .send("MAIL FROM:<mdr@example.com>"))
        #expect(d.receive(reply(250, "ok")) == .send("RCPT TO:<a@example.net>"))
        #expect(d.receive(reply(250, "ok")) == .send("RCPT TO:<b@example.net>"))
        #expect(d.receive(reply(251, "forwarded")) == .send("DATA"))
        #expect(d.receive(reply(354, "go ahead")) == .sendData(Array("x\r\n.\r\n".utf8)))
        #expect(d.receive(reply(250, "queued")) == .quit(.delivered))
    }

    @Test func ehloRefusedWithA5xxFallsBackToHelo() {
        var d = dialogue()
        _ = d.receive(reply(220, "hi"))
        #expect(d.receive(reply(502, "no")) == .send("HELO mdr.example.com"))
        #expect(d.receive(reply(250, "ok")) == .send("MAIL FROM:<mdr@example.com>"))
    }

    @Test func fiveHundredsAreRejectedAndFourHundredsFailed() {
        var rejected = dialogue()
        _ = rejected.receive(reply(220, "hi"))
        _ = rejected.receive(reply(250, "hi"))
        _ = rejected.receive(reply(250, "ok"))
        #expect(rejected.receive(reply(550, "5.1.1 unknown")) == .quit(.rejected(code: 550, reply: "RCPT TO <a@example.net>: 5.1.1 unknown")))
        var failed = dialogue()
        _ = failed.receive(reply(220, "hi"))
        _ = failed.receive(reply(250, "hi"))
        #expect(failed.receive(reply(451, "later")) == .quit(.failed("MAIL FROM: 451 later")))
        var closing = dialogue()
        #expect(closing.receive(reply(421, "bye")) == .close(.failed("greeting: 421 bye")))
        var unexpected = dialogue()
        _ = unexpected.receive(reply(220, "hi"))
        #expect(unexpected.receive(reply(354, "what")) == .quit(.failed("unexpected reply to EHLO: 354 what")))
    }

    @Test func startTLSIsRequiredOrOpportunisticAndFollowedByASecondEhlo() {
        var required = dialogue(security: .startTLS)
        _ = required.receive(reply(220, "hi"))
        #expect(required.receive(reply(250, "hi", "8BITMIME")) == .quit(.failed("the server does not offer STARTTLS, which the configuration requires")))
        var optional = dialogue(security: .startTLSIfOffered)
        _ = optional.receive(reply(220, "hi"))
        #expect(optional.receive(reply(250, "hi")) == .send("MAIL FROM:<mdr@example.com>"))
        var offered = dialogue(security: .startTLSIfOffered)
        _ = offered.receive(reply(220, "hi"))
        #expect(offered.receive(reply(250, "hi", "STARTTLS")) == .send("STARTTLS"))
        #expect(offered.receive(reply(220, "go ahead")) == .startTLS)
        #expect(offered.tlsEstablished() == .send("EHLO mdr.example.com"))
        #expect(offered.receive(reply(250, "hi")) == .send("MAIL FROM:<mdr@example.com>"))
    }

    @Test func credentialsAreSentOnlyOverTLSUnlessAllowed() {
        var clear = dialogue(credentials: ("user", "secret"))
        _ = clear.receive(reply(220, "hi"))
        guard case .quit(.rejected(code: 0, let text)) = clear.receive(reply(250, "hi", "AUTH PLAIN LOGIN")) else {
            Issue.record("credentials would be sent in the clear")
            return
        }
        #expect(text.hasPrefix("refusing to send credentials without TLS"))
        var allowed = dialogue(credentials: ("user", "secret"), allowClear: true)
        _ = allowed.receive(reply(220, "hi"))
        // base64("\0user\0secret")
        #expect(allowed.receive(reply(250, "hi", "AUTH PLAIN LOGIN")) == .send("AUTH PLAIN AHVzZXIAc2VjcmV0"))
        #expect(allowed.receive(reply(235, "ok")) == .send("MAIL FROM:<mdr@example.com>"))
        var notOffered = dialogue(credentials: ("user", "secret"))
        _ = notOffered.receive(reply(220, "hi"))
        #expect(notOffered.receive(reply(250, "hi")) == .send("MAIL FROM:<mdr@example.com>"))
    }

    @Test func authLoginSendsUserAndPasswordInTurnAndA535IsRejected() {
        var d = dialogue(credentials: ("user", "secret"), allowClear: true)
        _ = d.receive(reply(220, "hi"))
        #expect(d.receive(reply(250, "hi", "AUTH LOGIN")) == .send("AUTH LOGIN"))
        #expect(d.receive(reply(334, "VXNlcm5hbWU6")) == .send("dXNlcg=="))
        #expect(d.receive(reply(334, "UGFzc3dvcmQ6")) == .send("c2VjcmV0"))
        #expect(d.receive(reply(535, "5.7.8 bad credentials")) == .quit(.rejected(code: 535, reply: "AUTH: 5.7.8 bad credentials")))
    }

    @Test func thePasswordIsNotInTheConfigurationsDescription() {
        let configuration = SMTPConfiguration(
            host: "smtp.example.com", heloName: "mdr.example.com", from: "mdr@example.com", username: "user",
            password: "hunter2-secret")
        #expect(!configuration.description.contains("hunter2"))
        #expect(!String(reflecting: configuration).contains("hunter2"))
        #expect(!"\(configuration)".contains("hunter2"))
    }
}

/// A notification as an e-mail (pure).
struct NotificationEmailTests {
    let tenant = TenantID(rawValue: "acme")!
    let incident = IncidentID(UUID(uuidString: "7F1C2E3A-0000-4000-8000-000000000001")!.uuidString)!
    let at = Date(timeIntervalSince1970: 1_700_000_000)
    let link = URL(string: "https://mdr.example/v1/tenants/acme/incidents/7f1c2e3a-0000-4000-8000-000000000001")!

    func payload(_ subject: NotificationSubject, id: String = "ntf_1") -> NotificationPayload {
        NotificationPayload(notificationID: id, subject: subject, tenant: tenant, occurredAt: at, links: ["incident": link])
    }

    @Test func subjectsNameWhatHappenedAndTheTenant() {
        #expect(NotificationEmail.subject(for: payload(.incidentConfirmed(incident, .p1))) == "[MDR] P1 incident confirmed — tenant acme")
        #expect(NotificationEmail.subject(for: payload(.isolation(DeviceID(rawValue: "host-1")!, .succeeded))) == "[MDR] Device isolated — tenant acme")
        #expect(NotificationEmail.subject(for: payload(.slaBreached(incident, .notify, .p1))) == "[MDR] SLA breached (notify) — P1 — tenant acme")
        var failed = payload(.incidentConfirmed(incident, .p2))
        failed.type = "notification.failed"
        #expect(NotificationEmail.subject(for: failed) == "[MDR] Notification failed — P2 — tenant acme")
        failed.type = "call.requested"
        #expect(NotificationEmail.subject(for: failed) == "[MDR] Call requested — P2 — tenant acme")
    }

    @Test func theBodyCarriesIdsPriorityTenantLinksAndTheNotificationIDOnly() {
        let message = NotificationEmail.message(for: payload(.incidentConfirmed(incident, .p1)), from: "mdr@example.com", to: "soc@example.net")
        #expect(message.to == ["soc@example.net"])
        #expect(message.from == "mdr@example.com")
        #expect(message.textBody == """
            MDR confirmed a P1 incident for tenant acme.

            Tenant:       acme
            Incident:     7f1c2e3a-0000-4000-8000-000000000001
            Priority:     P1
            Occurred at:  2023-11-14T22:13:20Z
            Notification: ntf_1

            Links:
              incident: \(link.absoluteString)

            This message carries ids and links only; open the links for the details.

            """)
    }

    @Test func theMessageIDIsDerivedFromTheNotificationID() throws {
        let first = NotificationEmail.message(for: payload(.incidentConfirmed(incident, .p1)), from: "mdr@example.com", to: "a@example.net")
        let again = NotificationEmail.message(for: payload(.incidentConfirmed(incident, .p1)), from: "mdr@example.com", to: "a@example.net")
        #expect(first.messageID == "ntf_1@mdr")
        #expect(first == again)
        #expect(NotificationEmail.messageID(for: "ntf <1>\r\n") == "ntf__1___@mdr")
        let rendered = try SMTPMessageRenderer.render(first, defaultFrom: "mdr@example.com", date: at)
        #expect(rendered.contains("\r\nMessage-ID: <ntf_1@mdr>\r\n"))
    }
}
