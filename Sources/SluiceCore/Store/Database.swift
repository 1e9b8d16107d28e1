import Foundation
import SluiceSQLite

/// The SQLite file: one writer connection and a small pool of readers, all in WAL mode.
///
/// SQLite allows one writer at a time per file, so the engine funnels every write through
/// the single writer connection (the completer thread holds it for each group commit);
/// readers never block it and it never blocks them.
public final class Database: @unchecked Sendable {
    public let configuration: StoreConfiguration
    // Connections are not thread-safe; the locks hand each to one thread at a time.
    private let writer: Connection
    private let writerLock = NSLock()
    private var readers: [Connection] = []
    private let readersLock = NSLock()

    /// Opens (creating if needed) and migrates the file.
    public init(_ configuration: StoreConfiguration, migrate: Bool = true) throws {
        self.configuration = configuration
        let writer = try Database.open(configuration, mode: .readWrite)
        if migrate { try Migrator().migrate(writer) } else { try Database.checkSchema(writer) }
        self.writer = writer
    }

    static func open(_ configuration: StoreConfiguration, mode: Connection.Mode) throws -> Connection {
        let connection = try Connection(path: configuration.path, mode: mode)
        connection.setBusyTimeout(milliseconds: configuration.busyTimeoutMilliseconds)
        if mode == .readWrite {
            // journal_mode is persistent in the file; setting it again is a cheap no-op.
            let journal = try connection.scalarText("PRAGMA journal_mode = WAL")
            if journal?.lowercased() != "wal" {
                throw SQLiteError(code: 1, message: "cannot switch \(configuration.path) to WAL mode (got \(journal ?? "nil"))")
            }
        }
        try connection.execute("""
            PRAGMA synchronous = \(configuration.sync.pragma);
            PRAGMA foreign_keys = OFF;
            PRAGMA temp_store = MEMORY;
            PRAGMA cache_size = -8000;
            PRAGMA wal_autocheckpoint = 4000;
            """)
        return connection
    }

    /// Refuses a file whose schema is newer than this binary or not yet migrated.
    static func checkSchema(_ connection: Connection) throws {
        let migrator = Migrator()
        let version = try migrator.currentVersion(of: connection)
        if version > migrator.latestVersion {
            throw Migrator.Failure.newerSchema(database: version, supported: migrator.latestVersion, path: connection.path)
        }
    }

    /// Runs `body` with the writer connection. Callers on the hot path (the completer) hold it
    /// for one group commit at a time; others (submits from the API) take turns.
    public func write<T>(_ body: (Connection) throws -> T) throws -> T {
        writerLock.lock()
        defer {
            writer.resetActiveStatements()
            writerLock.unlock()
        }
        return try body(writer)
    }

    /// Runs `body` with a reader connection from the pool (opened on demand).
    public func read<T>(_ body: (Connection) throws -> T) throws -> T {
        readersLock.lock()
        let pooled = readers.popLast()
        readersLock.unlock()
        let connection = try pooled ?? Database.open(configuration, mode: .readWrite)
        defer {
            connection.resetActiveStatements()
            readersLock.lock()
            if readers.count < configuration.readerCount { readers.append(connection) }
            readersLock.unlock()
        }
        return try body(connection)
    }
}
