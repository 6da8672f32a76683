import Foundation
import Logging
import MDRDomain
import NIOCore
import PostgresNIO

/// The PostgreSQL event log: append with expected versions under a command id, read streams and tenant logs,
/// subscribe. All tenants share one table keyed by (tenant, position); see `docs/event-log.md`.
public struct EventStore: Sendable {
    public let database: Database
    /// Woken after every local append; relayed to other instances by `AppendNotifier`.
    public let signal: AppendSignal

    public init(database: Database, signal: AppendSignal = AppendSignal()) {
        self.database = database
        self.signal = signal
    }

    var logger: Logger { database.logger }

    // MARK: Append

    /// Appends `events` (to one or several streams of one tenant) atomically, if every expectation holds.
    ///
    /// - Parameters:
    ///   - expectations: stream versions that must hold at commit; a stream may be expected without being appended to.
    ///   - command: when given, the command id is recorded with the result; a repeat appends nothing and returns
    ///     `.repeated` with the first outcome.
    /// - Throws: `StoreError.versionConflict` when an expectation fails; nothing is stored then.
    public func append(
        tenant: TenantID, events: [EventToAppend], expectations: [StreamName: ExpectedVersion] = [:], command: CommandRecord? = nil
    ) async throws -> AppendOutcome {
        do {
            let result = try await database.client.withConnection { connection in
                try await self.append(tenant: tenant, events: events, expectations: expectations, command: command, on: connection)
            }
            if result.count > 0 { signal.appended(tenant: tenant, position: result.lastPosition) }
            return .appended(result)
        } catch let error as CommandAlreadyRecorded {
            guard let stored = try await storedCommand(tenant: tenant, id: error.commandID) else { throw error }
            return .repeated(stored)
        } catch let error as StreamAhead {
            throw try await conflict(tenant: tenant, stream: error.stream, expectations: expectations)
        }
    }

    struct CommandAlreadyRecorded: Error {
        var commandID: String
    }

    /// The unique key refused a version: which stream, from "Key (tenant_id, stream, version)=(t, s, v) already exists."
    struct StreamAhead: Error {
        var detail: String
        var stream: String? {
            guard let open = detail.range(of: ")=("), let close = detail.range(of: ") already exists", options: .backwards) else { return nil }
            let values = detail[open.upperBound..<close.lowerBound]
            // tenant ids hold no ", "; version is the last field.
            guard let first = values.range(of: ", "), let last = values.range(of: ", ", options: .backwards), first.upperBound <= last.lowerBound else { return nil }
            return String(values[first.upperBound..<last.lowerBound])
        }
    }

    /// Appends on a connection the caller holds, e.g. inside a transaction that also moves a checkpoint.
    /// The caller signals subscribers after its commit (`signal.appended`).
    public func append(
        tenant: TenantID, events: [EventToAppend], expectations: [StreamName: ExpectedVersion], command: CommandRecord?,
        on connection: PostgresConnection
    ) async throws -> AppendResult {
        let expected = expectations.sorted { $0.key.rawValue < $1.key.rawValue }
        // The events of one command share their metadata: encode each distinct value once.
        let encoder = JSONCoding.encoder()
        var encoded: [EventMetadata: String] = [:]
        let metadata = try events.map { event in
            if let text = encoded[event.metadata] { return text }
            let text = String(decoding: try encoder.encode(event.metadata), as: UTF8.self)
            encoded[event.metadata] = text
            return text
        }
        let query: PostgresQuery = try """
            SELECT first_position, last_position, recorded_at FROM mdr_append(
                \(tenant.rawValue), \(expected.map(\.key.rawValue)), \(expected.map(\.value.rawValue)),
                \(events.map(\.stream.rawValue)), \(events.map(\.eventID)), \(events.map(\.type)), \(events.map { Int32($0.schemaVersion) }),
                \(events.map(\.data)), \(metadata),
                \(command?.id), \(command?.requestHash), \(command.map { String(decoding: $0.result, as: UTF8.self) }))
            """
        do {
            let rows = try await connection.query(query, logger: logger)
            for try await (first, last, at) in rows.decode((Int64, Int64, Date).self) {
                return AppendResult(firstPosition: first, lastPosition: last, recordedAt: at)
            }
            throw StoreInvariantViolated(description: "mdr_append returned no row")
        } catch {
            throw Self.translate(error, command: command)
        }
    }

    static func translate(_ error: any Error, command: CommandRecord?) -> any Error {
        guard let server = ServerError(error) else { return error }
        switch server.sqlState {
        case "MDR01":
            if let detail = server.detail, let json = try? JSONSerialization.jsonObject(with: Data(detail.utf8)) as? [String: Any] {
                return StoreError.versionConflict(
                    stream: json["stream"] as? String ?? "?", expected: (json["expected"] as? NSNumber)?.int64Value ?? -2,
                    actual: (json["actual"] as? NSNumber)?.int64Value ?? -2)
            }
            return StoreError.versionConflict(stream: "?", expected: -2, actual: -2)
        case "MDR02":
            return StoreError.appendOnly
        case PostgresError.Code.uniqueViolation.raw:
            if server.constraint == "commands_pkey", let command { return CommandAlreadyRecorded(commandID: command.id) }
            if server.constraint == "events_event_id" { return StoreError.duplicateEvent }
            if server.constraint == "events_stream_version" {
                // A stream expected at version N (or not to exist) has moved on: its next version exists already.
                return StreamAhead(detail: server.detail ?? "")
            }
            return error
        default:
            return error
        }
    }

    /// The version conflict a refused insert means, with the stream's version as it is now.
    func conflict(tenant: TenantID, stream: String?, expectations: [StreamName: ExpectedVersion]) async throws -> StoreError {
        guard let stream else { return StoreError.versionConflict(stream: "?", expected: -2, actual: -2) }
        let name = StreamName(rawValue: stream)
        let actual = try await readStream(tenant: tenant, name).last?.version ?? 0
        return StoreError.versionConflict(stream: stream, expected: expectations[name]?.rawValue ?? -1, actual: actual)
    }

    // MARK: Commands

    /// The recorded outcome of a command id, if it was used in this tenant.
    public func storedCommand(tenant: TenantID, id: String) async throws -> StoredCommand? {
        let rows = try await database.client.query(
            """
            SELECT command_id, request_hash, result::text, first_position, last_position, recorded_at
            FROM commands WHERE tenant_id = \(tenant.rawValue) AND command_id = \(id)
            """, logger: logger)
        for try await (cid, hash, result, first, last, at) in rows.decode((String, Data?, String, Int64?, Int64?, Date).self) {
            return StoredCommand(id: cid, requestHash: hash, result: Data(result.utf8), firstPosition: first, lastPosition: last, recordedAt: at)
        }
        return nil
    }

    // MARK: Read

    static let columns = "tenant_id, position, stream, version, event_id, type, schema_version, data::text, metadata::text, recorded_at, hash"

    static func decodeRows(_ rows: PostgresRowSequence) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        let decoder = JSONCoding.decoder()
        for try await row in rows { events.append(try decodeEvent(row.makeRandomAccess(), decoder: decoder)) }
        return events
    }

    /// The event in the first columns of a row selected with `columns` (a query may select more after them).
    static func decodeEvent(_ c: PostgresRandomAccessRow, decoder: JSONDecoder) throws -> RecordedEvent {
        RecordedEvent(
            tenant: TenantID(rawValue: try c[0].decode(String.self)) ?? TenantID(rawValue: "invalid")!, position: try c[1].decode(Int64.self),
            stream: StreamName(rawValue: try c[2].decode(String.self)), version: try c[3].decode(Int64.self), eventID: try c[4].decode(UUID.self),
            type: try c[5].decode(String.self), schemaVersion: Int(try c[6].decode(Int32.self)), data: try c[7].decode(String.self),
            metadata: try decoder.decode(EventMetadata.self, from: Data(try c[8].decode(String.self).utf8)), recordedAt: try c[9].decode(Date.self),
            hash: try c[10].decode(Data.self))
    }

    /// A stream's events in order (empty when the stream does not exist).
    public func readStream(tenant: TenantID, _ stream: StreamName) async throws -> [RecordedEvent] {
        let rows = try await database.client.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM events WHERE tenant_id = $1 AND stream = $2 ORDER BY version",
                binds: try binds(tenant.rawValue, stream.rawValue)), logger: logger)
        return try await Self.decodeRows(rows)
    }

    /// Several streams' events, each in order; of a stream named in `after`, only its events after that version (a
    /// state already folded up to it is brought up to date).
    public func readStreams(tenant: TenantID, _ streams: [StreamName], after: [StreamName: Int64] = [:]) async throws -> [StreamName: [RecordedEvent]] {
        guard !streams.isEmpty else { return [:] }
        let rows = try await database.client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.columns) FROM events e JOIN unnest($2::text[], $3::bigint[]) AS s(name, after)
                        ON e.stream = s.name AND e.version > s.after
                    WHERE e.tenant_id = $1 ORDER BY e.stream, e.version
                    """,
                binds: try binds(tenant.rawValue, streams.map(\.rawValue), streams.map { after[$0] ?? 0 })), logger: logger)
        return Dictionary(grouping: try await Self.decodeRows(rows), by: \.stream)
    }

    /// A tenant's log after `position`, in order, at most `limit` events.
    public func readLog(tenant: TenantID, after position: Int64, limit: Int = 1000, types: [String]? = nil) async throws -> [RecordedEvent] {
        try await database.client.withConnection { connection in
            try await self.readLog(tenant: tenant, after: position, limit: limit, types: types, on: connection)
        }
    }

    public func readLog(
        tenant: TenantID, after position: Int64, limit: Int, types: [String]? = nil, on connection: PostgresConnection
    ) async throws -> [RecordedEvent] {
        let filter = types == nil ? "" : " AND type = ANY($4)"
        var bindings = try binds(tenant.rawValue, position, Int64(limit))
        if let types { try bindings.append(types) }
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM events WHERE tenant_id = $1 AND position > $2\(filter) ORDER BY position LIMIT $3",
                binds: bindings), logger: logger)
        return try await Self.decodeRows(rows)
    }

    /// Every tenant with a log, by id.
    public func tenants() async throws -> [TenantID] {
        let rows = try await database.client.query("SELECT tenant_id FROM tenant_heads ORDER BY tenant_id", logger: logger)
        var tenants: [TenantID] = []
        for try await raw in rows.decode(String.self) {
            if let id = TenantID(rawValue: raw) { tenants.append(id) }
        }
        return tenants
    }

    /// The tenant's last position (0 when it has no events).
    public func head(tenant: TenantID) async throws -> Int64 {
        let rows = try await database.client.query(
            "SELECT last_position FROM tenant_heads WHERE tenant_id = \(tenant.rawValue)", logger: logger)
        for try await position in rows.decode(Int64.self) { return position }
        return 0
    }

    /// Follows a tenant's log from `position`: yields every event in order, waiting for new ones when caught up.
    /// Woken by local appends and by other instances' NOTIFY; polls every `pollInterval` as the fallback.
    public func subscribe(tenant: TenantID, after position: Int64, pollInterval: Duration = .seconds(1), batchSize: Int = 500)
        -> EventSubscription
    {
        EventSubscription(store: self, tenant: tenant, position: position, pollInterval: pollInterval, batchSize: batchSize)
    }

    func binds(_ values: any PostgresDynamicTypeEncodable...) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { try bindings.append(value) }
        return bindings
    }
}

struct StoreInvariantViolated: Error, CustomStringConvertible {
    var description: String
}

extension PostgresBindings {
    mutating func append(_ value: any PostgresDynamicTypeEncodable) throws {
        try self.append(value, context: .default)
    }
}

/// An `AsyncSequence` over a tenant's log, from a position on, that never ends until cancelled. Reading by
/// position is exact because positions are gap-free and handed out in commit order.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent
    let store: EventStore
    let tenant: TenantID
    let position: Int64
    let pollInterval: Duration
    let batchSize: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        let store: EventStore
        let tenant: TenantID
        var position: Int64
        let pollInterval: Duration
        let batchSize: Int
        var buffer: ArraySlice<RecordedEvent> = []

        public mutating func next() async throws -> RecordedEvent? {
            while true {
                if let event = buffer.popFirst() {
                    position = event.position
                    return event
                }
                if Task.isCancelled { return nil }
                let generation = store.signal.generation
                buffer = try await store.readLog(tenant: tenant, after: position, limit: batchSize)[...]
                if buffer.isEmpty {
                    await store.signal.wait(after: generation, timeout: pollInterval)
                }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(store: store, tenant: tenant, position: position, pollInterval: pollInterval, batchSize: batchSize)
    }
}
