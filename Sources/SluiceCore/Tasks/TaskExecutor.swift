import Foundation
import SluiceHTTP

/// Performs one kind of task. `execute` must call `completion` exactly once, from any thread;
/// executors that wait (sleep, HTTP, child processes) must not hold a thread while waiting.
public protocol TaskExecutor: Sendable {
    func execute(_ job: ClaimedJob, completion: @escaping @Sendable (TaskOutcome) -> Void)
}

/// Task types by name. `noop` and `sleep` are always there, so the queue can be measured alone.
public struct ExecutorRegistry: Sendable {
    private var executors: [String: any TaskExecutor]

    public init() {
        executors = ["noop": NoopExecutor(), "sleep": SleepExecutor()]
    }

    public mutating func register(_ type: String, _ executor: any TaskExecutor) { executors[type] = executor }

    /// The built-ins plus `http` on a curl multi client (one I/O thread for every request).
    /// `cli` runs commands only when `allowCommands` is set.
    public static func standard(metrics: EngineMetrics? = nil, httpClient: CurlMultiClient = CurlMultiClient(),
                                allowCommands: Bool = false, secrets: SecretStore = SecretStore()) -> ExecutorRegistry {
        var registry = ExecutorRegistry()
        registry.register("http", HTTPExecutor(client: httpClient, metrics: metrics, secrets: secrets))
        registry.register("cli", CommandExecutor(allowed: allowCommands, secrets: secrets))
        return registry
    }

    public func executor(for type: String) -> (any TaskExecutor)? { executors[type] }
}

/// Does nothing and succeeds: the job's cost is the queue's own.
public struct NoopExecutor: TaskExecutor {
    public init() {}
    public func execute(_ job: ClaimedJob, completion: @escaping @Sendable (TaskOutcome) -> Void) {
        let now = Date().timeIntervalSince1970
        completion(TaskOutcome(job: job, result: .succeeded(output: "{}"), startedAt: now, finishedAt: now))
    }
}

/// Waits `{"ms": N}` milliseconds without holding a thread, then succeeds.
public struct SleepExecutor: TaskExecutor {
    public init() {}
    public func execute(_ job: ClaimedJob, completion: @escaping @Sendable (TaskOutcome) -> Void) {
        let started = Date().timeIntervalSince1970
        let milliseconds = SleepExecutor.milliseconds(in: job.payload)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
            completion(TaskOutcome(job: job, result: .succeeded(output: "{}"), startedAt: started,
                                   finishedAt: Date().timeIntervalSince1970))
        }
    }

    static func milliseconds(in payload: String) -> Int {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
              let value = object["ms"] as? NSNumber else { return 0 }
        return max(0, value.intValue)
    }
}
