/// One plain-text e-mail, before rendering: addresses are bare (`soc@example.com`, no display names or brackets).
///
/// Rendering (``SMTPMessageRenderer``) refuses CR or LF in any header value or address, so that no value can add a
/// header or a recipient of its own (header injection).
public struct EmailMessage: Sendable, Hashable {
    /// The `Message-ID` without angle brackets, e.g. `ntf_1@mdr`. Stable across attempts of the same notification, so
    /// a recipient's mail system can spot a resent copy.
    public var messageID: String
    /// The `From:` address; empty means the configuration's `from`.
    public var from: String
    /// The recipients: the `To:` header and the envelope (`RCPT TO`).
    public var to: [String]
    /// The subject, any Unicode (encoded per RFC 2047 when it is not ASCII).
    public var subject: String
    /// The body, plain text, any line endings (sent as CRLF).
    public var textBody: String
    /// Extra headers, e.g. `X-MDR-Tenant`. Rendered sorted by name, after the standard ones. The standard headers
    /// (`From`, `To`, `Subject`, `Date`, `Message-ID`, `MIME-Version`, `Content-*`) cannot be set here.
    public var headers: [String: String]

    /// A message.
    public init(
        messageID: String, from: String, to: [String], subject: String, textBody: String, headers: [String: String] = [:]
    ) {
        self.messageID = messageID
        self.from = from
        self.to = to
        self.subject = subject
        self.textBody = textBody
        self.headers = headers
    }
}

/// How one attempt to send an e-mail ended.
public enum SMTPOutcome: Sendable, Hashable {
    /// The server accepted the message (250 after the data). It is now the server's to deliver.
    case delivered
    /// Permanently refused: a 5xx reply (`code`, and the reply's text), or `code` 0 when the channel refused before or
    /// instead of sending (an invalid header or address, credentials that would go out in the clear). Do not retry.
    case rejected(code: Int, reply: String)
    /// Failed for now: a 4xx reply, a timeout, a refused or broken connection, a failed TLS handshake. Retry.
    case failed(String)

    /// Whether no further attempt should be made (delivered, or permanently rejected).
    public var isFinal: Bool {
        switch self {
        case .delivered, .rejected: true
        case .failed: false
        }
    }
}
