import CoreMetrics
import Foundation
import Synchronization

/// The engine's own measurements, through swift-metrics with an injected factory (so tests and
/// several engines in one process do not share a global registry). Counts that must be exact
/// across processes (executions by status, queue depth) are read from the database when
/// scraped instead; see `MetricsSnapshot`.
public final class EngineMetrics: Sendable {
    let factory: any MetricsFactory
    private let tasks = Mutex<[String: TaskMetrics]>([:])
    private let httpByClass = Mutex<[String: CoreMetrics.Counter]>([:])
    let cycles: CoreMetrics.Counter
    let outcomesPerCycle: Recorder

    struct TaskMetrics: Sendable {
        let succeeded: CoreMetrics.Counter
        let failed: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
        let pickup: CoreMetrics.Timer
    }

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        cycles = CoreMetrics.Counter(label: "sluice_completer_cycles_total", dimensions: [], factory: factory)
        outcomesPerCycle = Recorder(label: "sluice_completer_outcomes_per_cycle", dimensions: [], aggregate: true, factory: factory)
    }

    /// Records a task attempt: its outcome, how long the body ran, how long it waited to start.
    func record(_ outcome: TaskOutcome) {
        let type = outcome.job.taskType
        let metrics = tasks.withLock { cache in
            if let existing = cache[type] { return existing }
            let made = TaskMetrics(
                succeeded: CoreMetrics.Counter(label: "sluice_tasks_total", dimensions: [("type", type), ("outcome", "succeeded")], factory: factory),
                failed: CoreMetrics.Counter(label: "sluice_tasks_total", dimensions: [("type", type), ("outcome", "failed")], factory: factory),
                duration: CoreMetrics.Timer(label: "sluice_task_duration_seconds", dimensions: [("type", type)], factory: factory),
                pickup: CoreMetrics.Timer(label: "sluice_task_pickup_seconds", dimensions: [("type", type)], factory: factory))
            cache[type] = made
            return made
        }
        switch outcome.result {
        case .succeeded: metrics.succeeded.increment()
        case .failed: metrics.failed.increment()
        }
        metrics.duration.recordNanoseconds(Int64(max(0, outcome.finishedAt - outcome.startedAt) * 1e9))
        if outcome.job.attempt == 1 {
            metrics.pickup.recordNanoseconds(Int64(max(0, outcome.startedAt - outcome.job.enqueuedAt) * 1e9))
        }
    }

    /// Records an HTTP task's outcome by status class (`2xx` … `5xx`, or `error` for no response).
    public func recordHTTP(statusClass: String) {
        let counter = httpByClass.withLock { cache in
            if let existing = cache[statusClass] { return existing }
            let made = CoreMetrics.Counter(label: "sluice_http_tasks_total", dimensions: [("class", statusClass)], factory: factory)
            cache[statusClass] = made
            return made
        }
        counter.increment()
    }
}
