import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import MDRApplication
import NIOCore
import NIOHTTP1

/// The identity provider's signing keys (its JWKS), fetched over HTTPS and kept in memory.
///
/// Keys are fetched on first use, again when they are older than `keysMaxAge`, and again when a token names a key
/// that is not known yet (the provider rotated its keys) — but never more often than once per `refetchInterval`, so
/// that tokens with made-up key ids cannot turn the service into a load generator against the provider. Concurrent
/// requests that need a fetch wait for the same one. When a fetch fails the keys already known are kept (an outage
/// of the provider does not stop users with valid tokens) and the failure is logged as an error; without any keys,
/// every token is refused.
actor OIDCKeySet {
    /// What a key id resolves to.
    enum Lookup: Sendable {
        /// The key, in a collection that verifies with it, and the one algorithm it is used with.
        case key(JWTKeyCollection, algorithm: String)
        /// The provider's current key set does not hold the key.
        case unknownKey
        /// The keys cannot be fetched now (and the key is not among those fetched before).
        case unavailable
    }

    /// The algorithms a key may be used with: asymmetric only. `none` and the HMAC family are never accepted (with a
    /// public key as HMAC secret, anybody could sign).
    static let acceptedAlgorithms: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

    /// The largest discovery document or key set read.
    static let maxDocumentBytes = 1 << 20

    private struct Keys {
        var collection: JWTKeyCollection
        /// Key id → the algorithm the key is used with (its `alg`, or the default of its type and curve).
        var algorithms: [String: String]
        var fetchedAt: Date
    }

    private let configuration: OIDCConfiguration
    private let client: HTTPClient
    private let logger: Logger
    private let time: any TimeSource
    private var keys: Keys?
    /// The key set's address: configured, or discovered once.
    private var jwksURL: URL?
    private var lastAttempt: Date?
    private var lastAttemptFailed = false
    /// The fetch under way, which concurrent lookups wait for instead of starting their own. It is bounded by
    /// `fetchTimeout` per request, so it cannot outlive the service by much.
    private var fetching: Task<Void, Never>?

    init(configuration: OIDCConfiguration, client: HTTPClient = .shared, time: any TimeSource = SystemTime(), logger: Logger) {
        self.configuration = configuration
        self.time = time
        self.client = client
        self.logger = logger
        self.jwksURL = configuration.jwksURL
    }

    /// The key with id `kid`, fetching the key set first when it is missing, old, or does not know `kid`.
    func lookup(kid: String) async -> Lookup {
        if let keys, let found = Self.find(kid, in: keys), Self.elapsed(since: keys.fetchedAt, now: time.now()) < configuration.keysMaxAge {
            return found
        }
        if let fetching {
            await fetching.value
        } else if lastAttempt.map({ Self.elapsed(since: $0, now: time.now()) >= configuration.refetchInterval }) ?? true {
            let task = Task { await self.fetch() }
            fetching = task
            await task.value
            fetching = nil
        }
        if let keys, let found = Self.find(kid, in: keys) { return found }
        return keys == nil || lastAttemptFailed ? .unavailable : .unknownKey
    }

    private static func elapsed(since start: Date, now: Date) -> Duration {
        .milliseconds(Int64((now.timeIntervalSince(start) * 1000).rounded()))
    }

    private static func find(_ kid: String, in keys: Keys) -> Lookup? {
        keys.algorithms[kid].map { .key(keys.collection, algorithm: $0) }
    }

    // MARK: Fetching

    private struct FetchError: Error, CustomStringConvertible {
        var description: String
    }

    /// Fetches the key set (discovering its address first if needed) and replaces the known keys with it.
    private func fetch() async {
        lastAttempt = time.now()
        do {
            let url = try await keySetURL()
            let (collection, algorithms) = try await Self.keys(fromJWKS: try await get(url))
            guard !algorithms.isEmpty else {
                throw FetchError(description: "the key set at \(url) holds no usable signing key (RSA, EC or Ed25519 with a kid)")
            }
            keys = Keys(collection: collection, algorithms: algorithms, fetchedAt: time.now())
            lastAttemptFailed = false
            logger.info(
                "fetched the OpenID Connect signing keys",
                metadata: ["oidc.jwks": "\(url)", "oidc.kids": "\(algorithms.keys.sorted().joined(separator: ","))"])
        } catch {
            lastAttemptFailed = true
            logger.error(
                "cannot fetch the OpenID Connect signing keys: \(error); bearer JWTs signed with other keys are refused (401) until a fetch succeeds",
                metadata: ["oidc.issuer": "\(configuration.issuer)", "oidc.known_keys": "\(keys?.algorithms.count ?? 0)"])
        }
    }

    /// The configured key set address, or `jwks_uri` of the issuer's discovery document.
    private func keySetURL() async throws -> URL {
        if let jwksURL { return jwksURL }
        struct Discovery: Decodable {
            var issuer: String
            var jwks_uri: String
        }
        let discoveryURL = configuration.discoveryURL
        let document: Discovery
        do {
            document = try JSONDecoder().decode(Discovery.self, from: try await get(discoveryURL))
        } catch let error as FetchError {
            throw error
        } catch {
            throw FetchError(description: "\(discoveryURL) is not an OpenID Connect discovery document with issuer and jwks_uri")
        }
        // OpenID Connect Discovery §4.3: the document must be the issuer's own.
        guard document.issuer == configuration.issuer else {
            throw FetchError(description: "\(discoveryURL) names the issuer '\(document.issuer)', not '\(configuration.issuer)' (MDR_OIDC_ISSUER)")
        }
        guard let url = OIDCConfiguration.fetchableURL(document.jwks_uri) else {
            throw FetchError(description: "\(discoveryURL) names jwks_uri '\(document.jwks_uri)', which is not an https URL")
        }
        jwksURL = url
        return url
    }

    private func get(_ url: URL) async throws -> Data {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "Accept", value: "application/json")
        let timeout = TimeAmount.milliseconds(Int64(configuration.fetchTimeout / .milliseconds(1)))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw FetchError(description: "GET \(url) failed: \(error)")
        }
        guard response.status == .ok else {
            throw FetchError(description: "GET \(url) answered \(response.status.code)")
        }
        let body = try await response.body.collect(upTo: Self.maxDocumentBytes)
        return Data(body.readableBytesView)
    }

    // MARK: Reading a key set

    /// One entry of a key set; entries jwt-kit cannot read (other key types) are skipped, not fatal.
    private struct Entry: Decodable {
        var jwk: JWK?
        var use: String?

        enum CodingKeys: String, CodingKey { case use }

        init(from decoder: any Decoder) throws {
            jwk = try? JWK(from: decoder)
            use = try? decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .use)
        }
    }

    /// The signing keys of a JWKS document, each pinned to one algorithm, in a collection that verifies with them.
    ///
    /// Pinning matters: a key without `alg` would otherwise take its algorithm from the first token that names it,
    /// and jwt-kit keeps that choice for the key (one odd token could break verification for everybody).
    static func keys(fromJWKS data: Data) async throws -> (JWTKeyCollection, [String: String]) {
        struct Document: Decodable { var keys: [Entry] }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw FetchError(description: "the key set is not a JWKS document ({\"keys\": [...]})")
        }
        let collection = JWTKeyCollection()
        var algorithms: [String: String] = [:]
        for entry in document.keys {
            guard var jwk = entry.jwk, entry.use != "enc", let kid = jwk.keyIdentifier?.string, jwk.privateExponent == nil,
                let algorithm = jwk.algorithm?.rawValue ?? defaultAlgorithm(of: jwk), acceptedAlgorithms.contains(algorithm),
                algorithms[kid] == nil
            else { continue }
            jwk.algorithm = JWK.Algorithm(rawValue: algorithm)
            // A key whose material does not fit its type is skipped like an unknown one.
            guard (try? await collection.add(jwk: jwk)) != nil else { continue }
            algorithms[kid] = algorithm
        }
        return (collection, algorithms)
    }

    /// The algorithm of a key without `alg`: RS256 for RSA (the OpenID Connect default, and Entra ID's keys carry no
    /// `alg`), the curve's own for EC, EdDSA for Ed25519.
    private static func defaultAlgorithm(of jwk: JWK) -> String? {
        switch jwk.keyType {
        case .rsa: "RS256"
        case .ecdsa:
            switch jwk.curve?.rawValue {
            case "P-256": "ES256"
            case "P-384": "ES384"
            case "P-521": "ES512"
            default: nil
            }
        case .octetKeyPair: jwk.curve?.rawValue == "Ed25519" ? "EdDSA" : nil
        default: nil
        }
    }
}
