import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Why the demo stopped, in words that say what to look at.
public struct DemoError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The demo's HTTP client for the service's API: every step of the scenario goes through the public API with a
/// bearer token, as Dynamic's tools, the SOC platform and a connector would.
struct DemoAPIClient: Sendable {
    /// `http://127.0.0.1:<port>`.
    var base: String
    var client: HTTPClient = .shared
    /// One request's time limit.
    var timeout: TimeAmount = .seconds(15)

    /// A problem answer (`application/problem+json`).
    private struct Problem: Decodable {
        var code: String?
        var detail: String?
    }

    /// Sends one request and returns the body of a 2xx answer; any other answer is a `DemoError` naming the call, its
    /// status and the problem's code and detail.
    @discardableResult
    func send(
        _ method: HTTPMethod, _ path: String, token: String, body: Data? = nil, contentType: String = "application/json",
        accept: String = "application/json", idempotencyKey: String? = UUID().uuidString
    ) async throws -> Data {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: accept)
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
            if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        }
        let response = try await client.execute(request, timeout: timeout)
        let data = Data(try await response.body.collect(upTo: 16 << 20).readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            let problem = try? JSONDecoder().decode(Problem.self, from: data)
            throw DemoError(
                "\(method.rawValue) \(path) answered \(response.status.code) \(problem?.code ?? "")"
                    + (problem?.detail.map { ": \($0)" } ?? ""))
        }
        return data
    }

    /// `send` with a JSON body, decoding a JSON answer.
    func post<Answer: Decodable>(_ path: String, token: String, json: [String: Any] = [:], as: Answer.Type) async throws -> Answer {
        let body = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        return try Self.decode(Answer.self, from: try await send(.POST, path, token: token, body: body), path: path)
    }

    /// `send` with a JSON body, ignoring the answer.
    func post(_ path: String, token: String, json: [String: Any] = [:]) async throws {
        try await send(.POST, path, token: token, body: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]))
    }

    /// A GET, decoding the JSON answer.
    func get<Answer: Decodable>(_ path: String, token: String, as: Answer.Type) async throws -> Answer {
        try Self.decode(Answer.self, from: try await send(.GET, path, token: token), path: path)
    }

    static func decode<Answer: Decodable>(_ type: Answer.Type, from data: Data, path: String) throws -> Answer {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw DemoError("the answer of \(path) is not what the demo expects: \(error)")
        }
    }
}

/// The parts of the API's answers the demo reads (the contract is `openapi.yaml`; other fields are ignored).
enum Wire {
    struct IngestReport: Decodable {
        struct Item: Decodable {
            var index: Int
            var outcome: String
            var signalId: String?
            var reason: String?
        }
        var accepted: Int
        var duplicates: Int
        var updated: Int
        var suppressed: Int
        var rejected: Int
        var items: [Item]
    }

    struct IncidentList: Decodable {
        struct Item: Decodable {
            var incidentId: String
            var status: String
            var signalCount: Int
        }
        var incidents: [Item]
    }

    struct Incident: Decodable {
        var incidentId: String
        var status: String
        var openedAt: String
        var devices: [String]
        var users: [String]
        var ips: [String]
        var sources: [String]
        var signals: [String]
        var highestSeverity: String
        var candidatePriority: String
        var priority: String?
        var summary: String?
        var confirmedAt: String?
        var closedAt: String?
    }

    struct DeviceHistory: Decodable {
        struct Device: Decodable {
            var deviceId: String
            var state: String
        }
        struct Change: Decodable {
            var state: String
            var at: String
            var actorName: String
            var note: String?
        }
        var device: Device
        var history: [Change]
    }

    struct NotificationList: Decodable {
        struct Notification: Decodable {
            var notificationId: String
            var type: String
            var recipient: String
            var channel: String
            var address: String
            var status: String
            var attempts: Int
            var occurredAt: String
            var deliveredAt: String?
            var lastError: String?
        }
        var notifications: [Notification]
    }

    struct IncidentSla: Decodable {
        struct Timer: Decodable {
            var target: String
            var priority: String
            var sla: String
            var startedAt: String
            var deadline: String
            var stoppedAt: String?
            var stoppedBy: String?
            var elapsedSeconds: Double?
            var status: String
        }
        struct Nis2: Decodable {
            var earlyWarning: String
            var incidentNotification: String
        }
        var timers: [Timer]
        var nis2: Nis2?
    }

    struct BillingLine: Decodable {
        var month: String
        var status: String
        var charge: String
        var workstations: [String]
        var servers: [String]
        var unitPriceCents: Int?
        var amountCents: Int?
        var currency: String
    }

    struct SignalStatistics: Decodable {
        struct Row: Decodable {
            var day: String
            var source: String
            var outcome: String
            var signals: Int
        }
        var rows: [Row]
    }

    struct EventPage: Decodable {
        struct Event: Decodable {
            var type: String
            var data: PriorityRaise?

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Key.self)
                type = try container.decode(String.self, forKey: .type)
                data = try? container.decodeIfPresent(PriorityRaise.self, forKey: .data)
            }

            enum Key: String, CodingKey { case type, data }
        }
        /// The payload of `IncidentPriorityRaised` (other events decode to an empty value).
        struct PriorityRaise: Decodable {
            var from: String?
            var to: String?
            var reasons: [String]?

            /// Lenient: other events' payloads may use these keys for other things.
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Key.self)
                from = try? container.decodeIfPresent(String.self, forKey: .from)
                to = try? container.decodeIfPresent(String.self, forKey: .to)
                reasons = try? container.decodeIfPresent([String].self, forKey: .reasons)
            }

            enum Key: String, CodingKey { case from, to, reasons }
        }
        var events: [Event]
        var head: Int64
        var nextAfter: Int64
    }
}
