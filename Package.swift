// swift-tools-version:6.2
import PackageDescription

/// Warnings are errors: GRDB's blocking `read` overload is silently chosen where the async one was
/// meant, and the compiler's only sign of it is a warning.
let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "margin",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "margin", targets: ["margin"]),
        .library(name: "Comments", targets: ["Comments"]),
        .library(name: "Moderation", targets: ["Moderation"]),
        .library(name: "MarginServer", targets: ["MarginServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "Comments",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // The PostgreSQL store: several `margin serve` nodes on one database.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // The SQLite C API GRDB links: ChangeWatch reads the WAL index through it.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                "CSQLiteHardening",
                "SafeHTML",
            ],
            swiftSettings: strict
        ),
        // The only writer of stored HTML: the markdown renderer and the import sanitiser. Its
        // `internal` access is the safety wall: outside it, only their entry points are visible.
        .target(name: "SafeHTML", swiftSettings: strict),
        // sqlite3_db_config (variadic, so not callable from Swift) for opening uploaded databases defensively.
        .target(
            name: "CSQLiteHardening",
            dependencies: [.product(name: "GRDBSQLite", package: "GRDB.swift")]
        ),
        .target(
            name: "Moderation",
            dependencies: [
                "Comments",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // Hook deliveries: HTTPS with certificate checks, no redirects, deadlines, and
                // `dnsOverride` to connect to the very address DestinationGuard vetted.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MarginServer",
            dependencies: [
                "CZlib",
                "Comments",
                "Moderation",
                "SafeHTML",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // Compiled in by scripts/embed-assets (EmbedAssets.swift), not shipped beside the binary.
            exclude: ["Embed/embed.js", "Embed/embed.css", "Embed/demo.css", "Console/console.html", "Console/console.css",
                      "Console/console-i18n.js", "Console/console-core.js", "Console/console-queue.js", "Console/console-detail.js",
                      "Console/console-views.js", "Console/console-hooks.js"],
            swiftSettings: strict
        ),
        // The system zlib (gzip for responses); Debian's zlib1g-dev, which scripts/install-deps installs.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .executableTarget(
            name: "margin",
            dependencies: [
                "Comments",
                "Moderation",
                "MarginServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CommentsTests",
            dependencies: ["Comments", "SafeHTML", "TestSupport"],
            resources: [],
            swiftSettings: strict
        ),
        .testTarget(name: "SafeHTMLTests", dependencies: ["SafeHTML", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "ModerationTests",
            dependencies: ["Moderation", "Comments", "TestSupport", "ModerationTestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strict
        ),
        // What several test targets need alike: child processes run off the test pool, `margin`
        // and `margin serve`, free ports, PostgreSQL clusters, the SMTP sink (Python beside it).
        .target(name: "TestSupport", path: "Tests/TestSupport", resources: [.copy("smtp_sink.py")], swiftSettings: strict),
        // Test helpers that need Moderation (the SMTP sink's SMTPConfiguration), apart from
        // TestSupport, which links none of the server's modules.
        .target(name: "ModerationTestSupport", dependencies: ["Moderation", "TestSupport"], path: "Tests/ModerationTestSupport", swiftSettings: strict),
        .testTarget(
            name: "MarginServerTests",
            dependencies: [
                "MarginServer", "Comments", "Moderation", "TestSupport", "ModerationTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MarginCLITests",
            dependencies: ["TestSupport"],
            swiftSettings: strict
        ),
    ]
)
