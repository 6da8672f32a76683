import Foundation
import Logging
import MDRDomain
import MDRStore
import NIOCore
import PostgresNIO

/// A firewall (or log relay) allowed to send syslog to the service, and the tenant its messages belong to.
public struct SyslogSender: Sendable, Equatable {
    /// The source address the messages come from, in its usual text form (`192.0.2.10`, `2001:db8::10`).
    public var address: String
    public var tenant: TenantID
    /// Who mapped it (`cli:USER`).
    public var addedBy: String
    public var addedAt: Date

    public init(address: String, tenant: TenantID, addedBy: String, addedAt: Date) {
        self.address = address
        self.tenant = tenant
        self.addedBy = addedBy
        self.addedAt = addedAt
    }
}

extension DomainError.Code {
    /// The text is not an IPv4 or IPv6 address of one host.
    public static let invalidSenderAddress: Self = "invalid_sender_address"
    /// The address already sends for a tenant: remove that mapping first.
    public static let senderExists: Self = "sender_exists"
    /// No sender with that address is mapped.
    public static let senderNotFound: Self = "sender_not_found"
}

/// The `syslog_senders` table (migration 0004): one tenant per source address.
public struct SyslogSenderStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The address in the form the listener compares: IPv4 dotted quad, IPv6 as `inet_ntop` writes it, an IPv4-mapped
    /// IPv6 address (`::ffff:192.0.2.10`, as a dual-stack socket reports IPv4 peers) as its IPv4 address.
    public static func canonicalAddress(_ raw: String) -> String? {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, let address = try? SocketAddress(ipAddress: trimmed, port: 0) else { return nil }
        return canonicalAddress(address)
    }

    /// The canonical text form of a peer's address (see `canonicalAddress(_:)`); nil for Unix sockets.
    public static func canonicalAddress(_ address: SocketAddress) -> String? {
        guard let ip = address.ipAddress else { return nil }
        if case .v6 = address {
            let lower = ip.lowercased()
            if lower.hasPrefix("::ffff:"), lower.contains(".") { return String(lower.dropFirst(7)) }
            return lower
        }
        return ip
    }

    /// Maps `address` to `tenant`. Refuses an invalid address and one that is already mapped (to any tenant).
    /// Does not check that the tenant exists: the caller does (`mdr syslog sender add` asks the event log).
    public func add(address raw: String, tenant: TenantID, addedBy: String) async throws -> SyslogSender {
        guard let address = Self.canonicalAddress(raw) else {
            throw DomainError(.invalidSenderAddress, .invalid, "'\(raw.prefix(60))' is not an IPv4 or IPv6 address of one host")
        }
        let rows = try await database.client.query(
            """
            INSERT INTO syslog_senders (address, tenant_id, added_by) VALUES (\(address)::inet, \(tenant.rawValue), \(addedBy))
            ON CONFLICT (address) DO NOTHING
            RETURNING added_at
            """, logger: database.logger)
        for try await addedAt in rows.decode(Date.self) {
            return SyslogSender(address: address, tenant: tenant, addedBy: addedBy, addedAt: addedAt)
        }
        let existing = try await list().first { $0.address == address }
        throw DomainError(
            .senderExists, .conflict,
            "\(address) already sends for tenant '\(existing?.tenant.rawValue ?? "?")': remove it first (mdr syslog sender remove \(address))")
    }

    /// All mappings, or one tenant's, by address.
    public func list(tenant: TenantID? = nil) async throws -> [SyslogSender] {
        let rows = try await database.client.query(
            """
            SELECT host(address), tenant_id, added_by, added_at FROM syslog_senders
            WHERE \(tenant?.rawValue)::text IS NULL OR tenant_id = \(tenant?.rawValue)
            ORDER BY address
            """, logger: database.logger)
        var senders: [SyslogSender] = []
        for try await (address, tenant, addedBy, addedAt) in rows.decode((String, String, String, Date).self) {
            guard let tenant = TenantID(rawValue: tenant) else { continue }
            senders.append(SyslogSender(address: Self.canonicalAddress(address) ?? address, tenant: tenant, addedBy: addedBy, addedAt: addedAt))
        }
        return senders
    }

    /// Removes a mapping; throws `sender_not_found` when there is none. Returns the mapping removed.
    @discardableResult
    public func remove(address raw: String) async throws -> SyslogSender {
        guard let address = Self.canonicalAddress(raw) else {
            throw DomainError(.invalidSenderAddress, .invalid, "'\(raw.prefix(60))' is not an IPv4 or IPv6 address of one host")
        }
        let rows = try await database.client.query(
            "DELETE FROM syslog_senders WHERE address = \(address)::inet RETURNING tenant_id, added_by, added_at", logger: database.logger)
        for try await (tenant, addedBy, addedAt) in rows.decode((String, String, Date).self) {
            return SyslogSender(address: address, tenant: TenantID(rawValue: tenant) ?? TenantID(rawValue: "unknown")!, addedBy: addedBy, addedAt: addedAt)
        }
        throw DomainError(.senderNotFound, .notFound, "no syslog sender \(address) (mdr syslog sender list shows them)")
    }
}
