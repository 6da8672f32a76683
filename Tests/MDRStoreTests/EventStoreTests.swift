import Foundation
import MDRDomain
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

func event(_ stream: String, _ type: String = "TestEvent", data: String = #"{"n": 1}"#, id: UUID = UUID()) -> EventToAppend {
    EventToAppend(
        stream: StreamName(rawValue: stream), eventID: id, type: type, data: data,
        metadata: EventMetadata(actor: "test", actorName: "test", role: "soc"))
}

let acme = TenantID(rawValue: "acme")!
let globex = TenantID(rawValue: "globex")!

@Suite("Event store")
struct EventStoreTests {
    @Test func appendsHandOutGapFreePositionsPerTenantAndVersionsPerStream() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = EventStore(database: db)
            _ = try await store.append(tenant: acme, events: [event("a"), event("b"), event("a")])
            _ = try await store.append(tenant: globex, events: [event("a")])
            _ = try await store.append(tenant: acme, events: [event("b")])
            let log = try await store.readLog(tenant: acme, after: 0)
            #expect(log.map(\.position) == [1, 2, 3, 4])
            #expect(log.map(\.stream.rawValue) == ["a", "b", "a", "b"])
            #expect(log.map(\.version) == [1, 1, 2, 2])
            #expect(try await store.readLog(tenant: globex, after: 0).map(\.position) == [1])
            #expect(try await store.head(tenant: acme) == 4)
            let stream = try await store.readStream(tenant: acme, StreamName(rawValue: "a"))
            #expect(stream.map(\.position) == [1, 3])
            #expect(try await store.readLog(tenant: acme, after: 2, limit: 1).map(\.position) == [3])
        }
    }

    @Test func expectedVersionIsEnforcedForNoStreamExactAndAny() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = EventStore(database: db)
            let s = StreamName(rawValue: "s")
            _ = try await store.append(tenant: acme, events: [event("s")], expectations: [s: .noStream])
            await #expect(throws: StoreError.versionConflict(stream: "s", expected: 0, actual: 1)) {
                _ = try await store.append(tenant: acme, events: [event("s")], expectations: [s: .noStream])
            }
            _ = try await store.append(tenant: acme, events: [event("s")], expectations: [s: .exactly(1)])
            await #expect(throws: StoreError.versionConflict(stream: "s", expected: 1, actual: 2)) {
                _ = try await store.append(tenant: acme, events: [event("s")], expectations: [s: .exactly(1)])
            }
            _ = try await store.append(tenant: acme, events: [event("s")], expectations: [s: .any])
            #expect(try await store.readStream(tenant: acme, s).count == 3)
            // A condition on a stream that is not appended to.
            await #expect(throws: StoreError.versionConflict(stream: "s", expected: 2, actual: 3)) {
                _ = try await store.append(tenant: acme, events: [event("other")], expectations: [s: .exactly(2)])
            }
            #expect(try await store.readStream(tenant: acme, StreamName(rawValue: "other")).isEmpty)
            #expect(try await store.head(tenant: acme) == 3)
        }
    }

    @Test func fiftyConcurrentAppendsWithTheSameExpectedVersionLetExactlyOneWin() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = EventStore(database: db)
            let s = StreamName(rawValue: "incident:1")
            _ = try await store.append(tenant: acme, events: [event("incident:1")], expectations: [s: .noStream])
            let outcomes = await withTaskGroup(of: Result<Int64, any Error>.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        do {
                            let batch = [event("incident:1", data: #"{"writer": \#(i)}"#), event("incident:1", data: #"{"writer": \#(i)}"#)]
                            guard case .appended(let r) = try await store.append(tenant: acme, events: batch, expectations: [s: .exactly(1)]) else {
                                return .success(-1)
                            }
                            return .success(r.lastPosition)
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                var all: [Result<Int64, any Error>] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            let successes = outcomes.filter { if case .success = $0 { true } else { false } }
            let conflicts = outcomes.filter {
                if case .failure(let e) = $0, case StoreError.versionConflict = e { true } else { false }
            }
            #expect(successes.count == 1)
            #expect(conflicts.count == 49)
            let stream = try await store.readStream(tenant: acme, s)
            #expect(stream.map(\.version) == [1, 2, 3])
            // Both events of the winner, none of any loser: nothing partial.
            #expect(Set(stream.dropFirst().map(\.data)).count == 1)
            #expect(try await store.head(tenant: acme) == 3)
            #expect(try await store.readLog(tenant: acme, after: 0).map(\.position) == [1, 2, 3])
        }
    }

    @Test func aRepeatedCommandIDReturnsTheFirstOutcomeAndAppendsNothing() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = EventStore(database: db)
            let command = CommandRecord(id: "cmd-1", requestHash: Data([1]), result: Data(#"{"answer": 42}"#.utf8))
            guard case .appended(let first) = try await store.append(tenant: acme, events: [event("a"), event("a")], command: command) else {
                Issue.record("first append was not appended")
                return
            }
            let repeated = try await store.append(
                tenant: acme, events: [event("a")], command: CommandRecord(id: "cmd-1", requestHash: Data([1]), result: Data("{}".utf8)))
            guard case .repeated(let stored) = repeated else {
                Issue.record("repeat was appended")
                return
            }
            #expect(stored.firstPosition == first.firstPosition)
            #expect(stored.lastPosition == first.lastPosition)
            let result = try JSONSerialization.jsonObject(with: stored.result) as? [String: Int]
            #expect(result == ["answer": 42])
            #expect(try await store.head(tenant: acme) == 2)
            #expect(try await store.readLog(tenant: acme, after: 0).count == 2)
            // The same command id in another tenant is another command.
            guard case .appended = try await store.append(tenant: globex, events: [event("a")], command: command) else {
                Issue.record("command ids are per tenant")
                return
            }
        }
    }

    @Test func concurrentRepeatsOfOneCommandAppendOnce() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = EventStore(database: db)
            let appended = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let outcome = try await store.append(
                            tenant: acme, events: [event("a")], command: CommandRecord(id: "same", requestHash: nil, result: Data("{}".utf8)))
                        if case .appended = outcome { return true }
                        return false
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(appended == 1)
            #expect(try await store.head(tenant: acme) == 1)
        }
    }

    @Test func theLogIsAppendOnly() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = EventStore(database: db)
            _ = try await store.append(tenant: acme, events: [event("a")])
            await #expect(throws: (any Error).self) {
                try await db.client.query("UPDATE events SET data = '{}'", logger: TestDatabase.logger)
            }
            await #expect(throws: (any Error).self) {
                try await db.client.query("DELETE FROM events", logger: TestDatabase.logger)
            }
            #expect(try await store.readLog(tenant: acme, after: 0).count == 1)
        }
    }

    @Test func aSubscriberNeverSkipsAnEventThatCommitsLate() async throws {
        try await TestDatabase.withDatabase { db, config in
            let store = EventStore(database: db)
            let slowID = UUID(), fastID = UUID()
            // The slow writer: its own connection, a transaction that takes position 1 and holds it.
            let slow = try await TestDatabase.connect(config)
            try await slow.query("BEGIN", logger: TestDatabase.logger)
            try await slow.query(
                """
                SELECT * FROM mdr_append('acme', '{}', '{}', ARRAY['slow'], ARRAY[\(slowID)]::uuid[], ARRAY['TestEvent'], ARRAY[1],
                                         ARRAY['{"who": "slow"}'], ARRAY['{"actor": "test", "actorName": "test", "role": "soc"}'],
                                         NULL, NULL, NULL)
                """, logger: TestDatabase.logger)

            try await withThrowingTaskGroup(of: Void.self) { group in
                // The fast writer starts after the slow one and, on another connection, commits as soon as it can.
                group.addTask {
                    _ = try await store.append(tenant: acme, events: [event("fast", id: fastID)])
                }
                // The subscriber reads meanwhile.
                let received = Task {
                    var seen: [RecordedEvent] = []
                    for try await e in store.subscribe(tenant: acme, after: 0, pollInterval: .milliseconds(20)) {
                        seen.append(e)
                        if seen.count == 2 { break }
                    }
                    return seen
                }
                try await Task.sleep(for: .milliseconds(300))
                // Nothing is visible while position 1 is uncommitted, and the fast writer cannot overtake it.
                #expect(try await store.readLog(tenant: acme, after: 0).isEmpty)
                try await slow.query("COMMIT", logger: TestDatabase.logger)
                try await group.waitForAll()
                let seen = try await received.value
                #expect(seen.map(\.position) == [1, 2])
                #expect(seen.map(\.eventID) == [slowID, fastID])
            }
            try await slow.close()
        }
    }

    @Test func aSubscriberIsWokenByAnAppendWithoutWaitingForThePoll() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = EventStore(database: db)
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in store.subscribe(tenant: acme, after: 0, pollInterval: .seconds(30)) { return }
                }
                try await Task.sleep(for: .milliseconds(100))
                _ = try await store.append(tenant: acme, events: [event("a")])
                try await group.next()
                group.cancelAll()
            }
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }
}
