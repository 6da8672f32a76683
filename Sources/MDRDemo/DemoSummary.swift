import Foundation

/// What the demo saw the service do, read back through the API: what `mdr demo` prints, and what its test checks.
public struct DemoSummary: Sendable {
    /// One notification route and how its delivery went.
    public struct Notification: Sendable {
        public var type: String
        /// `dynamic`, `customer_primary` or `customer_after_hours`.
        public var recipient: String
        /// `webhook` or `email`.
        public var channel: String
        public var status: String
        public var attempts: Int
        /// Whether the demo's receiver got this notification and its Standard Webhooks signature verified.
        public var signatureVerified: Bool
        public var lastError: String?
    }

    /// One SLA timer of the incident.
    public struct SlaTimer: Sendable {
        /// `triage`, `notify` or `contain`.
        public var target: String
        /// `running`, `met` or `breached`.
        public var status: String
        public var elapsedSeconds: Double?
        /// Deadline minus start.
        public var targetSeconds: Double
    }

    public var tenant: String
    public var incidentID: String
    /// The incident's signals (the attack's, joined by the correlator).
    public var incidentSignals: Int
    public var incidentSources: [String]
    /// Incidents the tenant has: one attack, one incident.
    public var incidents: Int
    public var candidatePriority: String
    /// The analyst's priority, set at confirmation.
    public var priority: String?
    /// Why the correlator raised its proposal (`IncidentPriorityRaised` reasons).
    public var priorityReasons: [String]
    public var incidentStatus: String
    /// The victim's isolation states, in order (`pending`, `isolated`, `release_pending`, `released`).
    public var isolationStates: [String]
    /// New signals stored (attack and informational).
    public var accepted: Int
    public var duplicates: Int
    public var suppressed: Int
    /// Accepted informational signals, which opened and joined nothing.
    public var informational: Int
    public var notifications: [Notification]
    /// Calls the receiver refused because no signature verified (none is expected).
    public var unverifiedWebhooks: Int
    public var slaTimers: [SlaTimer]
    public var billingMonth: String
    public var billingStatus: String
    public var billedWorkstations: Int
    public var servers: Int
    public var unitPriceCents: Int?
    public var amountCents: Int?
    /// Where the HTML report was written; nil when the service has no report operation.
    public var reportPath: String?
    /// How long the scenario took, from the first API call to the last.
    public var duration: Duration
}
