import Foundation
import MDRDetection
import MDRDomain
import MDRStore

/// Runs the `Correlator` over each tenant's log: newly ingested signals open incident candidates, join them and raise
/// their proposed priority.
public struct CorrelationProcessor: TenantLogProcessor {
    public let name = "correlator"
    public let eventTypes = [
        SignalIngested.eventType, IncidentOpened.eventType, SignalAttached.eventType, IncidentPriorityRaised.eventType,
        IncidentConfirmed.eventType, IncidentDismissed.eventType, IncidentResolved.eventType,
    ]
    public var initialState: Correlator.State { .init() }
    public let actor = Principal.system("correlator")
    public let correlator: Correlator

    public init(configuration: Correlator.Configuration = .init()) {
        correlator = Correlator(configuration: configuration)
    }

    public func evolve(_ state: Correlator.State, _ event: RecordedEvent) throws -> Correlator.State {
        correlator.evolve(state, try event.decoded())
    }

    public func evolve(_ state: inout Correlator.State, _ event: RecordedEvent) throws {
        correlator.apply(try event.decoded(), to: &state)
    }

    public func react(to event: RecordedEvent, in state: Correlator.State) throws -> [EventToAppend] {
        decide(event, try event.decoded(), in: state).map(\.appended)
    }

    /// Decodes each event once and folds its own decisions as they are, without reading them back.
    public func step(_ state: inout Correlator.State, _ event: RecordedEvent) throws -> [EventToAppend] {
        let decoded = try event.decoded()
        let decisions = decide(event, decoded, in: state)
        correlator.apply(decoded, to: &state)
        for decision in decisions { correlator.apply(decision.event, to: &state) }
        return decisions.map(\.appended)
    }

    func decide(_ event: RecordedEvent, _ decoded: DomainEvent, in state: Correlator.State) -> [(event: DomainEvent, appended: EventToAppend)] {
        guard case .signalIngested(let signal) = decoded else { return [] }
        let cause = event.eventID.uuidString.lowercased()
        let incident = IncidentID(rawValue: derivedUUID(name, "incident", event.eventID.uuidString))
        let metadata = EventMetadata(principal: actor, commandID: nil, correlationID: event.metadata.correlationID, causationID: cause)
        return correlator.decide(signal, state, newIncidentID: incident).enumerated().map { index, decided in
            (decided, EventToAppend(decided, eventID: derivedUUID(name, event.eventID.uuidString, String(index)), metadata: metadata))
        }
    }
}
