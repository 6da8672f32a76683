import Foundation
import MDRDomain
import MDRStore
import OpenAPIRuntime
import ServiceLifecycle

// MARK: - The live feed (`GET /v1/stream`, Server-Sent Events)

extension APIHandler {
    func streamEvents(_ input: Operations.StreamEvents.Input) async throws -> Operations.StreamEvents.Output {
        // Across tenants: the SOC and Dynamic. A customer follows its own tenant (`streamTenantEvents`).
        try authorizeAcrossTenants("follows its tenant's feed at /v1/tenants/{tenantId}/stream")
        var tenant: TenantID?
        if let raw = input.query.tenant {
            guard let id = TenantID(rawValue: raw) else { throw Problem.badRequest("tenant: '\(raw.prefix(80))' is not a tenant id") }
            tenant = id
        }
        let body = try feed(tenant: tenant, types: input.query.types, lastEventID: input.headers.lastEventID, follow: input.query.follow)
        return .ok(.init(body: .textEventStream(body)))
    }

    func streamTenantEvents(_ input: Operations.StreamTenantEvents.Input) async throws -> Operations.StreamTenantEvents.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let body = try feed(tenant: tenant, types: input.query.types, lastEventID: input.headers.lastEventID, follow: input.query.follow)
        return .ok(.init(body: .textEventStream(body)))
    }

    /// The stream of `GET /v1/stream` and `GET /v1/tenants/{tenantId}/stream`.
    private func feed(tenant: TenantID?, types rawTypes: String?, lastEventID: String?, follow: Bool?) throws -> HTTPBody {
        var types = EventFeed.types
        if let raw = rawTypes {
            let named = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let unknown = named.first(where: { !EventFeed.types.contains($0) }) {
                throw DomainError(.invalidField, .invalid, "types: '\(unknown.prefix(60))' is not a type of the feed (see the operation's description)")
            }
            types = named
        }
        let feed = EventFeed(database: services.database)
        // Without an id the stream starts at the horizon, read by the stream itself: outside a customer's tenant scope,
        // where the role sees every session's transaction start.
        var start: FeedCursor?
        if let last = lastEventID {
            guard let cursor = FeedCursor(last) else {
                throw DomainError(.invalidField, .invalid, "Last-Event-ID: '\(last.prefix(80))' is not an id this feed sent")
            }
            start = cursor
        }
        let events = FeedEvents(
            feed: feed, cursor: start, tenant: tenant, types: types, follow: follow ?? true, poll: streamPollInterval,
            heartbeat: streamHeartbeat, deadline: requestTimeout)
        return HTTPBody(events, length: .unknown, iterationBehavior: .single)
    }
}

/// The feed as the bytes of `text/event-stream`: what the log holds after the cursor, then what is appended, with a
/// heartbeat comment when nothing happened for a while. Ends when the server shuts down gracefully (the client
/// reconnects with `Last-Event-ID`), and when the client goes (the writer's task is cancelled).
struct FeedEvents: AsyncSequence, Sendable {
    typealias Element = HTTPBody.ByteChunk

    let feed: EventFeed
    let cursor: FeedCursor?
    let tenant: TenantID?
    let types: [String]
    /// False: end once the log holds nothing more after the cursor.
    let follow: Bool
    let poll: Duration
    let heartbeat: Duration
    let deadline: Duration

    func makeAsyncIterator() -> Iterator {
        Iterator(events: self, cursor: cursor, lastSent: .now, greeted: false)
    }

    struct Iterator: AsyncIteratorProtocol {
        let events: FeedEvents
        var cursor: FeedCursor?
        var lastSent: ContinuousClock.Instant
        var greeted: Bool

        mutating func next() async throws -> HTTPBody.ByteChunk? {
            if !greeted {
                greeted = true
                if cursor == nil {
                    let feed = events.feed
                    cursor = try await withDeadline(events.deadline) { try await feed.start() }
                }
                // How long an EventSource waits before it reconnects.
                return ArraySlice("retry: 2000\n\n".utf8)
            }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let (feed, after, tenant, types) = (events.feed, cursor!, events.tenant, events.types)
                let read: [(FeedCursor, RecordedEvent)]
                do {
                    read = try await withDeadline(events.deadline) { try await feed.read(after: after, tenant: tenant, types: types) }
                } catch {
                    // The database is away: say so as a comment and try again; the client keeps its place.
                    lastSent = .now
                    if !(await pause()) { return nil }
                    return ArraySlice(": the log cannot be read now; retrying\n\n".utf8)
                }
                if !read.isEmpty {
                    var text = ""
                    for (position, event) in read { text += Self.frame(position, event) }
                    cursor = read.last!.0
                    lastSent = .now
                    return ArraySlice(text.utf8)
                }
                if !events.follow { return nil }
                if ContinuousClock.now - lastSent >= events.heartbeat {
                    lastSent = .now
                    return ArraySlice(": heartbeat\n\n".utf8)
                }
                if !(await pause()) { return nil }
            }
            return nil
        }

        /// Waits one poll interval; false when the server is shutting down or the client went.
        func pause() async -> Bool {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: events.poll) }
                return !Task.isShuttingDownGracefully
            } catch {
                return false
            }
        }

        /// One SSE event: `id`, `event`, and the event as one line of JSON.
        static func frame(_ cursor: FeedCursor, _ event: RecordedEvent) -> String {
            // The stored payload is jsonb text: one line, no raw line breaks.
            let data =
                #"{"data":\#(event.data),"position":\#(event.position),"recordedAt":"\#(Timestamp.format(event.recordedAt))","#
                + #""stream":"\#(escape(event.stream.rawValue))","tenantId":"\#(event.tenant.rawValue)","type":"\#(event.type)"}"#
            return "id: \(cursor)\nevent: \(event.type)\ndata: \(data)\n\n"
        }

        static func escape(_ text: String) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out
        }
    }
}
