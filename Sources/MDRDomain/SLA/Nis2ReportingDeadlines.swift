import Foundation

/// The customer's own reporting deadlines under NIS2 art. 23(4), for tenants in NIS2 scope, counted from the moment
/// of awareness — the confirmation of the incident.
public struct Nis2ReportingDeadlines: Hashable, Sendable, Codable {
    /// When the incident was confirmed (the customer became aware of a significant incident).
    public let awareAt: Date
    /// Early warning: within 24 hours of awareness (art. 23(4)(a)).
    public let earlyWarning: Date
    /// Incident notification: within 72 hours of awareness (art. 23(4)(b)).
    public let incidentNotification: Date
    /// Final report: one month after the incident notification (art. 23(4)(d)) — after the one actually submitted
    /// when known, otherwise after the notification deadline.
    public let finalReport: Date

    /// Hours are real hours; "one month" is a calendar month on the Amsterdam wall clock (31 January → the last
    /// day of February, same time of day, whatever daylight saving does in between).
    public init(awareAt: Date, incidentNotifiedAt: Date? = nil, timeZone: TimeZone = OfficeHours.standard.timeZone) {
        self.awareAt = awareAt
        self.earlyWarning = awareAt.addingTimeInterval(24 * 3600)
        self.incidentNotification = awareAt.addingTimeInterval(72 * 3600)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let notification = incidentNotifiedAt ?? incidentNotification
        self.finalReport = calendar.date(byAdding: .month, value: 1, to: notification)!
    }
}
