import ArgumentParser
import Foundation
import SluiceCore
import SluiceSQLite

/// `sluice bench queue`: enqueue N noop executions, drain them with C workers, then measure
/// pickup latency at 100 jobs/s on an idle engine. Prints one line of figures. `--workflow`
/// picks the program the noop task runs in (the built-in chain, or a task list compiled to a
/// States Language machine): no HTTP, so the difference is the program's and its history's
/// cost.
struct BenchQueue: ParsableCommand {
    enum Workflow: String, ExpressibleByArgument, CaseIterable {
        /// The built-in one-task chain `noop`.
        case chain
        /// A one-task task list of type `noop`.
        case tasklist
    }

    static let configuration = CommandConfiguration(commandName: "queue", abstract: "Enqueue N noop executions, drain them, measure pickup latency.")

    @Option(help: "Executions to enqueue and drain.") var jobs: Int = 20_000
    @Option(help: "Task bodies running at once.") var concurrency: Int = 8
    @Option(help: "full or normal.") var sync: SyncModeArgument = .full
    @Option(help: "Executions per submit transaction while enqueueing.") var batch: Int = 500
    @Option(help: "Jobs for the pickup-latency phase (one every 10 ms); 0 skips it.") var pickupJobs: Int = 500
    @Option(help: "Database file (default: a temporary one, deleted afterwards).") var db: String?
    @Option(help: "chain (built-in noop) or tasklist (a one-task Mender task list of type noop).") var workflow: Workflow = .chain

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if db == nil { try? FileManager.default.removeItem(at: directory) } }
        let path = db ?? directory.appendingPathComponent("queue.sqlite").path

        let store = try SQLiteStore(StoreConfiguration(path: path, sync: sync.mode))
        try BuiltinDefinitions.register(in: store)
        let definition: String
        switch workflow {
        case .chain:
            definition = "noop"
        case .tasklist:
            definition = "bench_noop_tasklist"
            try store.register(definition: try BenchDefinitions.taskList(name: definition, type: "noop", block: nil), now: Date().timeIntervalSince1970)
        }

        // Enqueue.
        let enqueueStart = Date().timeIntervalSince1970
        var submitted = 0
        while submitted < jobs {
            let count = min(batch, jobs - submitted)
            let now = Date().timeIntervalSince1970
            _ = try store.submit((0..<count).map { _ in Submission(definition: definition, enqueuedAt: now) }, now: now)
            submitted += count
        }
        let enqueueSeconds = Date().timeIntervalSince1970 - enqueueStart

        // Drain.
        let engine = Engine(store: store, configuration: EngineConfiguration(
            role: "bench", pools: [.init(queue: "default", concurrency: concurrency)]))
        let drainCPU = Measurements.cpuSeconds()
        let drainThreads = Measurements.cpuSecondsByThread()
        engine.start()
        waitUntilFinished(store)
        let drainCPUPerJob = (Measurements.cpuSeconds() - drainCPU) / Double(max(1, jobs))
        let threads = Measurements.threadBreakdown(from: drainThreads, to: Measurements.cpuSecondsByThread(), jobs: jobs)
        let span = try store.database.read { db in
            try db.scalarPair("SELECT MIN(started_at), MAX(finished_at) FROM executions")
        }
        let drainPerSecond = Double(jobs) / max(span.1 - span.0, 1e-9)
        let rss = Measurements.peakRSSMegabytes()
        let drainCycles = engine.cycleCount
        let completerBusy = engine.completerBusySeconds / max(span.1 - span.0, 1e-9)

        // Pickup latency on the now idle engine: one job every 10 ms.
        var latencies: [Double] = []
        if pickupJobs > 0 {
            Thread.sleep(forTimeInterval: 0.5)
            let start = Date().timeIntervalSince1970
            var uids: [String] = []
            for i in 0..<pickupJobs {
                let due = start + Double(i) * 0.01
                let wait = due - Date().timeIntervalSince1970
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                uids.append(try engine.submit(Submission(definition: definition, enqueuedAt: Date().timeIntervalSince1970)).uid)
            }
            waitUntilFinished(store)
            for uid in uids {
                if let record = try store.execution(uid: uid), let started = record.startedAt {
                    latencies.append((started - record.createdAt) * 1000)
                }
            }
            latencies.sort()
        }
        engine.shutdown(grace: 5)

        print([
            "jobs=\(jobs)", "concurrency=\(concurrency)", "sync=\(sync.rawValue)", "workflow=\(workflow.rawValue)",
            "enqueue_per_s=\(Int(Double(jobs) / enqueueSeconds))",
            "drain_per_s=\(Int(drainPerSecond))",
            "pickup_p50_ms=\(Measurements.format(Measurements.percentile(latencies, 50), 2))",
            "pickup_p99_ms=\(Measurements.format(Measurements.percentile(latencies, 99), 2))",
            "rss_mb=\(Measurements.format(rss))",
            "completer_busy=\(Measurements.format(completerBusy, 2))",
            "jobs_per_commit=\(Measurements.format(Double(jobs) / Double(max(1, drainCycles))))",
            "cpu_us_per_job=\(Measurements.format(drainCPUPerJob * 1e6))",
            threads,
        ].joined(separator: " "))
    }

    /// Every execution counted is stored by the time this is called: done when none is
    /// unfinished (one index entry read per poll, not a count over every execution).
    private func waitUntilFinished(_ store: SQLiteStore) {
        while (try? store.hasUnfinished()) ?? true { Thread.sleep(forTimeInterval: 0.02) }
    }
}

extension Connection {
    func scalarPair(_ sql: String) throws -> (Double, Double) {
        let statement = try self.statement(sql)
        guard try statement.step() else { return (0, 0) }
        return (statement.double(0), statement.double(1))
    }
}
