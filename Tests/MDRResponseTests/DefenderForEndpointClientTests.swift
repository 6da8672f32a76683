import AsyncHTTPClient
import Foundation
import MDRDemo
import MDRResponse
import Testing

@Suite("Defender for Endpoint connector against a local Defender")
struct DefenderForEndpointClientTests {
    let defender = FakeDefender()
    let clock = ManualClock()

    func client(port: Int, secret: String? = nil, configuration: DefenderForEndpointClient.Configuration = .init())
        -> DefenderForEndpointClient
    {
        let clock = clock
        return DefenderForEndpointClient(
            credentials: defender.credentials(port: port, clientSecret: secret), httpClient: .shared,
            configuration: configuration, now: { clock.now }, sleep: { clock.sleep($0) })
    }

    @Test func isolationSucceedsEndToEndWithPolling() async throws {
        try await defender.run { port in
            let client = client(port: port)
            let submission = try await client.isolate(
                machine: "1e5bc9d7e413ddd7902c2932e418702b84d0cc07", type: .selective,
                comment: "MDR incident 42: ransomware", idempotencyKey: "incident-42/isolate")
            let id = try #require(submission.actionID)
            let clock = clock
            let outcome = try await client.poll(
                id, every: .seconds(5), until: clock.now + 600, now: { clock.now }, sleep: { clock.sleep($0) })
            #expect(outcome == .finished(.succeeded))
            // Created Pending; the first status call sees InProgress, the second (one interval later) Succeeded.
            #expect(clock.sleeps == [.seconds(5)])
            #expect(defender.apiRequests.count == 3)

            let token = try #require(defender.tokenRequests.first?.form)
            #expect(token["grant_type"] == "client_credentials")
            #expect(token["client_id"] == defender.clientID)
            #expect(token["scope"] == "https://api.securitycenter.microsoft.com/.default")
            #expect(defender.tokenRequests.first?.path == "/\(defender.tenantID)/oauth2/v2.0/token")
            #expect(defender.tokenRequests.count == 1)  // cached for the status calls

            let post = try #require(defender.apiRequests.first)
            #expect(post.method == "POST")
            #expect(post.path == "/api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07/isolate")
            #expect(post.json == ["Comment": "MDR incident 42: ransomware", "IsolationType": "Selective"])
            #expect(post.contentType == "application/json")
            #expect(defender.apiRequests.allSatisfy { $0.authorization == "Bearer token-1" })
            #expect(defender.apiRequests.dropFirst().allSatisfy { $0.path == "/api/machineactions/\(id)" })
        }
    }

    @Test func releaseAndStopAndQuarantineSendTheDocumentedBodies() async throws {
        try await defender.run { port in
            let client = client(port: port)
            _ = try await client.release(machine: "m1", comment: "cleaned", idempotencyKey: "r1")
            _ = try await client.stopAndQuarantineFile(
                machine: "m1", sha1: "87662bc3d60e4200ceaf7aae249d1c343f4b83c9", comment: "ransomware binary",
                idempotencyKey: "q1")
            let requests = defender.apiRequests
            #expect(requests.map(\.path) == ["/api/machines/m1/unisolate", "/api/machines/m1/StopAndQuarantineFile"])
            #expect(requests[0].json == ["Comment": "cleaned"])
            #expect(requests[1].json == ["Comment": "ransomware binary", "Sha1": "87662bc3d60e4200ceaf7aae249d1c343f4b83c9"])
        }
    }

    @Test func anActionAlreadyInProgressIsIdempotent() async throws {
        try await defender.run { port in
            let client = client(port: port)
            defender.inject(.alreadyInProgress)
            let first = try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k1")
            #expect(first == .alreadyInProgress)
            // The same key does not call Defender again.
            let again = try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k1")
            #expect(again == .alreadyInProgress)
            #expect(defender.apiRequests.count == 1)
        }
    }

    @Test func theSameIdempotencyKeyReturnsTheFirstActionWithoutASecondCall() async throws {
        try await defender.run { port in
            let client = client(port: port)
            let first = try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k")
            let second = try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k")
            #expect(first == second)
            #expect(first.actionID != nil)
            #expect(defender.apiRequests.count == 1)
        }
    }

    @Test func tooManyRequestsWaitsOutRetryAfterThenRetries() async throws {
        try await defender.run { port in
            let client = client(port: port)
            defender.inject(.tooManyRequests(retryAfter: 1))
            let submission = try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k")
            #expect(submission.actionID != nil)
            #expect(clock.sleeps == [.seconds(1)])
            #expect(defender.apiRequests.count == 2)
        }
    }

    @Test func aRetryAfterLongerThanAllowedIsReportedNotWaited() async throws {
        try await defender.run { port in
            let client = client(port: port, configuration: .init(maximumRetryAfter: .seconds(10)))
            defender.inject(.tooManyRequests(retryAfter: 120))
            let error = await #expect(throws: EDRError.self) {
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k")
            }
            #expect(error?.code == .rateLimited)
            #expect(error?.retryAfter == .seconds(120))
            #expect(clock.sleeps.isEmpty)
        }
    }

    @Test func anExpiredTokenIsRefreshedOnceAndTheCallRetried() async throws {
        try await defender.run { port in
            let client = client(port: port)
            let id = try #require(
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k").actionID)
            defender.expireTokens()
            #expect(try await client.actionStatus(id) == .inProgress)
            #expect(defender.tokenRequests.count == 2)
            #expect(defender.apiRequests.map(\.authorization) == ["Bearer token-1", "Bearer token-1", "Bearer token-2"])
        }
    }

    @Test func aSecond401AfterRefreshIsUnauthorized() async throws {
        try await defender.run { port in
            let client = client(port: port)
            defender.inject(.unauthorized, .unauthorized)
            let error = await #expect(throws: EDRError.self) {
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k")
            }
            #expect(error?.code == .unauthorized)
            #expect(defender.tokenRequests.count == 2)
            #expect(defender.apiRequests.count == 2)
        }
    }

    @Test func theTokenIsRenewedShortlyBeforeItExpires() async throws {
        try await defender.run { port in
            let client = client(port: port)
            _ = try await client.release(machine: "m1", comment: "c", idempotencyKey: "a")
            clock.advance(by: 3599 - 300 - 1)
            _ = try await client.release(machine: "m1", comment: "c", idempotencyKey: "b")
            #expect(defender.tokenRequests.count == 1)
            clock.advance(by: 2)
            _ = try await client.release(machine: "m1", comment: "c", idempotencyKey: "c")
            #expect(defender.tokenRequests.count == 2)
        }
    }

    @Test(arguments: [
        ([EDRActionStatus.pending, .inProgress, .failed], EDRActionStatus.failed),
        ([.pending, .inProgress, .timeOut], .timeOut),
        ([.pending, .cancelled], .cancelled),
    ])
    func aFailedOrTimedOutActionIsReported(script: [EDRActionStatus], final: EDRActionStatus) async throws {
        try await defender.run { port in
            let client = client(port: port)
            defender.driveNewActions(through: script)
            let id = try #require(
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k").actionID)
            let clock = clock
            let outcome = try await client.poll(
                id, every: .seconds(10), until: clock.now + 600, now: { clock.now }, sleep: { clock.sleep($0) })
            #expect(outcome == .finished(final))
        }
    }

    @Test func pollingStopsAtTheDeadlineWithTheLastStatus() async throws {
        try await defender.run { port in
            let client = client(port: port)
            defender.driveNewActions(through: [.pending, .inProgress])
            let id = try #require(
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k").actionID)
            let clock = clock
            let outcome = try await client.poll(
                id, every: .seconds(10), until: clock.now + 30, now: { clock.now }, sleep: { clock.sleep($0) })
            #expect(outcome == .deadlineReached(last: .inProgress))
            #expect(clock.sleeps.count == 3)
        }
    }

    @Test func pollingRidesOutAServerErrorBetweenTicks() async throws {
        try await defender.run { port in
            let client = client(port: port)
            let id = try #require(
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k").actionID)
            defender.inject(.serverError)
            let clock = clock
            let outcome = try await client.poll(
                id, every: .seconds(5), until: clock.now + 600, now: { clock.now }, sleep: { clock.sleep($0) })
            #expect(outcome == .finished(.succeeded))
        }
    }

    @Test func aServerErrorIsUnavailable() async throws {
        try await defender.run { port in
            let client = client(port: port)
            defender.inject(.serverError)
            let error = await #expect(throws: EDRError.self) {
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k")
            }
            #expect(error?.code == .unavailable)
            #expect(error?.httpStatus == 500)
            #expect(error?.isTransient == true)
        }
    }

    @Test func anUnknownMachineIsMachineNotFound() async throws {
        try await defender.run { port in
            let error = await #expect(throws: EDRError.self) {
                try await client(port: port).isolate(machine: "unknown-1", type: .full, comment: "c", idempotencyKey: "k")
            }
            #expect(error?.code == .machineNotFound)
        }
    }

    @Test func aSlowDefenderTimesOut() async throws {
        try await defender.run { port in
            // Only API calls are slow, not the token endpoint; the margin keeps a loaded machine from timing out early.
            let client = client(port: port, configuration: .init(requestTimeout: .seconds(1)))
            defender.answerSlowly(after: .seconds(2))
            let error = await #expect(throws: EDRError.self) {
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k")
            }
            #expect(error?.code == .timeout)
        }
    }

    @Test func theRateLimiterRefusesThe101stCallInAMinute() async throws {
        try await defender.run { port in
            let client = client(port: port)
            let id = try #require(
                try await client.isolate(machine: "m1", type: .full, comment: "c", idempotencyKey: "k").actionID)
            for _ in 1...99 { _ = try await client.actionStatus(id) }
            let error = await #expect(throws: EDRError.self) { try await client.actionStatus(id) }
            #expect(error?.code == .rateLimited)
            #expect(error?.httpStatus == nil)  // refused locally: Defender never saw it
            #expect(defender.apiRequests.count == 100)
            clock.advance(by: 0.6)  // one token refills every 0.6 s
            _ = try await client.actionStatus(id)
            #expect(defender.apiRequests.count == 101)
        }
    }

    @Test func secretsNeverAppearInErrorDescriptions() async throws {
        let wrongSecret = "Wr0ng~secret-that-must-not-leak"
        try await defender.run { port in
            let error = await #expect(throws: EDRError.self) {
                try await client(port: port, secret: wrongSecret).isolate(
                    machine: "m1", type: .full, comment: "c", idempotencyKey: "k")
            }
            let described = try #require(error).description + String(reflecting: try #require(error))
            #expect(error?.code == .unauthorized)
            #expect(!described.contains(wrongSecret))
            #expect(defender.tokenRequests.first?.form?["client_secret"] == wrongSecret)  // it was sent, in the body only

            let credentials = defender.credentials(port: port)
            #expect(!"\(credentials)".contains(defender.clientSecret))
            #expect(!String(reflecting: credentials).contains(defender.clientSecret))
        }
        // Nothing listening: the transport error must not carry the secret either.
        let closed = DefenderCredentials(
            baseURL: "http://127.0.0.1:9", authority: "http://127.0.0.1:9", tenantID: "t", clientID: "c",
            clientSecret: wrongSecret)
        // A refused connection is retried by the connection pool until the deadline: keep the deadline short.
        let unreachable = DefenderForEndpointClient(
            credentials: closed, httpClient: .shared, configuration: .init(requestTimeout: .milliseconds(300)))
        let error = await #expect(throws: EDRError.self) {
            try await unreachable.release(machine: "m1", comment: "c", idempotencyKey: "k")
        }
        #expect(error?.isTransient == true)
        #expect(!String(reflecting: try #require(error)).contains(wrongSecret))
    }
}

@Suite struct RateLimiterTests {
    @Test func aFullBucketAllowsCapacityCallsThenRefusesUntilRefilled() {
        var limiter = RateLimiter(capacity: 100, per: 60)
        let start = Date(timeIntervalSince1970: 0)
        for _ in 1...100 { #expect(limiter.acquire(at: start) == nil) }
        let wait = limiter.acquire(at: start)
        #expect(wait != nil && abs(wait! - 0.6) < 1e-9)
        #expect(limiter.acquire(at: start + 0.5) != nil)
        #expect(limiter.acquire(at: start + 0.6) == nil)
        #expect(limiter.acquire(at: start + 60.6) == nil)  // refills to capacity, not beyond
        for _ in 1...99 { #expect(limiter.acquire(at: start + 60.6) == nil) }
        #expect(limiter.acquire(at: start + 60.6) != nil)
    }
}
