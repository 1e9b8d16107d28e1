import Foundation
import SluiceSQLite

/// `<db>-inflight`: which execution's program step each running engine is evaluating, kept in
/// a small shared memory-mapped file beside the database. The writer puts the execution's id
/// into its process's slot before it evaluates that execution's program (an outcome, and the
/// children its decision starts, a restart) and the previous value back after (plain stores
/// into the mapping: no syscall, no fsync). If the process dies mid-step (SIGSEGV, SIGKILL, an abort), the page
/// keeps the id, and the next engine to start on the file reads it (`CrashQuarantine`).
/// A power cut loses it, which does not matter: a crash is a process event.
///
/// Layout: 64 slots of 32 bytes, each `pid, start time, execution id, 0` (Int64). A slot
/// belongs to a process while that pid runs with that start time (field 22 of
/// `/proc/PID/stat`, so a reused pid is not taken for the dead owner). Slots are claimed and
/// read inside a database write transaction, which serialises engines starting together.
public final class InflightSlots: @unchecked Sendable {
    static let slotCount = 64
    static let slotBytes = 32
    static let fileBytes = slotCount * slotBytes

    public let path: String
    private let base: UnsafeMutableRawPointer
    /// This process's slot, once claimed.
    public private(set) var claimed: Int?

    public struct OpenError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot map the crash slot file \(path): \(reason)" }
    }

    /// The slot file beside `databasePath`, created zeroed when missing. The mapping lives as
    /// long as the process: a step on another thread may still write into it after a shutdown.
    public init(databasePath: String) throws {
        path = databasePath + "-inflight"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OpenError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OpenError(path: path, reason: String(cString: strerror(errno))) }
        if Int(info.st_size) < Self.fileBytes, ftruncate(fd, off_t(Self.fileBytes)) != 0 {
            throw OpenError(path: path, reason: String(cString: strerror(errno)))
        }
        guard let mapped = mmap(nil, Self.fileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw OpenError(path: path, reason: String(cString: strerror(errno)))
        }
        base = mapped
    }

    private func field(_ slot: Int, _ index: Int) -> UnsafeMutablePointer<Int64> {
        (base + slot * Self.slotBytes + index * 8).assumingMemoryBound(to: Int64.self)
    }

    /// The execution word of this process's slot: where steps write.
    public var executionPointer: UnsafeMutablePointer<Int64>? { claimed.map { field($0, 2) } }

    /// Slots whose process is gone, with the execution each was evaluating (0: none).
    func orphans() -> [(slot: Int, execution: Int64)] {
        var found: [(Int, Int64)] = []
        for slot in 0..<Self.slotCount {
            let pid = field(slot, 0).pointee
            guard pid != 0, !Self.isAlive(pid: pid, startTime: field(slot, 1).pointee) else { continue }
            found.append((slot, field(slot, 2).pointee))
        }
        return found
    }

    func clear(_ slot: Int) {
        for index in 0..<4 { field(slot, index).pointee = 0 }
    }

    /// Takes a free slot for this process; false when all 64 are held by live processes.
    func claim() -> Bool {
        if claimed != nil { return true }
        for slot in 0..<Self.slotCount where field(slot, 0).pointee == 0 {
            field(slot, 2).pointee = 0
            field(slot, 1).pointee = Self.startTime(pid: Int64(getpid())) ?? 0
            field(slot, 0).pointee = Int64(getpid())
            claimed = slot
            return true
        }
        return false
    }

    /// Gives the slot back (a clean shutdown).
    func release() {
        guard let slot = claimed else { return }
        clear(slot)
        claimed = nil
    }

    /// Writes `execution` into a slot as a process that died mid-step would have left it (tests).
    public func recordForTesting(slot: Int, pid: Int64, startTime: Int64, execution: Int64) {
        field(slot, 2).pointee = execution
        field(slot, 1).pointee = startTime
        field(slot, 0).pointee = pid
    }

    /// Every slot's process and execution (tests).
    public var slotsForTesting: [(pid: Int64, execution: Int64)] { (0..<Self.slotCount).map { (field($0, 0).pointee, field($0, 2).pointee) } }

    static func isAlive(pid: Int64, startTime: Int64) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        if pid == Int64(getpid()) { return true }
        if let current = Self.startTime(pid: pid) { return startTime == 0 || current == startTime }
        return kill(pid_t(pid), 0) == 0 || errno != ESRCH
    }

    /// Field 22 of `/proc/PID/stat` (clock ticks after boot), nil when the process is gone.
    static func startTime(pid: Int64) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After the command name: state is field 3, so start time is the 20th field from here.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? Int64(fields[19]) : nil
    }
}

/// At engine start: every slot left by a dead process names the execution whose step was
/// running when it died. Each such death is recorded on the execution (`crash_count`, durably,
/// in one transaction with the slots' release), and an execution that has crashed the process
/// `threshold` times is failed with `Sluice.Quarantined` (conditioned on its status, like every
/// state change here) with its jobs cancelled, so the engine starts and serves the rest.
public enum CrashQuarantine {
    public static let error = "Sluice.Quarantined"
    public static let threshold = 2

    public struct Report: Sendable, Equatable {
        public let executionID: Int64
        public let crashes: Int
        public let quarantined: Bool
    }

    /// Reads the orphaned slots, records their crashes, quarantines, then claims this
    /// process's slot; all in one write transaction.
    public static func recover(_ slots: InflightSlots, store: SQLiteStore, now: Double) throws -> [Report] {
        try store.database.write { db in
            try db.transaction {
                var reports: [Report] = []
                for orphan in slots.orphans() {
                    if orphan.execution > 0, let report = try record(crashOf: orphan.execution, db: db, catalog: store.catalog, now: now) {
                        reports.append(report)
                    }
                    slots.clear(orphan.slot)
                }
                if !slots.claim() {
                    FileHandle.standardError.write(Data("sluice: every slot of \(slots.path) is held by a live process; this one runs without crash quarantine\n".utf8))
                }
                return reports
            }
        }
    }

    private static func record(crashOf id: Int64, db: Connection, catalog: ProgramCatalog, now: Double) throws -> Report? {
        let count = try db.prepared("UPDATE executions SET crash_count = crash_count + 1 WHERE id = ? AND status IN ('pending', 'running')")
        count.bind(1, id)
        guard try count.run() == 1 else { return nil }   // gone or finished: nothing to hold against it
        let read = try db.prepared("SELECT crash_count FROM executions WHERE id = ?")
        read.bind(1, id)
        guard try read.step() else { read.reset(); return nil }
        let crashes = read.int(0)
        read.reset()
        var quarantined = false
        if crashes >= threshold {
            var writer = TransactionWriter(db: db, catalog: catalog, now: now)
            quarantined = try writer.quarantine(id, cause: "the process died \(crashes) times while evaluating this execution's program step "
                                                + "(quarantined after \(threshold)); the rest is served")
        }
        let what = quarantined ? "quarantined (\(error))" : "it runs again; a second crash quarantines it"
        FileHandle.standardError.write(Data("sluice: a process died while evaluating execution #\(id) (crash \(crashes)): \(what)\n".utf8))
        return Report(executionID: id, crashes: crashes, quarantined: quarantined)
    }
}
