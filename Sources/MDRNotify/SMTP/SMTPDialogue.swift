import Foundation

/// The client side of one SMTP transaction as a state machine (pure; RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH):
/// the I/O feeds it the server's replies and carries out the ``Action`` it returns.
///
/// `EHLO` (`HELO` when `EHLO` gets a 5xx), `STARTTLS` and a second `EHLO` per ``SMTPConfiguration/Security``,
/// `AUTH PLAIN` or `AUTH LOGIN` when credentials are set and the server offers one of them, `MAIL FROM`, one `RCPT TO`
/// per recipient (all must be accepted, or nothing is sent), `DATA`, the message, `QUIT`. A 5xx ends the transaction
/// as ``SMTPOutcome/rejected(code:reply:)`` (the reply: the command and the server's text, e.g.
/// `RCPT TO <a@example.com>: 5.1.1 no such user`), a 4xx (or anything unexpected) as ``SMTPOutcome/failed(_:)``
/// (`RCPT TO <a@example.com>: 451 4.3.0 try later`).
struct SMTPDialogue: Sendable {
    /// What the I/O does next. After `send` and `sendData` it reads the next reply and passes it to ``receive(_:)``.
    enum Action: Sendable, Hashable {
        /// Send this command line (the I/O appends CRLF).
        case send(String)
        /// Start TLS on the connection, then call ``tlsEstablished()``.
        case startTLS
        /// Send the message section (dot-stuffed, ending in `CRLF.CRLF`).
        case sendData([UInt8])
        /// Send `QUIT` and close: the transaction is over with this outcome.
        case quit(SMTPOutcome)
        /// Close without `QUIT`: the server is closing (421) or does not speak SMTP.
        case close(SMTPOutcome)
    }

    enum State: Sendable, Hashable {
        case greeting, ehlo, helo, startTLS, authPlain, authLogin(step: Int), mailFrom, rcptTo(Int), data, message, done
    }

    let heloName: String
    let sender: String
    let recipients: [String]
    let data: [UInt8]
    let security: SMTPConfiguration.Security
    let credentials: (username: String, password: String)?
    let allowsAuthenticationWithoutTLS: Bool

    private(set) var state: State = .greeting
    private(set) var isTLS = false
    /// The extension keywords of the last `EHLO` reply, upper-cased (`STARTTLS`, `AUTH`, `8BITMIME`, …).
    private(set) var extensions: Set<String> = []
    /// The mechanisms of the last `EHLO` reply's `AUTH` line, upper-cased.
    private(set) var authMechanisms: Set<String> = []

    init(
        heloName: String, sender: String, recipients: [String], data: [UInt8], security: SMTPConfiguration.Security,
        credentials: (username: String, password: String)?, allowsAuthenticationWithoutTLS: Bool
    ) {
        self.heloName = heloName
        self.sender = sender
        self.recipients = recipients
        self.data = data
        self.security = security
        self.credentials = credentials
        self.allowsAuthenticationWithoutTLS = allowsAuthenticationWithoutTLS
    }

    /// What the client is waiting for, for a timeout's message: `waiting for the greeting`, `after RCPT TO`, …
    var stage: String {
        switch state {
        case .greeting: "waiting for the greeting"
        case .ehlo: "after EHLO"
        case .helo: "after HELO"
        case .startTLS: "after STARTTLS"
        case .authPlain, .authLogin: "after AUTH"
        case .mailFrom: "after MAIL FROM"
        case .rcptTo: "after RCPT TO"
        case .data: "after DATA"
        case .message: "after the message"
        case .done: "after the end"
        }
    }

    /// The next step after the server's `reply`.
    mutating func receive(_ reply: SMTPReply) -> Action {
        if reply.code == 421 { return finish(close: .failed("\(commandName): 421 \(reply.text)")) }
        switch state {
        case .greeting:
            guard reply.code == 220 else { return refused(reply) }
            return sendEHLO()
        case .ehlo:
            if reply.isPermanentFailure {
                state = .helo
                return .send("HELO \(heloName)")
            }
            guard reply.code == 250 else { return refused(reply) }
            readExtensions(reply)
            return afterGreeting()
        case .helo:
            guard reply.code == 250 else { return refused(reply) }
            extensions = []
            authMechanisms = []
            return afterGreeting()
        case .startTLS:
            guard reply.code == 220 else { return refused(reply) }
            return .startTLS
        case .authPlain:
            guard reply.code == 235 else { return refused(reply) }
            return sendMailFrom()
        case .authLogin(let step):
            guard let credentials else { return refused(reply) }
            switch (step, reply.code) {
            case (0, 334):
                state = .authLogin(step: 1)
                return .send(Data(credentials.username.utf8).base64EncodedString())
            case (1, 334):
                state = .authLogin(step: 2)
                return .send(Data(credentials.password.utf8).base64EncodedString())
            case (2, 235):
                return sendMailFrom()
            default:
                return refused(reply)
            }
        case .mailFrom:
            guard reply.code == 250 else { return refused(reply) }
            guard let first = recipients.first else { return finish(quit: .rejected(code: 0, reply: "invalid address To: no recipient")) }
            state = .rcptTo(0)
            return .send("RCPT TO:<\(first)>")
        case .rcptTo(let index):
            guard reply.code == 250 || reply.code == 251 else { return refused(reply) }
            if index + 1 < recipients.count {
                state = .rcptTo(index + 1)
                return .send("RCPT TO:<\(recipients[index + 1])>")
            }
            state = .data
            return .send("DATA")
        case .data:
            guard reply.code == 354 else { return refused(reply) }
            state = .message
            return .sendData(data)
        case .message:
            guard reply.code == 250 else { return refused(reply) }
            return finish(quit: .delivered)
        case .done:
            return .close(.failed("unexpected reply after the end: \(reply.code) \(reply.text)"))
        }
    }

    /// The next step once TLS is up: `EHLO` again, as RFC 3207 requires (what was learnt before TLS is forgotten).
    mutating func tlsEstablished() -> Action {
        isTLS = true
        extensions = []
        authMechanisms = []
        return sendEHLO()
    }

    // MARK: - Steps

    private mutating func sendEHLO() -> Action {
        state = .ehlo
        return .send("EHLO \(heloName)")
    }

    /// After `EHLO`/`HELO`: STARTTLS if wanted, then AUTH if configured and offered, then the envelope.
    private mutating func afterGreeting() -> Action {
        if !isTLS {
            let offered = extensions.contains("STARTTLS")
            switch security {
            case .startTLS where !offered:
                return finish(quit: .failed("the server does not offer STARTTLS, which the configuration requires"))
            case .startTLS:
                state = .startTLS
                return .send("STARTTLS")
            case .startTLSIfOffered where offered:
                state = .startTLS
                return .send("STARTTLS")
            case .none, .startTLSIfOffered:
                break
            }
        }
        if let credentials, !authMechanisms.isEmpty {
            guard isTLS || allowsAuthenticationWithoutTLS else {
                return finish(quit: .rejected(code: 0, reply: "refusing to send credentials without TLS (use STARTTLS, or allow authentication without TLS)"))
            }
            if authMechanisms.contains("PLAIN") {
                state = .authPlain
                let token = Data([0] + Array(credentials.username.utf8) + [0] + Array(credentials.password.utf8))
                return .send("AUTH PLAIN \(token.base64EncodedString())")
            }
            if authMechanisms.contains("LOGIN") {
                state = .authLogin(step: 0)
                return .send("AUTH LOGIN")
            }
        }
        return sendMailFrom()
    }

    private mutating func sendMailFrom() -> Action {
        state = .mailFrom
        return .send("MAIL FROM:<\(sender)>")
    }

    private mutating func readExtensions(_ reply: SMTPReply) {
        extensions = []
        authMechanisms = []
        // The first line is the server's name and greeting; each further line is one extension.
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map { $0.uppercased() }
            guard let keyword = words.first else { continue }
            extensions.insert(keyword)
            if keyword == "AUTH" { authMechanisms.formUnion(words.dropFirst()) }
        }
    }

    /// The command the current state answers, for outcome texts.
    private var commandName: String {
        switch state {
        case .greeting: "greeting"
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .startTLS: "STARTTLS"
        case .authPlain, .authLogin: "AUTH"
        case .mailFrom: "MAIL FROM"
        case .rcptTo(let index): "RCPT TO <\(recipients[index])>"
        case .data: "DATA"
        case .message: "message"
        case .done: "end"
        }
    }

    /// A reply that ends the transaction: 5xx permanent, 4xx and anything else temporary.
    private mutating func refused(_ reply: SMTPReply) -> Action {
        if reply.isPermanentFailure { return finish(quit: .rejected(code: reply.code, reply: "\(commandName): \(reply.text)")) }
        let text = "\(commandName): \(reply.code) \(reply.text)"
        if (400..<500).contains(reply.code) { return finish(quit: .failed(text)) }
        return finish(quit: .failed("unexpected reply to \(text)"))
    }

    private mutating func finish(quit outcome: SMTPOutcome) -> Action {
        state = .done
        return .quit(outcome)
    }

    private mutating func finish(close outcome: SMTPOutcome) -> Action {
        state = .done
        return .close(outcome)
    }
}
