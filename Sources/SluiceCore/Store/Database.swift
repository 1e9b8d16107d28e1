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
    /// The writer's WAL budget and when to look at the free space again (under `writerLock`).
    private var walBudget: WALBudget?
    private var nextSpaceCheck = 0.0
    /// How often the free space is looked at again: a statvfs call, a pragma when it changed.
    static let spaceCheckSeconds = 10.0

    /// Opens (creating if needed) and migrates the file.
    public init(_ configuration: StoreConfiguration, migrate: Bool = true) throws {
        self.configuration = configuration
        let writer = try Database.open(configuration, mode: .readWrite)
        self.writer = writer
        fitWALToFreeSpace(now: Date().timeIntervalSince1970)
        if migrate { try Migrator().migrate(writer) } else { try Database.checkSchema(writer) }
    }

    /// Sizes the WAL to the space left (`WALBudget`) and, while space is short, checkpoints
    /// with TRUNCATE so the WAL's pages go back to the volume. Called with the writer held.
    private func fitWALToFreeSpace(now: Double, force: Bool = false) {
        guard force || now >= nextSpaceCheck else { return }
        nextSpaceCheck = now + Self.spaceCheckSeconds
        guard !writer.isInTransaction, let free = WALBudget.freeBytes(forDatabaseAt: configuration.path) else { return }
        let pageSize = (try? writer.scalarInt("PRAGMA page_size")).flatMap { $0.map(Int.init) } ?? 4096
        let budget = WALBudget(freeBytes: free, pageSize: pageSize)
        if budget != walBudget {
            try? writer.execute(budget.pragmas)
            walBudget = budget
        }
        if budget.isLow {
            // TRUNCATE waits for readers to leave the WAL; a short wait, not the 10 s busy
            // timeout, so a long reader in another process cannot stall the single writer.
            // Not done now, it is tried again at the next check.
            writer.setBusyTimeout(milliseconds: 100)
            try? writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            writer.setBusyTimeout(milliseconds: configuration.busyTimeoutMilliseconds)
        }
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
            PRAGMA wal_autocheckpoint = \(WALBudget.maxPages);
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
        do {
            let value = try body(writer)
            fitWALToFreeSpace(now: Date().timeIntervalSince1970)
            return value
        } catch let error as SQLiteError where error.isStorageFull {
            // The disk is full: what the WAL holds beyond its budget is the space to win back.
            // Forced at most once a second, so a client retrying does not checkpoint each time.
            let now = Date().timeIntervalSince1970
            fitWALToFreeSpace(now: now, force: now >= nextSpaceCheck - Self.spaceCheckSeconds + 1)
            throw error
        }
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
