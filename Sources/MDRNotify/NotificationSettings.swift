import Foundation
import MDRDomain

/// How the notifier and its delivery workers run: Dynamic's routes, the e-mail server, links, retries and resends.
/// Read from the environment by `mdr serve` (docs/notifications.md, "Configuration").
public struct NotificationSettings: Sendable {
    /// Dynamic's routes: every notified fact goes to each.
    public var dynamicRoutes: [ContactRoute]
    /// The secret Dynamic's webhook is signed with; registered for its URL at start-up.
    public var dynamicWebhookSecrets: [String]
    /// The e-mail server; nil: e-mail routes fail (and fall back to Dynamic).
    public var smtp: SMTPConfiguration?
    /// The API's public address, for links in notifications.
    public var linkBase: String
    /// One webhook attempt's time limit.
    public var webhookTimeout: Duration
    public var retry: RetryPolicy
    /// How late a delivery to a customer may be (from when it was due) before Dynamic is told (`notification.delayed`)
    /// while the retries go on (`MDR_NOTIFY_LATE_AFTER_MINUTES`).
    public var lateAfter: Duration = .seconds(15 * 60)
    public var resend: ResendPolicy
    /// Delivery loops per instance (`MDR_NOTIFY_WORKERS`): batches in flight at once.
    public var deliveryLoops: Int = 2

    public init(
        dynamicRoutes: [ContactRoute] = [], dynamicWebhookSecrets: [String] = [], smtp: SMTPConfiguration? = nil, linkBase: String,
        webhookTimeout: Duration = .seconds(10), retry: RetryPolicy = .notifications, resend: ResendPolicy = ResendPolicy()
    ) {
        self.dynamicRoutes = dynamicRoutes
        self.dynamicWebhookSecrets = dynamicWebhookSecrets
        self.smtp = smtp
        self.linkBase = linkBase
        self.webhookTimeout = webhookTimeout
        self.retry = retry
        self.resend = resend
    }

    /// A setting that cannot be used, named by its variable.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the `MDR_DYNAMIC_*`, `MDR_SMTP_*`, `MDR_PUBLIC_URL`, `MDR_WEBHOOK_TIMEOUT_SECONDS`, `MDR_NOTIFY_RETRY_SCHEDULE`,
    /// `MDR_NOTIFY_MAX_ATTEMPTS`, `MDR_NOTIFY_LATE_AFTER_MINUTES`, `MDR_P1_RESEND_AFTER_MINUTES`, `MDR_P1_MAX_RESENDS` and
    /// `MDR_NOTIFY_WORKERS` variables; `defaultLinkBase` when `MDR_PUBLIC_URL` is unset.
    public static func fromEnvironment(_ env: [String: String], defaultLinkBase: String) throws -> NotificationSettings {
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func number(_ name: String, _ range: ClosedRange<Int>, default fallback: Int) throws -> Int {
            guard let raw = value(name) else { return fallback }
            guard let n = Int(raw), range.contains(n) else {
                throw Invalid(description: "\(name) must be a whole number in \(range.lowerBound)…\(range.upperBound), not '\(raw)'")
            }
            return n
        }
        // The schedule (Standard Webhooks' unless set), cut to MDR_NOTIFY_MAX_ATTEMPTS attempts when that is set.
        func retryPolicy() throws -> RetryPolicy {
            var schedule = RetryPolicy.standardWebhooksSchedule
            if let raw = value("MDR_NOTIFY_RETRY_SCHEDULE") {
                guard let parsed = RetryPolicy.parseSchedule(raw), parsed.count < 50 else {
                    throw Invalid(description: "MDR_NOTIFY_RETRY_SCHEDULE must be waits such as 5s,5m,30m,2h joined by commas (at most 49), not '\(raw)'")
                }
                schedule = parsed
            }
            if value("MDR_NOTIFY_MAX_ATTEMPTS") != nil {
                let attempts = try number("MDR_NOTIFY_MAX_ATTEMPTS", 1...50, default: schedule.count + 1)
                schedule = Array(schedule.prefix(attempts - 1))
            }
            return RetryPolicy(schedule: schedule)
        }
        var routes: [ContactRoute] = []
        for url in (value("MDR_DYNAMIC_WEBHOOK_URL") ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !url.isEmpty {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw Invalid(description: "MDR_DYNAMIC_WEBHOOK_URL must be http(s) URLs separated by commas, not '\(url)'")
            }
            routes.append(ContactRoute(channel: .webhook, address: url))
        }
        for address in (value("MDR_DYNAMIC_EMAIL") ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !address.isEmpty {
            guard address.contains("@"), !address.contains(where: { $0.isWhitespace || $0 == "\r" || $0 == "\n" }) else {
                throw Invalid(description: "MDR_DYNAMIC_EMAIL must be e-mail addresses separated by commas, not '\(address)'")
            }
            routes.append(ContactRoute(channel: .email, address: address))
        }
        let secrets = (value("MDR_DYNAMIC_WEBHOOK_SECRET") ?? "").split(separator: " ").map(String.init)
        for secret in secrets where WebhookSecret(secret) == nil {
            throw Invalid(description: "MDR_DYNAMIC_WEBHOOK_SECRET must be whsec_ secrets (base64 after the prefix), separated by spaces")
        }
        if routes.contains(where: { $0.channel == .webhook }) && secrets.isEmpty {
            throw Invalid(description: "MDR_DYNAMIC_WEBHOOK_URL is set: MDR_DYNAMIC_WEBHOOK_SECRET (whsec_…) is needed to sign its calls")
        }

        var smtp: SMTPConfiguration? = nil
        if let host = value("MDR_SMTP_HOST") {
            let security: SMTPConfiguration.Security
            switch value("MDR_SMTP_SECURITY") ?? "starttls-if-offered" {
            case "none": security = .none
            case "starttls": security = .startTLS
            case "starttls-if-offered": security = .startTLSIfOffered
            case let other: throw Invalid(description: "MDR_SMTP_SECURITY must be none, starttls or starttls-if-offered, not '\(other)'")
            }
            smtp = SMTPConfiguration(
                host: host, port: try number("MDR_SMTP_PORT", 1...65535, default: 25), heloName: value("MDR_SMTP_HELO") ?? "localhost",
                from: value("MDR_SMTP_FROM") ?? "mdr@localhost", security: security,
                trust: value("MDR_SMTP_CA_FILE").map(SMTPConfiguration.Trust.pemFile) ?? .system, username: value("MDR_SMTP_USERNAME"),
                password: value("MDR_SMTP_PASSWORD"), timeout: .seconds(try number("MDR_SMTP_TIMEOUT_SECONDS", 1...600, default: 30)))
        }
        var settings = NotificationSettings(
            dynamicRoutes: routes, dynamicWebhookSecrets: secrets, smtp: smtp, linkBase: value("MDR_PUBLIC_URL") ?? defaultLinkBase,
            webhookTimeout: .seconds(try number("MDR_WEBHOOK_TIMEOUT_SECONDS", 1...300, default: 10)),
            retry: try retryPolicy(),
            resend: ResendPolicy(
                after: .seconds(60 * (try number("MDR_P1_RESEND_AFTER_MINUTES", 1...1440, default: 15))),
                maxResends: try number("MDR_P1_MAX_RESENDS", 0...20, default: 3)))
        settings.deliveryLoops = try number("MDR_NOTIFY_WORKERS", 1...32, default: 2)
        settings.lateAfter = .seconds(60 * (try number("MDR_NOTIFY_LATE_AFTER_MINUTES", 1...1440, default: 15)))
        return settings
    }
}
