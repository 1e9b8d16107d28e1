/// The life of an execution: `pending → running → succeeded | failed | cancelled | timed_out`.
///
/// `running` is stored from the first task outcome on; before that an execution whose first
/// job is leased reads as `running` (see `SQLiteStore.effectiveStatus`), so claiming a job
/// writes only the job row, not its execution's too.
public enum ExecutionStatus: String, Sendable, Codable, CaseIterable {
    case pending, running, succeeded, failed, cancelled
    case timedOut = "timed_out"

    public var isFinished: Bool { self != .pending && self != .running }
}

/// What a client asks for when it starts an execution.
public struct Submission: Sendable {
    public var definition: String
    public var version: Int?
    public var input: String
    public var queue: String
    public var priority: Int
    public var namespace: String?
    public var idempotencyKey: String?
    /// Earliest start (Unix seconds); nil means now.
    public var runAt: Double?
    /// When the client started the submit (for pickup-latency measurements); nil means now.
    public var enqueuedAt: Double?

    public init(definition: String, version: Int? = nil, input: String = "{}", queue: String = "default", priority: Int = 0,
                namespace: String? = nil, idempotencyKey: String? = nil, runAt: Double? = nil, enqueuedAt: Double? = nil) {
        self.definition = definition
        self.version = version
        self.input = input
        self.queue = queue
        self.priority = priority
        self.namespace = namespace
        self.idempotencyKey = idempotencyKey
        self.runAt = runAt
        self.enqueuedAt = enqueuedAt
    }
}

/// The answer to a submit: the execution's id, and whether it already existed
/// (same idempotency key: the first execution is returned, never a second).
public struct SubmitReceipt: Sendable, Equatable {
    public let uid: String
    public let rowID: Int64
    public let existed: Bool
}

/// One execution as the API and CLI show it.
public struct ExecutionRecord: Sendable {
    public let uid: String
    public let definition: String
    public let version: Int
    public let status: ExecutionStatus
    public let queue: String
    public let input: String
    public let output: String?
    public let error: String?
    public let cause: String?
    public let attempts: Int
    public let createdAt: Double
    public let startedAt: Double?
    public let finishedAt: Double?
    public let namespace: String?
}

/// One line of an execution's history.
public struct HistoryEvent: Sendable {
    public let at: Double
    public let type: String
    public let step: String?
    public let attempt: Int?
    public let details: String?
}
