/// The engine's view of durable state, in coarse operations: one call is one transaction.
/// The SQLite implementation is the only one today; a PostgreSQL store for hosts sharing one
/// database can implement the same protocol without touching the engine.
/// Read access to dedupe markers: all a dry run needs.
public protocol MarkerReader {
    /// The subset of `keys` that already have a marker in `scope` (read-only).
    func existingMarkers(scope: String, keys: [String]) throws -> Set<String>
}

/// No database yet: no marker exists.
public struct NoMarkers: MarkerReader {
    public init() {}
    public func existingMarkers(scope: String, keys: [String]) throws -> Set<String> { [] }
}

public protocol Store: Sendable, MarkerReader {
    /// Starts executions (with their first jobs) in one transaction.
    func submit(_ submissions: [Submission], now: Double) throws -> [SubmitReceipt]
    /// One group commit of the completer: results, promotions, rescues, claims, heartbeats.
    func runCycle(_ request: CycleRequest) throws -> CycleResult
    /// Gives leased jobs back to the queue: `notStarted` lose their claim's attempt,
    /// `allRemaining` releases every other job this owner still holds (shutdown).
    func releaseLeases(owner: LeaseOwner, notStarted: [Int64], allRemaining: Bool, now: Double) throws

    /// Cancels an execution that has not finished: its waiting jobs are cancelled, a running task
    /// finishes but its outcome changes nothing. Returns nil when there is no such execution.
    func cancel(uid: String, reason: String?, now: Double) throws -> CancelResult?

    /// Starts each submission unless its marker `(scope, key)` exists; inserts the marker in the
    /// same transaction as the execution, so a restart or a second process never starts it twice.
    /// Returns, per item, the new execution's id or nil when the marker was already there.
    func startMarked(_ items: [(scope: String, key: String, submission: Submission)], now: Double) throws -> [String?]
    /// The greatest marker key in `scope` (schedules use ISO times, which sort by time).
    func latestMarker(scope: String) throws -> String?

    /// Runs a failed, cancelled or timed-out execution again from the step that failed, or from
    /// `step`. Returns nil when there is no such execution.
    func resume(uid: String, from step: String?, now: Double) throws -> ResumeResult?

    func execution(uid: String) throws -> ExecutionRecord?
    /// Executions newest first, filtered, a page at a time (`after` is the last id of the previous page).
    func executions(_ query: ExecutionQuery) throws -> [ExecutionRecord]
    func history(uid: String) throws -> [HistoryEvent]
    func statusCounts() throws -> [ExecutionStatus: Int]
    func queues() throws -> [QueueInfo]
    func setPaused(queue: String, paused: Bool, now: Double) throws
    func heartbeats() throws -> [HeartbeatRecord]
    /// Records beats outside a completer cycle (scanner, scheduler).
    func beat(_ beats: [Heartbeat], owner: LeaseOwner, now: Double) throws
    /// Stores a definition version unless the newest one has the same checksum; returns its version.
    @discardableResult
    func register(definition: DefinitionSource, now: Double) throws -> Int
    /// The newest version of every definition (built-ins included), by name.
    func definitions() throws -> [DefinitionRecord]
    /// One version, or the newest when `version` is nil.
    func definition(name: String, version: Int?) throws -> DefinitionRecord?
}

/// A stored definition version.
public struct DefinitionRecord: Sendable {
    public let name: String
    public let version: Int
    public let dialect: String
    public let source: String
    public let createdAt: Double
}

public enum ResumeResult: Sendable, Equatable {
    case resumed
    /// Only a finished execution that did not succeed can be resumed.
    case notResumable(ExecutionStatus)
    case refused(String)
}

public enum CancelResult: Sendable, Equatable {
    case cancelled
    /// It had already finished with this status; nothing changed.
    case alreadyFinished(ExecutionStatus)
}

/// Filters for listing executions.
public struct ExecutionQuery: Sendable {
    public var status: ExecutionStatus?
    public var definition: String?
    public var queue: String?
    public var namespace: String?
    /// Cursor: list executions older than this id.
    public var before: String?
    public var limit: Int

    public init(status: ExecutionStatus? = nil, definition: String? = nil, queue: String? = nil, namespace: String? = nil,
                before: String? = nil, limit: Int = 100) {
        self.status = status
        self.definition = definition
        self.queue = queue
        self.namespace = namespace
        self.before = before
        self.limit = limit
    }
}

/// What the completer asks of one cycle.
public struct CycleRequest: Sendable {
    public var owner: LeaseOwner
    public var now: Double
    public var outcomes: [TaskOutcome] = []
    /// Up to `limit` ready jobs to claim from each queue.
    public var claims: [(queue: String, limit: Int)] = []
    public var leaseUntil: Double
    public var promoteDue = false
    public var rescueExpired = false
    public var extendLeases = false
    public var heartbeats: [Heartbeat] = []
    /// Submit batches to commit in this cycle (group commit of submits); each batch is all or
    /// nothing on its own, and one batch's error does not affect the others.
    public var submissions: [[Submission]] = []

    public init(owner: LeaseOwner, now: Double, leaseUntil: Double) {
        self.owner = owner
        self.now = now
        self.leaseUntil = leaseUntil
    }
}

/// What one cycle did.
public struct CycleResult: Sendable {
    public var claimed: [String: [ClaimedJob]] = [:]
    /// Queues whose claim filled its limit: more ready jobs are likely.
    public var saturated: Set<String> = []
    public var paused: Set<String> = []
    /// The earliest `run_at` of a scheduled job, if any: when the completer must wake up.
    public var nextScheduledAt: Double?
    public var promoted = 0
    public var rescued = 0
    /// Outcomes dropped because the job's lease had been lost (rescued, cancelled).
    public var staleOutcomes = 0
    /// Ready jobs were created in this cycle (retries due now, next tasks).
    public var createdReady = false
    /// One result per batch of `CycleRequest.submissions`, in order.
    public var submitted: [Result<[SubmitReceipt], any Error>] = []
}

/// A component's liveness beat.
public struct Heartbeat: Sendable {
    public var component: String
    public var ttl: Double
    public var info: String?

    public init(component: String, ttl: Double, info: String? = nil) {
        self.component = component
        self.ttl = ttl
        self.info = info
    }
}

public struct HeartbeatRecord: Sendable {
    public let component: String
    public let owner: String
    public let beatAt: Double
    public let ttl: Double
    public let info: String?

    public func isStale(now: Double) -> Bool { now - beatAt > ttl }
}

/// A definition as a user (or the engine, for built-ins) hands it over.
public struct DefinitionSource: Sendable {
    public var name: String
    public var dialect: String
    public var source: String
    /// The engine's compiled form (JSON).
    public var compiled: String

    public init(name: String, dialect: String, source: String, compiled: String) {
        self.name = name
        self.dialect = dialect
        self.source = source
        self.compiled = compiled
    }
}

/// Errors a store raises for bad requests (as opposed to I/O failures).
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case unknownDefinition(name: String, version: Int?)
    case cannotStart(definition: String, reason: String)
    case invalidCompiledDefinition(name: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownDefinition(name, version):
            return version.map { "no definition \(name) version \($0)" } ?? "no definition named \(name)"
        case let .cannotStart(definition, reason): return "cannot start \(definition): \(reason)"
        case let .invalidCompiledDefinition(name, reason): return "definition \(name) cannot be loaded: \(reason)"
        }
    }
}
