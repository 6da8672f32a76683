/// Where and how the e-mail channel hands its messages over: one SMTP server (a relay or a submission service).
///
/// The password is never part of ``description`` or ``debugDescription``, so logging a configuration is safe.
public struct SMTPConfiguration: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Whether the connection is encrypted with STARTTLS (RFC 3207).
    public enum Security: Sendable, Hashable {
        /// Plain text throughout. For a relay on the same host or a trusted network only.
        case none
        /// STARTTLS is required: a server that does not offer it fails the attempt (it may be a downgrade by an
        /// attacker in the path, so the attempt is retried rather than sent in the clear).
        case startTLS
        /// STARTTLS when the server offers it, plain text otherwise (opportunistic; no protection against downgrade).
        case startTLSIfOffered
    }

    /// Which certificates the channel trusts for STARTTLS.
    public enum Trust: Sendable, Hashable {
        /// The system's trust store.
        case system
        /// Only the certificates in this PEM file (for a private CA or a self-signed relay).
        case pemFile(String)
    }

    /// The server's host name or IP address. The certificate must name it (a DNS name or an IP address SAN).
    public var host: String
    /// The server's port: 25 (relay) or 587 (submission), usually.
    public var port: Int
    /// The name this host gives in `EHLO`/`HELO`: a fully qualified domain name of this host.
    public var heloName: String
    /// The envelope sender (`MAIL FROM`), which receives bounces; also the `From:` header when a message has none.
    public var from: String
    /// Whether to use STARTTLS.
    public var security: Security
    /// Which certificates to trust for STARTTLS.
    public var trust: Trust
    /// The user name for `AUTH` (PLAIN or LOGIN, whichever the server offers; PLAIN preferred). `nil`: no `AUTH`.
    public var username: String?
    /// The password for `AUTH`. Never logged.
    public var password: String?
    /// Whether credentials may be sent over a connection without TLS. Off by default: the channel then refuses to
    /// authenticate in the clear and the attempt ends as `.rejected(code: 0, …)`.
    public var allowsAuthenticationWithoutTLS: Bool
    /// How long one attempt may take in all: connecting, the whole dialogue and `QUIT`.
    public var timeout: Duration

    /// A configuration. Without `username` and `password` the channel does not authenticate.
    public init(
        host: String, port: Int = 25, heloName: String, from: String, security: Security = .startTLSIfOffered,
        trust: Trust = .system, username: String? = nil, password: String? = nil,
        allowsAuthenticationWithoutTLS: Bool = false, timeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.heloName = heloName
        self.from = from
        self.security = security
        self.trust = trust
        self.username = username
        self.password = password
        self.allowsAuthenticationWithoutTLS = allowsAuthenticationWithoutTLS
        self.timeout = timeout
    }

    /// The credentials, when both parts are set.
    var credentials: (username: String, password: String)? {
        guard let username, let password else { return nil }
        return (username, password)
    }

    public var description: String {
        let auth = username.map { "user \($0), password \(password == nil ? "unset" : "set")" } ?? "no auth"
        return "SMTP \(host):\(port) (\(security), \(auth), timeout \(timeout))"
    }

    public var debugDescription: String { description }
}
