import Foundation
import MDRDomain
import MDRStore

/// Runs `DeviceIncidentRule` over each tenant's log: signals about a device open or extend one incident per device.
/// Replaced by the correlator in the detection issue.
public struct DeviceIncidentProcessor: TenantLogProcessor {
    public let name = "device-incident-rule"
    public let eventTypes = [
        SignalIngested.eventType, IncidentOpened.eventType, SignalAttached.eventType, IncidentDismissed.eventType,
        IncidentResolved.eventType,
    ]
    public var initialState: DeviceIncidentRule.State { .init() }

    public let actor = Principal.system("incident-rule")

    public init() {}

    public func evolve(_ state: DeviceIncidentRule.State, _ event: RecordedEvent) throws -> DeviceIncidentRule.State {
        DeviceIncidentRule.evolve(state, try event.decoded())
    }

    public func react(to event: RecordedEvent, in state: DeviceIncidentRule.State) throws -> [EventToAppend] {
        guard case .signalIngested(let signal) = try event.decoded() else { return [] }
        let incident = IncidentID(rawValue: derivedUUID(name, "incident", event.eventID.uuidString))
        let metadata = EventMetadata(
            principal: actor, commandID: nil, correlationID: event.metadata.correlationID, causationID: event.eventID.uuidString.lowercased())
        return DeviceIncidentRule.decide(signal, state, newIncidentID: incident).enumerated().map { index, decided in
            EventToAppend(decided, eventID: derivedUUID(name, event.eventID.uuidString, String(index)), metadata: metadata)
        }
    }
}
