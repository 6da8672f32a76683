import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import MDRApplication
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The live feed (issue 17): `GET /v1/stream` over real loopback HTTP with a streaming client, as an EventSource reads
/// it — events as they happen, a resume with `Last-Event-ID` that gives exactly the missing ones, tenant and type
/// filters, heartbeats.
@Suite struct LiveFeedTests {
    struct Frame: Equatable {
        var id: String?
        var event: String?
        var data: String?
        var comment: String?

        var json: [String: Any] { (data.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]) ?? [:] }
        /// Tenant and position: what identifies an event of the log.
        var key: String { "\(json["tenantId"] as? String ?? "?")#\(json["position"] as? Int ?? -1)" }
    }

    /// One open stream: frames as they arrive, in a task of its own that `close` cancels (the client going away).
    final class Stream: Sendable {
        let frames = Mutex<[Frame]>([])
        let task: Mutex<Task<Void, any Error>?> = Mutex(nil)
        let status = Mutex<Int?>(nil)

        init(port: Int, path: String, token: String, lastEventID: String? = nil, client: HTTPClient) {
            let task = Task { [self] in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
                let response = try await client.execute(request, timeout: .seconds(120))
                self.status.withLock { $0 = Int(response.status.code) }
                var pending = ""
                for try await chunk in response.body {
                    pending += String(buffer: chunk)
                    while let end = pending.range(of: "\n\n") {
                        let block = pending[..<end.lowerBound]
                        pending = String(pending[end.upperBound...])
                        var frame = Frame()
                        for line in block.split(separator: "\n") {
                            if line.hasPrefix(":") { frame.comment = String(line.dropFirst()).trimmingCharacters(in: .whitespaces) }
                            if line.hasPrefix("id: ") { frame.id = String(line.dropFirst(4)) }
                            if line.hasPrefix("event: ") { frame.event = String(line.dropFirst(7)) }
                            if line.hasPrefix("data: ") { frame.data = String(line.dropFirst(6)) }
                        }
                        self.frames.withLock { $0.append(frame) }
                    }
                }
            }
            self.task.withLock { $0 = task }
        }

        var events: [Frame] { frames.withLock { $0.filter { $0.event != nil } } }

        func close() { task.withLock { $0?.cancel() } }

        /// Waits (generously: the bound only ends a test that would hang) until `condition` holds for the frames.
        func wait(_ what: Comment, _ condition: @escaping ([Frame]) -> Bool) async throws {
            try await waitUntil(what) { condition(frames.withLock { $0 }) }
        }
    }

    static func configure(_ configuration: inout ServerConfiguration) {
        configuration.streamPollInterval = .milliseconds(50)
        configuration.streamHeartbeat = .milliseconds(400)
    }

    @Test func eventsArriveAsTheyHappenAndAResumeGivesExactlyTheMissingOnes() async throws {
        try await APIWorld.run(.live, configure: Self.configure) { api in
            let port = try #require(api.client.port)
            let client = HTTPClient.shared
            try await api.onboard("acme-bv")
            try await api.onboard("other-co")
            let soc = try await api.token(.soc)

            let first = Stream(port: port, path: "/v1/stream", token: soc, client: client)
            try await first.wait("the stream is open") { $0.contains { $0.comment != nil || $0.event != nil } || !$0.isEmpty }
            let incident = try await api.openIncident("acme-bv", device: "ws-0042", alert: "a-1")
            let confirmed = try await api.post(
                "/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P2", "summary": "credential theft"])
            #expect(confirmed.status == .ok)
            try await first.wait("opened and confirmed") { $0.filter { $0.event != nil }.count >= 2 }
            let seen = first.events
            #expect(seen.map(\.event) == ["IncidentOpened", "IncidentConfirmed"])
            #expect(seen.first?.json["tenantId"] as? String == "acme-bv")
            #expect(((seen.first?.json["data"] as? [String: Any])?["incidentID"] as? String) == incident)
            #expect(first.status.withLock { $0 } == 200)
            first.close()

            // While the client is away: another tenant's incident, and a dismissal.
            let other = try await api.openIncident("other-co", device: "srv-7", alert: "o-1")
            let dismissed = try await api.post(
                "/v1/tenants/other-co/incidents/\(other)/dismiss", token: soc, ["classification": "false_positive", "reason": "test"])
            #expect(dismissed.status == .ok)

            // Resumed after the first event it saw: the confirmation again (it was after), then what it missed; no repeat.
            let resumed = Stream(port: port, path: "/v1/stream", token: soc, lastEventID: seen[0].id, client: client)
            try await resumed.wait("the missing events") { $0.filter { $0.event != nil }.count >= 3 }
            try await resumed.wait("a heartbeat while nothing happens") { $0.contains { $0.comment == "heartbeat" } }
            #expect(resumed.events.map(\.event) == ["IncidentConfirmed", "IncidentOpened", "IncidentDismissed"])
            #expect(resumed.events.map(\.key) == [seen[1].key] + resumed.events.dropFirst().map(\.key))
            #expect(Set(resumed.events.map(\.key)).count == 3, "no event twice")
            #expect(resumed.events.dropFirst().allSatisfy { $0.json["tenantId"] as? String == "other-co" })
            resumed.close()
        }
    }

    @Test func aCustomerSeesItsOwnTenantAndTypesNarrowTheFeed() async throws {
        try await APIWorld.run(.live, configure: Self.configure) { api in
            let port = try #require(api.client.port)
            let client = HTTPClient.shared
            try await api.onboard("acme-bv")
            try await api.onboard("other-co")
            let customer = try await api.token(.customer, "acme-bv")
            let soc = try await api.token(.soc)
            let own = Stream(port: port, path: "/v1/tenants/acme-bv/stream", token: customer, client: client)
            let confirmations = Stream(port: port, path: "/v1/stream?types=IncidentConfirmed", token: soc, client: client)
            try await own.wait("open") { !$0.isEmpty }
            try await confirmations.wait("open") { !$0.isEmpty }
            _ = try await api.openIncident("other-co", device: "srv-7", alert: "o-1")
            let incident = try await api.openIncident("acme-bv", device: "ws-0042", alert: "a-1")
            #expect(try await api.post("/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P1", "summary": "x"]).status == .ok)
            try await own.wait("acme-bv's two events") { $0.filter { $0.event != nil }.count >= 2 }
            try await confirmations.wait("the confirmation") { $0.contains { $0.event != nil } }
            #expect(own.events.allSatisfy { $0.json["tenantId"] as? String == "acme-bv" })
            #expect(own.events.map(\.event) == ["IncidentOpened", "IncidentConfirmed"])
            #expect(confirmations.events.map(\.event) == ["IncidentConfirmed"])
            own.close()
            confirmations.close()

            // A catch-up without following: what the log holds after the id, then the end.
            let catchUp = try await api.send(.get, "/v1/stream?follow=false&tenant=acme-bv", token: soc, headers: [(HTTPField.Name("Last-Event-ID")!, "0.acme-bv.0")])
            #expect(catchUp.status == .ok)
            #expect(String(decoding: catchUp.body, as: UTF8.self).components(separatedBy: "event: ").dropFirst().map { $0.prefix { $0 != "\n" } } == [
                "IncidentOpened", "IncidentConfirmed",
            ])
            expectProblem(
                try await api.send(.get, "/v1/stream", token: soc, headers: [(HTTPField.Name("Last-Event-ID")!, "yesterday")]), .unprocessableContent,
                "invalid_field")

            // Refusals answer at once, as problems.
            expectProblem(try await api.get("/v1/tenants/other-co/stream", token: customer), .notFound, "tenant_not_found")
            expectProblem(try await api.get("/v1/stream", token: customer), .forbidden, "forbidden")
            expectProblem(try await api.get("/v1/stream?types=SignalIngested", token: soc), .unprocessableContent, "invalid_field")
            expectProblem(try await api.get("/v1/stream", token: try await api.token(.connector, "acme-bv")), .forbidden, "forbidden")
        }
    }
}
