import Foundation
import MDRStore
import PostgresNIO

/// What the responder's work took, read from `response_actions` (so across instances), for `/metrics`.
public enum ResponseStatistics {
    /// EDR actions finished in the hour before `now`, per action and outcome (Defender's final status, or
    /// `NotSubmitted` when none was reached): how many, and the time from the request to the recorded outcome, p50 and
    /// p99 in seconds.
    public static func actionLatency(database: Database, now: Date) async throws
        -> [(action: String, outcome: String, count: Int, p50: Double, p99: Double)]
    {
        let rows = try await database.client.query(
            """
            SELECT action, coalesce(edr_status, 'NotSubmitted'), count(*)::int8,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - requested_at))::float8,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - requested_at))::float8
            FROM response_actions
            WHERE status = 'done' AND updated_at > \(now.addingTimeInterval(-3600)) AND updated_at <= \(now)
            GROUP BY 1, 2 ORDER BY 1, 2
            """, logger: database.logger)
        var result: [(action: String, outcome: String, count: Int, p50: Double, p99: Double)] = []
        for try await (action, outcome, count, p50, p99) in rows.decode((String, String, Int64, Double, Double).self) {
            result.append((action, outcome, Int(count), max(0, p50), max(0, p99)))
        }
        return result
    }
}
