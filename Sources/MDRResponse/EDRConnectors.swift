import AsyncHTTPClient
import Foundation
import MDRDomain
import Synchronization

/// Where the responder gets the EDR connector of a tenant from.
public protocol EDRConnectorSource: Sendable {
    /// The tenant's connector, or nil when the tenant has no EDR connection.
    func connector(for tenant: TenantID) async throws -> (any EDRConnector)?
}

/// One `DefenderForEndpointClient` per tenant, built from `edr_connections` and kept while its credentials stay the
/// same: the token, the rate limiter and the idempotency memory belong to one app registration. A changed connection
/// (`mdr edr set`) gives a new client at the next use.
public final class DefenderConnectors: EDRConnectorSource {
    private let store: EDRConnectionStore
    private let httpClient: HTTPClient
    private let configuration: DefenderForEndpointClient.Configuration
    private let now: @Sendable () -> Date
    private let sleep: @Sendable (Duration) async throws -> Void
    private let clients = Mutex<[TenantID: (credentials: DefenderCredentials, client: DefenderForEndpointClient)]>([:])

    /// `now` and `sleep` go to every client (token expiry, rate limiter, `Retry-After`), so tests control time.
    public init(
        store: EDRConnectionStore, httpClient: HTTPClient = .shared, configuration: DefenderForEndpointClient.Configuration = .init(),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.store = store
        self.httpClient = httpClient
        self.configuration = configuration
        self.now = now
        self.sleep = sleep
    }

    public func connector(for tenant: TenantID) async throws -> (any EDRConnector)? {
        guard let connection = try await store.connection(tenant: tenant) else {
            clients.withLock { _ = $0.removeValue(forKey: tenant) }
            return nil
        }
        return clients.withLock { clients in
            if let cached = clients[tenant], cached.credentials == connection.credentials { return cached.client }
            let client = DefenderForEndpointClient(
                credentials: connection.credentials, httpClient: httpClient, configuration: configuration, now: now, sleep: sleep)
            clients[tenant] = (connection.credentials, client)
            return client
        }
    }
}
