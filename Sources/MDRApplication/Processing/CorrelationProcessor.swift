import Foundation
import MDRDetection
import MDRDomain
import MDRStore
import PostgresNIO

/// Runs the `Correlator` over each tenant's log: newly ingested signals open incident candidates, join them, merge
/// candidates they link and raise their proposed priority. Its reactions are emitted with their domain form, so the
/// views get them in the same round.
///
/// Rules that change how the log is read apply from a position on: the processor derives its past decisions again when
/// it catches up, so a log must be read under the rule it was decided by. Merging (`Correlator.Rules.merging`) applies
/// to each tenant's events after the position migration 0015 recorded for it (`correlation_rule_cutovers`; a tenant
/// onboarded later has none: from the start).
public struct CorrelationProcessor: TenantLogProcessor {
    public struct State: Sendable {
        public var correlator: Correlator.State
        /// Events at or before this position are decided by `Correlator.Rules.spans`.
        public var mergingAfter: Int64
    }

    public let name = "correlator"
    public let eventTypes: Set<String> = [
        SignalIngested.eventType, IncidentOpened.eventType, SignalAttached.eventType, IncidentPriorityRaised.eventType,
        IncidentConfirmed.eventType, IncidentDismissed.eventType, IncidentResolved.eventType, IncidentAbsorbed.eventType,
        IncidentMerged.eventType, OpeningThresholdsSet.eventType,
    ]
    public var initialState: State { State(correlator: .init(), mergingAfter: 0) }
    public let actor = Correlator.actor
    public let correlator: Correlator

    public init(configuration: Correlator.Configuration = .init()) {
        correlator = Correlator(configuration: configuration)
    }

    /// The state to fold a tenant's log from: with the position its merging rule applies after.
    public func initialState(for tenant: TenantID, in round: PipelineRound) async throws -> State {
        var after: Int64 = 0
        for try await position in try await round.connection.query(
            "SELECT merging_after FROM correlation_rule_cutovers WHERE tenant_id = \(tenant.rawValue)", logger: round.logger
        ).decode(Int64.self) {
            after = position
        }
        return State(correlator: .init(), mergingAfter: after)
    }

    /// Decides on the state before the event, then folds the event and its own decisions as they are, without reading
    /// them back.
    public func step(_ state: inout State, _ event: PipelineEvent) throws -> [Emission] {
        let decoded = try event.event()
        let decisions = decide(event, decoded, in: state)
        correlator.apply(decoded, to: &state.correlator)
        for decision in decisions { correlator.apply(decision.event, to: &state.correlator) }
        return decisions
    }

    func decide(_ event: PipelineEvent, _ decoded: DomainEvent, in state: State) -> [Emission] {
        guard case .signalIngested(let signal) = decoded else { return [] }
        let cause = event.eventID.uuidString.lowercased()
        let incident = IncidentID(rawValue: derivedUUID(name, "incident", event.eventID.uuidString))
        let metadata = EventMetadata(principal: actor, commandID: nil, correlationID: event.metadata.correlationID, causationID: cause)
        let rules: Correlator.Rules = event.position > state.mergingAfter ? .merging : .spans
        return correlator.decide(signal, state.correlator, newIncidentID: incident, rules: rules).enumerated().map { index, decided in
            Emission(decided, appended: EventToAppend(decided, eventID: derivedUUID(name, event.eventID.uuidString, String(index)), metadata: metadata))
        }
    }
}
