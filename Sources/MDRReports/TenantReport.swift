import Foundation
import MDRDomain

/// A tenant's periodic report: what the service saw and did for the tenant in a period. The JSON form is this type
/// encoded with `JSONCoding` (field names are stable; new fields may be added). What each figure counts is in
/// docs/reports.md.
public struct TenantReport: Hashable, Sendable, Codable {
    /// The version of this JSON shape; raised only when a field changes meaning or disappears.
    public var reportVersion: Int = 1
    public var tenant: Tenant
    public var period: Period
    public var generatedAt: Date
    public var signals: Signals
    public var incidents: Incidents
    public var devices: Devices
    public var sla: Sla
    /// One entry per source the service watches, in the order of `SignalSource.allCases`.
    public var coverage: [SourceCoverage]

    /// Who the report is for.
    public struct Tenant: Hashable, Sendable, Codable {
        public var id: TenantID
        public var name: String
        public var package: ServicePackage
        public var sla: ServiceLevel
    }

    /// The days covered, inclusive, as Europe/Amsterdam calendar dates.
    public struct Period: Hashable, Sendable, Codable {
        public var from: CalendarDate
        public var to: CalendarDate
        public var days: Int
        public var timeZone: String = "Europe/Amsterdam"
    }

    /// Signal counts by severity, one field per severity so the JSON shape does not depend on what occurred.
    public struct SeverityCounts: Hashable, Sendable, Codable {
        public var informational = 0
        public var low = 0
        public var medium = 0
        public var high = 0
        public var critical = 0
        /// Signals whose source gave a severity the service does not know (prioritised as medium), counted apart.
        public var unknown = 0

        /// All zero.
        public init() {}

        /// The count of one severity.
        public subscript(severity: Severity) -> Int {
            get {
                switch severity {
                case .informational: informational
                case .low: low
                case .unknown: unknown
                case .medium: medium
                case .high: high
                case .critical: critical
                }
            }
            set {
                switch severity {
                case .informational: informational = newValue
                case .low: low = newValue
                case .unknown: unknown = newValue
                case .medium: medium = newValue
                case .high: high = newValue
                case .critical: critical = newValue
                }
            }
        }

        /// All severities together.
        public var total: Int { informational + low + unknown + medium + high + critical }
    }

    /// The new signals of one source in the period (accepted and suppressed), by severity.
    public struct SourceSignals: Hashable, Sendable, Codable {
        public var source: SignalSource
        public var total: Int
        public var bySeverity: SeverityCounts
        /// Of these, how many were correlated into an incident.
        public var correlated: Int
    }

    /// What happened to the signals received in the period.
    public struct Outcomes: Hashable, Sendable, Codable {
        /// New signals, stored and given to the correlator.
        public var accepted: Int
        /// New signals matched by a suppression rule: stored, not escalated (noise).
        public var suppressed: Int
        /// Updates of a signal received before (a new status or severity at the source).
        public var updated: Int
        /// The same alert again, unchanged (noise). Appends nothing to the log: counted at intake (`signal_filter_counts`).
        public var duplicate: Int
        /// Signals of a bad shape, refused at intake; counted there like duplicates.
        public var rejected: Int
    }

    /// Signals in the period.
    public struct Signals: Hashable, Sendable, Codable {
        /// New signals received: accepted plus suppressed.
        public var received: Int
        public var bySeverity: SeverityCounts
        public var bySource: [SourceSignals]
        public var outcomes: Outcomes
        /// New signals of severity `informational`.
        public var informational: Int
        /// Filtered as noise: suppressed plus duplicates.
        public var noise: Int
        /// New signals received in the period that belong to an incident.
        public var correlated: Int
    }

    /// Incident counts by priority, one field per priority.
    public struct PriorityCounts: Hashable, Sendable, Codable {
        public var P1 = 0
        public var P2 = 0
        public var P3 = 0
        public var P4 = 0

        /// All zero.
        public init() {}

        /// The count of one priority.
        public subscript(priority: Priority) -> Int {
            get {
                switch priority {
                case .p1: P1
                case .p2: P2
                case .p3: P3
                case .p4: P4
                }
            }
            set {
                switch priority {
                case .p1: P1 = newValue
                case .p2: P2 = newValue
                case .p3: P3 = newValue
                case .p4: P4 = newValue
                }
            }
        }
    }

    /// Dismissed incidents by classification.
    public struct DismissalCounts: Hashable, Sendable, Codable {
        public var falsePositive = 0
        public var benignPositive = 0
        public var duplicate = 0

        /// All zero.
        public init() {}
    }

    /// Incidents: each step counted in the period in which it happened.
    public struct Incidents: Hashable, Sendable, Codable {
        /// Opened by the correlator in the period (candidates), not counting those merged into another.
        public var opened: Int
        /// Confirmed by an analyst in the period, by their current priority.
        public var confirmed: Int
        public var confirmedByPriority: PriorityCounts
        /// Assessed as no attack in the period.
        public var dismissed: Int
        public var dismissedByClassification: DismissalCounts
        /// Confirmed incidents handled (resolved) in the period.
        public var resolved: Int
        /// Incidents merged in the period into another about the same attack.
        public var merged: Int
        /// The confirmed incidents with a step in the period (opened, confirmed or resolved), oldest first: what the
        /// customer was told about, one line each.
        public var confirmedIncidents: [ConfirmedIncident]
    }

    /// One confirmed incident, as the report lists it.
    public struct ConfirmedIncident: Hashable, Sendable, Codable {
        public var id: IncidentID
        public var priority: Priority?
        /// The analyst's summary.
        public var summary: String?
        /// `confirmed` or `resolved`, as it stands when the report is made.
        public var status: IncidentStatus
        public var openedAt: Date
        public var confirmedAt: Date?
        /// When it was resolved (nil while it is still being handled).
        public var resolvedAt: Date?
        public var devices: [DeviceID]
    }

    /// Device isolation in the period, counted from the devices' isolation histories.
    public struct Devices: Hashable, Sendable, Codable {
        /// Isolations asked of the EDR.
        public var isolationsRequested: Int
        /// Isolations the EDR reported done, and on how many distinct devices.
        public var isolated: Int
        public var devicesIsolated: Int
        /// Isolations the EDR reported failed.
        public var isolationsFailed: Int
        /// Releases the EDR reported done.
        public var released: Int
        /// Each device isolated in the period, with its first isolation and its release after it (if in the period).
        public var isolatedDevices: [IsolatedDevice]
    }

    /// One device isolated in the period.
    public struct IsolatedDevice: Hashable, Sendable, Codable {
        public var deviceID: DeviceID
        /// The incident the isolation was for.
        public var incidentID: IncidentID?
        public var isolatedAt: Date
        /// When it was released again within the period; nil when it still was isolated at the period's end.
        public var releasedAt: Date?
    }

    /// SLA compliance of one target.
    public struct SlaTarget: Hashable, Sendable, Codable {
        public var target: SlaTargetKind
        /// Timers started in the period and decided when the report was made (stopped, or past their deadline).
        public var decided: Int
        public var met: Int
        public var breached: Int
        /// Still running before their deadline: not in the share.
        public var running: Int
        /// `met / decided`; null when nothing was decided.
        public var shareMet: Double?
        /// Of the stopped timers, on the target's own clock (business seconds for business-clock targets).
        public var meanSeconds: Double?
        public var p90Seconds: Double?
    }

    /// SLA compliance of the timers started in the period, as they stood when the report was made.
    public struct Sla: Hashable, Sendable, Codable {
        public var level: ServiceLevel
        /// Triage, notify, contain, in that order.
        public var targets: [SlaTarget]
        public var mttaSeconds: Double?
        public var mttcSeconds: Double?
        public var breaches: Int
    }

    /// Whether a source delivers: its latest onboarding health check, and the days it delivered signals.
    public struct SourceCoverage: Hashable, Sendable, Codable {
        public var source: SignalSource
        /// The latest health check's status; null when the source was never checked.
        public var healthCheck: HealthCheckStatus?
        /// What the check found missing (empty when delivering).
        public var missing: [String]
        public var checkedAt: Date?
        /// Days of the period with at least one signal (new or updated) received from the source.
        public var daysWithSignals: Int
        /// `daysWithSignals / period.days`.
        public var shareOfDays: Double
    }
}
