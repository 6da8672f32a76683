import Crypto
import Foundation
import Logging
import MDRDomain
import PostgresNIO

/// Recomputes a tenant's hash chain from what is stored and reports the first position where it breaks.
/// Each event's hash is SHA-256(previous hash ‖ SHA-256(canonical form)), the canonical form being PostgreSQL's
/// jsonb text of `[tenant, position, stream, version, event_id, type, schema_version, recorded_at µs, data,
/// metadata]` (`mdr_event_canonical`). The first event's previous hash is 32 zero bytes. The hashing is done here, in Swift,
/// independently of the SQL that wrote the chain.
public struct ChainVerifier: Sendable {
    public static let genesisHash = Data(repeating: 0, count: 32)

    /// What verification found for one tenant.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public enum Problem: Sendable, Equatable {
            /// The stored hash does not match the recomputed one: the event was edited, inserted or moved.
            case hashMismatch
            /// A position is missing: an event was deleted (or positions were renumbered).
            case missingPosition
            /// The head row says the log goes further (or ends elsewhere) than the events do: events removed at the end.
            case headMismatch
            /// A retention cut's signature does not verify, or its tombstones are not the ones it signed.
            case retentionCut
        }

        public var tenant: TenantID
        public var eventsChecked: Int64
        /// Of those, positions whose content a retention cut removed (verified through their tombstones' digests).
        public var removedChecked: Int64 = 0
        /// Retention cuts whose signature and tombstones were checked.
        public var cutsChecked: Int = 0
        /// The first bad position, nil when the chain is intact.
        public var firstBadPosition: Int64?
        public var problem: Problem?

        public var isIntact: Bool { firstBadPosition == nil }

        public var description: String {
            guard let position = firstBadPosition, let problem else {
                let removed = removedChecked > 0 ? " (\(removedChecked) removed by \(cutsChecked) retention cut(s), signatures valid)" : ""
                return "tenant \(tenant): \(eventsChecked) events\(removed), chain intact"
            }
            let what: String
            switch problem {
            case .hashMismatch: what = "hash mismatch (event edited, inserted or reordered)"
            case .missingPosition: what = "position missing (event deleted)"
            case .headMismatch: what = "the log ends before its recorded head (events removed at the end)"
            case .retentionCut: what = "a retention cut from here is not signed as recorded (signature or tombstones changed)"
            }
            return "tenant \(tenant): first bad position \(position): \(what)"
        }
    }

    let database: Database
    /// The public key retention cuts must verify with (the one given to auditors); nil: the key recorded in each cut.
    let retentionPublicKey: Data?

    public init(database: Database, retentionPublicKey: Data? = nil) {
        self.database = database
        self.retentionPublicKey = retentionPublicKey
    }

    /// The hash of an event whose predecessor's hash is `previous`.
    public static func chain(_ previous: Data, canonical: String) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: Data(SHA256.hash(data: Data(canonical.utf8))))
        return Data(hasher.finalize())
    }

    /// The hash of an event whose content is gone but whose digest (SHA-256 of its canonical form) is kept.
    public static func chain(_ previous: Data, digest: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: digest)
        return Data(hasher.finalize())
    }

    /// Every tenant with a log.
    public func tenants() async throws -> [TenantID] {
        let rows = try await database.client.query(
            "SELECT tenant_id FROM tenant_heads UNION SELECT DISTINCT tenant_id FROM events ORDER BY 1", logger: database.logger)
        var tenants: [TenantID] = []
        for try await raw in rows.decode(String.self) {
            if let id = TenantID(rawValue: raw) { tenants.append(id) }
        }
        return tenants
    }

    public func verify(tenant: TenantID) async throws -> Report {
        let logger = database.logger
        var report = Report(tenant: tenant, eventsChecked: 0, firstBadPosition: nil, problem: nil)
        var previous = Self.genesisHash
        var expectedPosition: Int64 = 1
        var after: Int64 = 0
        let page = 5000
        pages: while true {
            // Events, and the tombstones retention left for removed ones (their digest stands in for the content).
            let rows = try await database.client.query(
                """
                SELECT position, hash, canonical, digest FROM (
                    SELECT position, hash,
                           mdr_event_canonical(tenant_id, position, stream, version, event_id, type, schema_version, recorded_at,
                                               data, metadata) AS canonical,
                           NULL::bytea AS digest
                    FROM events WHERE tenant_id = \(tenant.rawValue) AND position > \(after)
                    UNION ALL
                    SELECT position, hash, NULL, digest FROM event_tombstones WHERE tenant_id = \(tenant.rawValue) AND position > \(after)
                ) AS log ORDER BY position LIMIT \(page)
                """, logger: logger)
            var count = 0
            for try await (position, stored, canonical, digest) in rows.decode((Int64, Data, String?, Data?).self) {
                count += 1
                after = position
                if report.firstBadPosition != nil { continue }
                if position != expectedPosition {
                    report.firstBadPosition = expectedPosition
                    report.problem = .missingPosition
                    continue
                }
                let computed: Data
                if let canonical {
                    computed = Self.chain(previous, canonical: canonical)
                } else if let digest {
                    computed = Self.chain(previous, digest: digest)
                    report.removedChecked += 1
                } else {
                    continue
                }
                if computed != stored {
                    report.firstBadPosition = position
                    report.problem = .hashMismatch
                    continue
                }
                previous = stored
                report.eventsChecked += 1
                expectedPosition += 1
            }
            if count < page || report.firstBadPosition != nil { break pages }
        }
        if report.firstBadPosition == nil {
            let retention = RetentionStore(database: database)
            for cut in try await retention.cuts(tenant: tenant) {
                report.cutsChecked += 1
                guard cut.hasValidSignature(publicKey: retentionPublicKey),
                    try await retention.tombstonesSHA256(cut: cut.cutID) == cut.tombstonesSHA256
                else {
                    report.firstBadPosition = cut.firstPosition
                    report.problem = .retentionCut
                    break
                }
            }
        }
        if report.firstBadPosition == nil {
            let heads = try await database.client.query(
                "SELECT last_position, last_hash FROM tenant_heads WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            var head: (Int64, Data)? = nil
            for try await row in heads.decode((Int64, Data).self) { head = row }
            let last = expectedPosition - 1
            if let (headPosition, headHash) = head, headPosition != last || (last > 0 && headHash != previous) {
                report.firstBadPosition = min(headPosition, last) + 1
                report.problem = headPosition > last ? .headMismatch : .hashMismatch
            } else if head == nil && last > 0 {
                report.firstBadPosition = 1
                report.problem = .headMismatch
            }
        }
        return report
    }
}
