import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MDRNotify
import NIOCore
import ServiceLifecycle
import Synchronization

/// A loopback HTTP server standing in for the webhook endpoints of Dynamic and of a customer in `mdr demo`.
///
/// It checks every call as a real receiver must (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
/// `webhook-signature` over the raw body, with the endpoint's `whsec_` secrets), answers 204 to a verified call and
/// 401 to one that does not verify, and records both, so the demo can show what arrived and that it was signed.
public final class WebhookReceiver: Sendable {
    /// One call as it arrived.
    public struct Delivery: Sendable {
        /// The path the call was sent to (`/dynamic`, `/customer/<tenant>`).
        public var path: String
        /// The `webhook-id` header: the notification's id, the same on every retry.
        public var webhookID: String?
        /// The payload's `type` (`incident.confirmed`, `isolation.succeeded`, …).
        public var type: String?
        /// Whether a signature verified with the endpoint's secrets.
        public var verified: Bool
        /// Why the call did not verify.
        public var failure: String?
        public var receivedAt: Date
    }

    private let secrets: Mutex<[String: [WebhookSecret]]> = Mutex([:])
    private let received: Mutex<[Delivery]> = Mutex([])

    public init() {}

    /// Calls to `path` are verified with `secrets`; a path without secrets refuses every call.
    public func expect(path: String, secrets: [WebhookSecret]) {
        self.secrets.withLock { $0[path] = secrets }
    }

    /// Every call so far, in arrival order.
    public var deliveries: [Delivery] { received.withLock { $0 } }

    /// Runs the receiver on an ephemeral loopback port for the duration of `body`, which gets the port.
    public func run<T: Sendable>(_ body: @Sendable (_ port: Int) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/**") { request, _ in try await self.receive(request) }
        return try await LoopbackServer.run(router, name: "webhook receiver", body)
    }

    private func receive(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let bytes = Data(body.readableBytesView)
        let path = request.uri.path
        let id = request.headers[HTTPField.Name(StandardWebhooks.idHeader)!]
        var delivery = Delivery(path: path, webhookID: id, type: nil, verified: false, failure: nil, receivedAt: Date())
        do {
            try StandardWebhooks.verify(
                id: id, timestamp: request.headers[HTTPField.Name(StandardWebhooks.timestampHeader)!],
                signatures: request.headers[HTTPField.Name(StandardWebhooks.signatureHeader)!], body: bytes,
                secrets: secrets.withLock { $0[path] ?? [] }, now: Date())
            delivery.verified = true
            delivery.type = (try? JSONDecoder().decode(PayloadType.self, from: bytes))?.type
        } catch {
            delivery.failure = error.description
        }
        received.withLock { $0.append(delivery) }
        return Response(status: delivery.verified ? .noContent : .unauthorized)
    }

    private struct PayloadType: Decodable {
        var type: String
    }
}
