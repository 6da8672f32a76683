import Foundation
import MDRDomain
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

@Suite("API tokens")
struct TokenStoreTests {
    @Test func aTokenIsStoredOnlyAsItsHashAndAuthenticatesAsItsPrincipal() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let tokens = TokenStore(database: db)
            let (info, secret) = try await tokens.create(name: "acme connector", role: .connector, tenant: acme)
            #expect(secret.hasPrefix("mdr_"))
            let stored = try await db.client.query("SELECT count(*) FROM api_tokens WHERE position(convert_to(\(secret), 'UTF8') in token_hash) > 0", logger: TestDatabase.logger)
            for try await n in stored.decode(Int64.self) { #expect(n == 0) }
            let principal = try #require(try await tokens.authenticate(secret))
            #expect(principal.role == .connector)
            #expect(principal.tenant == acme)
            #expect(principal.id == "token:\(info.id.uuidString.lowercased())")
            #expect(try await tokens.authenticate(secret + "x") == nil)
            #expect(try await tokens.authenticate("not-a-token") == nil)
        }
    }

    @Test func everyUseIsRecordedAtMostOnceAMinute() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let tokens = TokenStore(database: db)
            let (info, secret) = try await tokens.create(name: "soc platform", role: .soc, tenant: nil)
            #expect(try await tokens.list().first?.lastUsedAt == nil)
            let t0 = Date(timeIntervalSince1970: 1_795_000_000)
            _ = try await tokens.authenticate(secret, now: t0)
            let first = try #require(try await tokens.list().first { $0.id == info.id }?.lastUsedAt)
            #expect(abs(first.timeIntervalSince(t0)) < 0.001)
            _ = try await tokens.authenticate(secret, now: t0.addingTimeInterval(30))
            #expect(try await tokens.list().first?.lastUsedAt.map { abs($0.timeIntervalSince(t0)) < 0.001 } == true)
            _ = try await tokens.authenticate(secret, now: t0.addingTimeInterval(90))
            #expect(try await tokens.list().first?.lastUsedAt.map { abs($0.timeIntervalSince(t0.addingTimeInterval(90))) < 0.001 } == true)
        }
    }

    @Test func revokedAndExpiredTokensDoNotAuthenticate() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let tokens = TokenStore(database: db)
            let (revokedInfo, revoked) = try await tokens.create(name: "old", role: .dynamic, tenant: nil)
            #expect(try await tokens.revoke(id: revokedInfo.id))
            #expect(try await tokens.revoke(id: revokedInfo.id) == false)
            #expect(try await tokens.authenticate(revoked) == nil)
            let (_, expiring) = try await tokens.create(name: "short", role: .soc, tenant: nil, expiresAt: Date().addingTimeInterval(60))
            #expect(try await tokens.authenticate(expiring) != nil)
            #expect(try await tokens.authenticate(expiring, now: Date().addingTimeInterval(120)) == nil)
        }
    }

    @Test func aRotatedTokenWorksUntilTheGraceEndsAndItsSuccessorTakesOver() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let tokens = TokenStore(database: db)
            let (old, oldSecret) = try await tokens.create(name: "acme connector", role: .connector, tenant: acme)
            let now = Date()
            let (new, newSecret, graceEnd) = try await tokens.rotate(id: old.id, grace: 600, now: now)
            #expect(new.id != old.id)
            #expect(new.name == "acme connector" && new.role == .connector && new.tenant == acme && new.expiresAt == nil)
            #expect(abs(graceEnd.timeIntervalSince(now.addingTimeInterval(600))) < 0.001)
            // Both work during the grace period; the old one stops at its end, the new one goes on.
            #expect(try await tokens.authenticate(oldSecret, now: now.addingTimeInterval(599))?.tenant == acme)
            #expect(try await tokens.authenticate(newSecret, now: now.addingTimeInterval(599))?.tenant == acme)
            #expect(try await tokens.authenticate(oldSecret, now: now.addingTimeInterval(601)) == nil)
            #expect(try await tokens.authenticate(newSecret, now: now.addingTimeInterval(601))?.role == .connector)
            let listed = try await tokens.list()
            #expect(listed.first { $0.id == old.id }?.replacedBy == new.id)
            #expect(listed.first { $0.id == old.id }?.expiresAt.map { abs($0.timeIntervalSince(graceEnd)) < 0.001 } == true)
            // A token that has already stopped working cannot be rotated.
            await #expect(throws: TokenStore.TokenError.self) {
                _ = try await tokens.rotate(id: old.id, now: now.addingTimeInterval(601))
            }
            await #expect(throws: TokenStore.TokenError.self) { _ = try await tokens.rotate(id: UUID()) }
        }
    }

    @Test func rotationNeverExtendsAnEarlierExpiry() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let tokens = TokenStore(database: db)
            let now = Date()
            let (old, _) = try await tokens.create(name: "short", role: .soc, tenant: nil, expiresAt: now.addingTimeInterval(120))
            let later = now.addingTimeInterval(86400 * 30)
            let (new, _, graceEnd) = try await tokens.rotate(id: old.id, expiresAt: later, grace: 3600, now: now)
            #expect(abs(graceEnd.timeIntervalSince(now.addingTimeInterval(120))) < 0.001)
            #expect(try await tokens.list().first { $0.id == new.id }?.expiresAt.map { abs($0.timeIntervalSince(later)) < 0.001 } == true)
        }
    }

    @Test func tenantScopeMustMatchTheRole() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let tokens = TokenStore(database: db)
            await #expect(throws: TokenStore.TokenError.self) { _ = try await tokens.create(name: "x", role: .customer, tenant: nil) }
            await #expect(throws: TokenStore.TokenError.self) { _ = try await tokens.create(name: "x", role: .soc, tenant: acme) }
        }
    }
}
