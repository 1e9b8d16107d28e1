import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Prometheus
import ServiceLifecycle
import SluiceAPI
import SluiceCore

/// A real engine and API on a temporary file, listening on 127.0.0.1 with a port the OS picks.
final class APITestServer: @unchecked Sendable {
    let directory: URL
    let store: SQLiteStore
    let engine: Engine
    let baseURL: URL
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    static func start(token: String? = nil, maxBodyBytes: Int = 1 << 20, limits: ConnectionLimits = ConnectionLimits(),
                      directory: URL? = nil) async throws -> APITestServer {
        // `directory`: where the database goes (a small volume, for the disk-full tests).
        let directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("sluice-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(StoreConfiguration(path: directory.appendingPathComponent("api.sqlite").path, sync: .normal))
        try BuiltinDefinitions.register(in: store)
        let registry = PrometheusCollectorRegistry()
        let engine = Engine(store: store, configuration: EngineConfiguration(
            pools: [.init(queue: "default", concurrency: 4)], metrics: EngineMetrics(factory: APIServer.metricsFactory(registry))))
        let server = try APIServer(engine: engine, configuration: APIConfiguration(host: "127.0.0.1", port: 0, token: token, maxBodyBytes: maxBodyBytes, limits: limits),
                                   registry: registry)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let group = ServiceGroup(configuration: .init(services: [
            EngineService(engine: engine, grace: 1),
            server.application(logger: logger) { port in continuation.yield(port) },
        ], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        return APITestServer(directory: directory, store: store, engine: engine, baseURL: URL(string: "http://127.0.0.1:\(port)")!, group: group, task: task)
    }

    private init(directory: URL, store: SQLiteStore, engine: Engine, baseURL: URL, group: ServiceGroup, task: Task<Void, Error>) {
        self.directory = directory
        self.store = store
        self.engine = engine
        self.baseURL = baseURL
        self.group = group
        self.task = task
    }

    /// A test that throws before its `stop()` (a failed `#require`, a request error) must not
    /// leave the server listening and its engine running for the rest of the run; `defer`
    /// cannot await, so dropping the server starts the group's graceful shutdown, as SIGTERM does.
    /// Not `task.cancel()`: cancelling ends Hummingbird's accept loop while the listener is still
    /// open, and a connection accepted in that moment is dropped unhandled, which NIO's async
    /// writer treats as a programming error (a precondition that took the whole test process
    /// down once in a full run).
    deinit {
        let group = group
        Task { await group.triggerGracefulShutdown() }
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        try? FileManager.default.removeItem(at: directory)
    }

    struct Reply {
        let status: Int
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: baseURL.absoluteString + path)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }
}
