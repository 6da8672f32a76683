import Foundation
import MDRDetection
import MDRDomain
import MDRStore

/// Runs the `Correlator` over each tenant's log: newly ingested signals open incident candidates, join them and raise
/// their proposed priority. Its reactions are emitted with their domain form, so the views get them in the same round.
public struct CorrelationProcessor: TenantLogProcessor {
    public let name = "correlator"
    public let eventTypes: Set<String> = [
        SignalIngested.eventType, IncidentOpened.eventType, SignalAttached.eventType, IncidentPriorityRaised.eventType,
        IncidentConfirmed.eventType, IncidentDismissed.eventType, IncidentResolved.eventType,
    ]
    public var initialState: Correlator.State { .init() }
    public let actor = Principal.system("correlator")
    public let correlator: Correlator

    public init(configuration: Correlator.Configuration = .init()) {
        correlator = Correlator(configuration: configuration)
    }

    /// Decides on the state before the event, then folds the event and its own decisions as they are, without reading
    /// them back.
    public func step(_ state: inout Correlator.State, _ event: PipelineEvent) throws -> [Emission] {
        let decoded = try event.event()
        let decisions = decide(event, decoded, in: state)
        correlator.apply(decoded, to: &state)
        for decision in decisions { correlator.apply(decision.event, to: &state) }
        return decisions
    }

    func decide(_ event: PipelineEvent, _ decoded: DomainEvent, in state: Correlator.State) -> [Emission] {
        guard case .signalIngested(let signal) = decoded else { return [] }
        let cause = event.eventID.uuidString.lowercased()
        let incident = IncidentID(rawValue: derivedUUID(name, "incident", event.eventID.uuidString))
        let metadata = EventMetadata(principal: actor, commandID: nil, correlationID: event.metadata.correlationID, causationID: cause)
        return correlator.decide(signal, state, newIncidentID: incident).enumerated().map { index, decided in
            Emission(decided, appended: EventToAppend(decided, eventID: derivedUUID(name, event.eventID.uuidString, String(index)), metadata: metadata))
        }
    }
}
