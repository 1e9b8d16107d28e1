import CSQLite
import Foundation

/// One SQLite connection. Not thread-safe: each connection belongs to one thread at a time
/// (the store gives the writer connection to the completer thread and readers to a pool).
///
/// Prepared statements are cached by SQL text, so hot paths pay for parsing once.
public final class Connection {
    public let path: String
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    private var staticCache: [UnsafeRawPointer: Statement] = [:]
    /// Read by the busy handler through a pointer; freed with the connection.
    private let busyLimit = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    public enum Mode: Sendable { case readWrite, readOnly }

    /// Process-wide settings that must precede SQLite's initialisation (see `csqlite_disable_memstatus`).
    /// A global's initialiser runs once, thread-safely, on first use.
    private static let configured: Bool = csqlite_disable_memstatus() == SQLITE_OK

    public init(path: String, mode: Mode = .readWrite) throws(SQLiteError) {
        _ = Self.configured
        self.path = path
        var db: OpaquePointer?
        let flags = (mode == .readWrite ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message): \(path)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        cache.removeAll()
        staticCache.removeAll()
        sqlite3_close_v2(handle)
        busyLimit.deallocate()
    }

    /// Runs one or more statements that return no rows we need.
    public func execute(_ sql: String) throws(SQLiteError) {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: rc, extendedCode: sqlite3_extended_errcode(handle), message: message, sql: sql,
                              systemErrno: sqlite3_system_errno(handle))
        }
    }

    /// A cached prepared statement, reset and with its bindings cleared.
    public func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        let statement = try Statement(connection: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// A cached prepared statement for SQL written in the source: looked up by the literal's
    /// address instead of hashing its text, which matters on the completer's hot path.
    public func prepared(_ sql: StaticString) throws(SQLiteError) -> Statement {
        let key = UnsafeRawPointer(sql.utf8Start)
        if let cached = staticCache[key] {
            cached.reset()
            return cached
        }
        let statement = try Statement(connection: self, sql: sql.description)
        staticCache[key] = statement
        return statement
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    /// IMMEDIATE takes the write lock up front, so a busy database fails at BEGIN
    /// (after `busy_timeout`) rather than half-way through the work.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            resetActiveStatements()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// A read transaction: a consistent snapshot across several queries.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN DEFERRED")
        defer {
            resetActiveStatements()
            try? execute("COMMIT")
        }
        return try body()
    }

    /// Resets every statement still positioned on a row. A statement left mid-result keeps
    /// its read snapshot open: COMMIT fails and the WAL cannot be checkpointed past it.
    public func resetActiveStatements() {
        var statement = sqlite3_next_stmt(handle, nil)
        while let current = statement {
            if sqlite3_stmt_busy(current) != 0 { sqlite3_reset(current) }
            statement = sqlite3_next_stmt(handle, current)
        }
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Waits for another connection's lock up to `milliseconds`, polling finely: SQLite's own
    /// `busy_timeout` sleeps in steps of up to 100 ms, which puts tens of milliseconds on a
    /// submit that collides with a commit lasting a fraction of one.
    public func setBusyTimeout(milliseconds: Int32) {
        busyLimit.pointee = Int32(Connection.busyAttempts(forMilliseconds: Int(milliseconds)))
        sqlite3_busy_handler(handle, { context, attempt in
            guard let limit = context?.assumingMemoryBound(to: Int32.self).pointee, attempt < limit else { return 0 }
            usleep(Connection.busySleepMicroseconds(attempt: Int(attempt)))
            return 1
        }, UnsafeMutableRawPointer(busyLimit))
    }

    /// 20 × 50 µs, 40 × 250 µs, then 1 ms steps.
    static func busySleepMicroseconds(attempt: Int) -> UInt32 {
        attempt < 20 ? 50 : attempt < 60 ? 250 : 1000
    }

    static func busyAttempts(forMilliseconds milliseconds: Int) -> Int {
        var total = 0, attempt = 0
        while total < milliseconds * 1000 {
            total += Int(busySleepMicroseconds(attempt: attempt))
            attempt += 1
        }
        return attempt
    }

    /// `PRAGMA data_version`: changes whenever another connection (in this process or another)
    /// commits to the file. Cheap; how the engine notices a second process's writes.
    public func dataVersion() throws(SQLiteError) -> Int64 {
        let statement = try self.statement("PRAGMA data_version")
        defer { statement.reset() }
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    /// The first column of the first row, for PRAGMAs and scalar queries.
    public func scalarInt(_ sql: String) throws(SQLiteError) -> Int64? {
        let statement = try self.statement(sql)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int64(0)
    }

    public func scalarText(_ sql: String) throws(SQLiteError) -> String? {
        let statement = try self.statement(sql)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: rc, extendedCode: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql,
                    systemErrno: sqlite3_system_errno(handle))
    }

    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
