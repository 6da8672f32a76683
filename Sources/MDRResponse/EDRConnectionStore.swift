import Foundation
import Logging
import MDRDomain
import MDRStore
import PostgresNIO

/// How one tenant's EDR is reached: today always Microsoft Defender for Endpoint through an app registration.
public struct EDRConnection: Sendable, Equatable, CustomStringConvertible {
    public var tenant: TenantID
    /// `defender` (the only kind so far).
    public var kind: String
    public var credentials: DefenderCredentials
    public var createdAt: Date
    public var updatedAt: Date

    /// Everything but the secret.
    public var description: String { "EDRConnection(tenant: \(tenant), kind: \(kind), \(credentials))" }
}

/// The table `edr_connections` (migration 0006): per tenant, where and as whom to call its Defender.
///
/// The client secret is stored in the database as given; a vault or KMS is the production improvement (see
/// docs/response.md). `list()` and `description` never show it.
public struct EDRConnectionStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Creates or replaces the tenant's connection.
    public func set(tenant: TenantID, credentials c: DefenderCredentials) async throws {
        try await database.client.query(
            """
            INSERT INTO edr_connections (tenant_id, kind, base_url, authority, entra_tenant_id, client_id, client_secret, scope)
            VALUES (\(tenant.rawValue), 'defender', \(c.baseURL), \(c.authority), \(c.tenantID), \(c.clientID), \(c.clientSecret), \(c.scope))
            ON CONFLICT (tenant_id) DO UPDATE SET
                kind = EXCLUDED.kind, base_url = EXCLUDED.base_url, authority = EXCLUDED.authority,
                entra_tenant_id = EXCLUDED.entra_tenant_id, client_id = EXCLUDED.client_id,
                client_secret = EXCLUDED.client_secret, scope = EXCLUDED.scope, updated_at = now()
            """, logger: database.logger)
    }

    /// The tenant's connection, or nil when none is configured.
    public func connection(tenant: TenantID) async throws -> EDRConnection? {
        try await read(where: tenant).first
    }

    /// Every connection, by tenant.
    public func list() async throws -> [EDRConnection] {
        try await read(where: nil)
    }

    /// Removes the tenant's connection; false when it had none.
    public func remove(tenant: TenantID) async throws -> Bool {
        let rows = try await database.client.query(
            "DELETE FROM edr_connections WHERE tenant_id = \(tenant.rawValue) RETURNING tenant_id", logger: database.logger)
        for try await _ in rows.decode(String.self) { return true }
        return false
    }

    private func read(where tenant: TenantID?) async throws -> [EDRConnection] {
        let rows = try await database.client.query(
            """
            SELECT tenant_id, kind, base_url, authority, entra_tenant_id, client_id, client_secret, scope, created_at, updated_at
            FROM edr_connections WHERE \(tenant?.rawValue)::text IS NULL OR tenant_id = \(tenant?.rawValue)
            ORDER BY tenant_id
            """, logger: database.logger)
        var found: [EDRConnection] = []
        for try await (id, kind, base, authority, entra, client, secret, scope, created, updated) in rows.decode(
            (String, String, String, String, String, String, String, String, Date, Date).self)
        {
            guard let tenant = TenantID(rawValue: id) else { continue }
            found.append(
                EDRConnection(
                    tenant: tenant, kind: kind,
                    credentials: DefenderCredentials(
                        baseURL: base, authority: authority, tenantID: entra, clientID: client, clientSecret: secret, scope: scope),
                    createdAt: created, updatedAt: updated))
        }
        return found
    }
}
