// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "ratelimit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ratelimit", targets: ["ratelimit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // Pure cores: no IO, no dependencies, time passed in.
        .target(name: "Wire"),
        .target(name: "JSONCore"),
        .target(name: "LimiterCore", dependencies: ["JSONCore", "Wire"]),
        .target(name: "Placement"),
        .target(name: "Membership", dependencies: ["Wire"]),
        .target(name: "Rollout"),
        .target(name: "Alerting", dependencies: ["JSONCore"]),
        // The chaos suite's judge: fault schedule from a seed, client-side ledger, invariant checker, report.
        .target(name: "ChaosCore", dependencies: ["LimiterCore", "JSONCore", "Membership"]),

        // Shells.
        .target(
            name: "Config",
            dependencies: ["LimiterCore", "Alerting", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .target(
            name: "EventStore",
            dependencies: ["LimiterCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "CoordinatorStore",
            dependencies: ["JSONCore", "LimiterCore", "Placement", "Rollout", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "PeerTransport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "NodeServer",
            dependencies: [
                "JSONCore", "LimiterCore", "Placement", "Membership", "Wire", "Rollout", "Alerting", "CoordinatorStore", "Config", "EventStore", "PeerTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Chaos",
            dependencies: [
                "ChaosCore", "JSONCore", "Membership",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Commands",
            dependencies: [
                "NodeServer", "JSONCore", "Chaos", "ChaosCore", "Rollout",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "ratelimit",
            dependencies: [
                "Commands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The test kit, shared by the test targets. TestSupport needs only
        // swift-log (temp dirs, deadline polling, log capture) and the
        // membership core's seeded generator; the raw peer client needs NIO
        // and PeerTransport, so it is apart and only the targets that talk
        // to a peer port link it.
        .target(
            name: "TestSupport",
            dependencies: ["Membership", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .target(
            name: "PeerTestSupport",
            dependencies: [
                "PeerTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/PeerTestSupport"
        ),

        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"]),
        .testTarget(name: "JSONCoreTests", dependencies: ["JSONCore", "TestSupport"]),
        .testTarget(name: "LimiterCoreTests", dependencies: ["LimiterCore", "TestSupport"]),
        .testTarget(name: "PlacementTests", dependencies: ["Placement"]),
        .testTarget(name: "MembershipTests", dependencies: ["Membership", "Placement"]),
        .testTarget(name: "RolloutTests", dependencies: ["Rollout"]),
        .testTarget(name: "AlertingTests", dependencies: ["Alerting", "JSONCore"]),
        .testTarget(name: "ChaosCoreTests", dependencies: ["ChaosCore", "LimiterCore", "JSONCore", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Alerting", "TestSupport"]),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore", "LimiterCore", "TestSupport"]),
        .testTarget(
            name: "CoordinatorStoreTests",
            dependencies: ["CoordinatorStore", "LimiterCore", "Placement", "Rollout", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "PeerTransportTests",
            dependencies: [
                "PeerTransport", "TestSupport", "PeerTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "NodeServerTests",
            dependencies: [
                "NodeServer", "JSONCore", "PeerTransport", "TestSupport", "PeerTestSupport", "Config",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "NodeServer", "JSONCore", "PeerTransport", "Placement", "TestSupport", "PeerTestSupport", "Chaos",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
    ]
)
