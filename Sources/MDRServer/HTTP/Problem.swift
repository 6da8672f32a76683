import Foundation
import HTTPTypes
import Hummingbird
import MDRDomain
import MDRStore
import OpenAPIRuntime
import PostgresNIO

/// An HTTP problem (RFC 9457) with the service's stable `code`. Anything in request handling may throw one (or a
/// `DomainError`, or any other error); `ProblemMiddleware` renders it once, as `application/problem+json`.
struct Problem: Error, Sendable, Equatable {
    var status: HTTPResponse.Status
    var code: String
    /// What went wrong and what to do next. Never internal error text for a 5xx.
    var detail: String
    var headers: HTTPFields = [:]

    /// The JSON body.
    struct Body: Codable, Equatable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var code: String
    }

    var body: Body {
        Body(type: "urn:mdr:problem:\(code)", title: status.reasonPhrase, status: status.code, detail: detail, code: code)
    }

    static let contentType = "application/problem+json"

    func response() -> Response {
        var headers = self.headers
        headers[.contentType] = Self.contentType
        // A struct of strings and integers always encodes.
        let data = (try? JSONCoding.encoder().encode(body)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Problem {
    /// No usable bearer token. `invalidToken` when one was sent but is unknown, revoked or expired (RFC 6750 §3.1).
    static func unauthenticated(invalidToken: Bool) -> Problem {
        Problem(
            status: .unauthorized, code: "unauthenticated",
            detail: invalidToken
                ? "the bearer token is unknown, revoked or expired: ask for a new one (mdr token create)"
                : "send a bearer token: Authorization: Bearer mdr_…",
            headers: [.wwwAuthenticate: invalidToken ? #"Bearer realm="mdr", error="invalid_token""# : #"Bearer realm="mdr""#])
    }

    static func badRequest(_ detail: String) -> Problem {
        Problem(status: .badRequest, code: "bad_request", detail: detail)
    }

    static func payloadTooLarge(limit: Int) -> Problem {
        Problem(
            status: .contentTooLarge, code: "payload_too_large",
            detail: "the request body is larger than \(limit) bytes: split the batch into smaller requests")
    }

    /// Too many ingest requests from one token (`IngestRateLimitMiddleware`).
    static func rateLimited(retryAfter seconds: Int, limit: ServerConfiguration.IngestRateLimit) -> Problem {
        let rate = limit.requestsPerSecond.rounded() == limit.requestsPerSecond ? "\(Int(limit.requestsPerSecond))" : "\(limit.requestsPerSecond)"
        return Problem(
            status: .tooManyRequests, code: "rate_limited",
            detail: "this token sent more ingest requests than allowed (\(rate) a second, bursts of \(limit.burst)): "
                + "retry after \(seconds) s, or send fewer, larger batches",
            headers: [.retryAfter: "\(seconds)"])
    }

    /// The pipeline is more than the bound behind the tenant's log (`IngestAdmissionMiddleware`).
    static func ingestBackpressure(retryAfter seconds: Int, lag: Double, bound: Duration) -> Problem {
        Problem(
            status: .serviceUnavailable, code: "ingest_backpressure",
            detail: "signals of this tenant are being correlated \(String(format: "%.1f", lag)) s behind, more than the "
                + "\(bound.components.seconds) s allowed: nothing of this request was stored; send it again (same Idempotency-Key) "
                + "after \(seconds) s",
            headers: [.retryAfter: "\(seconds)"])
    }

    static let unavailable = Problem(
        status: .serviceUnavailable, code: "unavailable",
        detail: "the service cannot reach its database in time: retry later (with the same Idempotency-Key for a command)")

    static let databaseNotReady = Problem(status: .serviceUnavailable, code: "unavailable", detail: "the database does not answer")

    /// Background loops of this instance that have not completed a round within `bound` (stuck, or failing round after
    /// round: their log lines say why).
    static func workersStalled(_ beats: [WorkerHealth.Beat], bound: Duration) -> Problem {
        let named = beats.map { beat in
            beat.failuresInARow > 0 ? "\(beat.worker) (\(beat.failuresInARow) failed round(s) in a row)" : "\(beat.worker) (a round has not ended)"
        }
        return Problem(
            status: .serviceUnavailable, code: "worker_stalled",
            detail: "background work of this instance has not completed a round for over \(bound.components.seconds) s: \(named.joined(separator: ", ")); see its log")
    }

    static let internalError = Problem(
        status: .internalServerError, code: "internal_error",
        detail: "the service failed to handle the request; it has been logged: retry later or contact the operator")

    /// A refusal of the domain, with its status from its kind.
    init(_ error: DomainError) {
        let status: HTTPResponse.Status =
            switch error.kind {
            // The request is too large to be taken as a whole (RFC 9110 §15.5.14), whatever its bytes.
            case _ where error.code == .batchTooLarge: .contentTooLarge
            case .notFound: .notFound
            case .conflict: .conflict
            case .invalid: .unprocessableContent
            case .forbidden: .forbidden
            }
        self.init(status: status, code: error.code.rawValue, detail: error.message)
    }

    /// The problem to answer for any error thrown while handling a request.
    init(classifying error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let domain as DomainError:
            self.init(domain)
        case let server as OpenAPIRuntime.ServerError:
            self.init(server)
        case let decoding as DecodingError:
            self = .badRequest(Self.describe(decoding))
        case is DeadlineExceeded:
            self = .unavailable
        case let http as any HTTPResponseError:
            self.init(http)
        default:
            if Self.isDatabaseUnavailable(error) {
                self = .unavailable
            } else if Self.isUnstorableText(error) {
                self = .nulCharacter
            } else {
                self = .internalError
            }
        }
    }

    /// Text with the NUL character (`\u0000` in JSON), which PostgreSQL cannot store (found by ops/fuzz: it was a
    /// 500). Nothing of the request is stored.
    static let nulCharacter = Problem.badRequest("text must not contain the NUL character (\\u0000): remove it and send the request again")

    /// PostgreSQL refused a text it cannot store: `untranslatable_character` (22P05, `\u0000` in jsonb) or
    /// `character_not_in_repertoire` (22021, a NUL byte in text).
    static func isUnstorableText(_ error: any Error) -> Bool {
        switch error {
        case let e as PSQLError:
            guard e.code == .server, let state = e.serverInfo?[.sqlState] else { return false }
            return state == "22P05" || state == "22021"
        case let e as PostgresTransactionError:
            return [e.beginError, e.closureError, e.commitError].contains { $0.map(isUnstorableText) ?? false }
        default:
            return false
        }
    }

    /// The OpenAPI runtime wraps what a handler throws, and reports requests it cannot parse.
    private init(_ error: OpenAPIRuntime.ServerError) {
        switch error.underlyingError {
        case is Problem, is DomainError, is DeadlineExceeded:
            self.init(classifying: error.underlyingError)
        case let decoding as DecodingError where error.operationInput == nil && [.get, .head].contains(error.request.method):
            // A request without a body that could not be parsed: a parameter's value does not suit its type (the runtime
            // does not say which; the query's form is checked before, by QueryStringMiddleware).
            let part = error.request.path?.contains("?") == true ? "query or path" : "path"
            self = .badRequest("\(part): a parameter has a value it does not take (\(Self.describeValue(decoding))): see /openapi.yaml")
        case let decoding as DecodingError:
            self = .badRequest(Self.describe(decoding))
        default:
            let status = error.httpStatus
            if status.kind == .clientError {
                let code =
                    switch status {
                    case .notFound: "not_found"
                    case .unsupportedMediaType: "unsupported_media_type"
                    case .notAcceptable: "not_acceptable"
                    default: "bad_request"
                    }
                self.init(status: status, code: code, detail: error.causeDescription)
            } else {
                self.init(classifying: error.underlyingError)
            }
        }
    }

    /// Hummingbird's own errors: no route, wrong method, body too large.
    private init(_ error: any HTTPResponseError) {
        switch error.status {
        case .notFound:
            self.init(status: .notFound, code: "not_found", detail: "no such resource: see /openapi.yaml for the API")
        case .methodNotAllowed:
            self.init(status: .methodNotAllowed, code: "method_not_allowed", detail: "this resource does not support the method")
        case .contentTooLarge:
            self.init(status: .contentTooLarge, code: "payload_too_large", detail: "the request body is too large")
        case let status where status.kind == .clientError:
            self.init(status: status, code: "bad_request", detail: status.reasonPhrase)
        default:
            self = .internalError
        }
    }

    /// A client-readable account of what is wrong with a request body.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let parts = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return parts.isEmpty ? "body" : parts.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): is required"
        case .valueNotFound(_, let context):
            return "\(path(context.codingPath)): must not be null"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(Self.jsonName(of: type))"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "the body could not be read"
        }
    }

    /// What is wrong with one value, without a path (the URI decoder gives none).
    static func describeValue(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): "expected \(Self.jsonName(of: type))"
        case .dataCorrupted(let context), .valueNotFound(_, let context), .keyNotFound(_, let context): context.debugDescription
        @unknown default: "unreadable"
        }
    }

    private static func jsonName(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default: "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }

    /// Errors that mean the database cannot be reached (or is shutting down), rather than a bug of ours.
    static func isDatabaseUnavailable(_ error: any Error) -> Bool {
        switch error {
        case is DeadlineExceeded:
            return true
        case let e as PSQLError:
            switch e.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled,
                .sslUnsupported, .failedToAddSSLHandler:
                return true
            case .server:
                // Connection exceptions (08), insufficient resources (53), operator intervention (57: shutdown,
                // cancel), serialization failures and deadlocks (40): transient, worth a retry.
                let state = e.serverInfo?[.sqlState] ?? ""
                return ["08", "53", "57", "40"].contains(String(state.prefix(2)))
            default:
                return false
            }
        case let e as PostgresTransactionError:
            return [e.beginError, e.closureError, e.commitError, e.rollbackError].contains { $0.map(isDatabaseUnavailable) ?? false }
        default:
            return false
        }
    }
}
