import Crypto
import Foundation
import Logging
import MDRDomain
import PostgresNIO

/// The key retention cuts are signed with (Ed25519). The private key is the operator's (`MDR_RETENTION_SIGNING_KEY`,
/// base64 of the 32-byte seed); the public key is given to auditors, who check every cut against it.
public struct RetentionSigner: Sendable {
    let key: Curve25519.Signing.PrivateKey

    /// Parses the base64 of a 32-byte Ed25519 private key; nil when it is not one.
    public init?(base64: String) {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { return nil }
        self.key = key
    }

    /// A new key pair, both halves as base64.
    public static func generate() -> (privateKey: String, publicKey: String) {
        let key = Curve25519.Signing.PrivateKey()
        return (key.rawRepresentation.base64EncodedString(), key.publicKey.rawRepresentation.base64EncodedString())
    }

    /// The public half, raw (32 bytes).
    public var publicKey: Data { key.publicKey.rawRepresentation }

    func sign(_ message: Data) throws -> Data { try key.signature(for: message) }
}

/// One retention run over one tenant: which events were removed, where they were archived, and the signature that
/// vouches for both (`retention_cuts`).
public struct RetentionCut: Sendable, Equatable {
    public var cutID: UUID
    public var tenant: TenantID
    /// Events of streams whose last event was recorded before this instant were eligible.
    public var cutoff: Date
    public var policyMonths: Int
    public var removedCount: Int64
    public var firstPosition: Int64
    public var lastPosition: Int64
    /// SHA-256 over the removed events' (position as 8 bytes big-endian ‖ digest), in position order.
    public var tombstonesSHA256: Data
    public var archiveName: String
    /// SHA-256 of the archive file's bytes.
    public var archiveSHA256: Data
    public var cutAt: Date
    public var cutBy: String
    public var publicKey: Data
    public var signature: Data

    /// The text the signature covers, one field per line; `docs/audit.md` shows how to rebuild and check it with
    /// openssl.
    public var signedText: String {
        [
            "mdr-retention-cut/1", tenant.rawValue, cutID.uuidString.lowercased(), Timestamp.format(cutoff), String(policyMonths),
            String(removedCount), String(firstPosition), String(lastPosition), AuditExport.hex(tombstonesSHA256), archiveName,
            AuditExport.hex(archiveSHA256), Timestamp.format(cutAt), cutBy,
        ].joined(separator: "\n") + "\n"
    }

    /// Whether the signature is valid for `signedText` under `publicKey` (the key recorded in the cut when nil).
    public func hasValidSignature(publicKey trusted: Data? = nil) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: trusted ?? publicKey) else { return false }
        return key.isValidSignature(signature, for: Data(signedText.utf8))
    }
}

/// Retention (DOMAIN.md, "Billing and reports": security events are kept for investigation and audit, by default
/// 24 months, then archived with their chain digests before removal).
///
/// A cut removes whole streams, never part of one: signal streams and notification streams whose last event is older
/// than the cutoff, and incident streams that were resolved or dismissed before it. A tenant's own stream, its device
/// inventory, its suppression rules and its devices' isolation streams are never removed: they are the state later
/// commands decide on. Each removed event leaves a tombstone (position, digest, hash), so the chain stays verifiable
/// end to end; the archive holds the content and the signed cut ties both together.
public struct RetentionStore: Sendable {
    /// The retention of a tenant without a policy of its own.
    public static let defaultMonths = 24

    let database: Database
    /// What holds rows derived from the removed streams beyond the log (the views, the notification outbox): each is
    /// asked to forget them in the cut's transaction. Retention writes no table of theirs.
    let forgetting: [any StreamForgetting]

    public init(database: Database, forgetting: [any StreamForgetting] = []) {
        self.database = database
        self.forgetting = forgetting
    }

    // MARK: Policies

    /// Sets the tenant's retention in months (1–1200).
    public func setPolicy(tenant: TenantID, months: Int, by: String) async throws {
        guard (1...1200).contains(months) else {
            throw DomainError(.invalidRetention, .invalid, "retention is 1–1200 months, got \(months)")
        }
        try await database.client.query(
            """
            INSERT INTO retention_policies (tenant_id, months, set_by) VALUES (\(tenant.rawValue), \(months), \(by))
            ON CONFLICT (tenant_id) DO UPDATE SET months = EXCLUDED.months, set_by = EXCLUDED.set_by, set_at = now()
            """, logger: database.logger)
    }

    /// The tenants' own retention periods, by tenant.
    public func policies() async throws -> [TenantID: Int] {
        var found: [TenantID: Int] = [:]
        for try await (tenant, months) in try await database.client.query(
            "SELECT tenant_id, months FROM retention_policies", logger: database.logger
        ).decode((String, Int).self) {
            if let id = TenantID(rawValue: tenant) { found[id] = months }
        }
        return found
    }

    /// `months` calendar months before `now` (on the Europe/Amsterdam calendar).
    public static func cutoff(months: Int, before now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Amsterdam")!
        return calendar.date(byAdding: .month, value: -months, to: now)!
    }

    // MARK: Cuts

    /// The streams of `tenant` a cut at `cutoff` removes.
    public func eligibleStreams(tenant: TenantID, cutoff: Date) async throws -> [String] {
        try await database.client.withConnection { try await eligibleStreams(tenant: tenant, cutoff: cutoff, on: $0) }
    }

    func eligibleStreams(tenant: TenantID, cutoff: Date, on connection: PostgresConnection) async throws -> [String] {
        let rows = try await connection.query(
            """
            SELECT stream FROM events
            WHERE tenant_id = \(tenant.rawValue)
              AND (stream LIKE 'signal:%' OR stream LIKE 'notification:%' OR stream LIKE 'incident:%')
            GROUP BY stream
            HAVING max(recorded_at) < \(AuditExport.sqlInstant(cutoff))
               AND (stream NOT LIKE 'incident:%' OR bool_or(type IN ('IncidentResolved', 'IncidentDismissed', 'IncidentMerged')))
            ORDER BY stream
            """, logger: database.logger)
        var streams: [String] = []
        for try await stream in rows.decode(String.self) { streams.append(stream) }
        return streams
    }

    /// Archives and removes what a cut at `cutoff` removes from `tenant`'s log, in one transaction that holds the
    /// tenant's head (appends of the tenant wait): the archive is written and moved into `archiveDirectory` before the
    /// removal commits, so no content is removed that is not archived. Returns nil when nothing is eligible.
    public func cut(
        tenant: TenantID, cutoff: Date, policyMonths: Int, archiveDirectory: URL, signer: RetentionSigner, by: String, now: Date = Date()
    ) async throws -> RetentionCut? {
        let logger = database.logger
        return try await database.client.withTransaction(logger: logger) { connection -> RetentionCut? in
            var locked = false
            for try await _ in try await connection.query(
                "SELECT last_position FROM tenant_heads WHERE tenant_id = \(tenant.rawValue) FOR UPDATE", logger: logger
            ).decode(Int64.self) { locked = true }
            guard locked else { throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' has no event log") }
            let streams = try await eligibleStreams(tenant: tenant, cutoff: cutoff, on: connection)
            guard !streams.isEmpty else { return nil }

            let cutID = UUID()
            let name = "retention-\(tenant.rawValue)-\(Self.fileStamp(now))-\(cutID.uuidString.lowercased().prefix(8)).jsonl"
            let destination = archiveDirectory.appendingPathComponent(name)
            let partial = archiveDirectory.appendingPathComponent("." + name + ".partial")
            guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
                throw DomainError(.archiveNotWritable, .invalid, "cannot write \(partial.path): check that the directory exists and is writable")
            }
            var archiveHash = SHA256()
            var tombstonesHash = SHA256()
            var count: Int64 = 0
            var first: Int64 = .max
            var last: Int64 = 0
            do {
                let handle = try FileHandle(forWritingTo: partial)
                defer { try? handle.close() }
                func write(_ text: String) throws {
                    let data = Data(text.utf8)
                    archiveHash.update(data: data)
                    try handle.write(contentsOf: data)
                }
                try write(
                    "{\"format\": \"mdr-retention-archive/1\", \"tenant\": \(AuditExport.json(tenant.rawValue)), "
                        + "\"cut_id\": \"\(cutID.uuidString.lowercased())\", \"cutoff\": \(AuditExport.json(Timestamp.format(cutoff))), "
                        + "\"streams\": \(streams.count), \"archived_at\": \(AuditExport.json(Timestamp.format(now)))}\n")
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: AuditExport.lineColumns),
                           sha256(convert_to(mdr_event_canonical(tenant_id, position, stream, version, event_id, type, schema_version,
                                                                 recorded_at, data, metadata), 'UTF8'))
                    FROM events WHERE tenant_id = \(tenant.rawValue) AND stream = ANY(\(streams)) ORDER BY position
                    """, logger: logger)
                var chunk = ""
                for try await row in rows.decode((Int64, String, Int64, UUID, String, Int32, String, String, Int64, String, Data, Data).self) {
                    let (position, stream, version, eventID, type, schemaVersion, data, metadata, micros, recordedAt, hash, digest) = row
                    chunk += AuditExport.eventLine(
                        tenant: tenant, position: position, stream: stream, version: version, eventID: eventID, type: type,
                        schemaVersion: schemaVersion, data: data, metadata: metadata, micros: micros, recordedAt: recordedAt, previous: nil,
                        hash: hash, digest: digest)
                    var bigEndian = position.bigEndian
                    tombstonesHash.update(data: Data(bytes: &bigEndian, count: 8))
                    tombstonesHash.update(data: digest)
                    count += 1
                    first = min(first, position)
                    last = max(last, position)
                    if chunk.utf8.count > 1 << 20 {
                        try write(chunk)
                        chunk = ""
                    }
                }
                try write(chunk)
                try handle.synchronize()
            } catch {
                try? FileManager.default.removeItem(at: partial)
                throw error
            }

            var cut = RetentionCut(
                cutID: cutID, tenant: tenant, cutoff: cutoff, policyMonths: policyMonths, removedCount: count, firstPosition: first,
                lastPosition: last, tombstonesSHA256: Data(tombstonesHash.finalize()), archiveName: name,
                archiveSHA256: Data(archiveHash.finalize()), cutAt: now, cutBy: by, publicKey: signer.publicKey, signature: Data())
            cut.signature = try signer.sign(Data(cut.signedText.utf8))

            try await connection.query(
                """
                INSERT INTO retention_cuts (cut_id, tenant_id, cutoff, policy_months, removed_count, first_position, last_position,
                                            tombstones_sha256, archive_name, archive_sha256, cut_at, cut_by, public_key, signature)
                VALUES (\(cutID), \(tenant.rawValue), \(AuditExport.sqlInstant(cutoff)), \(policyMonths), \(count), \(first), \(last),
                        \(cut.tombstonesSHA256), \(name), \(cut.archiveSHA256), \(AuditExport.sqlInstant(now)), \(by), \(cut.publicKey),
                        \(cut.signature))
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO event_tombstones (tenant_id, position, digest, hash, cut_id)
                SELECT tenant_id, position,
                       sha256(convert_to(mdr_event_canonical(tenant_id, position, stream, version, event_id, type, schema_version,
                                                             recorded_at, data, metadata), 'UTF8')),
                       hash, \(cutID)
                FROM events WHERE tenant_id = \(tenant.rawValue) AND stream = ANY(\(streams))
                """, logger: logger)
            try await connection.query("SET LOCAL mdr.retention = 'on'", logger: logger)
            var deleted: Int64 = 0
            for try await n in try await connection.query(
                """
                WITH removed AS (DELETE FROM events WHERE tenant_id = \(tenant.rawValue) AND stream = ANY(\(streams)) RETURNING 1)
                SELECT count(*) FROM removed
                """, logger: logger
            ).decode(Int64.self) { deleted = n }
            try await connection.query("SET LOCAL mdr.retention = 'off'", logger: logger)
            let removed = streams.map(StreamName.init(rawValue:))
            for owner in self.forgetting { try await owner.forget(streams: removed, tenant: tenant, on: connection) }
            guard deleted == count else {
                try? FileManager.default.removeItem(at: partial)
                throw DomainError(.retentionConflict, .conflict, "the log changed during the cut (archived \(count), removing \(deleted)): run it again")
            }
            // Into place before the removal commits: a failed move rolls the removal back.
            do {
                if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
                try FileManager.default.moveItem(at: partial, to: destination)
            } catch {
                try? FileManager.default.removeItem(at: partial)
                throw error
            }
            logger.notice(
                "retention cut",
                metadata: ["tenant": "\(tenant)", "cut": "\(cutID)", "removed": "\(count)", "archive": "\(destination.path)"])
            return cut
        }
    }

    /// The cuts made, oldest first; of one tenant, or of all.
    public func cuts(tenant: TenantID? = nil) async throws -> [RetentionCut] {
        let rows = try await database.client.query(
            """
            SELECT cut_id, tenant_id, (extract(epoch FROM cutoff) * 1000000)::bigint, policy_months, removed_count, first_position,
                   last_position, tombstones_sha256, archive_name, archive_sha256, (extract(epoch FROM cut_at) * 1000000)::bigint, cut_by,
                   public_key, signature
            FROM retention_cuts WHERE (\(tenant?.rawValue)::text IS NULL OR tenant_id = \(tenant?.rawValue)) ORDER BY cut_at, cut_id
            """, logger: database.logger)
        var cuts: [RetentionCut] = []
        for try await row in rows.decode((UUID, String, Int64, Int, Int64, Int64, Int64, Data, String, Data, Int64, String, Data, Data).self) {
            let (id, tenant, cutoff, months, count, first, last, tombstones, name, archive, cutAt, by, key, signature) = row
            guard let tenantID = TenantID(rawValue: tenant) else { continue }
            cuts.append(
                RetentionCut(
                    cutID: id, tenant: tenantID, cutoff: Date(timeIntervalSince1970: Double(cutoff) / 1e6), policyMonths: months,
                    removedCount: count, firstPosition: first, lastPosition: last, tombstonesSHA256: tombstones, archiveName: name,
                    archiveSHA256: archive, cutAt: Date(timeIntervalSince1970: Double(cutAt) / 1e6), cutBy: by, publicKey: key,
                    signature: signature))
        }
        return cuts
    }

    /// Recomputes the tombstone digest of a cut from `event_tombstones`, to compare with the signed one.
    public func tombstonesSHA256(cut: UUID) async throws -> Data {
        var hash = SHA256()
        for try await (position, digest) in try await database.client.query(
            "SELECT position, digest FROM event_tombstones WHERE cut_id = \(cut) ORDER BY position", logger: database.logger
        ).decode((Int64, Data).self) {
            var bigEndian = position.bigEndian
            hash.update(data: Data(bytes: &bigEndian, count: 8))
            hash.update(data: digest)
        }
        return Data(hash.finalize())
    }

    static func fileStamp(_ date: Date) -> String {
        Timestamp.format(date).filter { $0.isNumber }.prefix(14).description
    }
}

extension DomainError.Code {
    public static let invalidRetention: Self = "invalid_retention"
    public static let archiveNotWritable: Self = "archive_not_writable"
    public static let retentionConflict: Self = "retention_conflict"
}

/// Something that keeps rows derived from a tenant's streams beyond the log (a view, the notification outbox). A
/// retention cut asks it to forget the streams it removes, in the cut's transaction, so that what remains is what a
/// rebuild from the remaining log would give.
public protocol StreamForgetting: Sendable {
    func forget(streams: [StreamName], tenant: TenantID, on connection: PostgresConnection) async throws
}

/// The parts of stream names that rows are keyed by.
public struct RemovedStreams: Sendable {
    public var incidents: [UUID] = []
    /// Signals by (source, source alert id).
    public var signalSources: [String] = []
    public var signalAlerts: [String] = []
    public var notifications: [String] = []

    public init(_ streams: [StreamName]) {
        for stream in streams {
            let parts = stream.rawValue.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            switch parts.first {
            case "incident" where parts.count >= 2:
                if let id = UUID(uuidString: parts.dropFirst().joined(separator: ":")) { incidents.append(id) }
            case "signal" where parts.count == 3:
                signalSources.append(parts[1])
                signalAlerts.append(parts[2])
            case "notification" where parts.count >= 2:
                notifications.append(parts.dropFirst().joined(separator: ":"))
            default: break
            }
        }
    }
}
