import Foundation
import MDRNotify
import Testing

/// The e-mail channel against a real SMTP server (aiosmtpd, `ops/lib/smtp_sink.py`) on loopback.
@Suite(.serialized)
struct SMTPChannelTests {
    /// Generous: the sink is Python (aiosmtpd) doing TLS on a loaded two-core machine beside the whole suite; a timeout
    /// there is the machine, not the channel. The timeout test sets its own.
    func configuration(port: Int, timeout: Duration = .seconds(60)) -> SMTPConfiguration {
        SMTPConfiguration(
            host: "127.0.0.1", port: port, heloName: "mdr.test", from: "mdr@mdr.test", security: .none, timeout: timeout)
    }

    func message(to: String = "soc@customer.test", subject: String = "[MDR] P1 incident confirmed — tenant acme") -> EmailMessage {
        EmailMessage(
            messageID: "ntf_\(UUID().uuidString)@mdr", from: "mdr@mdr.test", to: [to], subject: subject,
            textBody: ".a line that starts with a dot\n..and one with two\nGrüße, 日本\n.\nend\n",
            headers: ["X-MDR-Tenant": "acme"])
    }

    @Test func aMessageArrivesWithItsHeadersAndBodyIntact() async throws {
        try await withSMTPSink { (sink: SMTPSink) async throws in
            let sent = message()
            let outcome = await SMTPChannel(configuration: configuration(port: sink.port)).deliver(sent)
            #expect(outcome == .delivered)
            let received = try sink.received()
            #expect(received.count == 1)
            let mail = try #require(received.first)
            #expect(mail.mail_from == "mdr@mdr.test")
            #expect(mail.rcpt_tos == ["soc@customer.test"])
            #expect(mail.subject == sent.subject)
            #expect(mail.headers["Message-ID"] == "<\(sent.messageID)>")
            #expect(mail.headers["From"] == "mdr@mdr.test")
            #expect(mail.headers["To"] == "soc@customer.test")
            #expect(mail.headers["X-MDR-Tenant"] == "acme")
            #expect(mail.headers["MIME-Version"] == "1.0")
            #expect(mail.headers["Content-Type"] == "text/plain; charset=\"utf-8\"" || mail.headers["Content-Type"] == "text/plain; charset=utf-8")
            #expect(mail.headers["Date"].map { !$0.isEmpty } == true)
            #expect(mail.body?.replacingOccurrences(of: "\r\n", with: "\n") == sent.textBody)
            #expect(mail.defects == [])
            #expect(mail.longest_line <= 998)
        }
    }

    @Test func aRecipientRefusedWith550IsRejected() async throws {
        try await withSMTPSink { (sink: SMTPSink) async throws in
            let outcome = await SMTPChannel(configuration: configuration(port: sink.port)).deliver(message(to: "reject-soc@customer.test"))
            #expect(outcome == .rejected(code: 550, reply: "RCPT TO <reject-soc@customer.test>: 5.1.1 mailbox unavailable"))
            #expect(outcome.isFinal)
            #expect(try sink.received().isEmpty)
        }
    }

    @Test func aRecipientDeferredWith451FailsForARetry() async throws {
        try await withSMTPSink { (sink: SMTPSink) async throws in
            let outcome = await SMTPChannel(configuration: configuration(port: sink.port)).deliver(message(to: "busy-soc@customer.test"))
            #expect(outcome == .failed("RCPT TO <busy-soc@customer.test>: 451 4.3.0 try again later"))
            #expect(!outcome.isFinal)
            #expect(try sink.received().isEmpty)
        }
    }

    @Test func aServerWithoutEhloIsSpokenToWithHelo() async throws {
        try await withSMTPSink(.init(noEHLO: true)) { (sink: SMTPSink) async throws in
            let outcome = await SMTPChannel(configuration: configuration(port: sink.port)).deliver(message())
            #expect(outcome == .delivered)
            #expect(try sink.received().count == 1)
        }
    }

    @Test func nothingListeningFailsQuickly() async throws {
        let port = try await closedPort()
        let started = ContinuousClock.now
        let outcome = await SMTPChannel(configuration: configuration(port: port, timeout: .seconds(10))).deliver(message())
        guard case .failed(let reason) = outcome else {
            Issue.record("expected .failed, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("cannot connect to 127.0.0.1:\(port)"))
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func aServerThatNeverAnswersFailsWithinTheTimeout() async throws {
        let server = try await SilentServer.start()
        let started = ContinuousClock.now
        let outcome = await SMTPChannel(configuration: configuration(port: server.port, timeout: .milliseconds(700))).deliver(message())
        let elapsed = ContinuousClock.now - started
        await server.stop()
        #expect(outcome == .failed("timeout after 0.7 seconds waiting for the greeting"))
        #expect(elapsed >= .milliseconds(700))
        #expect(elapsed < .seconds(3))
        #expect(server.connections == 1)
    }

    @Test func headerInjectionIsRefusedBeforeConnecting() async throws {
        let server = try await SilentServer.start()
        var bad = message()
        bad.subject = "hello\r\nBcc: everyone@example.org"
        let outcome = await SMTPChannel(configuration: configuration(port: server.port)).deliver(bad)
        var badRecipient = message()
        badRecipient.to = ["soc@customer.test>\r\nRCPT TO:<evil@example.org"]
        let recipientOutcome = await SMTPChannel(configuration: configuration(port: server.port)).deliver(badRecipient)
        try await Task.sleep(for: .milliseconds(100))
        await server.stop()
        #expect(outcome == .rejected(code: 0, reply: "invalid header Subject: contains CR, LF or NUL"))
        #expect(recipientOutcome == .rejected(code: 0, reply: "invalid header To: address contains CR, LF or NUL"))
        #expect(server.connections == 0)
    }

    @Test func startTLSWithATrustedCertificateAndAuthentication() async throws {
        try await withTemporaryDirectory { (folder: URL) async throws in
            let certificate = try TestCertificate.make(in: folder)
            try await withSMTPSink(.init(tls: certificate, auth: "mdr:s3cret")) { (sink: SMTPSink) async throws in
                var config = configuration(port: sink.port)
                config.security = .startTLS
                config.trust = .pemFile(certificate.certificate.path)
                config.username = "mdr"
                config.password = "s3cret"
                #expect(await SMTPChannel(configuration: config).deliver(message()) == .delivered)
                let mail = try #require(try sink.received().first)
                #expect(mail.tls)
                #expect(mail.login == "mdr")

                config.password = "wrong"
                let refused = await SMTPChannel(configuration: config).deliver(message())
                guard case .rejected(code: 535, _) = refused else {
                    Issue.record("expected a 535 rejection, got \(refused)")
                    return
                }
                #expect(try sink.received().count == 1)
            }
        }
    }

    @Test func anUntrustedCertificateFailsTheAttempt() async throws {
        try await withTemporaryDirectory { (folder: URL) async throws in
            let certificate = try TestCertificate.make(in: folder)
            try await withSMTPSink(.init(tls: certificate)) { (sink: SMTPSink) async throws in
                var config = configuration(port: sink.port)
                config.security = .startTLSIfOffered  // offered, so used; the system does not trust the certificate
                let outcome = await SMTPChannel(configuration: config).deliver(message())
                guard case .failed(let reason) = outcome else {
                    Issue.record("expected .failed, got \(outcome)")
                    return
                }
                #expect(reason.contains("after EHLO"))
                #expect(try sink.received().isEmpty)
            }
        }
    }

    @Test func requiredStartTLSFailsWhenTheServerDoesNotOfferIt() async throws {
        try await withSMTPSink { (sink: SMTPSink) async throws in
            var config = configuration(port: sink.port)
            config.security = .startTLS
            #expect(await SMTPChannel(configuration: config).deliver(message())
                == .failed("the server does not offer STARTTLS, which the configuration requires"))
            #expect(try sink.received().isEmpty)
        }
    }

    @Test func credentialsAreNotSentInTheClearUnlessAllowed() async throws {
        try await withSMTPSink(.init(auth: "mdr:s3cret", authWithoutTLS: true)) { (sink: SMTPSink) async throws in
            var config = configuration(port: sink.port)
            config.username = "mdr"
            config.password = "s3cret"
            let refused = await SMTPChannel(configuration: config).deliver(message())
            #expect(refused == .rejected(code: 0, reply: "refusing to send credentials without TLS (use STARTTLS, or allow authentication without TLS)"))
            #expect(try sink.received().isEmpty)
            config.allowsAuthenticationWithoutTLS = true
            #expect(await SMTPChannel(configuration: config).deliver(message()) == .delivered)
            #expect(try sink.received().first?.login == "mdr")
        }
    }
}
