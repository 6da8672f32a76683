import Foundation
import Logging
import MDRApplication
@testable import MDRConnectors
import MDRDemo
import MDRDomain
import MDRResponse
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// The Graph alerts connector against a local Graph (`GraphSimulator`) and a real database: pages, checkpoints,
/// updates, throttling, outages and token rotation, with a clock the tests move (no sleeps).
@Suite("Graph alerts connector")
struct GraphAlertPollerTests {
    static let tenant = TenantID(rawValue: "acme-bv")!
    static let start = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-29

    /// A connected, onboarded tenant, a poller on a manual clock, and the simulator on a loopback port.
    struct Setup: Sendable {
        let db: Database
        let store: GraphConnectionStore
        let poller: GraphAlertPoller
        let time: ManualTime
        let graph: GraphSimulator

        func count(_ type: String) async throws -> Int64 {
            var n: Int64 = -1
            for try await value in try await db.client.query(
                "SELECT count(*) FROM events WHERE tenant_id = 'acme-bv' AND type = \(type)", logger: TestDatabase.logger
            ).decode(Int64.self) { n = value }
            return n
        }

        var health: GraphConnectorHealth {
            get async throws { try #require(try await store.connection(tenant: GraphAlertPollerTests.tenant)).health }
        }
    }

    func withSetup(
        pagesPerRound: Int = 20, pageSize: Int = 100, roundBudget: Duration = .seconds(600), secret: String? = nil,
        _ body: @Sendable (Setup) async throws -> Void
    ) async throws {
        try await TestDatabase.withDatabase { db, _ in
            let time = ManualTime(Self.start)
            let commands = CommandService(store: EventStore(database: db), time: time)
            _ = try await commands.onboardTenant(Fixtures.onboard("acme-bv", at: Self.start), context: CommandContext(principal: Fixtures.dynamic))
            let graph = GraphSimulator()
            try await graph.run { port in
                let store = GraphConnectionStore(database: db)
                try await store.set(tenant: Self.tenant, credentials: graph.credentials(port: port, clientSecret: secret), now: Self.start)
                let poller = GraphAlertPoller(
                    store: store, commands: commands, time: time,
                    configuration: .init(pagesPerRound: pagesPerRound, roundBudget: roundBudget, client: .init(pageSize: pageSize)),
                    logger: TestDatabase.logger)
                try await body(Setup(db: db, store: store, poller: poller, time: time, graph: graph))
            }
        }
    }

    static func alerts(_ range: Range<Int>, updatedAt: Date, severity: String = "high") -> [GraphSimulator.Alert] {
        range.map {
            GraphSimulator.Alert(
                id: "da-\($0)", severity: severity, device: "ws-\($0 % 7)", createdDateTime: updatedAt.addingTimeInterval(-60),
                lastUpdateDateTime: updatedAt.addingTimeInterval(Double($0)))
        }
    }

    @Test func aSweepFollowsEveryPageIngestsEachAlertOnceAndMovesTheCheckpoint() async throws {
        try await withSetup(pagesPerRound: 2) { s in
            s.graph.put(Self.alerts(0..<250, updatedAt: Self.start.addingTimeInterval(-3600)))
            // Two pages this round (the page limit), the third next round: the sweep goes on from its next link.
            #expect(try await s.poller.runOnce() == 1)
            #expect(try await s.health.sweepInProgress)
            #expect(try await s.health.checkpoint == nil)
            #expect(try await s.poller.runOnce() == 1)
            #expect(try await s.count("SignalIngested") == 250)
            let health = try await s.health
            #expect(!health.sweepInProgress && health.failures == 0 && health.lastSuccessAt == Self.start)
            #expect(health.checkpoint == Self.start.addingTimeInterval(-3600 + 249))
            #expect(health.alertsIngested == 250)
            #expect(health.nextPollAt == Self.start.addingTimeInterval(60))
            // The first sweep of a new connection looks back a day; the pages after it are Graph's next links.
            let targets = s.graph.alertRequests.map(\.target)
            #expect(targets.count == 3)
            #expect(targets[0].contains("lastUpdateDateTime%20ge%20\(Timestamp.format(Self.start.addingTimeInterval(-86_400)))"))
            #expect(targets[1].contains("skiptoken=100") && targets[2].contains("skiptoken=200"))
            // Not due before the poll interval.
            #expect(try await s.poller.runOnce() == 0)
        }
    }

    @Test func theNextSweepOverlapsTheCheckpointAndTurnsChangedAlertsIntoUpdates() async throws {
        try await withSetup { s in
            s.graph.put(Self.alerts(0..<30, updatedAt: Self.start.addingTimeInterval(-600)))
            try await s.poller.runOnce()
            let checkpoint = try #require(try await s.health.checkpoint)
            // Three alerts change (resolved, lower severity), two are new, all updated after the checkpoint.
            s.time.advance(by: 61)
            s.graph.put(
                Self.alerts(0..<3, updatedAt: Self.start.addingTimeInterval(30), severity: "low")
                    + Self.alerts(30..<32, updatedAt: Self.start.addingTimeInterval(40)))
            #expect(try await s.poller.runOnce() == 1)
            #expect(try #require(s.graph.alertRequests.last).target.contains(Timestamp.format(checkpoint.addingTimeInterval(-300))))
            #expect(try await s.count("SignalIngested") == 32)
            #expect(try await s.count("SignalUpdated") == 3)
            // The overlap asked for alerts already in (duplicates: nothing appended for them).
            #expect(try await s.health.alertsIngested == 30 + 30 + 2)
        }
    }

    @Test func aThrottledPullWaitsForRetryAfterAndLosesNothing() async throws {
        try await withSetup { s in
            s.graph.put(Self.alerts(0..<10, updatedAt: Self.start.addingTimeInterval(-60)))
            s.graph.inject(.throttled(retryAfter: 120))
            #expect(try await s.poller.runOnce() == 1)
            var health = try await s.health
            #expect(health.lastError?.hasPrefix("throttled") == true && health.failures == 1)
            #expect(health.nextPollAt == Self.start.addingTimeInterval(120))
            #expect(try await s.count("SignalIngested") == 0)
            s.time.advance(by: 119)
            #expect(try await s.poller.runOnce() == 0)
            s.time.advance(by: 2)
            #expect(try await s.poller.runOnce() == 1)
            health = try await s.health
            #expect(health.failures == 0 && health.lastSuccessAt == Self.start.addingTimeInterval(121))
            #expect(try await s.count("SignalIngested") == 10)
        }
    }

    @Test func anOutageMidSweepResumesFromTheNextLinkAfterABackOff() async throws {
        try await withSetup(pagesPerRound: 1, pageSize: 100) { s in
            s.graph.put(Self.alerts(0..<150, updatedAt: Self.start.addingTimeInterval(-60)))
            try await s.poller.runOnce()
            #expect(try await s.count("SignalIngested") == 100)
            s.graph.inject(.unavailable)
            try await s.poller.runOnce()
            var health = try await s.health
            #expect(health.lastError == "unavailable: Graph answered HTTP 503" && health.sweepInProgress)
            #expect(health.nextPollAt == Self.start.addingTimeInterval(30))
            s.time.advance(by: 31)
            try await s.poller.runOnce()
            health = try await s.health
            #expect(!health.sweepInProgress && health.failures == 0)
            #expect(try await s.count("SignalIngested") == 150)
            // The resumed request is the next link, not a new sweep.
            #expect(try #require(s.graph.alertRequests.last).target.contains("skiptoken=100"))
        }
    }

    @Test func anExpiredOrRotatedTokenIsRenewedOnceAndThePullGoesOn() async throws {
        try await withSetup { s in
            s.graph.put(Self.alerts(0..<5, updatedAt: Self.start.addingTimeInterval(-60)))
            try await s.poller.runOnce()
            #expect(s.graph.tokenRequests.count == 1)
            s.graph.expireTokens()
            s.graph.put(Self.alerts(5..<7, updatedAt: Self.start.addingTimeInterval(10)))
            s.time.advance(by: 61)
            try await s.poller.runOnce()
            #expect(s.graph.tokenRequests.count == 2)
            #expect(try await s.count("SignalIngested") == 7)
            #expect(try await s.health.failures == 0)
            // A token close to its expiry is renewed before use, not after a refusal.
            s.graph.issueTokens(lifetime: 400)
            s.graph.expireTokens()
            s.time.advance(by: 61)
            try await s.poller.runOnce()
            #expect(s.graph.tokenRequests.count == 3)
            s.time.advance(by: 101)
            try await s.poller.runOnce()
            #expect(s.graph.tokenRequests.count == 4)
            #expect(s.graph.alertRequests.filter { $0.authorization == nil }.isEmpty)
        }
    }

    /// A round out of time gives back the connections it has not started: untouched, and free for the next round.
    @Test func aConnectionTheRoundHasNoTimeLeftForIsGivenBackUntouched() async throws {
        try await withSetup(roundBudget: .zero) { s in
            s.graph.put(Self.alerts(0..<3, updatedAt: Self.start))
            #expect(try await s.poller.runOnce() == 1)
            #expect(s.graph.requests.isEmpty)
            let health = try await s.health
            #expect(health.nextPollAt == Self.start && health.failures == 0 && health.lastSuccessAt == nil)
            // Not leased any more: claimed again at once.
            #expect(try await s.store.claimDue(now: Self.start, limit: 1, lease: .seconds(60)).1.count == 1)
        }
    }

    @Test func refusedCredentialsAreReportedWithoutTheSecret() async throws {
        try await withSetup(secret: "wrong-secret-value") { s in
            s.graph.put(Self.alerts(0..<3, updatedAt: Self.start))
            try await s.poller.runOnce()
            let connection = try #require(try await s.store.connection(tenant: Self.tenant))
            #expect(connection.health.lastError?.hasPrefix("unauthorized: the token endpoint refused the client credentials") == true)
            #expect(connection.health.nextPollAt == Self.start.addingTimeInterval(30))
            #expect(!"\(connection)".contains("wrong-secret-value") && !(connection.health.lastError ?? "").contains("wrong-secret-value"))
            #expect(s.graph.alertRequests.isEmpty)
            // The back-off doubles while the credentials stay wrong.
            s.time.advance(by: 31)
            try await s.poller.runOnce()
            #expect(try await s.health.nextPollAt == Self.start.addingTimeInterval(31 + 60))
        }
    }
}
