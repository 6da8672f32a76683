import Foundation
import MDRDomain
@testable import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// The latencies `/metrics` reports from the shared tables (so across instances): notification delivery, from when
/// a notification was due to its delivery, over the last hour's deliveries.
@Suite("Operational latencies")
struct OperationalLatencyTests {
    @Test func deliveryLatencyIsTakenFromTheLastHoursDeliveriesPerChannel() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let now = Date(timeIntervalSince1970: 1_796_000_000)
            // Webhooks delivered 1, 2, …, 10 s after they were due (one to three attempts); one e-mail 30 s late; one
            // webhook delivered two hours ago and one still pending: neither counts.
            var rows: [(String, String, Double, Double, Int, String)] = (1...10).map { ("w\($0)", "webhook", -600, Double($0), 1 + $0 % 3, "delivered") }
            rows.append(("e1", "email", -300, 30, 1, "delivered"))
            rows.append(("old", "webhook", -7200, 5, 1, "delivered"))
            rows.append(("pending", "webhook", -60, 0, 2, "pending"))
            for (id, channel, dueOffset, late, attempts, status) in rows {
                let due = now.addingTimeInterval(dueOffset)
                let delivered: Date? = status == "delivered" ? due.addingTimeInterval(late) : nil
                try await db.client.query(
                    """
                    INSERT INTO notification_outbox (notification_id, tenant_id, cause_position, subject, recipient, channel, address,
                        payload, occurred_at, send_at, status, attempts, next_attempt_at, delivered_at)
                    VALUES (\(id), 'acme-bv', 1, 'incident.confirmed', 'dynamic', \(channel), 'https://hooks.example/x', '{}',
                        \(due), \(due), \(status), \(attempts), \(due), \(delivered))
                    """, logger: TestDatabase.logger)
            }
            let latency = try await NotificationOutbox(database: db).deliveryLatency(now: now)
            #expect(latency.map(\.channel) == ["email", "webhook"])
            let webhook = try #require(latency.last)
            #expect(webhook.delivered == 10 && webhook.attempts == (1...10).reduce(0) { $0 + 1 + $1 % 3 })
            #expect(abs(webhook.p50 - 5.5) < 0.001 && abs(webhook.p99 - 9.91) < 0.001)
            #expect(latency.first?.delivered == 1 && latency.first?.p99 == 30)
        }
    }
}
