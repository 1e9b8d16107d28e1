import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How large the write-ahead log may grow, from the space left on the database's volume.
///
/// SQLite checkpoints the WAL into the main file every `wal_autocheckpoint` pages (4,000 pages,
/// 16 MB, by default here) and keeps the file at its largest size afterwards. On a small
/// volume that WAL alone filled the disk. So the WAL gets at most an eighth of the free space
/// (between 16 and 4,000 pages), `journal_size_limit` truncates it back to that size whenever
/// it is reset, and while space is this short a periodic TRUNCATE checkpoint hands its space
/// back. On a volume with 128 MiB or more free nothing changes.
struct WALBudget: Equatable {
    static let maxPages = 4000
    static let minPages = 16
    /// The share of the free space the WAL may take.
    static let freeSpaceShare = 8

    /// `PRAGMA wal_autocheckpoint`.
    let autocheckpointPages: Int
    /// `PRAGMA journal_size_limit`, bytes.
    let journalSizeLimit: Int
    /// Less free space than a full-size WAL would want: checkpoint with TRUNCATE when checking.
    let isLow: Bool

    init(freeBytes: Int, pageSize: Int) {
        let pages = freeBytes / Self.freeSpaceShare / max(pageSize, 512)
        autocheckpointPages = min(Self.maxPages, max(Self.minPages, pages))
        isLow = pages < Self.maxPages
        // Unlimited (-1, SQLite's default) when space is plentiful: truncating costs a little on every reset.
        journalSizeLimit = isLow ? autocheckpointPages * pageSize : -1
    }

    /// Bytes free to an unprivileged writer on the volume holding `databasePath`, nil if unknown
    /// (a path statvfs cannot read, `:memory:`).
    static func freeBytes(forDatabaseAt databasePath: String) -> Int? {
        let directory = (databasePath as NSString).deletingLastPathComponent
        var info = statvfs()
        guard statvfs(directory.isEmpty ? "." : directory, &info) == 0 else { return nil }
        let bytes = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        return Int(clamping: bytes)
    }

    var pragmas: String {
        "PRAGMA wal_autocheckpoint = \(autocheckpointPages); PRAGMA journal_size_limit = \(journalSizeLimit);"
    }
}
