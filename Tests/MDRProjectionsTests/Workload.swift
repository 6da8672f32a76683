import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore
import MDRTestSupport

/// A native signal about one device, with entities of its own (so devices do not share users or addresses).
func signal(_ alert: String, device: String, severity: String = "high", title: String = "Suspicious behaviour", status: String = "new")
    -> [String: Any]
{
    [
        "source": "endpoint", "sourceAlertId": alert, "severity": severity, "status": status, "title": title,
        "observedAt": "2026-11-29T09:15:30Z",
        "entities": ["devices": [device], "users": ["\(device)@acme.example"], "ips": ["198.51.100.\(device.utf8.reduce(0) { $0 &+ Int($1) } % 200)"]],
        "mitreTechniques": ["T1486"],
    ]
}

/// What the mixed workload left, for the tests' expectations.
struct WorkloadOutcome {
    var released: DeviceID
    var pendingAgain: DeviceID
    var releasePending: DeviceID
    var isolationIncident: IncidentID
}

/// Onboards two tenants and runs a mix of what the service does: ingest (accepted, updated, duplicate, suppressed,
/// across an Amsterdam midnight), correlation, confirm, dismiss, isolate, EDR results, release, merge. `step` runs between
/// the steps (projection rounds while the log grows).
func mixedWorkload(_ h: ProjectionHarness, step: () async throws -> Void) async throws -> WorkloadOutcome {
    try await h.onboard(acme)
    try await h.onboard(globex)
    _ = try await h.commands.addSuppressionRule(
        tenant: acme, match: SuppressionMatch(titleContains: "Benign scanner"), reason: "the customer's own vulnerability scanner",
        expiresAt: nil, context: h.context())
    for batch in 0..<3 {
        try await h.ingest((0..<4).map { i in signal("a\(batch)-\(i)", device: "ws-\(i + 1)") })
        try await h.ingest([signal("g\(batch)", device: "srv-\(batch)")], tenant: globex)
        try await step()
    }
    try await h.ingest([signal("benign-1", device: "ws-9", title: "Benign scanner sweep")])
    // 23:30 UTC is 00:30 the next day in Amsterdam.
    h.time.set(t0.addingTimeInterval(13.5 * 3600))
    try await h.ingest([
        signal("a0-0", device: "ws-1", status: "inProgress"),  // updated
        signal("a0-1", device: "ws-2"),  // duplicate: no event
        signal("late-1", device: "ws-5", severity: "medium"),
    ])
    try await step()

    // Triage: confirm every incident but the last, which is dismissed.
    let incidents = try await h.openedIncidents()
    let queries = QueryService(store: h.store)
    var confirmedDevices: [(DeviceID, IncidentID)] = []
    for (index, (id, _)) in incidents.enumerated() {
        if index == incidents.count - 1 && incidents.count > 1 {
            _ = try await h.commands.dismissIncident(
                tenant: acme, incident: id, classification: .falsePositive, reason: "test device", context: h.context())
        } else {
            _ = try await h.commands.confirmIncident(tenant: acme, incident: id, priority: .p2, summary: "ransomware", context: h.context())
            let (incident, _) = try await queries.incident(tenant: acme, id)!
            for device in incident.devices where !confirmedDevices.contains(where: { $0.0 == device }) {
                confirmedDevices.append((device, id))
            }
        }
        try await step()
    }
    precondition(confirmedDevices.count >= 3, "the workload needs three devices in confirmed incidents")
    let (d1, i1) = confirmedDevices[0], (d2, i2) = confirmedDevices[1], (d3, i3) = confirmedDevices[2]
    for (device, incident, type) in [(d1, i1, IsolationType.full), (d2, i2, .selective), (d3, i3, .full)] {
        _ = try await h.commands.isolateDevice(
            tenant: acme, device: device, incident: incident, type: type, comment: "encrypting shares", context: h.context())
    }
    try await step()
    try await h.edrReports(.deviceIsolated(DeviceIsolated(deviceID: d1, incidentID: i1, isolatedAt: h.time.now(), edrActionID: "edr-1")))
    try await h.edrReports(
        .deviceIsolationFailed(DeviceIsolationFailed(deviceID: d2, incidentID: i2, reason: "device offline", failedAt: h.time.now(), edrActionID: "edr-2")))
    try await h.edrReports(.deviceIsolated(DeviceIsolated(deviceID: d3, incidentID: i3, isolatedAt: h.time.now(), edrActionID: "edr-3")))
    try await step()
    h.time.advance(by: 600)
    _ = try await h.commands.releaseDevice(tenant: acme, device: d1, reason: "threat cleaned up", context: h.context())
    try await h.edrReports(.deviceReleased(DeviceReleased(deviceID: d1, releasedAt: h.time.now(), edrActionID: "edr-4")))
    _ = try await h.commands.isolateDevice(
        tenant: acme, device: d2, incident: i2, type: .full, comment: "second attempt", context: h.context())
    _ = try await h.commands.releaseDevice(tenant: acme, device: d3, reason: "reimaged", context: h.context())
    try await step()
    // The SOC finds two confirmed incidents to be one attack.
    if confirmedDevices.count > 3 {
        _ = try await h.commands.mergeIncident(
            tenant: acme, incident: confirmedDevices[3].1, into: i3, reason: "one intruder on both machines", context: h.context())
        try await step()
    }
    return WorkloadOutcome(released: d1, pendingAgain: d2, releasePending: d3, isolationIncident: i1)
}
