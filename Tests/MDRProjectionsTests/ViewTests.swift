import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore
import MDRTestSupport
import Testing

@Suite("Views")
struct ViewTests {
    @Test func theIncidentsViewAgreesWithTheIncidentStreams() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db, pageSize: 3)
            let outcome = try await mixedWorkload(h) { try await h.runner.runOnce() }
            try await h.runner.drain()
            let queries = QueryService(store: h.store)
            let page = try await h.views.incidents(tenants: [acme], limit: 500)
            let opened = try await h.openedIncidents()
            #expect(page.incidents.count == opened.count)
            #expect(page.next == nil)
            for row in page.incidents {
                let (incident, _) = try #require(try await queries.incident(tenant: acme, row.id))
                #expect(row.status == incident.status)
                #expect(row.priority == (incident.priority ?? incident.candidatePriority))
                #expect(row.candidatePriority == incident.candidatePriority)
                #expect(row.severity == incident.highestSeverity)
                #expect(row.devices == incident.devices)
                #expect(row.users == incident.entities.users.sorted())
                #expect(row.sources == incident.sources.sorted { $0.rawValue < $1.rawValue })
                #expect(row.signalCount == incident.signals.count)
                #expect(row.openedAt == incident.openedAt)
                #expect(row.confirmedAt == incident.confirmedAt && row.confirmedBy == incident.confirmedBy)
                #expect(row.closedAt == incident.closedAt && row.closedBy == incident.closedBy && row.dismissal == incident.dismissal)
                let detail = try #require(try await h.views.incident(tenant: acme, id: row.id))
                #expect(detail.signals.map(\.id) == incident.signals)
            }
            #expect(page.incidents.contains { $0.status == .dismissed })
            #expect(page.incidents.contains { $0.status == .confirmed })

            // The timeline of the incident a device was isolated for: its own events, then the isolation and release.
            let detail = try #require(try await h.views.incident(tenant: acme, id: outcome.isolationIncident))
            let types = detail.timeline.map(\.type)
            #expect(types.first == IncidentOpened.eventType)
            #expect(types.contains(IncidentConfirmed.eventType))
            let deviceEntries = detail.timeline.filter { $0.device == outcome.released }.map(\.type)
            #expect(
                deviceEntries == [DeviceIsolationRequested.eventType, DeviceIsolated.eventType, DeviceReleaseRequested.eventType, DeviceReleased.eventType])
            #expect(detail.timeline.map(\.position) == detail.timeline.map(\.position).sorted())
            #expect(try await h.views.incident(tenant: globex, id: outcome.isolationIncident) == nil)
        }
    }

    @Test func incidentsAreFilteredAndPagedAcrossTenants() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            try await h.onboard(globex)
            for i in 0..<5 {
                h.time.advance(by: 60)
                try await h.ingest([signal("a\(i)", device: "ws-\(i)")])
                try await h.ingest([signal("g\(i)", device: "srv-\(i)")], tenant: globex)
            }
            _ = try await h.openedIncidents(acme)
            _ = try await h.openedIncidents(globex)
            try await h.runner.drain()

            // Every page of 3, newest first, across both tenants, without repeats or gaps.
            var seen: [IncidentSummary] = []
            var cursor: IncidentCursor? = nil
            repeat {
                let page = try await h.views.incidents(tenants: nil, limit: 3, after: cursor)
                seen += page.incidents
                cursor = page.next
                if let c = cursor { #expect(IncidentCursor(c.description) == c) }
            } while cursor != nil
            #expect(seen.count == 10)
            #expect(Set(seen.map(\.id)).count == 10)
            #expect(seen.map(\.openedAt) == seen.map(\.openedAt).sorted(by: >))

            let byDevice = try await h.views.incidents(tenants: nil, filter: IncidentFilter(device: DeviceID(rawValue: "srv-2")!))
            #expect(byDevice.incidents.map(\.tenant) == [globex])
            let byUser = try await h.views.incidents(tenants: nil, filter: IncidentFilter(user: "ws-3@acme.example"))
            #expect(byUser.incidents.map { $0.devices.map(\.rawValue) } == [["ws-3"]])
            let scoped = try await h.views.incidents(tenants: [acme], filter: IncidentFilter(status: .open))
            #expect(scoped.incidents.count == 5 && scoped.incidents.allSatisfy { $0.tenant == acme })
            #expect(try await h.views.incidents(tenants: [acme], filter: IncidentFilter(status: .confirmed)).incidents.isEmpty)
            let window = try await h.views.incidents(
                tenants: [acme], filter: IncidentFilter(from: t0.addingTimeInterval(120), to: t0.addingTimeInterval(240)))
            #expect(window.incidents.count == 2)
            let candidate = try #require(seen.first?.priority)
            #expect(
                try await h.views.incidents(tenants: nil, filter: IncidentFilter(priority: candidate)).incidents.count
                    == seen.filter { $0.priority == candidate }.count)
        }
    }

    @Test func signalStatisticsCountPerAmsterdamDaySourceAndOutcome() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            _ = try await mixedWorkload(h) {}
            try await h.runner.drain()
            let rows = try await h.views.signalStatistics(tenant: acme, from: CalendarDate("2026-11-01")!, to: CalendarDate("2026-12-31")!)
            let counts = Dictionary(uniqueKeysWithValues: rows.map { ("\($0.day) \($0.source.rawValue) \($0.outcome.rawValue)", $0.signals) })
            // 12 new signals and one suppressed on Sunday; at 00:30 Amsterdam time (23:30 UTC) one update and one new
            // signal on Monday; the duplicate is not counted.
            #expect(
                counts == [
                    "2026-11-29 endpoint accepted": 12, "2026-11-29 endpoint suppressed": 1, "2026-11-30 endpoint updated": 1,
                    "2026-11-30 endpoint accepted": 1,
                ])
            #expect(try await h.views.signalStatistics(tenant: globex, from: CalendarDate("2026-11-29")!, to: CalendarDate("2026-11-29")!).map(\.signals) == [3])
        }
    }

    @Test func aDeviceHistorySaysWhoWhenWhyAndWhichIncident() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db, pageSize: 4)
            let outcome = try await mixedWorkload(h) { try await h.runner.runOnce() }
            try await h.runner.drain()
            let history = try await h.views.deviceHistory(tenant: acme, device: outcome.released)
            #expect(history.map(\.state) == [.pending, .isolated, .releasePending, .released])
            #expect(history.allSatisfy { $0.incidentID == outcome.isolationIncident })
            #expect(history[0].actor == Fixtures.soc.id && history[0].note == "encrypting shares" && history[0].isolationType == .full)
            #expect(history[1].actor == "system:edr" && history[1].edrActionID == "edr-1")
            #expect(history[2].note == "threat cleaned up")
            let failed = try await h.views.deviceHistory(tenant: acme, device: outcome.pendingAgain)
            #expect(failed.map(\.state) == [.pending, .failed, .pending])
            #expect(failed[1].note == "device offline")
            #expect(try await h.views.devices(tenant: acme, state: .releasePending).map(\.deviceID) == [outcome.releasePending])
            #expect(try await h.views.devices(tenant: globex).allSatisfy { $0.state == .none })
            #expect(try await h.views.deviceHistory(tenant: globex, device: outcome.released).isEmpty)
        }
    }
}
