import ArgumentParser
import Foundation
import SluiceCore
import SluiceSQLite

/// `sluice bench claim`: the time of one claim cycle (a batch of ready jobs leased in one
/// committed transaction) with a small queue and with a deep one. A claim must not slow
/// down as the queue grows: the ready index is partial and ordered as the claim reads it.
struct BenchClaim: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "claim", abstract: "Claim time with 1,000 vs 1,000,000 jobs queued.")

    @Option(help: "Queue depths to compare.") var depths: [Int] = [1_000, 1_000_000]
    @Option(help: "Jobs per claim.") var batch: Int = 100
    @Option(help: "Claims measured per depth.") var rounds: Int = 200
    @Option(help: "full or normal.") var sync: SyncModeArgument = .full

    func run() throws {
        var figures: [String] = []
        for depth in depths {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-claim-\(getpid())-\(depth)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try SQLiteStore(StoreConfiguration(path: directory.appendingPathComponent("claim.sqlite").path, sync: sync.mode))
            try BuiltinDefinitions.register(in: store)
            try seed(store, depth: depth)
            let owner = LeaseOwner.current()
            var times: [Double] = []
            for _ in 0..<rounds {
                let now = Date().timeIntervalSince1970
                var request = CycleRequest(owner: owner, now: now, leaseUntil: now + 30)
                request.claims = [(queue: "default", limit: batch)]
                let start = DispatchTime.now().uptimeNanoseconds
                let result = try store.runCycle(request)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                let claimed = result.claimed["default"] ?? []
                guard claimed.count == batch else { throw ValidationError("claimed \(claimed.count), expected \(batch)") }
                try store.releaseLeases(owner: owner, notStarted: claimed.map(\.id), allRemaining: false, now: now)
            }
            times.sort()
            figures.append("claim_ms_\(depth)=\(Measurements.format(Measurements.percentile(times, 50), 3))")
        }
        print((["batch=\(batch)", "sync=\(sync.rawValue)"] + figures).joined(separator: " "))
    }

    /// Puts `depth` ready noop jobs on the queue with two INSERT … SELECT statements.
    private func seed(_ store: SQLiteStore, depth: Int) throws {
        try store.database.write { db in
            try db.transaction {
                let now = Date().timeIntervalSince1970
                try db.execute("""
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(depth))
                    INSERT INTO executions (uid, definition_id, status, queue, input, state, created_at, updated_at)
                    SELECT 'seed-' || i, (SELECT id FROM definitions WHERE name = 'noop'), 'pending', 'default', '{}', '0', \(now), \(now) FROM n;
                    INSERT INTO jobs (execution_id, execution_uid, kind, queue, priority, run_at, state, step, task_type, payload, max_attempts, created_at)
                    SELECT id, uid, 'task', 'default', 0, \(now), 'ready', 'noop', 'noop', '{}', 1, \(now) FROM executions;
                    """)
            }
        }
    }
}
