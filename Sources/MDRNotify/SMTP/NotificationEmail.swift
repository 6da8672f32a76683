import Foundation
import MDRDomain

/// Renders a notification as an e-mail (pure): as thin as the webhook payload — what happened, the ids, priority,
/// tenant and links, and the notification's id — never signal content.
///
/// The `Message-ID` is derived from the notification id (`<ntf_…@mdr>`), so every attempt to send the same
/// notification carries the same one and a mail system can recognise a resent copy.
public enum NotificationEmail {
    /// The e-mail for `payload`, from `from` to `to`.
    public static func message(for payload: NotificationPayload, from: String, to: String) -> EmailMessage {
        EmailMessage(
            messageID: messageID(for: payload.data.notificationID), from: from, to: [to], subject: subject(for: payload),
            textBody: body(for: payload),
            headers: ["X-MDR-Notification-ID": payload.data.notificationID, "X-MDR-Type": payload.type])
    }

    /// `[MDR] P1 incident confirmed — tenant acme`, `[MDR] Device isolated — tenant acme`,
    /// `[MDR] SLA breached (notify) — P1 — tenant acme`; other types by their name (`[MDR] Call requested — P1 — …`).
    public static func subject(for payload: NotificationPayload) -> String {
        let data = payload.data
        let priority = data.priority?.rawValue
        var parts: [String]
        switch payload.type {
        case "incident.confirmed":
            parts = [priority.map { "\($0) incident confirmed" } ?? "Incident confirmed"]
        case "sla.breached":
            parts = [data.slaTarget.map { "SLA breached (\($0.rawValue))" } ?? "SLA breached"]
            if let priority { parts.append(priority) }
        case "isolation.requested": parts = ["Device isolation requested"]
        case "isolation.succeeded": parts = ["Device isolated"]
        case "isolation.failed": parts = ["Device isolation failed"]
        case "isolation.release_requested": parts = ["Device release requested"]
        case "isolation.released": parts = ["Device released"]
        default:
            parts = [humanized(payload.type)]
            if let priority { parts.append(priority) }
        }
        parts.append("tenant \(data.tenant.rawValue)")
        return "[MDR] " + parts.joined(separator: " — ")
    }

    /// A short explanation, then the ids, priority, tenant, links and the notification id, one per line.
    public static func body(for payload: NotificationPayload) -> String {
        let data = payload.data
        var lines = [explanation(for: payload), ""]
        func add(_ name: String, _ value: String?) {
            guard let value else { return }
            lines.append(name.padding(toLength: 14, withPad: " ", startingAt: 0) + value)
        }
        add("Tenant:", data.tenant.rawValue)
        add("Incident:", data.incidentID?.description)
        add("Device:", data.deviceID?.rawValue)
        add("Priority:", data.priority?.rawValue)
        add("SLA target:", data.slaTarget?.rawValue)
        add("Regarding:", data.regarding)
        // For Dynamic only: whom to call (call.requested), and who could not be reached and why (notification.delayed, .failed).
        add("Call:", data.phone)
        add("Not reached:", data.recipient?.rawValue)
        add("Reason:", data.reason)
        add("Occurred at:", timestamp(payload.timestamp))
        add("Notification:", data.notificationID)
        if !data.links.isEmpty {
            lines.append("")
            lines.append("Links:")
            for (name, url) in data.links.sorted(by: { $0.key < $1.key }) { lines.append("  \(name): \(url.absoluteString)") }
        }
        lines.append("")
        lines.append("This message carries ids and links only; open the links for the details.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `<notification id>@mdr`, with any character not allowed in a message id replaced by `_`.
    public static func messageID(for notificationID: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".unicodeScalars)
        let local = String(String.UnicodeScalarView(notificationID.unicodeScalars.map { allowed.contains($0) ? $0 : "_" }))
        return (local.isEmpty ? "_" : local) + "@mdr"
    }

    static func explanation(for payload: NotificationPayload) -> String {
        let data = payload.data
        let tenant = data.tenant.rawValue
        switch payload.type {
        case "incident.confirmed":
            return "MDR confirmed \(data.priority.map { "a \($0.rawValue)" } ?? "an") incident for tenant \(tenant)."
        case "sla.breached":
            return "An SLA target\(data.slaTarget.map { " (\($0.rawValue))" } ?? "") was breached for an incident of tenant \(tenant)."
        case "isolation.requested": return "MDR requested the isolation of a device of tenant \(tenant)."
        case "isolation.succeeded": return "A device of tenant \(tenant) is isolated from the network."
        case "isolation.failed": return "The isolation of a device of tenant \(tenant) failed."
        case "isolation.release_requested": return "MDR requested the release of an isolated device of tenant \(tenant)."
        case "isolation.released": return "A device of tenant \(tenant) was released from isolation."
        case "notification.delayed": return "A notification to tenant \(tenant) is late: it is still being tried. Please call the customer."
        case "notification.failed": return "A notification to tenant \(tenant) could not be delivered. Please call the customer."
        default: return "MDR notification \"\(payload.type)\" for tenant \(tenant)."
        }
    }

    /// `notification.failed` → `Notification failed`.
    static func humanized(_ type: String) -> String {
        let words = type.replacingOccurrences(of: ".", with: " ").replacingOccurrences(of: "_", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
