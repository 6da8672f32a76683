import Foundation
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// A connection the server closes (a restart, `pg_terminate_backend`, a failover) must never stall the service.
///
/// PostgresNIO 1.33 sometimes never answers a query sent on a connection the server has already closed: neither
/// `close()` nor cancellation ends the wait (docs/decisions.md, "A closed connection can hang a query"). Here it happens
/// to about one query in six. `withDeadline` returns at its deadline all the same and abandons the stuck work; the pool
/// replaces the closed connection, so it keeps serving however many were abandoned.
@Suite("Closed connections")
struct ClosedConnectionTests {
    @Test func workOnAConnectionTheServerClosedEndsByItsDeadlineAndThePoolKeepsServing() async throws {
        try await TestDatabase.withDatabase { db, config in
            let clock = ContinuousClock()
            var slowest = Duration.zero
            for _ in 0..<40 {
                let started = clock.now
                do {
                    try await withDeadline(.milliseconds(500)) {
                        try await db.pool.withConnection { connection in
                            try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: TestDatabase.logger)
                            try await connection.query("SELECT 1", logger: TestDatabase.logger)
                        }
                    }
                } catch {
                    // Either the server's closing is noticed (an error at once) or the deadline ends the wait.
                }
                slowest = max(slowest, clock.now - started)
            }
            // Generous for a loaded machine; without the deadline a stuck query never returns at all.
            #expect(slowest < .seconds(30))
            // More connections were closed (and some abandoned) than the pool holds: it still answers, once the closed
            // connections it hands out first have failed at once (a caller's retry).
            #expect(config.maximumConnections < 40)
            var answer: Int? = nil
            for _ in 0..<50 where answer == nil {
                answer = try? await withDeadline(.seconds(3)) {
                    var value = 0
                    for try await n in try await db.client.query("SELECT 42", logger: TestDatabase.logger).decode(Int.self) { value = n }
                    return value
                }
            }
            #expect(answer == 42)
        }
    }

    @Test func theClientDoesNotHandOutAConnectionTheServerClosed() async throws {
        try await TestDatabase.withDatabase { db, _ in
            // Terminated backends go back to the pool closed; the next work is refused on such a connection (never sent),
            // and succeeds on a retry with another.
            for _ in 0..<10 {
                try? await db.client.withConnection { connection in
                    try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: TestDatabase.logger)
                }
            }
            // The pool learns of a closed connection from its channel, on an event loop that a loaded machine may run late:
            // until then it can hand the same closed connection out again. A caller retries after a pause, as the service's
            // loops do; each refusal must be one of the two that say "try again", never a hang.
            var answered = false
            for _ in 0..<300 where !answered {
                do {
                    try await withDeadline(.seconds(10)) {
                        try await db.client.withConnection { connection in
                            try await connection.query("SELECT 1", logger: TestDatabase.logger)
                        }
                    }
                    answered = true
                } catch {
                    #expect(error is ConnectionLost || error is PSQLError, "\(error)")
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(answered)
        }
    }
}
