import Crypto
import Foundation
import Logging
import MDRDomain
import PostgresNIO
import Synchronization

/// API bearer tokens: `mdr_` + 43 characters of random base64url. Only the SHA-256 of a token is stored; the token
/// itself is shown once, when it is created.
public struct TokenStore: Sendable {
    public struct TokenInfo: Sendable, Equatable {
        public var id: UUID
        public var name: String
        public var role: Role
        public var tenant: TenantID?
        public var createdAt: Date
        public var expiresAt: Date?
        public var revokedAt: Date?
        public var lastUsedAt: Date?
        /// The token `rotate` made to follow this one.
        public var replacedBy: UUID?
    }

    public struct TokenError: Error, CustomStringConvertible {
        public var description: String
    }

    let database: Database
    /// Tokens found recently, by hash, for `cacheTTL`: a connector posting many small batches costs no query per request
    /// for its token. A revocation or rotation through this store takes effect at once; one made elsewhere (the command
    /// line, another instance) within `cacheTTL`.
    let cache: TokenCache
    /// How long a found token is used from memory (0: never).
    public let cacheTTL: TimeInterval

    public init(database: Database, cacheTTL: TimeInterval = 5) {
        self.database = database
        self.cacheTTL = cacheTTL
        self.cache = TokenCache()
    }

    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// A new secret: `mdr_` + 32 random bytes in base64url without padding.
    static func newSecret() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        return "mdr_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Creates a token; returns its info and the secret, which is not stored and cannot be shown again.
    public func create(name: String, role: Role, tenant: TenantID?, expiresAt: Date? = nil) async throws -> (TokenInfo, String) {
        guard role.isTenantScoped == (tenant != nil) else {
            throw TokenError(
                description: role.isTenantScoped
                    ? "a \(role.rawValue) token must be bound to one tenant (--tenant)"
                    : "a \(role.rawValue) token works across tenants: give no tenant")
        }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 200 else { throw TokenError(description: "a token needs a name of 1–200 characters") }
        let secret = Self.newSecret()
        let id = UUID()
        let rows = try await database.client.query(
            """
            INSERT INTO api_tokens (token_id, token_hash, name, role, tenant_id, expires_at)
            VALUES (\(id), \(Self.hash(secret)), \(trimmed), \(role.rawValue), \(tenant?.rawValue), \(expiresAt))
            RETURNING created_at
            """, logger: database.logger)
        var created = Date()
        for try await at in rows.decode(Date.self) { created = at }
        return (TokenInfo(id: id, name: trimmed, role: role, tenant: tenant, createdAt: created, expiresAt: expiresAt), secret)
    }

    /// The principal a bearer token stands for, or nil when it is unknown, revoked or expired.
    /// Records the use in `last_used_at` at most once a minute per token: a read on every request, a write (and a
    /// commit) only when the recorded use is older than that.
    public func authenticate(_ token: String, now: Date = Date()) async throws -> Principal? {
        guard token.hasPrefix("mdr_"), token.utf8.count < 200 else { return nil }
        let hash = Self.hash(token)
        if let known = cache.find(hash, now: now) { return known }
        let rows = try await database.client.query(
            """
            SELECT token_id, name, role, tenant_id, last_used_at, expires_at FROM api_tokens
            WHERE token_hash = \(hash) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))
            """, logger: database.logger)
        for try await (id, name, role, tenant, lastUsed, expires) in rows.decode((UUID, String, String, String?, Date?, Date?).self) {
            guard let role = Role(rawValue: role) else { return nil }
            if lastUsed.map({ now.timeIntervalSince($0) >= 60 }) ?? true {
                try await database.client.query(
                    """
                    UPDATE api_tokens SET last_used_at = \(now)
                    WHERE token_id = \(id) AND (last_used_at IS NULL OR last_used_at < \(now) - interval '1 minute')
                    """, logger: database.logger)
            }
            let principal = Principal(id: "token:\(id.uuidString.lowercased())", name: name, role: role, tenant: tenant.flatMap(TenantID.init(rawValue:)))
            if cacheTTL > 0 {
                // Until the token expires, but not beyond the TTL; and `last_used_at` stays within a minute and a TTL.
                let until = min(now.addingTimeInterval(cacheTTL), expires ?? .distantFuture)
                cache.store(hash, principal, tokenID: id, until: until)
            }
            return principal
        }
        return nil
    }

    public func list() async throws -> [TokenInfo] {
        let rows = try await database.client.query(
            """
            SELECT token_id, name, role, tenant_id, created_at, expires_at, revoked_at, last_used_at, replaced_by
            FROM api_tokens ORDER BY created_at
            """,
            logger: database.logger)
        var tokens: [TokenInfo] = []
        for try await (id, name, role, tenant, created, expires, revoked, used, replacedBy) in rows.decode(
            (UUID, String, String, String?, Date, Date?, Date?, Date?, UUID?).self)
        {
            tokens.append(
                TokenInfo(
                    id: id, name: name, role: Role(rawValue: role) ?? .customer, tenant: tenant.flatMap(TenantID.init(rawValue:)),
                    createdAt: created, expiresAt: expires, revokedAt: revoked, lastUsedAt: used, replacedBy: replacedBy))
        }
        return tokens
    }

    /// Replaces an active token: creates a new one with the same name, role and tenant (expiring at `expiresAt`), and
    /// makes the old one expire `grace` after `now` (or earlier, if it was to expire before that), so that its user
    /// can switch over without a gap. Returns the new token's info and secret, shown once, and the old token's new
    /// expiry. Throws `TokenError` when no active (unrevoked, unexpired) token has that id.
    public func rotate(
        id: UUID, expiresAt: Date? = nil, grace: TimeInterval = 3600, now: Date = Date()
    ) async throws -> (TokenInfo, String, oldExpiresAt: Date) {
        guard grace >= 0 else { throw TokenError(description: "the grace period cannot be negative") }
        cache.forget(tokenID: id)
        let secret = Self.newSecret()
        let newID = UUID()
        do {
            return try await replace(id: id, expiresAt: expiresAt, grace: grace, now: now, secret: secret, newID: newID)
        } catch let error as PostgresTransactionError {
            // The refusal is thrown inside the transaction: hand it on as it was thrown.
            if let refusal = error.closureError as? TokenError { throw refusal }
            throw error
        }
    }

    private func replace(
        id: UUID, expiresAt: Date?, grace: TimeInterval, now: Date, secret: String, newID: UUID
    ) async throws -> (TokenInfo, String, oldExpiresAt: Date) {
        let logger = database.logger
        return try await database.client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT name, role, tenant_id, expires_at FROM api_tokens
                WHERE token_id = \(id) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))
                FOR UPDATE
                """, logger: logger)
            var found: (String, String, String?, Date?)?
            for try await row in rows.decode((String, String, String?, Date?).self) { found = row }
            guard let (name, rawRole, tenant, oldExpiry) = found, let role = Role(rawValue: rawRole) else {
                throw TokenError(description: "no active token \(id.uuidString.lowercased()) (revoked, expired or unknown)")
            }
            let created = try await connection.query(
                """
                INSERT INTO api_tokens (token_id, token_hash, name, role, tenant_id, expires_at)
                VALUES (\(newID), \(Self.hash(secret)), \(name), \(rawRole), \(tenant), \(expiresAt))
                RETURNING created_at
                """, logger: logger)
            var createdAt = now
            for try await at in created.decode(Date.self) { createdAt = at }
            let graceEnd = now.addingTimeInterval(grace)
            let oldExpiresAt = oldExpiry.map { min($0, graceEnd) } ?? graceEnd
            try await connection.query(
                "UPDATE api_tokens SET expires_at = \(oldExpiresAt), replaced_by = \(newID) WHERE token_id = \(id)", logger: logger)
            let info = TokenInfo(
                id: newID, name: name, role: role, tenant: tenant.flatMap(TenantID.init(rawValue:)), createdAt: createdAt, expiresAt: expiresAt)
            return (info, secret, oldExpiresAt: oldExpiresAt)
        }
    }

    /// Revokes a token; returns false when no such active token exists.
    public func revoke(id: UUID) async throws -> Bool {
        cache.forget(tokenID: id)
        let rows = try await database.client.query(
            "UPDATE api_tokens SET revoked_at = now() WHERE token_id = \(id) AND revoked_at IS NULL RETURNING token_id",
            logger: database.logger)
        for try await _ in rows.decode(UUID.self) { return true }
        return false
    }
}

/// The tokens a `TokenStore` found recently (see `TokenStore.cacheTTL`).
final class TokenCache: Sendable {
    private struct Entry {
        var principal: Principal
        var tokenID: UUID
        var until: Date
    }

    private let entries = Mutex<[Data: Entry]>([:])

    func find(_ hash: Data, now: Date) -> Principal? {
        entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            guard entry.until > now else {
                entries[hash] = nil
                return nil
            }
            return entry.principal
        }
    }

    func store(_ hash: Data, _ principal: Principal, tokenID: UUID, until: Date) {
        entries.withLock { entries in
            // Bounded: tokens are few; a flood of new ones only evicts the oldest entries' benefit.
            if entries.count > 10_000 { entries.removeAll() }
            entries[hash] = Entry(principal: principal, tokenID: tokenID, until: until)
        }
    }

    func forget(tokenID: UUID) {
        entries.withLock { entries in entries = entries.filter { $0.value.tokenID != tokenID } }
    }
}
