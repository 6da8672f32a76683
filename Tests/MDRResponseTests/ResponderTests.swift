import AsyncHTTPClient
import Foundation
import MDRApplication
import MDRDemo
import MDRDomain
@testable import MDRResponse
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

private let acme = TenantID(rawValue: "acme")!
/// A device id as Graph alerts carry it: Defender's `mdeDeviceId`.
private let mdeDevice = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
private let t0 = Timestamp.parse("2026-11-29T10:00:00Z")!

/// A tenant with a confirmed incident, a local Defender, and responders on a manual clock.
private struct Harness {
    let database: Database
    let store: EventStore
    let commands: CommandService
    let time: ManualTime
    let defender: FakeDefender
    let port: Int

    init(_ database: Database, defender: FakeDefender, port: Int) {
        self.database = database
        store = EventStore(database: database)
        time = ManualTime(t0)
        commands = CommandService(store: store, time: time)
        self.defender = defender
        self.port = port
    }

    var context: CommandContext { CommandContext(principal: Fixtures.soc) }

    /// A fresh responder, with clients of its own (a restarted instance remembers nothing).
    func responder(timeout: Duration = .seconds(600)) -> Responder {
        let time = time
        let connectors = DefenderConnectors(
            store: EDRConnectionStore(database: database), httpClient: .shared, now: { time.now() }, sleep: { _ in })
        return Responder(
            store: store, connectors: connectors, time: time,
            configuration: .init(statusInterval: .seconds(10), actionTimeout: timeout), logger: TestDatabase.logger)
    }

    /// Onboards acme (consent on file), connects its Defender (unless told not to), and confirms an incident about `device`.
    func confirmedIncident(device: String = mdeDevice, connect: Bool = true) async throws -> IncidentID {
        _ = try await commands.onboardTenant(Fixtures.onboard(acme.rawValue, at: t0), context: CommandContext(principal: Fixtures.dynamic))
        if connect { try await EDRConnectionStore(database: database).set(tenant: acme, credentials: defender.credentials(port: port)) }
        _ = try await commands.ingestNativeSignals(
            tenant: acme, body: Fixtures.signalBatch([Fixtures.signal(alert: "a-1", device: device, severity: "high")]), context: context)
        try await TenantPipeline([ProcessManager(CorrelationProcessor())], store: store, logger: TestDatabase.logger).drain()
        var incident: IncidentID?
        for e in try await store.readLog(tenant: acme, after: 0, limit: 1000, types: [IncidentOpened.eventType]) {
            if case .incidentOpened(let opened) = try e.decoded() { incident = opened.incidentID }
        }
        let id = try #require(incident)
        _ = try await commands.confirmIncident(tenant: acme, incident: id, priority: .p1, summary: "ransomware", context: context)
        return id
    }

    func isolate(_ device: String = mdeDevice, incident: IncidentID) async throws {
        _ = try await commands.isolateDevice(
            tenant: acme, device: DeviceID(rawValue: device)!, incident: incident, type: .full, comment: "ransomware, P1", context: context)
    }

    /// The planner's part, as the pipeline runs it in `mdr serve`: requests in the log become the responder's rows.
    /// Returns how many requests it planned.
    @discardableResult
    func plan(by responder: Responder? = nil) async throws -> Int {
        func rows() async throws -> Int {
            for try await n in try await database.client.query("SELECT count(*) FROM response_actions", logger: TestDatabase.logger).decode(Int64.self) {
                return Int(n)
            }
            return 0
        }
        let before = try await rows()
        try await TenantPipeline([ProcessManager((responder ?? self.responder()).planner)], store: store, logger: TestDatabase.logger).drain()
        return try await rows() - before
    }

    /// A round as `mdr serve` runs one: the pipeline plans new requests, then the responder works on the due ones.
    @discardableResult
    func round(_ responder: Responder) async throws -> Responder.Round {
        try await plan(by: responder)
        return try await responder.runOnce()
    }

    /// Rounds of `responder`, ten seconds apart, until the request's outcome is in the log (at most `rounds`).
    func settle(_ responders: [Responder], rounds: Int = 10, step: TimeInterval = 10) async throws {
        for _ in 0..<rounds {
            for responder in responders { try await round(responder) }
            if try await responders[0].nextDue() == nil { return }
            time.advance(by: step)
        }
    }

    func events(_ types: [String]) async throws -> [(RecordedEvent, DomainEvent)] {
        try await store.readLog(tenant: acme, after: 0, limit: 10_000, types: types).map { ($0, try $0.decoded()) }
    }

    func submitted() async throws -> [EDRActionSubmitted] {
        try await events([EDRActionSubmitted.eventType]).compactMap { if case .edrActionSubmitted(let e) = $0.1 { e } else { nil } }
    }

    func isolated() async throws -> [DeviceIsolated] {
        try await events([DeviceIsolated.eventType]).compactMap { if case .deviceIsolated(let e) = $0.1 { e } else { nil } }
    }

    func isolationFailures() async throws -> [DeviceIsolationFailed] {
        try await events([DeviceIsolationFailed.eventType]).compactMap { if case .deviceIsolationFailed(let e) = $0.1 { e } else { nil } }
    }

    func deviceState(_ device: String = mdeDevice) async throws -> IsolationState? {
        let events = try await store.readStream(tenant: acme, .device(DeviceID(rawValue: device)!)).map { try $0.decoded() }
        return DeviceDecider.fold(events).device?.state
    }

    var isolateCalls: [FakeDefender.Recorded] { defender.apiRequests.filter { $0.method == "POST" && $0.path.hasSuffix("/isolate") } }
}

/// Runs `body` with a fresh database and a local Defender.
private func scenario(_ body: @Sendable @escaping (Harness) async throws -> Void) async throws {
    let defender = FakeDefender()
    try await TestDatabase.withDatabase { db, _ in
        try await defender.run { port in try await body(Harness(db, defender: defender, port: port)) }
    }
}

@Suite("Responder: isolation requests carried out through Defender")
struct ResponderTests {
    @Test func aConfirmedIncidentsIsolationIsSubmittedThenReportedIsolated() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            let responder = h.responder()

            #expect(try await h.plan() == 1)
            let first = try await responder.runOnce()
            #expect(first.submitted == 1 && first.finished == 0)
            let submitted = try #require(try await h.submitted().first)
            let actionID = try #require(submitted.edrActionID)
            #expect(submitted.action == .isolate && submitted.incidentID == incident && submitted.deviceID.rawValue == mdeDevice)
            #expect(try await h.isolated().isEmpty, "submitted is not isolated")
            #expect(try await h.deviceState() == .pending)

            try await h.settle([responder])
            let isolated = try #require(try await h.isolated().first)
            #expect(isolated.edrActionID == actionID && isolated.incidentID == incident)
            #expect(try await h.deviceState() == .isolated)

            // Submitted before the outcome, both as the responder, caused by the request.
            let log = try await h.events([DeviceIsolationRequested.eventType, EDRActionSubmitted.eventType, DeviceIsolated.eventType])
            #expect(log.map(\.0.type) == [DeviceIsolationRequested.eventType, EDRActionSubmitted.eventType, DeviceIsolated.eventType])
            #expect(log.dropFirst().allSatisfy { $0.0.metadata.actor == "system:responder" })
            #expect(log.dropFirst().allSatisfy { $0.0.metadata.causationID == log[0].0.eventID.uuidString.lowercased() })
            #expect(submitted.requestEventID == log[0].0.eventID)
            #expect(log[1].0.eventID == Responder.submittedEventID(tenant: acme, request: log[0].0.eventID))

            let post = try #require(h.isolateCalls.first)
            #expect(post.path == "/api/machines/\(mdeDevice)/isolate")
            // The request's id rides in the comment: a worker that takes the request over finds the action by it.
            let marker = "[mdr request \(log[0].0.eventID.uuidString.lowercased())]"
            #expect(post.json == ["Comment": "MDR incident \(incident): ransomware, P1 \(marker)", "IsolationType": "Full"])
            #expect(h.isolateCalls.count == 1)
            // Nothing more to do, however often it runs.
            h.time.advance(by: 3600)
            #expect(try await h.round(responder) == Responder.Round())
        }
    }

    @Test func aFailedActionIsReportedAsIsolationFailed() async throws {
        try await scenario { h in
            h.defender.driveNewActions(through: [.pending, .failed])
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            try await h.settle([h.responder()])
            let failure = try #require(try await h.isolationFailures().first)
            #expect(failure.reason.contains("Failed"))
            #expect(failure.edrActionID == (try await h.submitted().first?.edrActionID))
            #expect(try await h.isolated().isEmpty)
            #expect(try await h.deviceState() == .failed)
        }
    }

    @Test func anActionWithoutAFinalStatusBeforeTheDeadlineFails() async throws {
        try await scenario { h in
            h.defender.driveNewActions(through: [.pending])
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            let responder = h.responder(timeout: .seconds(60))
            try await h.round(responder)
            h.time.advance(by: 30)
            try await h.round(responder)
            #expect(try await h.isolationFailures().isEmpty, "not yet at the deadline")
            try await h.settle([responder], rounds: 5, step: 20)
            let failure = try #require(try await h.isolationFailures().first)
            #expect(failure.reason.hasPrefix("TimeOut"))
            #expect(failure.reason.contains("Pending"))
        }
    }

    @Test func anExpiredTokenIsRenewed() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            let responder = h.responder()
            try await h.round(responder)
            h.defender.expireTokens()
            try await h.settle([responder])
            #expect(try await h.isolated().count == 1)
            #expect(h.defender.tokenRequests.count == 2)
        }
    }

    @Test func withoutAnEdrConnectionIsolationFailsWithAClearReason() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident(connect: false)
            try await h.isolate(incident: incident)
            try await h.round(h.responder())
            let failure = try #require(try await h.isolationFailures().first)
            #expect(failure.reason.contains("no EDR connection for tenant 'acme'"))
            #expect(failure.reason.contains("mdr edr set"))
            #expect(h.defender.requests.isEmpty)
        }
    }

    @Test func refusedCredentialsFailTheIsolation() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident(connect: false)
            try await EDRConnectionStore(database: h.database).set(tenant: acme, credentials: h.defender.credentials(port: h.port, clientSecret: "wrong"))
            try await h.isolate(incident: incident)
            try await h.round(h.responder())
            let failure = try #require(try await h.isolationFailures().first)
            #expect(failure.reason.hasPrefix("credentials refused"))
            #expect(!failure.reason.contains("wrong"), "no secret in the reason")
        }
    }

    @Test func aRestartedResponderPollsTheSubmittedActionInsteadOfSubmittingAgain() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            try await h.round(h.responder())
            let submitted = try #require(try await h.submitted().first)
            // Killed: a new instance with fresh clients and no memory takes over.
            let restarted = h.responder()
            h.time.advance(by: 10)
            try await h.settle([restarted])
            #expect(h.isolateCalls.count == 1)
            #expect(try await h.submitted().count == 1)
            #expect(try await h.isolated().first?.edrActionID == submitted.edrActionID)
        }
    }

    @Test func aResponderWhoseLeaseRanOutRecordsNothing() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            try await h.plan()
            // A slow responder claims the request, then stalls past its lease (5 minutes).
            let slow = h.responder()
            let stalled = try #require(try await slow.claim().first)
            h.time.advance(by: 301)
            // Another takes the request over and carries it out.
            let other = h.responder()
            try await h.settle([other])
            #expect(try await h.isolated().count == 1)
            // The slow one wakes up and records what it did: nothing is written, the request stays done.
            try await slow.recordSubmitted(stalled, at: h.time.now())
            #expect(try await h.submitted().count == 1)
            var status = ""
            for try await value in try await h.database.client.query(
                "SELECT status FROM response_actions WHERE request_event_id = \(stalled.eventID)", logger: TestDatabase.logger
            ).decode(String.self) { status = value }
            #expect(status == "done")
        }
    }

    /// Killed between Defender's answer and `EDRActionSubmitted`: the worker that takes the request over when the lease
    /// runs out finds the action by the request's marker and adopts it. One action at Defender, and it is the one recorded.
    @Test func aSubmitterThatDiedBeforeRecordingIsAdoptedNotSubmittedAgain() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            try await h.plan()
            let dying = h.responder()
            let claimed = try #require(try await dying.claim().first)
            let connector = try #require(try await DefenderConnectors(store: EDRConnectionStore(database: h.database)).connector(for: acme))
            let submitted = try #require(try await dying.submitOrAdopt(claimed, with: connector, at: h.time.now()))
            let created = try #require(submitted.edrActionID)
            #expect(h.defender.actions.map(\.id) == [created])
            // Dead now: no event, no renewal. Before the lease runs out nobody takes the request.
            let survivor = h.responder()
            h.time.advance(by: 20)
            #expect(try await survivor.runOnce().claimed == 0)
            h.time.advance(by: 11)
            try await h.settle([survivor])
            #expect(h.isolateCalls.count == 1)
            #expect(h.defender.actions.count == 1)
            #expect(try await h.submitted().map(\.edrActionID) == [created])
            #expect(try await h.isolated().map(\.edrActionID) == [created])
            #expect(try await h.deviceState() == .isolated)
        }
    }

    /// Defender created the action but its answer was lost (a 500): the retry finds the action instead of creating a
    /// second one.
    @Test func anActionWhoseAnswerWasLostIsFoundNotSubmittedAgain() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            h.defender.loseAnswersOfNextActions(1)
            let responder = h.responder()
            try await h.round(responder)
            #expect(try await h.submitted().isEmpty, "a 500 is not a submission")
            #expect(h.defender.actions.count == 1)
            try await h.settle([responder])
            #expect(h.isolateCalls.count == 1)
            #expect(try await h.submitted().map(\.edrActionID) == [h.defender.actions[0].id])
            #expect(try await h.isolated().count == 1)
        }
    }

    /// An action of another request on the same machine (an earlier isolation, or one from the portal) is not adopted:
    /// only the request's own marker counts.
    @Test func anotherRequestsActionIsNotAdopted() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            let portal = h.defender.startAction(machine: mdeDevice, type: "Isolate", comment: "isolated by hand [mdr request 00000000-0000-0000-0000-000000000000]")
            h.defender.driveNewActions(through: [.pending, .inProgress, .succeeded])
            // The first attempt fails transiently after the intent is written, without creating anything.
            h.defender.inject(.serverError)
            let responder = h.responder()
            try await h.round(responder)
            try await h.settle([responder])
            #expect(h.defender.actions.count == 2)
            let recorded = try #require(try await h.submitted().first?.edrActionID)
            #expect(recorded != portal)
            #expect(try await h.isolated().count == 1)
        }
    }

    @Test func twoRespondersSideBySideSubmitOnce() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            let (a, b) = (h.responder(), h.responder())
            // Both find the request due at once, and Defender answers slowly: whoever claims first still holds it.
            #expect(try await h.plan() == 1)
            h.defender.answerSlowly(after: .milliseconds(300))
            async let first = a.runOnce()
            async let second = b.runOnce()
            let rounds = try await (first, second)
            #expect(rounds.0.claimed + rounds.1.claimed == 1)
            h.defender.answerSlowly(after: .zero)
            try await h.settle([a, b])
            #expect(h.isolateCalls.count == 1)
            #expect(try await h.submitted().count == 1)
            #expect(try await h.isolated().count == 1)
        }
    }

    @Test func aReleaseIsCarriedOutAfterTheIsolation() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            let responder = h.responder()
            // Requested while the isolation is still pending: carried out after it.
            try await h.round(responder)
            _ = try await h.commands.releaseDevice(tenant: acme, device: DeviceID(rawValue: mdeDevice)!, reason: "threat cleaned up", context: h.context)
            try await h.settle([responder], rounds: 20)
            let released = try await h.events([DeviceReleased.eventType])
            #expect(released.count == 1)
            let kinds = try await h.submitted().map(\.action)
            #expect(kinds == [.isolate, .release])
            #expect(try await h.deviceState() == .released)
            let posts = h.defender.apiRequests.filter { $0.method == "POST" }.map(\.path)
            #expect(posts == ["/api/machines/\(mdeDevice)/isolate", "/api/machines/\(mdeDevice)/unisolate"])
            let release = try #require(try await h.events([DeviceReleaseRequested.eventType]).first)
            #expect(
                h.defender.apiRequests.last { $0.path.hasSuffix("/unisolate") }?.json
                    == ["Comment": "MDR release: threat cleaned up [mdr request \(release.0.eventID.uuidString.lowercased())]"])
        }
    }

    @Test func aDeviceNamedByDnsIsLookedUpAndAnUnknownOneFails() async throws {
        try await scenario { h in
            h.defender.addMachine(id: mdeDevice, dnsName: "ws-0042.acme.local")
            let incident = try await h.confirmedIncident(device: "ws-0042.acme.local")
            try await h.isolate("ws-0042.acme.local", incident: incident)
            try await h.settle([h.responder()])
            #expect(h.isolateCalls.map(\.path) == ["/api/machines/\(mdeDevice)/isolate"])
            #expect(try await h.isolated().count == 1)
        }
        try await scenario { h in
            let incident = try await h.confirmedIncident(device: "ws-0099")
            try await h.isolate("ws-0099", incident: incident)
            try await h.round(h.responder())
            let failure = try #require(try await h.isolationFailures().first)
            #expect(failure.reason.hasPrefix("machine not found"))
            #expect(h.isolateCalls.isEmpty)
        }
    }

    @Test func anActionAlreadyInProgressIsAdopted() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            let running = h.defender.startAction(machine: mdeDevice, type: "Isolate")
            h.defender.inject(.alreadyInProgress)
            try await h.settle([h.responder()])
            #expect(try await h.submitted().first?.edrActionID == running)
            #expect(try await h.isolated().first?.edrActionID == running)
        }
    }

    @Test func transientErrorsAreRetriedWithBackOff() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            try await h.isolate(incident: incident)
            h.defender.inject(.serverError)
            let responder = h.responder()
            let round = try await h.round(responder)
            #expect(round.submitted == 0 && round.finished == 0)
            // Not before the back-off (5 s).
            h.time.advance(by: 2)
            #expect(try await h.round(responder).claimed == 0)
            try await h.settle([responder])
            #expect(h.isolateCalls.count == 2)
            #expect(try await h.submitted().count == 1)
            #expect(try await h.isolated().count == 1)
        }
    }

    @Test func aFileIsStoppedAndQuarantined() async throws {
        try await scenario { h in
            let incident = try await h.confirmedIncident()
            _ = try await h.commands.stopAndQuarantineFile(
                tenant: acme, device: DeviceID(rawValue: mdeDevice)!, incident: incident, sha1: "87662BC3D60E4200CEAF7AAE249D1C343F4B83C9",
                comment: "ransomware binary", context: h.context)
            try await h.settle([h.responder()])
            let done = try await h.events([FileQuarantined.eventType])
            guard case .fileQuarantined(let quarantined)? = done.first?.1 else {
                Issue.record("no FileQuarantined")
                return
            }
            #expect(quarantined.sha1 == "87662bc3d60e4200ceaf7aae249d1c343f4b83c9")
            #expect(quarantined.edrActionID != nil)
            let post = try #require(h.defender.apiRequests.first { $0.method == "POST" })
            #expect(post.path == "/api/machines/\(mdeDevice)/StopAndQuarantineFile")
            let request = try #require(try await h.events([FileQuarantineRequested.eventType]).first)
            #expect(
                post.json == [
                    "Comment": "MDR incident \(incident): ransomware binary [mdr request \(request.0.eventID.uuidString.lowercased())]",
                    "Sha1": "87662bc3d60e4200ceaf7aae249d1c343f4b83c9",
                ])
        }
    }
}
