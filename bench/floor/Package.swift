// swift-tools-version:6.2
import PackageDescription

/// The idle-RSS floor of Margin's stack: the smallest servers Hummingbird 2 and GRDB make, built
/// the way `margin` is (release), so the benchmark can set Margin's idle RSS against what the
/// stack costs before any of Margin's own code runs. Not part of the test command.
let package = Package(
    name: "floor",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "hello-hummingbird", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
        .executableTarget(
            name: "hello-grdb",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "GRDB", package: "GRDB.swift"),
            ]),
    ]
)
