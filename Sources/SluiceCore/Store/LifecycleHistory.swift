/// The two lines of an execution's history that its own row already holds: `ExecutionSubmitted`
/// (first, at `created_at`) and its end (last: `ExecutionSucceeded`, `ExecutionFailed` or
/// `ExecutionTimedOut`, at `updated_at`, which the ending update set, with the error and
/// cause). They are made when history is read rather than stored, which spares every
/// execution two history rows, one of them written by the single writer in the middle of the
/// queue's hot path.
///
/// Stored lines stay stored: every task line, state line and retry, `ExecutionCancelled` (with
/// its reason), and an end that a resume undid (the resume stores it before
/// `ExecutionResumed`, as the row no longer says it).
enum LifecycleHistory {
    struct Line {
        let type: String
        let details: String?
        let at: Double
    }

    /// The end line an execution's row implies, nil while it runs and for a cancel (stored).
    static func endLine(status: ExecutionStatus, at: Double, error: String?, cause: String?) -> Line? {
        switch status {
        case .succeeded: return Line(type: "ExecutionSucceeded", details: nil, at: at)
        case .failed, .timedOut:
            return Line(type: status == .failed ? "ExecutionFailed" : "ExecutionTimedOut",
                        details: JSONText.object(["error": .string(error ?? ""), "cause": .string(cause ?? "")]), at: at)
        case .pending, .running, .cancelled: return nil
        }
    }

    /// `stored` (in order) between the submitted line and the end line, if any.
    static func events(createdAt: Double, stored: [HistoryEvent], end: Line?) -> [HistoryEvent] {
        var events = [HistoryEvent(at: createdAt, type: "ExecutionSubmitted", step: nil, attempt: nil, details: nil)]
        events.reserveCapacity(stored.count + 2)
        events.append(contentsOf: stored)
        if let end { events.append(HistoryEvent(at: end.at, type: end.type, step: nil, attempt: nil, details: end.details)) }
        return events
    }

    /// SQL for "the row implies an end line", over an `executions` alias `e`.
    static let endsSQL = "e.status IN ('succeeded', 'failed', 'timed_out')"
}
