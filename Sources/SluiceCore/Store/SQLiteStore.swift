import Foundation
import SluiceSQLite

/// The `Store` on one SQLite file. Writes go through the database's single writer connection;
/// queries use readers. Every state change of a job or execution names the state it expects
/// (`WHERE … AND state = 'running' AND lease_owner = ?`), so a stale actor changes nothing.
public final class SQLiteStore: Store {
    public let database: Database
    public let catalog: ProgramCatalog

    public init(database: Database, catalog: ProgramCatalog = ProgramCatalog()) {
        self.database = database
        self.catalog = catalog
    }

    public convenience init(_ configuration: StoreConfiguration, migrate: Bool = true, catalog: ProgramCatalog = ProgramCatalog()) throws {
        self.init(database: try Database(configuration, migrate: migrate), catalog: catalog)
    }

    // MARK: Definitions

    @discardableResult
    public func register(definition: DefinitionSource, now: Double) throws -> Int {
        let checksum = Checksum.fnv1a64Hex(definition.source + "\u{0}" + definition.compiled)
        return try database.write { db in
            try db.transaction {
                let latest = try db.statement("SELECT version, checksum FROM definitions WHERE name = ? ORDER BY version DESC LIMIT 1")
                latest.bind(1, definition.name)
                var version = 1
                if try latest.step() {
                    if latest.text(1) == checksum { return latest.int(0) }
                    version = latest.int(0) + 1
                }
                let insert = try db.statement("""
                    INSERT INTO definitions (name, version, dialect, source, compiled, checksum, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                insert.bind(1, definition.name)
                insert.bind(2, version)
                insert.bind(3, definition.dialect)
                insert.bind(4, definition.source)
                insert.bind(5, definition.compiled)
                insert.bind(6, checksum)
                insert.bind(7, now)
                try insert.run()
                return version
            }
        }
    }

    public func definitions() throws -> [DefinitionRecord] {
        try database.read { db in
            let statement = try db.prepared("""
                SELECT d.name, d.version, d.dialect, d.source, d.created_at FROM definitions d
                WHERE d.version = (SELECT MAX(version) FROM definitions WHERE name = d.name) ORDER BY d.name
                """)
            var records: [DefinitionRecord] = []
            while try statement.step() { records.append(Self.definitionRecord(statement)) }
            return records
        }
    }

    public func definition(name: String, version: Int?) throws -> DefinitionRecord? {
        try database.read { db in
            let statement = try db.prepared("""
                SELECT name, version, dialect, source, created_at FROM definitions
                WHERE name = ?1 AND (?2 IS NULL OR version = ?2) ORDER BY version DESC LIMIT 1
                """)
            statement.bind(1, name)
            statement.bind(2, version.map { Int64($0) })
            return try statement.step() ? Self.definitionRecord(statement) : nil
        }
    }

    private static func definitionRecord(_ statement: Statement) -> DefinitionRecord {
        DefinitionRecord(name: statement.text(0) ?? "", version: statement.int(1), dialect: statement.text(2) ?? "",
                         source: statement.text(3) ?? "", createdAt: statement.double(4))
    }

    // MARK: Submit

    public func submit(_ submissions: [Submission], now: Double) throws -> [SubmitReceipt] {
        try database.write { db in
            try db.transaction {
                var writer = TransactionWriter(db: db, catalog: catalog, now: now)
                return try submissions.map { try writer.submit($0) }
            }
        }
    }

    // MARK: Cycle

    public func runCycle(_ request: CycleRequest) throws -> CycleResult {
        try database.write { db in
            try db.transaction {
                var writer = TransactionWriter(db: db, catalog: catalog, now: request.now)
                return try writer.runCycle(request)
            }
        }
    }

    public func releaseLeases(owner: LeaseOwner, notStarted: [Int64], allRemaining: Bool, now: Double) throws {
        try database.write { db in
            try db.transaction {
                var writer = TransactionWriter(db: db, catalog: catalog, now: now)
                try writer.release(owner: owner, notStarted: notStarted, allRemaining: allRemaining)
            }
        }
    }

    // MARK: Queues

    public func setPaused(queue: String, paused: Bool, now: Double) throws {
        try database.write { db in
            let statement = try db.statement("""
                INSERT INTO queues (name, paused, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at
                """)
            statement.bind(1, queue)
            statement.bind(2, paused)
            statement.bind(3, now)
            try statement.run()
        }
    }

    public func queues() throws -> [QueueInfo] {
        try database.read { db in
            try db.readTransaction {
                let statement = try db.statement("""
                    SELECT name, MAX(paused), SUM(ready), SUM(scheduled), SUM(running) FROM (
                        SELECT name, paused, 0 AS ready, 0 AS scheduled, 0 AS running FROM queues
                        UNION ALL
                        SELECT queue, 0, SUM(state = 'ready'), SUM(state = 'scheduled'), SUM(state = 'running')
                        FROM jobs WHERE state IN ('ready', 'scheduled', 'running') GROUP BY queue
                    ) GROUP BY name ORDER BY name
                    """)
                var result: [QueueInfo] = []
                while try statement.step() {
                    result.append(QueueInfo(name: statement.text(0) ?? "", paused: statement.int(1) != 0,
                                            ready: statement.int(2), scheduled: statement.int(3), running: statement.int(4)))
                }
                return result
            }
        }
    }

    public func beat(_ beats: [Heartbeat], owner: LeaseOwner, now: Double) throws {
        try database.write { db in
            try db.transaction {
                let writer = TransactionWriter(db: db, catalog: catalog, now: now)
                for beat in beats { try writer.heartbeat(beat, owner: owner) }
            }
        }
    }

    // MARK: Markers

    public func startMarked(_ items: [(scope: String, key: String, submission: Submission)], now: Double) throws -> [String?] {
        try database.write { db in
            try db.transaction {
                var writer = TransactionWriter(db: db, catalog: catalog, now: now)
                var started: [String?] = []
                for item in items {
                    let mark = try db.prepared("INSERT INTO markers (scope, key, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                    mark.bind(1, item.scope)
                    mark.bind(2, item.key)
                    mark.bind(3, now)
                    guard try mark.run() == 1 else {
                        started.append(nil)
                        continue
                    }
                    let receipt = try writer.submit(item.submission)
                    let link = try db.prepared("UPDATE markers SET execution_id = ? WHERE scope = ? AND key = ?")
                    link.bind(1, receipt.rowID)
                    link.bind(2, item.scope)
                    link.bind(3, item.key)
                    try link.run()
                    started.append(receipt.uid)
                }
                return started
            }
        }
    }

    public func existingMarkers(scope: String, keys: [String]) throws -> Set<String> {
        try database.read { db in
            let statement = try db.prepared("SELECT 1 FROM markers WHERE scope = ? AND key = ?")
            var found: Set<String> = []
            for key in keys {
                statement.reset()
                statement.bind(1, scope)
                statement.bind(2, key)
                if try statement.step() { found.insert(key) }
            }
            return found
        }
    }

    public func latestMarker(scope: String) throws -> String? {
        try database.read { db in
            let statement = try db.prepared("SELECT MAX(key) FROM markers WHERE scope = ?")
            statement.bind(1, scope)
            return try statement.step() ? statement.text(0) : nil
        }
    }

    // MARK: Resume

    public func resume(uid: String, from step: String?, now: Double) throws -> ResumeResult? {
        try database.write { db in
            try db.transaction {
                var writer = TransactionWriter(db: db, catalog: catalog, now: now)
                return try writer.resume(uid: uid, from: step)
            }
        }
    }

    // MARK: Cancel

    public func cancel(uid: String, reason: String?, now: Double) throws -> CancelResult? {
        try database.write { db in
            try db.transaction {
                let find = try db.statement("SELECT id, status FROM executions WHERE uid = ?")
                find.bind(1, uid)
                guard try find.step() else { return nil }
                let id = find.int64(0)
                let status = ExecutionStatus(rawValue: find.text(1) ?? "") ?? .pending
                find.reset()
                if status.isFinished { return .alreadyFinished(status) }
                var writer = TransactionWriter(db: db, catalog: catalog, now: now)
                guard try writer.cancel(id, reason: reason ?? "cancelled") else { return .alreadyFinished(status) }
                return .cancelled
            }
        }
    }

    // MARK: Queries

    /// An execution's status as clients see it: a stored `pending` with a leased job is
    /// `running` (the claim does not write the execution; its first outcome stores `running`).
    static let effectiveStatus = """
        CASE WHEN e.status = 'pending' AND EXISTS (SELECT 1 FROM jobs j WHERE j.execution_id = e.id AND j.state = 'running')
             THEN 'running' ELSE e.status END
        """

    private static let recordColumns = """
        SELECT e.uid, d.name, d.version, \(effectiveStatus), e.queue, e.input, e.output, e.error, e.cause,
               e.attempts, e.created_at, e.started_at, e.finished_at, e.namespace
        FROM executions e JOIN definitions d ON d.id = e.definition_id
        """

    private static func record(_ statement: Statement) -> ExecutionRecord {
        ExecutionRecord(
            uid: statement.text(0) ?? "", definition: statement.text(1) ?? "", version: statement.int(2),
            status: ExecutionStatus(rawValue: statement.text(3) ?? "") ?? .pending, queue: statement.text(4) ?? "",
            input: statement.text(5) ?? "{}", output: statement.text(6), error: statement.text(7), cause: statement.text(8),
            attempts: statement.int(9), createdAt: statement.double(10), startedAt: statement.optionalDouble(11),
            finishedAt: statement.optionalDouble(12), namespace: statement.text(13))
    }

    public func execution(uid: String) throws -> ExecutionRecord? {
        try database.read { db in
            let statement = try db.statement(Self.recordColumns + " WHERE e.uid = ?")
            statement.bind(1, uid)
            guard try statement.step() else { return nil }
            return Self.record(statement)
        }
    }

    public func executions(_ query: ExecutionQuery) throws -> [ExecutionRecord] {
        try database.read { db in
            // Fixed SQL with optional filters (a NULL parameter disables its condition), so one
            // prepared statement serves every combination.
            let statement = try db.statement(Self.recordColumns + """
                 WHERE (?1 IS NULL OR \(Self.effectiveStatus) = ?1) AND (?2 IS NULL OR d.name = ?2) AND (?3 IS NULL OR e.queue = ?3)
                   AND (?4 IS NULL OR e.namespace = ?4)
                   AND (?5 IS NULL OR e.id < (SELECT id FROM executions WHERE uid = ?5))
                 ORDER BY e.id DESC LIMIT ?6
                """)
            statement.bind(1, query.status?.rawValue)
            statement.bind(2, query.definition)
            statement.bind(3, query.queue)
            statement.bind(4, query.namespace)
            statement.bind(5, query.before)
            statement.bind(6, max(1, min(query.limit, 1000)))
            var records: [ExecutionRecord] = []
            while try statement.step() { records.append(Self.record(statement)) }
            return records
        }
    }

    /// Stored lines with the submitted and end lines made from the row (`LifecycleHistory`).
    public func history(uid: String) throws -> [HistoryEvent] {
        try database.read { db in try db.readTransaction {
            // The end line is at updated_at, which the ending update sets to the writer's time, as
            // it does for the stored lines before it (finished_at is when the body ended: earlier).
            let execution = try db.statement("SELECT id, created_at, status, updated_at, error, cause FROM executions WHERE uid = ?")
            execution.bind(1, uid)
            guard try execution.step() else { return [] }
            let id = execution.int64(0), createdAt = execution.double(1)
            let status = ExecutionStatus(rawValue: execution.text(2) ?? "") ?? .pending
            let end = LifecycleHistory.endLine(status: status, at: execution.optionalDouble(3) ?? createdAt,
                                               error: execution.text(4), cause: execution.text(5))
            let statement = try db.statement("SELECT at, type, step, attempt, details FROM history WHERE execution_id = ? ORDER BY id")
            statement.bind(1, id)
            var stored: [HistoryEvent] = []
            while try statement.step() {
                stored.append(HistoryEvent(at: statement.double(0), type: statement.text(1) ?? "", step: statement.text(2),
                                           attempt: statement.isNull(3) ? nil : statement.int(3), details: statement.text(4)))
            }
            return LifecycleHistory.events(createdAt: createdAt, stored: stored, end: end)
        } }
    }

    /// How many history events an execution has (cheap change detection for live streams).
    public func historyCount(uid: String) throws -> Int {
        try database.read { db in
            let statement = try db.statement("""
                SELECT 1 + (\(LifecycleHistory.endsSQL)) + (SELECT COUNT(*) FROM history h WHERE h.execution_id = e.id)
                FROM executions e WHERE e.uid = ?
                """)
            statement.bind(1, uid)
            return try statement.step() ? statement.int(0) : 0
        }
    }

    public func statusCounts() throws -> [ExecutionStatus: Int] {
        // One snapshot for both queries: an execution submitted and claimed between them would
        // otherwise count as leased without having counted as pending.
        try database.read { db in try db.readTransaction {
            let statement = try db.statement("SELECT status, COUNT(*) FROM executions GROUP BY status")
            var counts: [ExecutionStatus: Int] = [:]
            while try statement.step() {
                if let status = ExecutionStatus(rawValue: statement.text(0) ?? "") { counts[status] = statement.int(1) }
            }
            // Stored pending with a leased job count as running (`effectiveStatus`); the leased
            // jobs are found through the jobs_running index, not by a pass over executions.
            let leased = Int(try db.scalarInt("""
                SELECT COUNT(DISTINCT j.execution_id) FROM jobs j JOIN executions e ON e.id = j.execution_id
                WHERE j.state = 'running' AND e.status = 'pending'
                """) ?? 0)
            if leased > 0 {
                counts[.pending, default: 0] -= leased
                counts[.running, default: 0] += leased
                if counts[.pending] == 0 { counts[.pending] = nil }
            }
            return counts
        } }
    }

    /// Whether any execution is unfinished (pending or running): the first entry of a range of
    /// the status index, so polling it while the engine works costs next to nothing (a count
    /// or a GROUP BY walks every row and took 13% of a benchmark's CPU).
    public func hasUnfinished() throws -> Bool {
        try database.read { db in
            try db.scalarInt("SELECT EXISTS (SELECT 1 FROM executions WHERE status IN ('pending', 'running'))") == 1
        }
    }

    public func heartbeats() throws -> [HeartbeatRecord] {
        try database.read { db in
            let statement = try db.statement("SELECT component, owner, beat_at, ttl, info FROM heartbeats ORDER BY component")
            var records: [HeartbeatRecord] = []
            while try statement.step() {
                records.append(HeartbeatRecord(component: statement.text(0) ?? "", owner: statement.text(1) ?? "",
                                               beatAt: statement.double(2), ttl: statement.double(3), info: statement.text(4)))
            }
            return records
        }
    }
}

/// A stable, fast checksum for change detection (not for security).
enum Checksum {
    static func fnv1a64Hex(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }
}
