import ArgumentParser
import Foundation
import SluiceCore
import SluiceHTTP

/// `sluice bench http`: N executions of one `http` task (a GET of `--url`) through the durable
/// queue with C task bodies at once; prints jobs/s from the tasks' own timestamps. With
/// `--delay-ms`, an in-process loopback server answers every request after that delay
/// (`--jobs 1000 --concurrency 1000 --delay-ms 500`: how long a thousand slow calls take).
/// `client_jobs_per_s` is the curl multi client alone on the same URL, without the queue.
/// `--workflow tasklist` runs the same GET as a one-task Mender task list (compiled to a
/// States Language machine: its templates, state history and program), to show what that
/// path costs over the bare built-in chain. `--workflow asl` runs it as a one-Task States
/// Language machine (`"Resource": "http"`): the interpreter without the task-list dialect.
struct BenchHTTP: ParsableCommand {
    enum Workflow: String, ExpressibleByArgument, CaseIterable {
        /// The built-in one-task chain: the queue and the executor, nothing more.
        case chain
        /// A one-task task list, `uri: ${encoding=plain;workflow.input.url}` (the whole URL is an input).
        case tasklist
        /// A one-Task States Language machine, `"Resource": "http"`, the input as its parameters.
        case asl
    }

    static let configuration = CommandConfiguration(commandName: "http", abstract: "HTTP tasks through the queue, and the HTTP client alone.")

    @Option(help: "Executions.") var jobs: Int = 5_000
    @Option(help: "Task bodies (requests) in flight at once.") var concurrency: Int = 32
    @Option(help: "URL to GET (default: the built-in delay server).") var url: String?
    @Option(help: "Start a loopback server answering after this many ms.") var delayMs: Int?
    @Option(help: "full or normal.") var sync: SyncModeArgument = .full
    @Flag(help: "Measure the HTTP client alone (for profiling it).") var clientOnly = false
    @Option(help: "chain (built-in), tasklist (a Mender task list) or asl (a States Language machine).") var workflow: Workflow = .chain
    @Option(help: "Nice value of the engine's writer thread (as serve's --writer-nice).") var writerNice: Int32 = 0

    func run() throws {
        var target = url
        var server: DelayServer?
        if target == nil || delayMs != nil {
            server = try DelayServer(delayMilliseconds: delayMs ?? 0)
            target = "http://127.0.0.1:\(server!.port)/ok"
        }
        guard let target else { throw ValidationError("--url or --delay-ms") }
        _ = server

        // The client alone: `concurrency` requests in flight until `jobs` are done.
        let client = CurlMultiClient(maxTotalConnections: max(64, concurrency * 2))
        defer { client.shutdown() }
        let clientSeconds = measureClient(client, url: target)
        if clientOnly {
            print("jobs=\(jobs) concurrency=\(concurrency) url=\(target) client_jobs_per_s=\(Int(Double(jobs) / clientSeconds))")
            return
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-http-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(StoreConfiguration(path: directory.appendingPathComponent("http.sqlite").path, sync: sync.mode))
        try BuiltinDefinitions.register(in: store)
        let definition: String
        let input: String
        switch workflow {
        case .chain:
            definition = "bench.http"
            try store.register(definition: BuiltinDefinitions.taskChain(name: definition, .init(name: "get", type: "http", parameters: nil)),
                               now: Date().timeIntervalSince1970)
            input = "{\"url\":\"\(target)\",\"method\":\"GET\",\"timeoutMs\":30000}"
        case .tasklist:
            definition = "bench_http_tasklist"
            try store.register(definition: try BenchDefinitions.taskList(name: definition, type: "http", block: #"{"uri": "${encoding=plain;workflow.input.url}", "method": "GET"}"#,
                                                                          inputs: ["url"]), now: Date().timeIntervalSince1970)
            input = "{\"url\":\"\(target)\"}"
        case .asl:
            definition = "bench_http_asl"
            try store.register(definition: try BenchDefinitions.asl(name: definition, resource: "http"), now: Date().timeIntervalSince1970)
            input = "{\"url\":\"\(target)\",\"method\":\"GET\",\"timeoutMs\":30000}"
        }
        var submitted = 0
        while submitted < jobs {
            let count = min(1000, jobs - submitted)
            _ = try store.submit((0..<count).map { _ in Submission(definition: definition, input: input) }, now: Date().timeIntervalSince1970)
            submitted += count
        }
        let engine = Engine(store: store, configuration: EngineConfiguration(
            role: "bench", pools: [.init(queue: "default", concurrency: concurrency)], executors: .standard(httpClient: client),
            writerNice: writerNice))
        let started = Date().timeIntervalSince1970
        let startCPU = Measurements.cpuSeconds()
        let startThreads = Measurements.cpuSecondsByThread()
        engine.start()
        // Every execution is stored before the engine starts: done when none is unfinished.
        // (`hasUnfinished` reads one index entry: a count would take CPU from what is measured.)
        while try store.hasUnfinished() { Thread.sleep(forTimeInterval: 0.01) }
        let wall = Date().timeIntervalSince1970 - started
        let cpuPerJob = (Measurements.cpuSeconds() - startCPU) / Double(max(1, jobs))
        let threads = Measurements.threadBreakdown(from: startThreads, to: Measurements.cpuSecondsByThread(), jobs: jobs)
        let span = try store.database.read { db in try db.scalarPair("SELECT MIN(started_at), MAX(finished_at) FROM executions") }
        let failed = try store.statusCounts()[.failed] ?? 0
        // Share of the drain the completer (the one writer) spent in its transactions: near 1
        // means the queue, not HTTP, sets the pace.
        let completerBusy = engine.completerBusySeconds / max(span.1 - span.0, 1e-9)
        let commits = engine.cycleCount
        engine.shutdown(grace: 2)
        print([
            "jobs=\(jobs)", "concurrency=\(concurrency)", "url=\(target)", "workflow=\(workflow.rawValue)", "writer_nice=\(writerNice)",
            "jobs_per_s=\(Int(Double(jobs) / max(span.1 - span.0, 1e-9)))",
            "total_s=\(Measurements.format(wall, 3))",
            "failed=\(failed)",
            "completer_busy=\(Measurements.format(completerBusy, 2))",
            "jobs_per_commit=\(Measurements.format(Double(jobs) / Double(max(1, commits))))",
            "client_jobs_per_s=\(Int(Double(jobs) / clientSeconds))",
            // All threads' CPU (the queue, the executor, the client's I/O) per job during the drain.
            "cpu_us_per_job=\(Measurements.format(cpuPerJob * 1e6))",
            // The same split by thread: the single writer, the curl I/O thread, the rest.
            threads,
            "rss_mb=\(Measurements.format(Measurements.peakRSSMegabytes()))",
        ].joined(separator: " "))
    }

    /// Counts issued and finished requests across the client's I/O thread and this one.
    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var issued = 0
        var finished = 0
    }

    private func measureClient(_ client: CurlMultiClient, url: String) -> Double {
        let done = DispatchSemaphore(value: 0)
        let counter = Counter()
        let total = jobs
        let start = Date().timeIntervalSince1970
        @Sendable func issue() {
            counter.lock.lock()
            guard counter.issued < total else { counter.lock.unlock(); return }
            counter.issued += 1
            counter.lock.unlock()
            client.perform(HTTPRequest(url: url)) { _ in
                counter.lock.lock()
                counter.finished += 1
                let all = counter.finished == total
                counter.lock.unlock()
                if all { done.signal() } else { issue() }
            }
        }
        for _ in 0..<min(concurrency, jobs) { issue() }
        done.wait()
        return Date().timeIntervalSince1970 - start
    }
}
