import Foundation
import SluiceSQLite

/// Applies the numbered `migrations/*.sql` files the binary carries, in order, each in its own
/// transaction, and records them in `sluice_migrations`. `PRAGMA user_version` mirrors the
/// newest applied version so a database written by a newer Sluice is refused before any change.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case newerSchema(database: Int, supported: Int, path: String)
        case failed(version: Int, name: String, underlying: SQLiteError)

        public var description: String {
            switch self {
            case let .newerSchema(database, supported, path):
                return "\(path) has schema version \(database), written by a newer Sluice; this binary knows versions up to \(supported). Upgrade sluice, or use another database file."
            case let .failed(version, name, underlying):
                return "migration \(version) (\(name)) failed: \(underlying)"
            }
        }
    }

    public let migrations: [Migration]

    public init(migrations: [Migration] = Migrator.embedded) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    public static var embedded: [Migration] {
        embeddedMigrations.map { Migration(version: $0.version, name: $0.name, sql: $0.sql) }
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The schema version recorded in the file (0 for a new file).
    public func currentVersion(of connection: Connection) throws -> Int {
        Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
    }

    /// Brings the schema up to date; returns the versions applied.
    @discardableResult
    public func migrate(_ connection: Connection) throws -> [Int] {
        let current = try currentVersion(of: connection)
        if current > latestVersion {
            throw Failure.newerSchema(database: current, supported: latestVersion, path: connection.path)
        }
        var applied: [Int] = []
        for migration in migrations where migration.version > current {
            do {
                try connection.transaction {
                    // Checked again under the write lock: another process may have migrated meanwhile.
                    guard try currentVersion(of: connection) < migration.version else { return }
                    try connection.execute("""
                        CREATE TABLE IF NOT EXISTS sluice_migrations (
                            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)
                        """)
                    try connection.execute(migration.sql)
                    let record = try connection.statement("INSERT INTO sluice_migrations (version, name, applied_at) VALUES (?, ?, ?)")
                    record.bind(1, migration.version)
                    record.bind(2, migration.name)
                    record.bind(3, Date().timeIntervalSince1970)
                    try record.run()
                    try connection.execute("PRAGMA user_version = \(migration.version)")
                    applied.append(migration.version)
                }
            } catch let error as SQLiteError {
                throw Failure.failed(version: migration.version, name: migration.name, underlying: error)
            }
        }
        return applied
    }
}
