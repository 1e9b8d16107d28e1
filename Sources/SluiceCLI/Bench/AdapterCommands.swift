import ArgumentParser
import Foundation
import SluiceCore
import SluiceSQLite

/// The peer benchmark's adapter contract (`../shared/bench/peers/ADAPTER.md`), spoken directly
/// so `adapters/ours` is a pass-through. Jobs are executions of built-in definitions; the
/// harness's job id is the execution's idempotency key.
struct AdapterOptions: ParsableArguments {
    @Option(help: "The SQLite file.") var db: String
    @Option(help: "full or normal.") var sync: SyncModeArgument = .full

    func openStore() throws -> SQLiteStore {
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: db).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        let store = try SQLiteStore(StoreConfiguration(path: db, sync: sync.mode))
        try BuiltinDefinitions.register(in: store)
        return store
    }
}

struct AdapterInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Adapter: name the version.")
    @OptionGroup var options: AdapterOptions
    func run() throws {
        print("ours=\(SluiceVersion.string) sqlite=\(Connection.libraryVersion) sync=\(options.sync.mode == .full ? "FULL" : "NORMAL")")
    }
}

struct AdapterSetup: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "setup", abstract: "Adapter: create and migrate the database.")
    @OptionGroup var options: AdapterOptions
    func run() throws { _ = try options.openStore() }
}

struct AdapterTeardown: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "teardown", abstract: "Adapter: nothing to clean up.")
    @OptionGroup var options: AdapterOptions
    func run() throws {}
}

struct AdapterReset: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reset", abstract: "Adapter: delete all queue state and history.")
    @OptionGroup var options: AdapterOptions
    func run() throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: options.db + suffix) }
        _ = try options.openStore()
    }
}

struct AdapterEnqueue: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enqueue", abstract: "Adapter: submit N jobs, one durable submit each.")
    @OptionGroup var options: AdapterOptions
    @Option var kind: String = "noop"
    @Option var n: Int
    @Option var url: String?
    @Option var retries: Int = 0
    @Option(name: .customLong("backoff-ms")) var backoffMs: Double = 0
    @Option(name: .customLong("interval-ms")) var intervalMs: Double = 0
    @Option(name: .customLong("id-prefix")) var idPrefix: String = "j"
    @Option(name: .customLong("max-seconds")) var maxSeconds: Double = 600

    func run() throws {
        let store = try options.openStore()
        let definition: String
        var input = "{}"
        switch kind {
        case "noop":
            definition = "noop"
        case "http":
            guard let url else { throw ValidationError("--kind http needs --url") }
            definition = "bench.http.r\(retries).b\(Int(backoffMs))"
            let retry = RetryPolicy(maxAttempts: retries + 1, intervalSeconds: backoffMs / 1000, backoffRate: 1, maxDelaySeconds: 3600)
            try store.register(definition: BuiltinDefinitions.taskChain(
                name: definition, TaskChainProgram.Task(name: "get", type: "http", parameters: nil, retry: retry)),
                now: Date().timeIntervalSince1970)
            input = "{\"url\":\"\(url)\",\"method\":\"GET\",\"timeoutMs\":5000}"
        default:
            throw ValidationError("unknown --kind \(kind) (noop or http)")
        }
        let start = Date().timeIntervalSince1970
        var count = 0
        for i in 0..<n {
            if intervalMs > 0 {
                let wait = start + Double(i) * intervalMs / 1000 - Date().timeIntervalSince1970
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
            if Date().timeIntervalSince1970 - start > maxSeconds { break }
            let enqueuedAt = Date().timeIntervalSince1970
            _ = try store.submit([Submission(definition: definition, input: input, idempotencyKey: "\(idPrefix)\(i)",
                                             enqueuedAt: enqueuedAt)], now: enqueuedAt)
            count += 1
        }
        print("enqueued=\(count) elapsed_s=\(Measurements.format(Date().timeIntervalSince1970 - start, 3))")
    }
}

struct AdapterWorker: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Adapter: run workers until SIGTERM.")
    @OptionGroup var options: AdapterOptions
    @Option var concurrency: Int = 8

    func run() throws {
        let store = try options.openStore()
        let engine = Engine(store: store, configuration: EngineConfiguration(
            role: "bench", pools: [.init(queue: "default", concurrency: concurrency)], executors: benchExecutors()))
        engine.start()
        waitForTerminationSignal()
        engine.shutdown(grace: 5)
    }
}

struct AdapterStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Adapter: done=D failed=F.")
    @OptionGroup var options: AdapterOptions
    func run() throws {
        let store = try SQLiteStore(StoreConfiguration(path: options.db, sync: options.sync.mode), migrate: false)
        let counts = try store.statusCounts()
        print("done=\(counts[.succeeded] ?? 0) failed=\(counts[.failed] ?? 0)")
    }
}

struct AdapterExport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Adapter: CSV of every job that started.")
    @OptionGroup var options: AdapterOptions
    func run() throws {
        let store = try SQLiteStore(StoreConfiguration(path: options.db, sync: options.sync.mode), migrate: false)
        var out = "id,enqueued_at,started_at,finished_at,attempts,state\n"
        try store.database.read { db in
            let statement = try db.statement("""
                SELECT COALESCE(idempotency_key, uid), created_at, started_at, finished_at, attempts, status
                FROM executions WHERE started_at IS NOT NULL ORDER BY id
                """)
            while try statement.step() {
                let status = statement.text(5) ?? ""
                let state = status == "succeeded" ? "done" : status == "failed" ? "failed" : "pending"
                let finished = statement.optionalDouble(3).map { String(format: "%.6f", $0) } ?? ""
                out += "\(statement.text(0) ?? ""),\(String(format: "%.6f", statement.double(1))),\(String(format: "%.6f", statement.double(2))),\(finished),\(statement.int(4)),\(state)\n"
                if out.utf8.count > 1 << 16 {
                    FileHandle.standardOutput.write(Data(out.utf8))
                    out = ""
                }
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

/// Executors the benchmark needs: the built-ins and `http`.
func benchExecutors() -> ExecutorRegistry {
    .standard()
}
