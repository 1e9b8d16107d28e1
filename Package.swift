// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        /// The engine as a library, so a Swift test suite can start it in-process on a temporary file.
        .library(name: "Sluice", targets: ["SluiceCore", "SluiceAPI"]),
        .executable(name: "sluice", targets: ["SluiceCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        /// Already in the graph through Hummingbird, at the version it resolved; named so the API's
        /// connection handlers can import NIOCore and NIOHTTP1.
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "SluiceSQLite", dependencies: ["CSQLite"]),
        .systemLibrary(
            name: "CCurl",
            path: "Sources/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CurlShim", dependencies: ["CCurl"]),
        /// posix_spawn's close-from file action, which needs _GNU_SOURCE (command tasks).
        .target(name: "SpawnShim"),
        /// HTTP over libcurl's multi interface on one I/O thread.
        .target(name: "SluiceHTTP", dependencies: ["CCurl", "CurlShim"]),
        /// The Amazon States Language, pure: no I/O, no dependencies.
        .target(name: "SluiceStates"),
        .executableTarget(name: "EmbedMigrationsTool", path: "Sources/EmbedMigrationsTool"),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["EmbedMigrationsTool"]
        ),
        .target(
            name: "SluiceCore",
            dependencies: ["SluiceSQLite", "SluiceHTTP", "SluiceStates", "SpawnShim", .product(name: "Metrics", package: "swift-metrics"), .product(name: "Yams", package: "Yams")],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "SluiceAPI",
            dependencies: [
                "SluiceCore",
                "SluiceStates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        .executableTarget(
            name: "SluiceCLI",
            dependencies: [
                "SluiceCore",
                "SluiceAPI",
                "SluiceHTTP",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SluiceStatesTests", dependencies: ["SluiceStates"]),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore", "SluiceSQLite", "SluiceHTTP", "SluiceStates", "CCurl", "CurlShim"]),
        .testTarget(name: "SluiceAPITests", dependencies: [
            "SluiceAPI", "SluiceCore", "SluiceStates",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
        ]),
    ]
)
