import Foundation

/// From which severity one source's signals open incidents for a tenant; below it they only join one as context.
public struct OpeningThreshold: Hashable, Sendable, Codable {
    public var source: SignalSource
    public var severity: Severity

    public init(source: SignalSource, severity: Severity) {
        self.source = source
        self.severity = severity
    }
}

/// The SOC tuned a tenant's opening thresholds (stream `tenant`): during the tuning period it may let a firewall's
/// low logs open incidents to learn the network, or make an endpoint's noisy low alerts context only. The sources
/// named replace the service's defaults for this tenant; the others keep them. An empty list goes back to the defaults.
public struct OpeningThresholdsSet: DomainEventPayload {
    public static let eventType = "OpeningThresholdsSet"
    /// One per source named, ordered by source.
    public var thresholds: [OpeningThreshold]
    public var reason: String
    public var setBy: String
    public var setAt: Date

    public init(thresholds: [OpeningThreshold], reason: String, setBy: String, setAt: Date) {
        self.thresholds = thresholds
        self.reason = reason
        self.setBy = setBy
        self.setAt = setAt
    }
}

extension TenantDecider {
    /// The thresholds as recorded: validated, one per source, ordered by source. Refused: informational (it never opens
    /// an incident), a source named twice, no reason.
    static func openingThresholds(_ thresholds: [OpeningThreshold], reason: String, tenant: Tenant, by: Principal, at: Date) throws(DomainError)
        -> [DomainEvent]
    {
        if let informational = thresholds.first(where: { $0.severity == .informational }) {
            throw DomainError(
                .invalidField, .invalid, "\(informational.source.rawValue): informational signals never open an incident; the lowest threshold is low")
        }
        guard Set(thresholds.map(\.source)).count == thresholds.count else {
            throw DomainError(.invalidField, .invalid, "each source may be named once")
        }
        let why = reason.trimmingSpaces
        guard !why.isEmpty, why.count <= 1000 else {
            throw DomainError(.reasonMissing, .invalid, "a reason (1–1000 characters) is required: what the tuning is for")
        }
        let ordered = thresholds.sorted { $0.source.rawValue < $1.source.rawValue }
        // The same thresholds again change nothing: nothing to record.
        guard ordered != (tenant.openingThresholds ?? []) else { return [] }
        return [.openingThresholdsSet(OpeningThresholdsSet(thresholds: ordered, reason: why, setBy: by.id, setAt: at))]
    }
}
