import Foundation
import MDRResponse
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// EDR action latency for `/metrics`: from the request to the recorded outcome, per action and Defender's final
/// status, over the last hour (read from `response_actions`, so across instances).
@Suite("Response statistics")
struct ResponseStatisticsTests {
    @Test func actionLatencyIsPerActionAndOutcomeOverTheLastHour() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let now = Date(timeIntervalSince1970: 1_796_000_000)
            // Isolations that succeeded after 20 and 40 s, one that failed after 90 s, a release never submitted (5 s); an
            // isolation done two hours ago and one still in progress do not count.
            let rows: [(String, Double, Double, String, String?)] = [
                ("isolate", -600, 20, "done", "Succeeded"), ("isolate", -500, 40, "done", "Succeeded"), ("isolate", -400, 90, "done", "Failed"),
                ("release", -300, 5, "done", nil), ("isolate", -7300, 10, "done", "Succeeded"), ("isolate", -60, 0, "submitted", "InProgress"),
            ]
            for (action, requestedOffset, took, status, edr) in rows {
                let requested = now.addingTimeInterval(requestedOffset)
                try await db.client.query(
                    """
                    INSERT INTO response_actions (tenant_id, request_event_id, position, action, device_id, comment, requested_at, status,
                        edr_status, next_attempt_at, deadline, updated_at)
                    VALUES ('acme-bv', \(UUID()), 1, \(action), 'ws-1', 'test', \(requested), \(status), \(edr), \(requested),
                        \(requested.addingTimeInterval(600)), \(requested.addingTimeInterval(took)))
                    """, logger: TestDatabase.logger)
            }
            let latency = try await ResponseStatistics.actionLatency(database: db, now: now)
            #expect(latency.map { "\($0.action)/\($0.outcome)/\($0.count)" } == ["isolate/Failed/1", "isolate/Succeeded/2", "release/NotSubmitted/1"])
            let succeeded = try #require(latency.first { $0.outcome == "Succeeded" })
            #expect(abs(succeeded.p50 - 30) < 0.001 && abs(succeeded.p99 - 39.8) < 0.001)
        }
    }
}
