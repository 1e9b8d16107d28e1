import Hummingbird
import Prometheus
import SluiceCore

/// `GET /metrics` in Prometheus text format. Counters and histograms come from the engine
/// (swift-metrics into this registry); execution counts by status and queue depths are read
/// from the database at scrape time, so they are exact across every process on the file.
struct MetricsRoute {
    let engine: Engine
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<BasicRequestContext>) {
        router.get("/metrics") { _, _ in try scrape() }
    }

    func scrape() throws -> Response {
        let counts = try engine.store.statusCounts()
        for status in ExecutionStatus.allCases {
            registry.makeGauge(name: "sluice_executions", labels: [("status", status.rawValue)]).set(Double(counts[status] ?? 0))
        }
        for queue in try engine.store.queues() {
            registry.makeGauge(name: "sluice_queue_jobs", labels: [("queue", queue.name), ("state", "ready")]).set(Double(queue.ready))
            registry.makeGauge(name: "sluice_queue_jobs", labels: [("queue", queue.name), ("state", "scheduled")]).set(Double(queue.scheduled))
            registry.makeGauge(name: "sluice_queue_jobs", labels: [("queue", queue.name), ("state", "running")]).set(Double(queue.running))
            registry.makeGauge(name: "sluice_queue_paused", labels: [("queue", queue.name)]).set(queue.paused ? Double(1) : Double(0))
        }
        let load = engine.load
        registry.makeGauge(name: "sluice_pool_running").set(Double(load.running))
        registry.makeGauge(name: "sluice_pool_buffered").set(Double(load.buffered))
        var buffer = ByteBuffer()
        buffer.writeBytes(registry.emitToBuffer())
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: buffer))
    }
}
