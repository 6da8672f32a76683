import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore
import MDRTestSupport
import Testing

/// The device-isolation view reads the responder's outcomes as `DeviceDecider` does.
@Suite struct DeviceIsolationResponderEventsTests {
    @Test func anIsolationDuringAPendingReleaseKeepsItPendingAndAFailedReleaseShowsTheDeviceIsolated() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            let ws = DeviceID(rawValue: "ws-0042")!
            try await h.onboard(acme)
            try await h.ingest([Fixtures.signal(alert: "a-1", device: "ws-0042")])
            let incident = try #require(try await h.openedIncidents().first?.0)
            _ = try await h.commands.confirmIncident(tenant: acme, incident: incident, priority: .p1, summary: "ransomware", context: h.context())
            _ = try await h.commands.isolateDevice(
                tenant: acme, device: ws, incident: incident, type: .full, comment: "contain", context: h.context())
            _ = try await h.commands.releaseDevice(tenant: acme, device: ws, reason: "false alarm", context: h.context())
            try await h.runner.drain()
            #expect(try await h.views.device(tenant: acme, device: ws)?.state == .releasePending)

            // Read on a page of its own: the stored release_pending stays.
            try await h.edrReports(.deviceIsolated(DeviceIsolated(deviceID: ws, incidentID: incident, isolatedAt: h.time.now(), edrActionID: "a-1")))
            try await h.runner.drain()
            #expect(try await h.views.device(tenant: acme, device: ws)?.state == .releasePending)

            try await h.edrReports(
                .deviceReleaseFailed(DeviceReleaseFailed(deviceID: ws, reason: "Defender reported the action Failed", failedAt: h.time.now(), edrActionID: "a-2")))
            try await h.runner.drain()
            #expect(try await h.views.device(tenant: acme, device: ws)?.state == .isolated)

            // A rebuild reads it all on one page and gives the same rows.
            let live = try await h.snapshot()
            try await h.runner.rebuild("device-isolation")
            #expect(try await h.snapshot() == live)
            #expect(try await h.views.device(tenant: acme, device: ws)?.state == .isolated)
        }
    }
}
