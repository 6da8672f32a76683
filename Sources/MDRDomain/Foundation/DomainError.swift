/// A refusal or validation failure of the domain: a stable machine-readable `code` and a message that says
/// what to do next. Rendered once at the edge (problem+json for HTTP, a message and a non-zero exit for the CLI).
public struct DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A stable error code. New codes may be added; existing codes never change meaning.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
    }

    /// What kind of failure this is; the edge maps it to a status (HTTP 404, 409, 422, 403).
    public enum Kind: String, Sendable {
        /// The named thing does not exist (or is not visible to the caller).
        case notFound
        /// The command conflicts with the current state (already confirmed, already isolated, …).
        case conflict
        /// The command itself is malformed or incomplete.
        case invalid
        /// The caller may not do this.
        case forbidden
    }

    public let code: Code
    public let kind: Kind
    public let message: String

    public init(_ code: Code, _ kind: Kind, _ message: String) {
        self.code = code
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension DomainError.Code {
    // Tenants
    public static let tenantNotFound: Self = "tenant_not_found"
    public static let tenantExists: Self = "tenant_exists"
    public static let invalidTenantID: Self = "invalid_tenant_id"
    public static let mdrNotAvailable: Self = "mdr_not_available"
    public static let primaryContactMissing: Self = "primary_contact_missing"
    public static let afterHoursRouteMissing: Self = "after_hours_route_missing"
    public static let consentMissing: Self = "consent_missing"
    public static let priceMissing: Self = "price_missing"
    public static let priceNotApplicable: Self = "price_not_applicable"
    public static let invalidContact: Self = "invalid_contact"
    public static let invalidField: Self = "invalid_field"
    // Signals
    public static let invalidSignal: Self = "invalid_signal"
    /// Not a refusal: on an accepted signal whose own time lay too far ahead of its receipt (the receive time is used).
    public static let eventTimeInFuture: Self = "event_time_in_future"
    public static let batchEmpty: Self = "batch_empty"
    public static let batchTooLarge: Self = "batch_too_large"
    // Incidents
    public static let incidentNotFound: Self = "incident_not_found"
    public static let incidentAlreadyConfirmed: Self = "incident_already_confirmed"
    public static let incidentDismissed: Self = "incident_dismissed"
    public static let incidentResolved: Self = "incident_resolved"
    public static let incidentNotConfirmed: Self = "incident_not_confirmed"
    public static let summaryMissing: Self = "summary_missing"
    public static let incidentMerged: Self = "incident_merged"
    /// A merge names one incident twice.
    public static let mergeIntoItself: Self = "merge_into_itself"
    /// A confirmed incident cannot be merged into a candidate: merge the candidate into it instead.
    public static let mergeIntoCandidate: Self = "merge_into_candidate"
    // Devices
    public static let deviceNotInIncident: Self = "device_not_in_incident"
    public static let deviceAlreadyIsolated: Self = "device_already_isolated"
    public static let deviceIsolationPending: Self = "device_isolation_pending"
    public static let deviceNotIsolated: Self = "device_not_isolated"
    public static let deviceReleasePending: Self = "device_release_pending"
    public static let reasonMissing: Self = "reason_missing"
    // Access
    public static let forbidden: Self = "forbidden"
}
