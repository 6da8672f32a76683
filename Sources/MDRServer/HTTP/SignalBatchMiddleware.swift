import Foundation
import HTTPTypes
import Hummingbird
import MDRApplication
import MDRDomain
import NIOCore

/// Serves JSON batches of Graph alerts — `POST /v1/tenants/{tenant}/signals/graph`, the high-volume path of the
/// Defender connectors — from the bytes as received, so a batch is parsed once, by the parser that judges each alert.
///
/// Why it exists: the generated route decodes a JSON body into free-form values before the handler sees it, and the
/// handler must encode them back into bytes for the parser. For batches of 500 Graph alerts that round trip took about
/// 40 % of the service's CPU in `ops/bench ingest` (perf), more than parsing and appending together. The operations,
/// their checks (authorization, headers, idempotency) and their answers are the same as the generated routes' and are
/// described by `openapi.yaml` as before; NDJSON and every other request go on to the generated router. (Native
/// batches stay on the generated route: its schema check refuses malformed batches as a whole, which the native
/// parser alone would judge per item.) The idempotency fingerprint of a JSON batch is the body as sent, as for NDJSON.
struct SignalBatchMiddleware<Context: RequestContext>: RouterMiddleware {
    let handler: APIHandler

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        typealias R = SignalBatchRoute
        guard request.method == .post, let (tenant, format) = R.route(request.uri.path), R.isJSON(request.headers[.contentType]) else {
            return try await next(request, context)
        }
        // `BodyLimitMiddleware` has already collected the body within the limit.
        let body = try await request.body.collect(upTo: .max)
        let outcome = try await handler.ingestBatch(
            format, tenant: tenant, body: Data(body.readableBytesView), idempotencyKey: request.headers[R.idempotencyKey],
            correlationID: request.headers[R.correlationID])
        let json = try R.encoder.encode(Components.Schemas.IngestReport(outcome.result))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if outcome.repeated { headers[R.idempotentReplayed] = "true" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

/// The routes `SignalBatchMiddleware` serves, and how it reads and answers them.
enum SignalBatchRoute {
    enum Format {
        case graph
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let correlationID = HTTPField.Name("X-Correlation-ID")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!

    /// The same output options as the generated routes (compact, sorted keys, milliseconds).
    static var encoder: JSONEncoder { JSONCoding.encoder() }

    /// `/v1/tenants/{tenant}/signals/graph`; a tenant segment with percent escapes is left to the generated router.
    static func route(_ path: String) -> (tenant: String, format: Format)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "v1", parts[2] == "tenants", parts[4] == "signals", parts[5] == "graph",
            !parts[3].contains("%")
        else { return nil }
        return (String(parts[3]), .graph)
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return media == "application/json"
    }
}

extension APIHandler {
    /// One JSON signal batch, as the generated `ingestGraphAlerts` would run it. The idempotency fingerprint is the
    /// body as received: a retry sends the same bytes.
    func ingestBatch(
        _ format: SignalBatchRoute.Format, tenant raw: String, body: Data, idempotencyKey: String?, correlationID: String?
    ) async throws -> CommandOutcome<IngestReport> {
        let (principal, tenant) = try authorize(.ingestSignals, tenant: raw)
        let context = try commandContext(principal, idempotencyKey: idempotencyKey, correlationID: correlationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            switch format {
            case .graph: try await commands.ingestGraphAlerts(tenant: tenant, body: body, context: context)
            }
        }
        services.metrics.recordIngest(format: "graph", outcome)
        return outcome
    }
}
