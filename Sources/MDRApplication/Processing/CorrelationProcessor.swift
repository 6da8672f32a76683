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
        reaction(to: event, try event.decoded(), in: state)
    }

    /// Decodes each event once: the reaction is decided on the state before the event, then the event is folded in.
    public func step(_ state: inout Correlator.State, _ event: RecordedEvent) throws -> [EventToAppend] {
        let decoded = try event.decoded()
        let reacted = reaction(to: event, decoded, in: state)
        correlator.apply(decoded, to: &state)
        return reacted
    }

    func reaction(to event: RecordedEvent, _ decoded: DomainEvent, in state: Correlator.State) -> [EventToAppend] {
        guard case .signalIngested(let signal) = decoded else { return [] }
        let cause = event.eventID.uuidString.lowercased()
        let incident = IncidentID(rawValue: derivedUUID(name, "incident", event.eventID.uuidString))
        let metadata = EventMetadata(principal: actor, commandID: nil, correlationID: event.metadata.correlationID, causationID: cause)
        return correlator.decide(signal, state, newIncidentID: incident).enumerated().map { index, decided in
            EventToAppend(decided, eventID: derivedUUID(name, event.eventID.uuidString, String(index)), metadata: metadata)
        }
    }
}
