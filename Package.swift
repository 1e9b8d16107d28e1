// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        /// The engine as a library, so a Swift test suite can start it in-process on a temporary file.
        .library(name: "Sluice", targets: ["SluiceCore"]),
        .executable(name: "sluice", targets: ["SluiceCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "SluiceSQLite", dependencies: ["CSQLite"]),
        .executableTarget(name: "EmbedMigrationsTool", path: "Sources/EmbedMigrationsTool"),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["EmbedMigrationsTool"]
        ),
        .target(
            name: "SluiceCore",
            dependencies: ["SluiceSQLite"],
            plugins: ["EmbedMigrations"]
        ),
        .executableTarget(
            name: "SluiceCLI",
            dependencies: [
                "SluiceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore", "SluiceSQLite"]),
    ]
)
