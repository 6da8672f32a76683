import Foundation
import Testing

@testable import MDRDomain

@Suite("SlaBreached")
struct SlaBreachedTests {
    static let incident = Fixtures.incidentID(1)

    @Test func aBreachIsStoredInTheIncidentsStreamAndRoundTrips() throws {
        let event = DomainEvent.slaBreached(
            SlaBreached(
                incidentID: Self.incident, target: .contain, priority: .p2, sla: .b, deadline: Fixtures.time("2026-11-30T10:30:00.000Z"),
                breachedAt: Fixtures.time("2026-11-30T10:30:00.412Z"), policyVersion: "2026-11"))
        #expect(event.stream == .incident(Self.incident))
        #expect(event.type == "SlaBreached")
        let data = EventCodec.encode(event)
        #expect(
            String(decoding: data, as: UTF8.self)
                == #"{"breachedAt":"2026-11-30T10:30:00.412Z","deadline":"2026-11-30T10:30:00.000Z","#
                + #""incidentID":"00000000-0000-0000-0000-000000001001","policyVersion":"2026-11","priority":"P2","sla":"B","target":"contain"}"#)
        #expect(try EventCodec.decode(type: "SlaBreached", schemaVersion: 1, data: data) == event)
    }
}
