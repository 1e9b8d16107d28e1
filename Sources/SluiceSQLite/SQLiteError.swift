import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// An error reported by SQLite, with the statement that caused it when there was one.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`, …).
    public let code: Int32
    /// The extended result code, which tells e.g. a UNIQUE from a CHECK constraint.
    public let extendedCode: Int32
    public let message: String
    public let sql: String?
    /// The operating system's errno behind an I/O error (`ENOSPC` …), 0 when none was recorded.
    public let systemErrno: Int32

    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil, systemErrno: Int32 = 0) {
        self.code = code & 0xff
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
        self.systemErrno = systemErrno
    }

    /// The disk (or the file's size limit) is full: SQLITE_FULL, or an I/O error whose cause
    /// was ENOSPC or EDQUOT. Nothing of the failed transaction was stored; it can be retried
    /// once space is freed.
    public var isStorageFull: Bool {
        code == SQLITE_FULL || (code == SQLITE_IOERR && (systemErrno == ENOSPC || systemErrno == EDQUOT))
    }

    /// The cause in the words an operator searches for.
    public var storageFullCause: String {
        code == SQLITE_FULL ? "SQLITE_FULL (no space left on the device)" : "ENOSPC (no space left on the device)"
    }

    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    /// SQLITE_CONSTRAINT_UNIQUE (2067) or SQLITE_CONSTRAINT_PRIMARYKEY (1555): macros Swift cannot import.
    public var isUniqueViolation: Bool { extendedCode == 2067 || extendedCode == 1555 }

    public var description: String {
        if isStorageFull { return "SQLite error \(extendedCode): \(message): \(storageFullCause)" + (sql.map { " (in: \($0.prefix(200)))" } ?? "") }
        if let sql { return "SQLite error \(extendedCode): \(message) (in: \(sql.prefix(200)))" }
        return "SQLite error \(extendedCode): \(message)"
    }
}
