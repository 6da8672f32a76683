import AsyncHTTPClient
import Foundation
import MDRNotify
import Testing

struct WebhookClassificationTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func onlyTwoHundredsAreDelivered() {
        for status in [200, 201, 202, 204, 299] { #expect(WebhookChannel.classify(status: status, retryAfter: nil, now: now) == .delivered) }
        for status in [100, 301, 302, 304, 400, 401, 404, 500, 502] {
            #expect(WebhookChannel.classify(status: status, retryAfter: "5", now: now) == .failed(.status(status)))
        }
    }

    @Test func goneDisablesTheEndpoint() {
        #expect(WebhookChannel.classify(status: 410, retryAfter: nil, now: now) == .disabled)
    }

    @Test func retryAfterIsHonouredOn429And503InSecondsOrAsHTTPDate() {
        #expect(WebhookChannel.classify(status: 429, retryAfter: "120", now: now) == .retryAfter(.seconds(120)))
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        #expect(WebhookChannel.classify(status: 503, retryAfter: "Tue, 14 Nov 2023 22:15:20 GMT", now: now) == .retryAfter(.seconds(120)))
        #expect(WebhookChannel.classify(status: 503, retryAfter: "Tue, 14 Nov 2023 22:00:00 GMT", now: now) == .retryAfter(.zero))
        #expect(WebhookChannel.classify(status: 429, retryAfter: nil, now: now) == .failed(.status(429)))
        #expect(WebhookChannel.classify(status: 503, retryAfter: "soon", now: now) == .failed(.status(503)))
        #expect(WebhookChannel.classify(status: 429, retryAfter: "-1", now: now) == .failed(.status(429)))
    }
}

/// The channel against a real receiver on loopback that verifies the signatures.
struct WebhookChannelLoopbackTests {
    let secret = WebhookSecret(bytes: Array("a-test-secret-of-32-bytes-length".utf8))!
    /// Generous: tests run in parallel on two cores, and a timeout here would be the machine, not the channel.
    let channel = WebhookChannel(timeout: .seconds(10))

    func notification(_ id: String = "ntf_" + UUID().uuidString) -> WebhookNotification {
        WebhookNotification(id: id, body: Data(#"{"type":"incident.confirmed"}"#.utf8), secrets: [secret])
    }

    @Test func twoHundredIsDeliveredSignedAsJSON() async throws {
        let receiver = WebhookReceiver(secrets: [secret])
        let sent = notification()
        let outcome = try await withLoopbackReceiver(receiver) { url in await channel.deliver(sent, to: url) }
        #expect(outcome == .delivered)
        let received = await receiver.received
        #expect(received.count == 1)
        #expect(received.first?.id == sent.id)
        #expect(received.first?.contentType == "application/json")
        #expect(received.first?.body == sent.body)
        #expect(received.first?.verification == nil)
    }

    @Test func aReceiverWithOnlyTheNewSecretAcceptsDuringRotation() async throws {
        let newSecret = WebhookSecret(bytes: Array(repeating: UInt8(1), count: 32))!
        let receiver = WebhookReceiver(secrets: [newSecret])
        var sent = notification()
        sent.secrets = [secret, newSecret]
        let outcome = try await withLoopbackReceiver(receiver) { url in await channel.deliver(sent, to: url) }
        #expect(outcome == .delivered)
        #expect(await receiver.received.first?.verification == nil)
    }

    @Test func aWrongSecretIsRefusedByTheReceiver() async throws {
        let receiver = WebhookReceiver(secrets: [WebhookSecret(bytes: Array(repeating: UInt8(2), count: 32))!])
        let outcome = try await withLoopbackReceiver(receiver) { url in await channel.deliver(notification(), to: url) }
        #expect(outcome == .failed(.status(401)))
        #expect(await receiver.received.first?.verification?.code == .noMatchingSignature)
    }

    @Test(arguments: [
        (WebhookReceiver.Answer.status(500), WebhookOutcome.failed(.status(500))),
        (.status(410), .disabled),
        (.status(429, retryAfter: "1"), .retryAfter(.seconds(1))),
        (.status(503, retryAfter: "7"), .retryAfter(.seconds(7))),
        (.status(503), .failed(.status(503))),
        (.status(302), .failed(.status(302))),
    ])
    func answersAreClassified(answer: WebhookReceiver.Answer, expected: WebhookOutcome) async throws {
        let receiver = WebhookReceiver(secrets: [secret], script: [answer])
        let outcome = try await withLoopbackReceiver(receiver) { url in await channel.deliver(notification(), to: url) }
        #expect(outcome == expected)
        #expect(await receiver.received.count == 1)
    }

    @Test func aHangingReceiverTimesOut() async throws {
        let receiver = WebhookReceiver(secrets: [secret], script: [.hang])
        // Long enough for the request to reach the receiver on a loaded machine, short enough to be a timeout.
        let quick = WebhookChannel(timeout: .seconds(2))
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = try await withLoopbackReceiver(receiver) { url in await quick.deliver(notification(), to: url) }
        #expect(outcome == .failed(.timeout))
        // The receiver never answers: ending at all is the timeout's doing. The bound only has to be far below "for
        // ever" (starting and stopping the receiver takes seconds on a loaded machine).
        #expect(clock.now - start < .seconds(60))
        #expect(await receiver.received.count == 1)
    }

    @Test func aClosedPortIsUnreachable() async throws {
        // Start a receiver, learn its port, stop it: nothing listens there any more.
        let url = try await withLoopbackReceiver(WebhookReceiver(secrets: [secret])) { url in url }
        let outcome = await channel.deliver(notification(), to: url)
        guard case .failed(let failure) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        // AsyncHTTPClient keeps trying to connect until the attempt's deadline, then reports the last connect error.
        guard case .unreachable(let error) = failure else {
            Issue.record("expected unreachable, got \(failure)")
            return
        }
        #expect(error.localizedCaseInsensitiveContains("refused"))
    }
}

/// Retrying with the policy against a receiver that is down for a while (sleeps injected: the test does not wait).
struct WebhookRetryTests {
    let secret = WebhookSecret(bytes: Array("another-test-secret-of-32-bytes!".utf8))!
    /// Generous: tests run in parallel on two cores, and a timeout here would be the machine, not the channel.
    let channel = WebhookChannel(timeout: .seconds(10))
    let policy = RetryPolicy(maxAttempts: 8, baseDelay: .seconds(1), maxDelay: .seconds(60))

    actor SleepLog {
        private(set) var delays: [Duration] = []
        func append(_ delay: Duration) -> Int {
            delays.append(delay)
            return delays.count
        }
    }

    @Test func downForAWhileThenBackDeliversOnceWithOneWebhookID() async throws {
        let sent = WebhookNotification(id: "ntf_down_then_back", body: Data(#"{"type":"sla.breached"}"#.utf8), secrets: [secret])
        // The receiver's port, closed for the first three attempts; once back it answers 500 once, then 200.
        let url = try await withLoopbackReceiver(WebhookReceiver(secrets: [secret])) { url in url }
        let port = Int(url.split(separator: ":").last!.split(separator: "/").first!)!
        let receiver = WebhookReceiver(secrets: [secret], script: [.status(500)])
        let (startRequests, startRequested) = AsyncStream.makeStream(of: Void.self)
        let (upEvents, up) = AsyncStream.makeStream(of: Void.self)
        let (doneEvents, done) = AsyncStream.makeStream(of: Void.self)
        let log = SleepLog()

        let result = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in startRequests { break }
                try await withLoopbackReceiver(receiver, port: port) { _ in
                    up.yield()
                    up.finish()
                    for await _ in doneEvents { break }
                }
            }
            var generator = SplitMix64(seed: 7)
            let result = try await channel.deliver(sent, to: url, policy: policy, generator: &generator) { delay in
                if await log.append(delay) == 3 {
                    startRequested.yield()
                    startRequested.finish()
                    for await _ in upEvents { break }
                }
            }
            done.finish()
            try await group.waitForAll()
            return result
        }

        #expect(result.outcome == .delivered)
        #expect(result.attempts == 5)
        let received = await receiver.received
        #expect(received.count == 2)
        #expect(received.allSatisfy { $0.id == sent.id && $0.verification == nil })
        #expect(await receiver.deliveredCount == 1)
        // The waits are the policy's, drawn from the same seed.
        var expected = SplitMix64(seed: 7)
        #expect(await log.delays == (1...4).map { policy.delay(afterAttempt: $0, using: &expected)! })
    }

    @Test func retryAfterFromTheServerIsTheFloorOfTheWait() async throws {
        let receiver = WebhookReceiver(secrets: [secret], script: [.status(429, retryAfter: "1"), .status(503, retryAfter: "30")])
        let log = SleepLog()
        let sent = WebhookNotification(id: "ntf_throttled", body: Data("{}".utf8), secrets: [secret])
        let result = try await withLoopbackReceiver(receiver) { url in
            var generator = SplitMix64(seed: 11)
            return try await channel.deliver(sent, to: url, policy: policy, generator: &generator) { _ = await log.append($0) }
        }
        #expect(result.outcome == .delivered)
        #expect(result.attempts == 3)
        let delays = await log.delays
        #expect(delays.count == 2)
        #expect(delays[0] >= .seconds(1) && delays[0] <= policy.ceiling(afterAttempt: 1))
        #expect(delays[1] == .seconds(30))
        #expect(await receiver.received.map(\.id) == Array(repeating: sent.id, count: 3))
    }

    @Test func goneStopsAtOnceAndPersistentFailureStopsAfterTheLastAttempt() async throws {
        let gone = WebhookReceiver(secrets: [secret], script: [.status(410)])
        let log = SleepLog()
        let sent = WebhookNotification(id: "ntf_gone", body: Data("{}".utf8), secrets: [secret])
        let goneResult = try await withLoopbackReceiver(gone) { url in
            var generator = SplitMix64(seed: 1)
            return try await channel.deliver(sent, to: url, policy: policy, generator: &generator) { _ = await log.append($0) }
        }
        #expect(goneResult.outcome == .disabled)
        #expect(goneResult.attempts == 1)
        #expect(await log.delays.isEmpty)

        let failing = WebhookReceiver(secrets: [secret], script: Array(repeating: .status(500), count: 10))
        let threeTries = RetryPolicy(maxAttempts: 3, baseDelay: .seconds(1), maxDelay: .seconds(60))
        let failingResult = try await withLoopbackReceiver(failing) { url in
            var generator = SplitMix64(seed: 1)
            return try await channel.deliver(sent, to: url, policy: threeTries, generator: &generator) { _ = await log.append($0) }
        }
        #expect(failingResult.outcome == .failed(.status(500)))
        #expect(failingResult.attempts == 3)
        #expect(await log.delays.count == 2)
        #expect(await failing.received.count == 3)
    }
}
