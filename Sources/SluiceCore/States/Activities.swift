import Foundation
import SluiceSQLite

/// Activity tasks: Task states whose `Resource` names no executor wait in the queue
/// `activity:NAME` until an external worker, in any language, claims one over the API, sends
/// heartbeats (each extends the lease) and reports success or failure with the task token.
/// A worker that goes silent loses the lease; the task goes back to the queue for another.
public struct ActivityTask: Sendable {
    /// Identifies the claim: `job.attempt.owner-token`.
    public let token: String
    public let job: ClaimedJob
    public let input: String
    /// Heartbeat at least this often.
    public let leaseSeconds: Double
}

public enum ActivityError: Error, CustomStringConvertible, Equatable {
    case badToken
    /// The lease expired or the task was reported already.
    case leaseLost

    public var description: String {
        switch self {
        case .badToken: return "not a task token"
        case .leaseLost: return "the task is no longer leased to this token (heartbeat timed out, or already reported)"
        }
    }
}

extension Engine {
    /// Claims one waiting task of activity `name`, leased for the state's HeartbeatSeconds (else
    /// TimeoutSeconds, else `heartbeatSeconds`); nil when none waits.
    public func claimActivity(_ name: String, heartbeatSeconds: Double) throws -> ActivityTask? {
        let owner = LeaseOwner(host: self.owner.host, pid: self.owner.pid, token: "activity-" + String(UInt64.random(in: 0...UInt64.max), radix: 36))
        let now = Date().timeIntervalSince1970
        var request = CycleRequest(owner: owner, now: now, leaseUntil: now + heartbeatSeconds)
        let queue = StatesResources.activityQueue(name)
        request.claims = [(queue, 1)]
        guard let job = try store.runCycle(request).claimed[queue]?.first else { return nil }
        // The state's own heartbeat limit wins over the worker's request.
        let stateLease = try store.database.read { db in
            let statement = try db.prepared("SELECT lease_seconds FROM jobs WHERE id = ?")
            statement.bind(1, job.id)
            return try statement.step() ? statement.optionalDouble(0) : nil
        }
        if let stateLease {
            try store.database.write { db in
                let statement = try db.prepared("UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?")
                statement.bind(1, now + stateLease)
                statement.bind(2, job.id)
                statement.bind(3, owner.description)
                try statement.run()
            }
        }
        return ActivityTask(token: "\(job.id).\(job.attempt).\(owner.token)", job: job, input: job.payload, leaseSeconds: stateLease ?? heartbeatSeconds)
    }

    /// Extends the lease of a claimed task by `heartbeatSeconds` from now.
    public func heartbeatActivity(token: String, heartbeatSeconds: Double) throws {
        let (id, _, owner) = try parse(token)
        let extended = try store.database.write { db in
            let statement = try db.prepared("""
                UPDATE jobs SET lease_expires_at = ? + COALESCE(lease_seconds, ?) WHERE id = ? AND state = 'running' AND lease_owner = ?
                """)
            statement.bind(1, Date().timeIntervalSince1970)
            statement.bind(2, heartbeatSeconds)
            statement.bind(3, id)
            statement.bind(4, owner.description)
            return try statement.run()
        }
        if extended != 1 { throw ActivityError.leaseLost }
    }

    /// Reports a claimed task's result; the completer records it like any task outcome.
    public func reportActivity(token: String, result: TaskOutcome.Result) throws {
        let (id, attempt, owner) = try parse(token)
        let job: ClaimedJob? = try store.database.read { db in
            let statement = try db.prepared("""
                SELECT execution_id, execution_uid, queue, priority, step, task_type, payload, attempt, max_attempts, created_at
                FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempt = ?
                """)
            statement.bind(1, id)
            statement.bind(2, owner.description)
            statement.bind(3, attempt)
            guard try statement.step() else { return nil }
            return ClaimedJob(id: id, executionID: statement.int64(0), executionUID: statement.text(1) ?? "", queue: statement.text(2) ?? "",
                              priority: statement.int(3), step: statement.text(4) ?? "", taskType: statement.text(5) ?? "",
                              payload: statement.text(6) ?? "{}", attempt: statement.int(7), maxAttempts: statement.int(8),
                              enqueuedAt: statement.double(9))
        }
        guard let job else { throw ActivityError.leaseLost }
        let now = Date().timeIntervalSince1970
        report(TaskOutcome(job: job, result: result, startedAt: now, finishedAt: now, leaseOwner: owner))
    }

    private func parse(_ token: String) throws -> (Int64, Int, LeaseOwner) {
        let parts = token.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, let id = Int64(parts[0]), let attempt = Int(parts[1]) else { throw ActivityError.badToken }
        return (id, attempt, LeaseOwner(host: owner.host, pid: owner.pid, token: String(parts[2])))
    }
}
