import Foundation
import Logging
import MDRDomain
import PostgresNIO

/// Writes a tenant's event log, or a run of it, as audit evidence: JSON Lines that let an auditor recompute the hash
/// chain offline with standard tools (`ops/verify-audit-export.py`, `docs/audit.md`).
///
/// The first line is a header (`format`, tenant, the requested range, the positions and hashes it spans, the hash of
/// the event just before it — the *anchor* — and the export time). Every further line is one event in position order
/// with all the fields its hash covers: `data` and `metadata` are PostgreSQL's own jsonb text, embedded as they were
/// hashed. The log is read page by page, never held in memory.
///
/// A time range selects a *contiguous* run of positions: from the first event recorded at or after `from` to the last
/// recorded before `to`. `recorded_at` is the appending transaction's start, so it is not strictly ordered by
/// position; near the edges an event recorded a moment outside the range may be included, because a chain can only be
/// verified without gaps. Every event recorded inside the range is in the export.
public struct AuditExport: Sendable {
    /// The format written into every header. A change that an older verifier would misread gets a new number: `/2`
    /// marks an export holding removed events (tombstone lines, after a retention cut), which `/1` verifiers refuse.
    public static let format = "mdr-audit-export/1"
    public static let formatWithRemovedEvents = "mdr-audit-export/2"

    /// The header line: what the export covers and where its chain starts and ends.
    public struct Header: Sendable, Equatable {
        public var tenant: TenantID
        /// The requested range (`from` inclusive, `to` exclusive); nil when open.
        public var from: Date?
        public var to: Date?
        /// The first and last positions exported; nil when the range holds no event.
        public var firstPosition: Int64?
        public var lastPosition: Int64?
        public var eventCount: Int64
        /// The hash of the event before `firstPosition` (32 zero bytes before position 1): where verification starts.
        public var anchorHash: Data?
        /// The hash of the last exported event: anchor it outside the service to detect truncation later.
        public var lastHash: Data?
        public var exportedAt: Date
        /// Positions in the range whose content a retention cut removed (written as tombstone lines).
        public var removedCount: Int64 = 0
    }

    let database: Database
    let pageSize: Int

    public init(database: Database, pageSize: Int = 1000) {
        self.database = database
        self.pageSize = max(1, pageSize)
    }

    /// Writes the header and then the events of `tenant` recorded in `[from, to)`, handing `write` complete lines
    /// (each ending in a newline), a page at a time. Events appended while the export runs are not included: the
    /// last position is fixed before the first page is read.
    ///
    /// - Throws: `DomainError` `tenant_not_found` when the tenant has no log, `invalid_range` when `from` is after
    ///   `to` or the anchor of the range is no longer stored; errors of `write` and of the database as they come.
    @discardableResult
    public func export(
        tenant: TenantID, from: Date? = nil, to: Date? = nil, exportedAt: Date = Date(),
        write: (String) async throws -> Void
    ) async throws -> Header {
        if let from, let to, from > to {
            throw DomainError(
                .invalidRange, .invalid, "--from \(Timestamp.format(from)) is after --to \(Timestamp.format(to)): swap them")
        }
        let logger = database.logger
        let client = database.client
        var head: Int64? = nil
        for try await position in try await client.query(
            "SELECT last_position FROM tenant_heads WHERE tenant_id = \(tenant.rawValue)", logger: logger
        ).decode(Int64.self) { head = position }
        guard let head else {
            throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' has no event log: check the id (`mdr audit verify` lists tenants)")
        }

        var first: Int64? = 1
        if let from {
            first = nil
            for try await position in try await client.query(
                "SELECT min(position) FROM events WHERE tenant_id = \(tenant.rawValue) AND recorded_at >= \(Self.sqlInstant(from))",
                logger: logger
            ).decode(Int64?.self) { first = position }
        }
        var last: Int64? = head
        if let to {
            last = nil
            for try await position in try await client.query(
                "SELECT max(position) FROM events WHERE tenant_id = \(tenant.rawValue) AND recorded_at < \(Self.sqlInstant(to))",
                logger: logger
            ).decode(Int64?.self) { last = position }
        }
        if let f = first, let l = last, f > l { first = nil }

        var header = Header(
            tenant: tenant, from: from, to: to, firstPosition: nil, lastPosition: nil, eventCount: 0, anchorHash: nil, lastHash: nil,
            exportedAt: exportedAt)
        if let firstPosition = first, let lastPosition = last {
            header.firstPosition = firstPosition
            header.lastPosition = lastPosition
            header.eventCount = lastPosition - firstPosition + 1
            header.anchorHash = firstPosition == 1 ? ChainVerifier.genesisHash : try await hash(tenant: tenant, at: firstPosition - 1)
            header.lastHash = try await hash(tenant: tenant, at: lastPosition)
            guard header.anchorHash != nil, header.lastHash != nil else {
                throw DomainError(
                    .invalidRange, .invalid,
                    "positions \(firstPosition - 1)…\(lastPosition) of tenant '\(tenant)' are not all stored: "
                        + "run `mdr audit verify --tenant \(tenant)`")
            }
        }
        if let firstPosition = header.firstPosition, let lastPosition = header.lastPosition {
            for try await n in try await client.query(
                """
                SELECT count(*) FROM event_tombstones
                WHERE tenant_id = \(tenant.rawValue) AND position BETWEEN \(firstPosition) AND \(lastPosition)
                """, logger: logger
            ).decode(Int64.self) { header.removedCount = n }
        }
        try await write(Self.headerLine(header) + "\n")

        guard let firstPosition = header.firstPosition, let lastPosition = header.lastPosition, var previous = header.anchorHash else {
            return header
        }
        var after = firstPosition - 1
        while after < lastPosition {
            // Events, and the tombstones of events a retention cut removed (docs/audit.md, "Retention").
            let rows = try await client.query(
                """
                SELECT position, stream, version, event_id, type, schema_version, data, metadata, micros, recorded, hash, digest, cut_id
                FROM (
                    SELECT \(unescaped: Self.lineColumns), NULL::bytea AS digest, NULL::uuid AS cut_id
                    FROM events WHERE tenant_id = \(tenant.rawValue) AND position > \(after) AND position <= \(lastPosition)
                    UNION ALL
                    SELECT position, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, hash, digest, cut_id
                    FROM event_tombstones WHERE tenant_id = \(tenant.rawValue) AND position > \(after) AND position <= \(lastPosition)
                ) AS log (position, stream, version, event_id, type, schema_version, data, metadata, micros, recorded, hash, digest, cut_id)
                ORDER BY position LIMIT \(pageSize)
                """, logger: logger)
            var chunk = ""
            var count = 0
            for try await row in rows.decode(
                (Int64, String?, Int64?, UUID?, String?, Int32?, String?, String?, Int64?, String?, Data, Data?, UUID?).self)
            {
                let (position, stream, version, eventID, type, schemaVersion, data, metadata, micros, recordedAt, hash, digest, cut) = row
                count += 1
                // A hole in the stored log is reported by the verifier: the line's position shows it.
                after = position
                if let digest, let cut {
                    chunk += Self.removedLine(tenant: tenant, position: position, digest: digest, cut: cut, previous: previous, hash: hash)
                } else if let stream, let version, let eventID, let type, let schemaVersion, let data, let metadata, let micros, let recordedAt {
                    chunk += Self.eventLine(
                        tenant: tenant, position: position, stream: stream, version: version, eventID: eventID, type: type,
                        schemaVersion: schemaVersion, data: data, metadata: metadata, micros: micros, recordedAt: recordedAt, previous: previous,
                        hash: hash, digest: nil)
                }
                previous = hash
            }
            if count == 0 { break }
            try await write(chunk)
        }
        return header
    }

    /// The columns an event line is made of, in the order `eventLine` takes them.
    static let lineColumns = """
        position, stream, version, event_id, type, schema_version, data::text, metadata::text,
        (extract(epoch FROM recorded_at) * 1000000)::bigint,
        to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), hash
        """

    /// One event as a line: every field its hash covers, with `prev_hash` (exports) or `digest` (retention archives).
    static func eventLine(
        tenant: TenantID, position: Int64, stream: String, version: Int64, eventID: UUID, type: String, schemaVersion: Int32, data: String,
        metadata: String, micros: Int64, recordedAt: String, previous: Data?, hash: Data, digest: Data?
    ) -> String {
        var line = "{\"position\": \(position), \"tenant\": \(json(tenant.rawValue)), \"stream\": \(json(stream)), "
        line += "\"version\": \(version), \"event_id\": \"\(eventID.uuidString.lowercased())\", \"type\": \(json(type)), "
        line += "\"schema_version\": \(schemaVersion), \"recorded_at\": \"\(recordedAt)\", \"recorded_at_us\": \(micros), "
        line += "\"data\": \(data), \"metadata\": \(metadata), "
        if let previous { line += "\"prev_hash\": \"\(hex(previous))\", " }
        if let digest { line += "\"digest\": \"\(hex(digest))\", " }
        return line + "\"hash\": \"\(hex(hash))\"}\n"
    }

    /// A removed event as a line: its digest stands in for its content, so the chain still verifies through it.
    static func removedLine(tenant: TenantID, position: Int64, digest: Data, cut: UUID, previous: Data, hash: Data) -> String {
        "{\"position\": \(position), \"tenant\": \(json(tenant.rawValue)), \"removed\": true, \"cut_id\": \"\(cut.uuidString.lowercased())\", "
            + "\"digest\": \"\(hex(digest))\", \"prev_hash\": \"\(hex(previous))\", \"hash\": \"\(hex(hash))\"}\n"
    }

    /// The stored hash of one event, nil when the position is not stored.
    func hash(tenant: TenantID, at position: Int64) async throws -> Data? {
        var found: Data? = nil
        for try await hash in try await database.client.query(
            """
            SELECT hash FROM events WHERE tenant_id = \(tenant.rawValue) AND position = \(position)
            UNION ALL SELECT hash FROM event_tombstones WHERE tenant_id = \(tenant.rawValue) AND position = \(position)
            """, logger: database.logger
        ).decode(Data.self) { found = hash }
        return found
    }

    // MARK: Encoding

    /// An instant as an exact SQL timestamptz: microseconds since 1970 added to the epoch (no float on the way).
    static func sqlInstant(_ date: Date) -> PostgresQuery.StringInterpolation.SQLInstant {
        .init(micros: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
    }

    static func headerLine(_ h: Header) -> String {
        func optional(_ value: String?) -> String { value ?? "null" }
        let removed = h.removedCount > 0 ? "\"removed_count\": \(h.removedCount), " : ""
        return "{\"format\": \(json(h.removedCount > 0 ? formatWithRemovedEvents : format)), \"tenant\": \(json(h.tenant.rawValue)), " + removed
            + "\"from\": \(optional(h.from.map { json(microTimestamp($0)) })), \"to\": \(optional(h.to.map { json(microTimestamp($0)) })), "
            + "\"first_position\": \(optional(h.firstPosition.map(String.init))), "
            + "\"last_position\": \(optional(h.lastPosition.map(String.init))), \"event_count\": \(h.eventCount), "
            + "\"anchor_hash\": \(optional(h.anchorHash.map { json(hex($0)) })), \"last_hash\": \(optional(h.lastHash.map { json(hex($0)) })), "
            + "\"exported_at\": \(json(Timestamp.format(h.exportedAt))), "
            + "\"chain\": \"hash(n) = SHA-256(hash(n-1) || SHA-256(utf8(canonical(n)))); canonical(n) = PostgreSQL jsonb text of "
            + "[tenant, position, stream, version, event_id, type, schema_version, recorded_at_us, data, metadata]; see docs/audit.md\"}"
    }

    /// `2026-11-29T10:15:30.123456Z`: UTC with microseconds, as the range was applied.
    static func microTimestamp(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var fraction = micros % 1_000_000
        var seconds = micros / 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        let whole = Timestamp.format(Date(timeIntervalSince1970: TimeInterval(seconds)))  // …:SS.000Z
        let digits = String(fraction)
        return String(whole.dropLast(4)) + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    static func json(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let digits = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Lower-case hexadecimal, as hashes are written in the export.
    public static func hex(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 2)
        for byte in data {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension PostgresQuery.StringInterpolation {
    /// An exact instant: `'epoch' + n µs`, bound as an integer.
    struct SQLInstant {
        var micros: Int64
    }

    mutating func appendInterpolation(_ instant: SQLInstant) {
        appendLiteral("(timestamptz 'epoch' + ")
        appendInterpolation(instant.micros)
        appendLiteral(" * interval '1 microsecond')")
    }
}

extension DomainError.Code {
    /// A time range whose start is after its end, or whose events are no longer all stored.
    public static let invalidRange: Self = "invalid_range"
}
