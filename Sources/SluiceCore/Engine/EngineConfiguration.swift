import SluiceStates

/// How an engine runs: which queues it works, and its timings.
public struct EngineConfiguration: Sendable {
    public struct Pool: Sendable {
        public var queue: String
        /// Task bodies running at once.
        public var concurrency: Int
        /// Claimed jobs held ready beyond `concurrency`; nil follows the finishing rate (about
        /// 200 ms of work, between `max(256, 4 × concurrency)` and 4,096: `WorkerPool.Prefetch`).
        public var prefetch: Int?

        public init(queue: String, concurrency: Int, prefetch: Int? = nil) {
            self.queue = queue
            self.concurrency = concurrency
            self.prefetch = prefetch
        }
    }

    /// Names the process's components in the heartbeat table (`serve.dispatcher`, `worker.pool:default`).
    public var role: String
    /// Empty: the engine only submits and answers queries (e.g. `sluice server`).
    public var pools: [Pool]
    public var executors: ExecutorRegistry
    public var leaseSeconds: Double
    public var rescueIntervalSeconds: Double
    public var heartbeatTTLSeconds: Double
    /// Most jobs one claim takes from one queue.
    public var claimBatch: Int
    /// Notice other processes' writes via inotify (otherwise by polling `data_version`).
    public var watchExternalChanges: Bool
    /// Longest the completer sleeps when idle before checking `data_version` again.
    public var idlePollSeconds: Double
    public var metrics: EngineMetrics
    /// Nice value of the single writer's thread (0, the default: as the process). The writer
    /// is the one thread that gains from waiting: a cycle that starts later commits more
    /// outcomes at once, at less CPU per job, while the threads that wait on the network (curl's
    /// I/O thread, an HTTP target on the same host) lose throughput to every delay. Measured on
    /// 2 cores with 10: `bench http` 9,100–11,000 jobs/s against 8,600–9,400 (writer 66–73 →
    /// 50–66 µs per job), but `bench api` submits 5% slower, `bench queue` pickup p99 6–10 ms
    /// against 3–5 ms, and a CPU-bound neighbour at nice 0 would leave the writer about a tenth
    /// of a core. A tuning knob for HTTP-heavy hosts, not a default.
    public var writerNice: Int32
    /// The bounds every States Language step runs under (depth, payload size, transitions,
    /// time per step: `EvaluationLimits`); a bound hit fails that execution, not the process.
    public var evaluationLimits: EvaluationLimits
    /// Keep the `<db>-inflight` crash slot and quarantine at start-up an execution that killed
    /// the process twice (`CrashQuarantine`).
    public var crashQuarantine: Bool

    public init(role: String = "serve", pools: [Pool] = [Pool(queue: "default", concurrency: 8)],
                executors: ExecutorRegistry = ExecutorRegistry(), leaseSeconds: Double = 30, rescueIntervalSeconds: Double = 5,
                heartbeatTTLSeconds: Double = 15, claimBatch: Int = 512, watchExternalChanges: Bool = true,
                idlePollSeconds: Double = 0.25, metrics: EngineMetrics = EngineMetrics(), writerNice: Int32 = 0,
                evaluationLimits: EvaluationLimits = .standard, crashQuarantine: Bool = true) {
        self.role = role
        self.pools = pools
        self.executors = executors
        self.leaseSeconds = leaseSeconds
        self.rescueIntervalSeconds = rescueIntervalSeconds
        self.heartbeatTTLSeconds = heartbeatTTLSeconds
        self.claimBatch = claimBatch
        self.watchExternalChanges = watchExternalChanges
        self.idlePollSeconds = idlePollSeconds
        self.metrics = metrics
        self.writerNice = writerNice
        self.evaluationLimits = evaluationLimits
        self.crashQuarantine = crashQuarantine
    }
}
