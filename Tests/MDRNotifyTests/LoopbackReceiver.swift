import Foundation
import HTTPTypes
import Hummingbird
import MDRNotify
import NIOCore

/// A real webhook receiver for tests: verifies Standard Webhooks signatures and answers per a script, one entry per
/// request (after the script, 200).
actor WebhookReceiver {
    /// How to answer one request.
    enum Answer: Sendable {
        case status(Int, retryAfter: String? = nil)
        /// Do not answer until the test is over (the sender must time out).
        case hang
    }

    /// One request as received.
    struct Received: Sendable {
        var id: String?
        var contentType: String?
        var body: Data
        var verification: WebhookVerificationError?
        var answered: Int?
    }

    let secrets: [WebhookSecret]
    private var script: [Answer]
    private(set) var received: [Received] = []
    private var released = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(secrets: [WebhookSecret], script: [Answer] = []) {
        self.secrets = secrets
        self.script = script
    }

    /// Requests answered 2xx.
    var deliveredCount: Int { received.filter { ($0.answered ?? 0) / 100 == 2 }.count }

    func handle(id: String?, timestamp: String?, signature: String?, contentType: String?, body: Data) async -> Answer {
        var record = Received(id: id, contentType: contentType, body: body)
        do {
            try StandardWebhooks.verify(
                id: id, timestamp: timestamp, signatures: signature, body: body, secrets: secrets, now: Date())
        } catch {
            record.verification = error
        }
        let answer: Answer
        if record.verification != nil {
            answer = .status(401)
        } else if script.isEmpty {
            answer = .status(200)
        } else {
            answer = script.removeFirst()
        }
        if case .status(let code, _) = answer { record.answered = code }
        received.append(record)
        return answer
    }

    func waitForRelease() async {
        if released { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        released = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }

    nonisolated func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let answer = await self.handle(
                id: request.headers[HTTPField.Name("webhook-id")!],
                timestamp: request.headers[HTTPField.Name("webhook-timestamp")!],
                signature: request.headers[HTTPField.Name("webhook-signature")!],
                contentType: request.headers[.contentType],
                body: Data(body.readableBytesView))
            switch answer {
            case .status(let code, let retryAfter):
                var headers = HTTPFields()
                if let retryAfter { headers[.retryAfter] = retryAfter }
                return Response(status: .init(code: code), headers: headers)
            case .hang:
                await self.waitForRelease()
                return Response(status: .ok)
            }
        }
        return router
    }
}

struct ReceiverDidNotStart: Error {}

/// Runs `receiver` on 127.0.0.1 (`port` 0: any free port) while `body` runs with its URL; then stops it, so its port is
/// closed again.
func withLoopbackReceiver<T: Sendable>(
    _ receiver: WebhookReceiver, port: Int = 0, _ body: (String) async throws -> T
) async throws -> T {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: receiver.router(),
        configuration: .init(address: .hostname("127.0.0.1", port: port)),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        }
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else { throw ReceiverDidNotStart() }
        do {
            let result = try await body("http://127.0.0.1:\(bound)/hook")
            await receiver.release()
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            await receiver.release()
            group.cancelAll()
            throw error
        }
    }
}

/// SplitMix64: a small seeded generator, so jittered delays are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
