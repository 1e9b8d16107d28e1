import Foundation
import Testing
import SluiceSQLite
@testable import SluiceCore

/// A full disk gives clear errors and loses nothing committed; on a small volume the WAL is
/// sized to the space left instead of filling it by itself (issue 21). On a real tmpfs.
@Suite(.serialized) struct DiskFullTests {
    /// 3,000 commits of a 3 KB row rewrite 12 MB of pages on a 4 MB volume whose live data is
    /// one row. With a fixed 4,000-page (16 MB) WAL they ran out of space; with the WAL sized to
    /// the space left, it is checkpointed and reused long before that.
    @Test(.enabled(if: SmallVolume.unavailableReason == nil, "\(SmallVolume.unavailableReason ?? "")"))
    func theWALFitsASmallVolume() throws {
        let volume = try SmallVolume(megabytes: 4)
        let database = try Database(StoreConfiguration(path: volume.path + "/small.sqlite", sync: .full))
        let pages = try database.write { try $0.scalarInt("PRAGMA wal_autocheckpoint") } ?? 0
        #expect(pages < WALBudget.maxPages)
        #expect(try database.write { try $0.scalarInt("PRAGMA journal_size_limit") } ?? -1 > 0)
        try database.write { db in
            try db.execute("CREATE TABLE blob_row (id INTEGER PRIMARY KEY, value BLOB); INSERT INTO blob_row VALUES (1, zeroblob(3000))")
        }
        for _ in 0..<3000 {
            try database.write { db in try db.transaction { try db.execute("UPDATE blob_row SET value = randomblob(3000) WHERE id = 1") } }
        }
        let wal = try FileManager.default.attributesOfItem(atPath: volume.path + "/small.sqlite-wal")[.size] as? Int ?? 0
        #expect(wal <= 1 << 20, "WAL \(wal) bytes")
    }

    @Test func theBudgetFollowsTheFreeSpace() {
        let plenty = WALBudget(freeBytes: 10 << 30, pageSize: 4096)
        #expect(plenty == WALBudget(freeBytes: 200 << 20, pageSize: 4096))
        #expect(plenty.autocheckpointPages == 4000 && plenty.journalSizeLimit == -1 && !plenty.isLow)
        let small = WALBudget(freeBytes: 4 << 20, pageSize: 4096)
        #expect(small.autocheckpointPages == 128 && small.journalSizeLimit == 128 * 4096 && small.isLow)
        #expect(WALBudget(freeBytes: 0, pageSize: 4096).autocheckpointPages == WALBudget.minPages)
    }

    /// A commit refused for space is a typed error naming SQLITE_FULL; what was committed before
    /// is there after space is freed, and writing works again.
    @Test(.enabled(if: SmallVolume.unavailableReason == nil, "\(SmallVolume.unavailableReason ?? "")"))
    func aFullDiskIsATypedErrorAndLosesNothingCommitted() throws {
        let volume = try SmallVolume(megabytes: 4)
        let store = try SQLiteStore(StoreConfiguration(path: volume.path + "/store.sqlite", sync: .full))
        try BuiltinDefinitions.register(in: store)
        let input = #"{"pad": "\#(String(repeating: "x", count: 2000))"}"#
        var acknowledged: [String] = []
        var refusal: (any Error)?
        let filler = volume.fill()
        for _ in 0..<5000 {
            do {
                acknowledged += try store.submit([Submission(definition: "noop", input: input)], now: now()).map(\.uid)
            } catch {
                refusal = error
                break
            }
        }
        let error = try #require(refusal)
        #expect(StorageFull.cause(of: error) != nil, "\(error)")
        #expect("\(error)".contains("SQLITE_FULL") || "\(error)".contains("ENOSPC"))
        try FileManager.default.removeItem(atPath: filler)
        for uid in acknowledged { #expect(try store.execution(uid: uid) != nil) }
        #expect(try store.submit([Submission(definition: "noop", input: input)], now: now()).count == 1)
    }

    @Test func aRepeatedTroubleIsLoggedOncePerInterval() {
        let lines = Lines()
        let log = ThrottledLog(intervalSeconds: 10, write: { lines.append($0) })
        for second in 0..<25 {
            for _ in 0..<112 { log.report("storage-full", "disk full", now: 1000 + Double(second)) }
        }
        log.report("other", "something else", now: 1001)
        #expect(lines.all.count == 4)   // storage-full at 0, 10 and 20 s, and the other kind
        #expect(lines.all[2].contains("1119 more like it"))
    }

    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }
}
