import CSQLite

/// An error reported by SQLite, with the statement that caused it when there was one.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`, …).
    public let code: Int32
    /// The extended result code, which tells e.g. a UNIQUE from a CHECK constraint.
    public let extendedCode: Int32
    public let message: String
    public let sql: String?

    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.code = code & 0xff
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
    }

    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    /// SQLITE_CONSTRAINT_UNIQUE (2067) or SQLITE_CONSTRAINT_PRIMARYKEY (1555): macros Swift cannot import.
    public var isUniqueViolation: Bool { extendedCode == 2067 || extendedCode == 1555 }

    public var description: String {
        if let sql { return "SQLite error \(extendedCode): \(message) (in: \(sql.prefix(200)))" }
        return "SQLite error \(extendedCode): \(message)"
    }
}
