import ArgumentParser
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import SluiceAPI
import SluiceCore
import Synchronization

/// `sluice bench api`: many concurrent clients submit executions over loopback HTTP to an
/// engine serving the API; reports submits/s, latency percentiles, errors, and checks that
/// every acknowledged submit is stored (none lost).
struct BenchAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api", abstract: "Concurrent clients submitting over the HTTP API.")

    @Option(help: "Concurrent clients (one keep-alive connection each).") var clients: Int = 100
    @Option(help: "Executions submitted in total.") var total: Int = 20_000
    @Option(help: "full or normal.") var sync: SyncModeArgument = .full
    @Option(help: "Worker concurrency draining the submitted executions meanwhile (0: no workers).") var concurrency: Int = 8

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-api-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(StoreConfiguration(path: directory.appendingPathComponent("api.sqlite").path, sync: sync.mode))
        try BuiltinDefinitions.register(in: store)
        let pools = concurrency > 0 ? [EngineConfiguration.Pool(queue: "default", concurrency: concurrency)] : []
        let engine = Engine(store: store, configuration: EngineConfiguration(role: "bench", pools: pools))
        let server = try APIServer(engine: engine, configuration: APIConfiguration(host: "127.0.0.1", port: 0))
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let group = ServiceGroup(configuration: .init(services: [
            EngineService(engine: engine, grace: 5),
            server.application(logger: logger) { continuation.yield($0) },
        ], logger: logger))
        let serving = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0

        let perClient = (0..<clients).map { total / clients + ($0 < total % clients ? 1 : 0) }
        let results = Mutex<(latencies: [Double], errors: Int, ids: Set<String>)>(([], 0, []))
        let start = Date().timeIntervalSince1970
        // One thread per client, so all of them are in flight at once (concurrentPerform would
        // run only as many as there are cores).
        let finished = DispatchGroup()
        for client in 0..<clients {
            finished.enter()
            Thread.detachNewThread {
                defer { finished.leave() }
                runClient(client)
            }
        }
        finished.wait()
        @Sendable func runClient(_ client: Int) {
            var latencies: [Double] = []
            var ids: [String] = []
            var errors = 0
            guard let http = try? LoopbackHTTPClient(port: port) else {
                results.withLock { $0.errors += perClient[client] }
                return
            }
            for i in 0..<perClient[client] {
                let began = Date().timeIntervalSince1970
                let reply = try? http.send(method: "POST", path: "/v1/executions",
                                           body: #"{"definition":"noop","input":{"client":\#(client),"i":\#(i)}}"#)
                latencies.append((Date().timeIntervalSince1970 - began) * 1000)
                guard let reply, reply.status == 201,
                      let object = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any],
                      let id = object["id"] as? String else {
                    errors += 1
                    continue
                }
                ids.append(id)
            }
            results.withLock { state in
                state.latencies.append(contentsOf: latencies)
                state.errors += errors
                state.ids.formUnion(ids)
            }
        }
        let elapsed = Date().timeIntervalSince1970 - start
        let (latencies, errors, ids) = results.withLock { ($0.latencies.sorted(), $0.errors, $0.ids) }
        let stored = try store.statusCounts().values.reduce(0, +)
        let missing = try ids.filter { try store.execution(uid: $0) == nil }.count
        await group.triggerGracefulShutdown()
        _ = try? await serving.value
        print([
            "clients=\(clients)", "total=\(total)", "sync=\(sync.rawValue)",
            "submits_per_s=\(Int(Double(ids.count) / elapsed))",
            "p50_ms=\(Measurements.format(Measurements.percentile(latencies, 50), 2))",
            "p99_ms=\(Measurements.format(Measurements.percentile(latencies, 99), 2))",
            "errors=\(errors)", "acknowledged=\(ids.count)", "stored=\(stored)", "lost=\(missing)",
        ].joined(separator: " "))
        if errors > 0 || missing > 0 || stored != total { throw ExitCode(1) }
    }
}
