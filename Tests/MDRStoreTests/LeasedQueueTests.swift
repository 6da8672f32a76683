import Foundation
import MDRApplication
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// `LeasedQueue`: short leases that a living worker renews while it works, and that free a dead worker's rows.
@Suite struct LeasedQueueTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    /// A queue table of its own, with two due rows.
    static func queue(_ database: Database) async throws -> LeasedQueue {
        try await database.client.query(
            "CREATE TABLE work (id int PRIMARY KEY, lease_token uuid, lease_until timestamptz)", logger: TestDatabase.logger)
        try await database.client.query("INSERT INTO work (id) VALUES (1), (2)", logger: TestDatabase.logger)
        return LeasedQueue(table: "work", key: ["id"], database: database)
    }

    static func claim(_ queue: LeasedQueue, at now: Date) async throws -> (UUID, [Int]) {
        let (lease, rows) = try await queue.claim(due: "true", order: "c.id", limit: 10, lease: .seconds(30), now: now, returning: "q.id")
        var ids: [Int] = []
        for try await id in rows.decode(Int.self) { ids.append(id) }
        return (lease.token, ids.sorted())
    }

    static func leaseUntil(_ database: Database, id: Int) async throws -> Date? {
        for try await until in try await database.client.query("SELECT lease_until FROM work WHERE id = \(id)", logger: TestDatabase.logger)
            .decode(Date?.self)
        {
            return until
        }
        return nil
    }

    @Test func aLivingWorkerKeepsItsRowsPastTheLeaseAndADeadOnesAreFreeAfterIt() async throws {
        try await TestDatabase.withDatabase { database, _ in
            let queue = try await Self.queue(database)
            let time = ManualTime(Self.t0)
            let (token, mine) = try await Self.claim(queue, at: time.now())
            #expect(mine == [1, 2])

            // Working for longer than the lease: the renewals keep both rows this worker's.
            try await queue.holding(token, for: .seconds(30), renewEvery: .milliseconds(20), now: { time.now() }) {
                for step in 1...3 {
                    time.advance(by: 25)
                    let renewed = time.now().addingTimeInterval(30)
                    let clock = ContinuousClock(), giveUp = clock.now + .seconds(60)
                    while try await Self.leaseUntil(database, id: 1) != renewed, clock.now < giveUp {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    #expect(try await Self.leaseUntil(database, id: 2) == renewed, "renewal \(step)")
                    #expect(try await Self.claim(queue, at: time.now().addingTimeInterval(29)).1.isEmpty, "taken while held, step \(step)")
                }
            }
            // Row 1 is settled (its lease cleared); row 2 stays claimed by a worker that then dies: no more renewals.
            try await database.client.query("UPDATE work SET lease_token = NULL, lease_until = NULL WHERE id = 1", logger: TestDatabase.logger)
            #expect(try await queue.renew(token, until: time.now().addingTimeInterval(30)) == 1, "only the row still held")
            #expect(try await Self.claim(queue, at: time.now().addingTimeInterval(29)).1 == [1])
            // Thirty seconds after the last renewal another worker takes it over.
            #expect(try await Self.claim(queue, at: time.now().addingTimeInterval(30)).1 == [2])
        }
    }
}
