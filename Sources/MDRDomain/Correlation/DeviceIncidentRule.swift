import Foundation

/// The foundation's correlation rule, run by a process manager over each tenant's log: a signal about a
/// device opens an incident candidate for that device, or joins the open one that already covers the device.
/// Informational signals are counted, not escalated. Dismissed and resolved incidents are never reopened.
///
/// Pure: the same log gives the same incidents, provided incident ids are made from the triggering event
/// (the process manager derives them from the signal's id).
public enum DeviceIncidentRule {
    /// What the rule remembers of the log: the incident currently open for each device.
    public struct State: Sendable, Equatable {
        public var openIncidentByDevice: [DeviceID: IncidentID] = [:]
        public var devicesByIncident: [IncidentID: [DeviceID]] = [:]
        public init() {}
    }

    /// Folds any event of the tenant's log into the rule's state.
    public static func evolve(_ state: State, _ event: DomainEvent) -> State {
        var s = state
        switch event {
        case .incidentOpened(let e):
            s.devicesByIncident[e.incidentID] = e.devices
            for d in e.devices { s.openIncidentByDevice[d] = e.incidentID }
        case .signalAttached(let e):
            var devices = s.devicesByIncident[e.incidentID] ?? []
            for d in e.devices where !devices.contains(d) {
                devices.append(d)
                s.openIncidentByDevice[d] = e.incidentID
            }
            s.devicesByIncident[e.incidentID] = devices
        case .incidentDismissed(let e): close(&s, e.incidentID)
        case .incidentResolved(let e): close(&s, e.incidentID)
        default: break
        }
        return s
    }

    private static func close(_ s: inout State, _ incident: IncidentID) {
        for d in s.devicesByIncident[incident] ?? [] where s.openIncidentByDevice[d] == incident {
            s.openIncidentByDevice[d] = nil
        }
        s.devicesByIncident[incident] = nil
    }

    /// Decides what a newly ingested signal does to incidents. `newIncidentID` names the incident to open, if any.
    public static func decide(_ signal: SignalIngested, _ state: State, newIncidentID: IncidentID) -> [DomainEvent] {
        let devices = signal.signal.entities.devices
        guard signal.suppressedBy == nil else { return [] }  // Suppressed signals are counted, not escalated.
        guard signal.signal.severity > .informational, !devices.isEmpty else { return [] }
        // One incident per device: join the first device's open incident if any device has one.
        var joined: [IncidentID] = []
        for d in devices {
            if let open = state.openIncidentByDevice[d], !joined.contains(open) { joined.append(open) }
        }
        if joined.isEmpty {
            return [
                .incidentOpened(
                    IncidentOpened(
                        incidentID: newIncidentID, devices: devices, signalID: signal.signalID, severity: signal.signal.severity,
                        openedAt: signal.receivedAt))
            ]
        }
        return joined.map { incident in
            // A device without an open incident of its own joins the first incident the signal touches.
            let covered = devices.filter { state.openIncidentByDevice[$0] == incident || (state.openIncidentByDevice[$0] == nil && incident == joined[0]) }
            return .signalAttached(SignalAttached(incidentID: incident, signalID: signal.signalID, devices: covered, severity: signal.signal.severity))
        }
    }
}
