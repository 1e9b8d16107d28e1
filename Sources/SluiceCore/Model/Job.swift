/// The states of a job row. `scheduled` jobs wait for `run_at` (timers, retry backoff) and are
/// promoted to `ready`, so the claim query scans only jobs that can run now.
public enum JobState: String, Sendable {
    case scheduled, ready, running, done, failed, cancelled
}

/// A job the dispatcher has claimed: leased to this process until `leaseExpiresAt`.
public struct ClaimedJob: Sendable {
    public let id: Int64
    public let executionID: Int64
    public let executionUID: String
    public let queue: String
    public let priority: Int
    public let step: String
    public let taskType: String
    public let payload: String
    /// 1 for the first attempt.
    public let attempt: Int
    public let maxAttempts: Int
    public let enqueuedAt: Double
}

/// What a task body reports back to the completer.
public struct TaskOutcome: Sendable {
    public enum Result: Sendable {
        case succeeded(output: String)
        /// `retryable` says whether the failure is worth another attempt (a 4xx is not);
        /// `retryAfter` carries a target's `Retry-After` in seconds.
        case failed(error: String, cause: String, retryable: Bool, retryAfter: Double?)
    }

    public let job: ClaimedJob
    public let result: Result
    public let startedAt: Double
    public let finishedAt: Double
    /// The task's recorded result (HTTP status and body, exit code and output …) as JSON, for history.
    public let record: String?
    /// Who holds the job's lease when it is not the engine reporting (an external activity worker).
    public let leaseOwner: LeaseOwner?

    public init(job: ClaimedJob, result: Result, startedAt: Double, finishedAt: Double, record: String? = nil, leaseOwner: LeaseOwner? = nil) {
        self.job = job
        self.result = result
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.record = record
        self.leaseOwner = leaseOwner
    }
}

/// Depth and activity of one named queue.
public struct QueueInfo: Sendable {
    public let name: String
    public let paused: Bool
    public let ready: Int
    public let scheduled: Int
    public let running: Int
}
