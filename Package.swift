// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "mdr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mdr", targets: ["mdr"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // 4.x for jwt-kit 5 (OIDC bearer tokens); our own use of Crypto is the same on 3.x and 4.x.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        // Tests only: reading the OpenAPI document (TenantIsolationTableTests). Already resolved for the generator.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Pure domain: identifiers, commands, events, deciders, policies. Foundation only, no I/O.
        .target(name: "MDRDomain", swiftSettings: swiftSettings),

        // Signal normalisers (native JSON now; Graph security alerts and CEF next), scrubbing, noise, correlation. Pure.
        .target(name: "MDRDetection", dependencies: ["MDRDomain"], swiftSettings: swiftSettings),

        // PostgreSQL: migrations, the event store (append, read, subscribe), audit verification, tokens.
        .target(
            name: "MDRStore",
            dependencies: [
                "MDRDomain",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),

        // Application services: load state from the store, decide with the domain, append. Shared by HTTP and CLI.
        .target(
            name: "MDRApplication",
            dependencies: [
                "MDRDomain", "MDRDetection", "MDRStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Projections: read models built from the log (incidents, device isolation, signal statistics) and their runner.
        .target(
            name: "MDRProjections",
            dependencies: [
                "MDRDomain", "MDRStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Syslog listener (SwiftNIO, UDP and TCP): firewalls send CEF over syslog; senders map to tenants; ingest per tenant.
        .target(
            name: "MDRSyslog",
            dependencies: [
                "MDRDomain", "MDRDetection", "MDRApplication", "MDRStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Notifier: log → outbox (one entry per route) → delivery workers over webhooks signed per Standard Webhooks
        // (AsyncHTTPClient) and e-mail (SMTP on SwiftNIO); every attempt an event; thin payloads.
        .target(
            name: "MDRNotify",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),

        // Reports: a tenant's period (signals, noise, incidents, isolations, SLA compliance, coverage) read from the
        // projections, as JSON and as printable HTML with inline SVG charts (Mustache templates, bundled).
        .target(
            name: "MDRReports",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRProjections",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Templates")],
            swiftSettings: swiftSettings
        ),

        // HTTP API (Hummingbird 2, interface generated from openapi.yaml), authentication, app assembly.
        .target(
            name: "MDRServer",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRProjections", "MDRSyslog", "MDRResponse", "MDRNotify",
                "MDRReports", "MDRConnectors",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("openapi.yaml"), .copy("Board")],
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),

        // EDR connectors (Microsoft Defender for Endpoint over AsyncHTTPClient): isolate, release, stop and quarantine.
        // Pull connectors: each tenant's alerts fetched from a vendor's API and fed to the ingest path.
        .target(
            name: "MDRConnectors",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRResponse",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "MDRResponse",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // For tests only: a fresh PostgreSQL database per test, made from MDR_TEST_DATABASE_URL (set by ops/test).
        .target(
            name: "MDRTestSupport",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // `mdr demo`: the whole service in-process on loopback, with a Defender for Endpoint simulator and a webhook
        // receiver, driven through the real HTTP API by a scripted attack.
        .target(
            name: "MDRDemo",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRServer", "MDRNotify", "MDRResponse", "MDRConnectors",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // The command-line program.
        .executableTarget(
            name: "mdr",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRServer", "MDRProjections", "MDRSyslog", "MDRResponse", "MDRNotify",
                "MDRReports", "MDRDemo", "MDRConnectors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Benchmarks (ops/bench): measured against plain PostgreSQL on the same machine in the same run; and the
        // stand-ins the ops scripts run as processes (`mdr-bench defender`, for ops/takeover).
        .executableTarget(
            name: "mdr-bench",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRProjections", "MDRNotify", "MDRDemo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/MDRBench",
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "MDRDomainTests", dependencies: ["MDRDomain", "MDRDetection"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MDRDetectionTests", dependencies: ["MDRDetection", "MDRDomain"], resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MDRStoreTests",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRTestSupport", "MDRProjections",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRConnectorsTests",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRConnectors", "MDRResponse", "MDRDemo", "MDRTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRApplicationTests",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRSyslogTests",
            dependencies: [
                "MDRSyslog", "MDRDomain", "MDRStore", "MDRApplication", "MDRTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRProjectionsTests",
            dependencies: [
                "MDRDomain", "MDRStore", "MDRApplication", "MDRProjections", "MDRTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRResponseTests",
            dependencies: [
                "MDRResponse", "MDRTestSupport", "MDRStore", "MDRApplication", "MDRDomain", "MDRDemo",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRServerTests",
            dependencies: [
                "MDRServer", "MDRApplication", "MDRStore", "MDRDomain", "MDRTestSupport", "MDRProjections", "MDRNotify", "MDRConnectors", "MDRDemo", "MDRResponse",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRNotifyTests",
            dependencies: [
                "MDRNotify", "MDRDomain", "MDRStore", "MDRApplication", "MDRTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRReportsTests",
            dependencies: [
                "MDRReports", "MDRDomain", "MDRStore", "MDRApplication", "MDRProjections", "MDRTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MDRDemoTests",
            dependencies: [
                "MDRDemo", "MDRDomain", "MDRStore", "MDRTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
