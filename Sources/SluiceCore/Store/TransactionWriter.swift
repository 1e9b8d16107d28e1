import Foundation
import SluiceSQLite

/// The writes of one transaction: submits, task outcomes, the effects programs decide, claims,
/// promotions, rescues, heartbeats. Lives only inside `Connection.transaction`.
///
/// Every UPDATE of a job or execution states the row's expected current state; a statement
/// that changes no row means another actor got there first, and the writer acts on that
/// (drops a stale outcome) instead of overwriting.
struct TransactionWriter {
    let db: Connection
    let catalog: ProgramCatalog
    let now: Double
    var createdReady = false
    /// Submits in progress in this writer (a child's submit nests in its parent's). Inside one,
    /// no execution is newly named in the crash slot: the executions it creates are not
    /// committed, and a crash rolls them back, so their ids would be given to the next
    /// submissions and a restart would blame those. The slot keeps what the enclosing outcome
    /// handling named (a committed parent), or nothing for a client's submit.
    private var submitting = 0

    init(db: Connection, catalog: ProgramCatalog, now: Double) {
        self.db = db
        self.catalog = catalog
        self.now = now
    }

    // MARK: Submit

    mutating func submit(_ submission: Submission) throws -> SubmitReceipt {
        // A queue no pool is named for, or a priority out of range, is refused before anything is stored.
        if let problem = Names.submissionProblem(submission) { throw StoreError.cannotStart(definition: submission.definition, reason: problem) }
        if let key = submission.idempotencyKey {
            let existing = try db.prepared("SELECT uid, id FROM executions WHERE idempotency_key = ?")
            existing.bind(1, key)
            if try existing.step() {
                return SubmitReceipt(uid: existing.text(0) ?? "", rowID: existing.int64(1), existed: true)
            }
        }
        submitting += 1
        defer { submitting -= 1 }
        let (definitionID, program) = try resolve(name: submission.definition, version: submission.version)
        let decision: ProgramDecision
        do { decision = try program.start(input: submission.input) } catch {
            throw StoreError.cannotStart(definition: submission.definition, reason: error.message)
        }
        let uid = ExecutionUID.make()
        let createdAt = submission.enqueuedAt ?? now
        let insert = try db.prepared("""
            INSERT INTO executions (uid, definition_id, status, queue, namespace, idempotency_key, input, state, created_at, updated_at)
            VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bind(1, uid)
        insert.bind(2, definitionID)
        insert.bind(3, submission.queue)
        insert.bind(4, submission.namespace)
        insert.bind(5, submission.idempotencyKey)
        insert.bind(6, submission.input)
        insert.bind(7, decision.state)
        insert.bind(8, createdAt)
        insert.bind(9, now)
        try insert.run()
        let executionID = db.lastInsertRowID
        let context = ExecutionContext(id: executionID, uid: uid, queue: submission.queue, priority: submission.priority,
                                       runAt: submission.runAt, createdAt: createdAt, namespace: submission.namespace)
        // No ExecutionSubmitted row: `LifecycleHistory` makes that line from the execution's row.
        try apply(decision.effects, context: context, retriedJob: nil, finishedAt: nil)
        return SubmitReceipt(uid: uid, rowID: executionID, existed: false)
    }

    private func resolve(name: String, version: Int?) throws -> (Int64, any WorkflowProgram) {
        let statement: Statement
        if let version {
            statement = try db.prepared("SELECT id, dialect, compiled FROM definitions WHERE name = ? AND version = ?")
            statement.bind(1, name)
            statement.bind(2, version)
        } else {
            statement = try db.prepared("SELECT id, dialect, compiled FROM definitions WHERE name = ? ORDER BY version DESC LIMIT 1")
            statement.bind(1, name)
        }
        guard try statement.step() else { throw StoreError.unknownDefinition(name: name, version: version) }
        let id = statement.int64(0)
        let program = try catalog.program(definitionID: id, name: name, dialect: statement.text(1) ?? "", compiled: statement.text(2))
        return (id, program)
    }

    // MARK: Resume

    mutating func resume(uid: String, from step: String?) throws -> ResumeResult? {
        let load = try db.prepared("""
            SELECT id, definition_id, state, status, queue, namespace, updated_at, error, cause FROM executions WHERE uid = ?
            """)
        load.bind(1, uid)
        guard try load.step() else { return nil }
        let id = load.int64(0), definitionID = load.int64(1), state = load.text(2)
        let status = ExecutionStatus(rawValue: load.text(3) ?? "") ?? .pending
        let queue = load.text(4) ?? "default"
        let namespace = load.text(5)
        let ended = (at: load.optionalDouble(6) ?? now, error: load.text(7), cause: load.text(8))
        load.reset()
        guard status == .failed || status == .cancelled || status == .timedOut else {
            guard status == .pending else { return .notResumable(status) }
            // Answer with the status clients see (a stored pending with a leased job is running).
            let seen = try db.statement("SELECT \(SQLiteStore.effectiveStatus) FROM executions e WHERE e.id = ?")
            seen.bind(1, id)
            defer { seen.reset() }
            return .notResumable(try seen.step() ? ExecutionStatus(rawValue: seen.text(0) ?? "") ?? status : status)
        }
        let mark = catalog.inflight.name(id)
        defer { mark.restore() }
        let decision: ProgramDecision
        do { decision = try program(definitionID).restart(state: state, from: step) } catch let error as ProgramError {
            return .refused(error.message)
        }
        let update = try db.prepared("""
            UPDATE executions SET status = 'pending', state = ?, output = NULL, error = NULL, cause = NULL, finished_at = NULL, updated_at = ?
            WHERE id = ? AND status IN ('failed', 'cancelled', 'timed_out')
            """)
        update.bind(1, decision.state)
        update.bind(2, now)
        update.bind(3, id)
        guard try update.run() == 1 else { return .notResumable(status) }
        // The end this resume undoes was a line made from the row, which the update just
        // cleared: it becomes a stored line, so history still shows the run that failed.
        if let end = LifecycleHistory.endLine(status: status, at: ended.at, error: ended.error, cause: ended.cause) {
            try appendHistory(id, end.type, step: nil, attempt: nil, details: end.details, at: end.at)
        }
        try appendHistory(id, "ExecutionResumed", step: step, attempt: nil, details: nil)
        let context = ExecutionContext(id: id, uid: uid, queue: queue, priority: 0, runAt: nil, createdAt: now, namespace: namespace)
        try apply(decision.effects, context: context, retriedJob: nil)
        return .resumed
    }

    // MARK: Cycle

    mutating func runCycle(_ request: CycleRequest) throws -> CycleResult {
        var result = CycleResult()
        for outcome in request.outcomes {
            if try !record(outcome, owner: request.owner) { result.staleOutcomes += 1 }
        }
        for batch in request.submissions {
            // A savepoint per batch: a bad submit (unknown definition) undoes only its own batch.
            try db.execute("SAVEPOINT submit_batch")
            do {
                let receipts = try batch.map { try submit($0) }
                try db.execute("RELEASE submit_batch")
                result.submitted.append(.success(receipts))
            } catch let error as StoreError {
                try db.execute("ROLLBACK TO submit_batch")
                try db.execute("RELEASE submit_batch")
                result.submitted.append(.failure(error))
            }
        }
        if request.rescueExpired { result.rescued = try rescue(owner: request.owner) }
        if request.extendLeases {
            let extend = try db.prepared("UPDATE jobs SET lease_expires_at = ? WHERE state = 'running' AND lease_owner = ?")
            extend.bind(1, request.leaseUntil)
            extend.bind(2, request.owner.description)
            try extend.run()
        }
        if request.promoteDue { result.promoted = try promoteDue() }
        for (queue, limit) in request.claims where limit > 0 {
            if try isPaused(queue) {
                result.paused.insert(queue)
                continue
            }
            let jobs = try claim(queue: queue, limit: limit, owner: request.owner, leaseUntil: request.leaseUntil)
            if jobs.count == limit { result.saturated.insert(queue) }
            if !jobs.isEmpty { result.claimed[queue] = jobs }
        }
        for beat in request.heartbeats { try heartbeat(beat, owner: request.owner) }
        result.nextScheduledAt = try db.scalarDouble("SELECT MIN(run_at) FROM jobs WHERE state = 'scheduled'")
        result.createdReady = createdReady
        return result
    }

    /// Applies one task outcome. Returns false when the job was no longer leased to `owner`.
    private mutating func record(_ outcome: TaskOutcome, owner engineOwner: LeaseOwner) throws -> Bool {
        let job = outcome.job
        let owner = outcome.leaseOwner ?? engineOwner
        let load = try db.prepared("SELECT definition_id, state, status, queue, namespace, parent_id IS NOT NULL FROM executions WHERE id = ?")
        load.bind(1, job.executionID)
        guard try load.step() else { return false }
        let definitionID = load.int64(0)
        let state = load.text(1)
        let status = ExecutionStatus(rawValue: load.text(2) ?? "") ?? .pending
        let queue = load.text(3) ?? job.queue
        let namespace = load.text(4)
        let hasParent = load.int(5) != 0
        load.reset()

        guard !status.isFinished else {
            // Cancelled (or otherwise finished) while the task ran: close the job, change nothing else.
            return try finishJob(job, owner: owner, state: .cancelled)
        }
        let program = try self.program(definitionID)
        // Named until the decision is applied: the children it starts are evaluated then.
        let mark = catalog.inflight.name(job.executionID)
        defer { mark.restore() }
        let decision = program.resume(state: state, after: outcome, now: now)
        // The job's own transition comes first and is conditioned on our lease: if it was lost
        // (rescued after expiry, maybe re-run elsewhere) this outcome is stale and nothing is written.
        let succeeded: Bool
        switch outcome.result {
        case .succeeded: succeeded = true
        case .failed: succeeded = false
        }
        var retryAt: Double?
        for case let .retry(at, _) in decision.effects { retryAt = at }
        if let retryAt {
            guard try reschedule(job, owner: owner, at: retryAt) else { return false }
        } else {
            guard try finishJob(job, owner: owner, state: succeeded ? .done : .failed) else { return false }
        }
        try appendHistory(job.executionID, succeeded ? "TaskSucceeded" : "TaskFailed", step: job.step, attempt: job.attempt,
                          details: outcome.record ?? Self.outcomeDetails(outcome))
        // The program's history lines (states passed) come before the execution's end.
        let context = ExecutionContext(id: job.executionID, uid: job.executionUID, queue: queue, priority: job.priority, runAt: nil,
                                       createdAt: now, namespace: namespace)
        try apply(decision.effects.filter(\.isRecord), context: context, retriedJob: nil)
        // Attempt bookkeeping, program state and the status (its end if the program says so,
        // else `running`: a body has run), in one update conditioned on the execution being active.
        var end: (status: ExecutionStatus, output: String?, error: String?, cause: String?)?
        for effect in decision.effects {
            switch effect {
            case let .succeed(output): end = (.succeeded, output, nil, nil)
            case let .fail(error, cause): end = (.failed, nil, error, cause)
            case let .timedOut(cause): end = (.timedOut, nil, "States.Timeout", cause)
            default: break
            }
        }
        let update = try db.prepared("""
            UPDATE executions SET state = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ?,
                status = COALESCE(?, 'running'), output = ?, error = ?, cause = ?, finished_at = ?
            WHERE id = ? AND status IN ('pending', 'running')
            """)
        update.bind(1, decision.state)
        update.bind(2, outcome.startedAt)
        update.bind(3, now)
        update.bind(4, end?.status.rawValue)
        update.bind(5, end?.output)
        update.bind(6, end?.error)
        update.bind(7, end?.cause)
        update.bind(8, end == nil ? nil : outcome.finishedAt)
        update.bind(9, job.executionID)
        let changed = try update.run() == 1
        if let end, changed {
            try propagateEnd(job.executionID, end.status, error: end.error, cause: end.cause, hasParent: hasParent)
            if end.status == .timedOut { try ExecutionCancellation.cancelWaitingJobs(of: job.executionID, now: now, in: db) }
        }
        try apply(decision.effects.filter { $0.isNotEnd && !$0.isRecord }, context: context, retriedJob: job)
        return true
    }

    /// The definition's program, from the catalog's cache when it has been loaded before.
    private func program(_ definitionID: Int64) throws -> any WorkflowProgram {
        if let cached = catalog.cached(definitionID) { return cached }
        let statement = try db.prepared("SELECT name, dialect, compiled FROM definitions WHERE id = ?")
        statement.bind(1, definitionID)
        guard try statement.step() else { throw StoreError.unknownDefinition(name: "#\(definitionID)", version: nil) }
        defer { statement.reset() }
        return try catalog.program(definitionID: definitionID, name: statement.text(0) ?? "", dialect: statement.text(1) ?? "",
                                   compiled: statement.text(2))
    }

    /// Puts a failed job back for another attempt at `at`: ready now, or scheduled for later.
    private mutating func reschedule(_ job: ClaimedJob, owner: LeaseOwner, at: Double) throws -> Bool {
        let due = at <= now
        let statement = try db.prepared("""
            UPDATE jobs SET state = ?, run_at = ?, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = ? AND state = 'running' AND lease_owner = ?
            """)
        statement.bind(1, due ? JobState.ready.rawValue : JobState.scheduled.rawValue)
        statement.bind(2, at)
        statement.bind(3, job.id)
        statement.bind(4, owner.description)
        guard try statement.run() == 1 else { return false }
        if due { createdReady = true }
        return true
    }

    /// Applies a program's effects. A retry's job update was made by `record` (it must come
    /// first, conditioned on the lease); here it only leaves its trace in history.
    /// `finishedAt` is when the body that led here ended, recorded as the execution's finish.
    private mutating func apply(_ effects: [Effect], context: ExecutionContext, retriedJob: ClaimedJob?, finishedAt: Double? = nil) throws {
        for effect in effects {
            switch effect {
            case let .scheduleTask(task):
                try insertJob(task, context: context)
            case let .retry(at, reason):
                guard let job = retriedJob else { continue }
                try appendHistory(context.id, "RetryScheduled", step: job.step, attempt: job.attempt + 1,
                                  details: JSONText.object(["at": .time(at), "reason": .string(reason)]))
            case let .succeed(output):
                try finishExecution(context.id, status: .succeeded, output: output, error: nil, cause: nil, at: finishedAt ?? now)
            case let .fail(error, cause):
                try finishExecution(context.id, status: .failed, output: nil, error: error, cause: cause, at: finishedAt ?? now)
            case let .record(type, step, details):
                try appendHistory(context.id, type, step: step, attempt: nil, details: details)
            case let .timedOut(cause):
                try finishExecution(context.id, status: .timedOut, output: nil, error: "States.Timeout", cause: cause, at: finishedAt ?? now)
                try ExecutionCancellation.cancelWaitingJobs(of: context.id, now: now, in: db)
            case let .startChildren(children):
                // Every child is linked before any reports: one that ends inline (no task on its
                // path) may fail the join, and the cascade must then reach all its siblings.
                var started: [Int64] = []
                for child in children { started.append(try startChild(child, parent: context)) }
                for id in started { try notifyParent(id) }
            }
        }
    }

    private mutating func insertJob(_ task: TaskRequest, context: ExecutionContext) throws {
        let runAt = task.runAt ?? context.runAt ?? now
        let due = runAt <= now
        let insert = try db.prepared("""
            INSERT INTO jobs (execution_id, execution_uid, kind, queue, priority, run_at, state, step, task_type, payload,
                              max_attempts, created_at, lease_seconds)
            VALUES (?, ?, 'task', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bind(1, context.id)
        insert.bind(2, context.uid)
        var queue = task.queue ?? context.queue
        if let namespace = context.namespace, !namespace.isEmpty, queue.hasPrefix("activity:") {
            queue = "activity:" + namespace + "--" + queue.dropFirst("activity:".count)
        }
        insert.bind(3, queue)
        insert.bind(4, context.priority)
        insert.bind(5, runAt)
        insert.bind(6, due ? JobState.ready.rawValue : JobState.scheduled.rawValue)
        insert.bind(7, task.step)
        insert.bind(8, task.taskType)
        // Whatever the payload's data says, it allows only the secrets the definition named.
        insert.bind(9, SecretScope.seal(task.payload, names: task.secretNames))
        insert.bind(10, task.maxAttempts)
        insert.bind(11, context.createdAt)
        insert.bind(12, task.leaseSeconds)
        try insert.run()
        if due { createdReady = true }
        try appendHistory(context.id, "TaskScheduled", step: task.step, attempt: nil, details: nil)
    }

    private func finishJob(_ job: ClaimedJob, owner: LeaseOwner, state: JobState) throws -> Bool {
        let statement = try db.prepared("""
            UPDATE jobs SET state = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = ? AND state = 'running' AND lease_owner = ?
            """)
        statement.bind(1, state.rawValue)
        statement.bind(2, now)
        statement.bind(3, job.id)
        statement.bind(4, owner.description)
        return try statement.run() == 1
    }

    private mutating func finishExecution(_ id: Int64, status: ExecutionStatus, output: String?, error: String?, cause: String?, at: Double) throws {
        guard try markEnded(id, status: status, output: output, error: error, cause: cause, at: at) else { return }
        try propagateEnd(id, status, error: error, cause: cause)
    }

    /// Stores an active execution's end (its only ending UPDATE, conditioned on its status);
    /// false when it had already ended.
    private mutating func markEnded(_ id: Int64, status: ExecutionStatus, output: String?, error: String?, cause: String?, at: Double) throws -> Bool {
        let statement = try db.prepared("""
            UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, finished_at = ?, updated_at = ?
            WHERE id = ? AND status IN ('pending', 'running')
            """)
        statement.bind(1, status.rawValue)
        statement.bind(2, output)
        statement.bind(3, error)
        statement.bind(4, cause)
        statement.bind(5, at)
        statement.bind(6, now)
        statement.bind(7, id)
        return try statement.run() == 1
    }

    /// Starts a child execution for a parent's Parallel branch or Map iteration. Its machine is
    /// stored as a definition named by its checksum, so the same branch is one row however often it runs.
    /// Cancels an active execution (the API's cancel): its waiting jobs and its whole active
    /// tree below go with it, and if it is a branch or iteration its parent hears of it as a
    /// failure (`Sluice.Cancelled`), so the join does not wait for it forever. False when it
    /// had already finished.
    mutating func cancel(_ id: Int64, reason: String) throws -> Bool {
        guard try ExecutionCancellation.cancel(id, cause: reason, now: now, in: db) else { return false }
        try ExecutionCancellation.cancelDescendants(of: id, cause: "its parent was cancelled", now: now, in: db)
        try notifyParent(id)
        return true
    }

    /// Fails an active execution that crashed the process `CrashQuarantine.threshold` times
    /// while its step was evaluated: `Sluice.Quarantined`, every job it still has cancelled (a
    /// running one's lease too, so no rescue runs it again), its tree below cancelled and its
    /// parent told. False when it had already finished.
    mutating func quarantine(_ id: Int64, cause: String) throws -> Bool {
        guard try markEnded(id, status: .failed, output: nil, error: CrashQuarantine.error, cause: cause, at: now) else { return false }
        let jobs = try db.prepared("""
            UPDATE jobs SET state = 'cancelled', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
            WHERE execution_id = ? AND state IN ('scheduled', 'ready', 'running')
            """)
        jobs.bind(1, now)
        jobs.bind(2, id)
        try jobs.run()
        try propagateEnd(id, .failed, error: CrashQuarantine.error, cause: cause)
        return true
    }

    /// Returns the child's row id; the caller reports a child that already ended (`notifyParent`).
    private mutating func startChild(_ child: ChildStart, parent: ExecutionContext) throws -> Int64 {
        let name = "$child:" + Checksum.fnv1a64Hex(child.machine)
        let find = try db.prepared("SELECT id FROM definitions WHERE name = ? LIMIT 1")
        find.bind(1, name)
        let exists = try find.step()
        find.reset()
        if !exists {
            let insert = try db.prepared("""
                INSERT INTO definitions (name, version, dialect, source, compiled, checksum, created_at) VALUES (?, 1, 'asl', ?, ?, ?, ?)
                """)
            insert.bind(1, name)
            insert.bind(2, child.machine)
            insert.bind(3, child.machine)
            insert.bind(4, Checksum.fnv1a64Hex(child.machine))
            insert.bind(5, now)
            try insert.run()
        }
        let receipt = try submit(Submission(definition: name, input: child.input, queue: parent.queue, namespace: parent.namespace, runAt: child.runAt))
        let link = try db.prepared("UPDATE executions SET parent_id = ?, parent_slot = ? WHERE id = ?")
        link.bind(1, parent.id)
        link.bind(2, child.slot)
        link.bind(3, receipt.rowID)
        try link.run()
        return receipt.rowID
    }

    /// Reports a finished child execution to its parent's program (as a `$child` outcome) and
    /// applies the parent's decision in this same transaction.
    private mutating func notifyParent(_ childID: Int64) throws {
        let child = try db.prepared("SELECT parent_id, parent_slot, status, output, error, cause FROM executions WHERE id = ?")
        child.bind(1, childID)
        guard try child.step(), let parentID = child.optionalInt64(0), let slot = child.text(1),
              let status = ExecutionStatus(rawValue: child.text(2) ?? ""), status.isFinished else {
            child.reset()
            return
        }
        let output = child.text(3), error = child.text(4), cause = child.text(5)
        child.reset()
        let load = try db.prepared("SELECT uid, definition_id, state, status, queue, namespace FROM executions WHERE id = ?")
        load.bind(1, parentID)
        guard try load.step(), let parentStatus = ExecutionStatus(rawValue: load.text(3) ?? ""), !parentStatus.isFinished else {
            load.reset()
            return
        }
        let uid = load.text(0) ?? "", definitionID = load.int64(1), state = load.text(2), queue = load.text(4) ?? "default", namespace = load.text(5)
        load.reset()
        if status != .succeeded, let generation = slot.split(separator: ":").first {
            // A failed branch or iteration stops its siblings of the same join before the parent
            // decides (a Retry starts a new generation; a late child of an old one touches nothing).
            try ExecutionCancellation.cancelDescendants(of: parentID, slotGeneration: String(generation),
                                                        cause: "a sibling failed: \(error ?? status.rawValue)", now: now, in: db)
        }
        let job = ClaimedJob(id: -1, executionID: parentID, executionUID: uid, queue: queue, priority: 0, step: StatesProgram.childStep,
                             taskType: "child", payload: slot, attempt: 1, maxAttempts: 1, enqueuedAt: now)
        let result: TaskOutcome.Result = status == .succeeded
            ? .succeeded(output: output ?? "null")
            : .failed(error: error ?? "States.TaskFailed", cause: cause ?? "", retryable: true, retryAfter: nil)
        // A parent reached inside a submit was created by it (uncommitted): it is not named.
        let mark = submitting == 0 ? catalog.inflight.name(parentID) : InflightPointer.Mark(slot: nil, previous: 0)
        defer { mark.restore() }
        let decision = try program(definitionID).resume(state: state, after: TaskOutcome(job: job, result: result, startedAt: now, finishedAt: now), now: now)
        let context = ExecutionContext(id: parentID, uid: uid, queue: queue, priority: 0, runAt: nil, createdAt: now, namespace: namespace)
        try apply(decision.effects.filter(\.isRecord), context: context, retriedJob: nil)
        let update = try db.prepared("UPDATE executions SET state = ?, updated_at = ? WHERE id = ? AND status IN ('pending', 'running')")
        update.bind(1, decision.state)
        update.bind(2, now)
        update.bind(3, parentID)
        try update.run()
        try apply(decision.effects.filter { !$0.isRecord && !$0.isRetry }, context: context, retriedJob: nil)
    }

    /// `hasParent` false spares the hot path the look-up of a parent that the caller knows is not there.
    /// What follows an execution's end. Its history line is not stored: `LifecycleHistory`
    /// makes it from the row (status, finished_at, error, cause) when history is read.
    private mutating func propagateEnd(_ id: Int64, _ status: ExecutionStatus, error: String?, cause: String?, hasParent: Bool = true) throws {
        if status != .succeeded {
            try ExecutionCancellation.cancelDescendants(of: id, cause: "its parent ended: \(status.rawValue)", now: now, in: db)
        }
        if hasParent { try notifyParent(id) }
    }

    // MARK: Claim, promote, rescue

    private func isPaused(_ queue: String) throws -> Bool {
        let statement = try db.prepared("SELECT paused FROM queues WHERE name = ?")
        statement.bind(1, queue)
        return try statement.step() && statement.int(0) != 0
    }

    private func claim(queue: String, limit: Int, owner: LeaseOwner, leaseUntil: Double) throws -> [ClaimedJob] {
        let claim = try db.prepared("""
            UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempt = attempt + 1
            WHERE id IN (SELECT id FROM jobs WHERE state = 'ready' AND queue = ? ORDER BY priority DESC, id LIMIT ?)
              AND state = 'ready'
            RETURNING id, execution_id, execution_uid, step, task_type, payload, attempt, max_attempts, created_at, priority
            """)
        claim.bind(1, owner.description)
        claim.bind(2, leaseUntil)
        claim.bind(3, queue)
        claim.bind(4, limit)
        var claimed: [(priority: Int, job: ClaimedJob)] = []
        claimed.reserveCapacity(limit)
        while try claim.step() {
            claimed.append((claim.int(9), ClaimedJob(id: claim.int64(0), executionID: claim.int64(1), executionUID: claim.text(2) ?? "",
                                   queue: queue, priority: claim.int(9), step: claim.text(3) ?? "", taskType: claim.text(4) ?? "",
                                   payload: claim.text(5) ?? "{}", attempt: claim.int(6), maxAttempts: claim.int(7),
                                   enqueuedAt: claim.double(8))))
        }
        // RETURNING comes in update order, not the subquery's: restore priority, then FIFO.
        claimed.sort { $0.priority != $1.priority ? $0.priority > $1.priority : $0.job.id < $1.job.id }
        // The executions stay as they are: one with a leased job reads as running (see
        // `ExecutionStatus`); the first outcome stores it. One row written per claim, not two.
        return claimed.map(\.job)
    }

    private mutating func promoteDue() throws -> Int {
        let statement = try db.prepared("UPDATE jobs SET state = 'ready' WHERE state = 'scheduled' AND run_at <= ?")
        statement.bind(1, now)
        let promoted = try statement.run()
        if promoted > 0 { createdReady = true }
        return promoted
    }

    /// Returns to `ready` every job whose lease expired, and at once every job leased by a
    /// process on this host that no longer exists (SIGKILL, power cut) — no need to wait for expiry.
    private mutating func rescue(owner: LeaseOwner) throws -> Int {
        var rescued = 0
        // An activity task whose worker stopped heartbeating fails with States.HeartbeatTimeout
        // (through the state's Retry and Catch) instead of silently going back to the queue.
        let silent = try db.prepared("""
            SELECT id, execution_id, execution_uid, queue, priority, step, task_type, payload, attempt, max_attempts, created_at, lease_owner
            FROM jobs WHERE state = 'running' AND lease_expires_at < ? AND queue LIKE 'activity:%'
            """)
        silent.bind(1, now)
        var timedOut: [(ClaimedJob, LeaseOwner)] = []
        while try silent.step() {
            guard let holder = silent.text(11).flatMap(LeaseOwner.init(parsing:)) else { continue }
            timedOut.append((ClaimedJob(id: silent.int64(0), executionID: silent.int64(1), executionUID: silent.text(2) ?? "", queue: silent.text(3) ?? "",
                                        priority: silent.int(4), step: silent.text(5) ?? "", taskType: silent.text(6) ?? "",
                                        payload: silent.text(7) ?? "{}", attempt: silent.int(8), maxAttempts: silent.int(9),
                                        enqueuedAt: silent.double(10)), holder))
        }
        silent.reset()
        for (job, holder) in timedOut {
            let outcome = TaskOutcome(job: job, result: .failed(error: "States.HeartbeatTimeout", cause: "no heartbeat from the activity worker in time",
                                                                retryable: true, retryAfter: nil),
                                      startedAt: now, finishedAt: now, leaseOwner: holder)
            if try record(outcome, owner: holder) { rescued += 1 }
        }
        let expired = try db.prepared("""
            UPDATE jobs SET state = 'ready', lease_owner = NULL, lease_expires_at = NULL
            WHERE state = 'running' AND lease_expires_at < ? AND queue NOT LIKE 'activity:%' RETURNING execution_id, step, attempt
            """)
        expired.bind(1, now)
        var events: [(Int64, String?, Int)] = []
        while try expired.step() { events.append((expired.int64(0), expired.text(1), expired.int(2))) }
        let owners = try db.prepared("SELECT DISTINCT lease_owner FROM jobs WHERE state = 'running'")
        var dead: [String] = []
        while try owners.step() {
            guard let text = owners.text(0), text != owner.description, let other = LeaseOwner(parsing: text) else { continue }
            if other.isDeadLocalProcess { dead.append(text) }
        }
        let release = try db.prepared("""
            UPDATE jobs SET state = 'ready', lease_owner = NULL, lease_expires_at = NULL
            WHERE state = 'running' AND lease_owner = ? RETURNING execution_id, step, attempt
            """)
        for text in dead {
            release.reset()
            release.bind(1, text)
            while try release.step() { events.append((release.int64(0), release.text(1), release.int(2))) }
        }
        for (executionID, step, attempt) in events {
            try appendHistory(executionID, "TaskLeaseLost", step: step, attempt: attempt, details: nil)
            try keepRunning(executionID)
            rescued += 1
        }
        if rescued > 0 { createdReady = true }
        return rescued
    }

    mutating func release(owner: LeaseOwner, notStarted: [Int64], allRemaining: Bool) throws {
        let unclaim = try db.prepared("""
            UPDATE jobs SET state = 'ready', lease_owner = NULL, lease_expires_at = NULL, attempt = attempt - 1
            WHERE id = ? AND state = 'running' AND lease_owner = ?
            """)
        for id in notStarted {
            unclaim.reset()
            unclaim.bind(1, id)
            unclaim.bind(2, owner.description)
            try unclaim.run()
        }
        if allRemaining {
            let rest = try db.prepared("""
                UPDATE jobs SET state = 'ready', lease_owner = NULL, lease_expires_at = NULL
                WHERE state = 'running' AND lease_owner = ? RETURNING execution_id, step, attempt
                """)
            rest.bind(1, owner.description)
            var events: [(Int64, String?, Int)] = []
            while try rest.step() { events.append((rest.int64(0), rest.text(1), rest.int(2))) }
            for (executionID, step, attempt) in events {
                try appendHistory(executionID, "TaskReleased", step: step, attempt: attempt, details: nil)
                try keepRunning(executionID)
            }
        }
    }

    /// An execution whose body started and whose job went back to the queue (lease lost, or
    /// released by a shutdown while running) stays `running`: it read as running while the job
    /// was leased (`SQLiteStore.effectiveStatus`), and a status does not go back to pending.
    private func keepRunning(_ executionID: Int64) throws {
        let statement = try db.prepared("UPDATE executions SET status = 'running', updated_at = ? WHERE id = ? AND status = 'pending'")
        statement.bind(1, now)
        statement.bind(2, executionID)
        try statement.run()
    }

    func heartbeat(_ beat: Heartbeat, owner: LeaseOwner) throws {
        let statement = try db.prepared("""
            INSERT INTO heartbeats (component, owner, beat_at, ttl, info) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (component) DO UPDATE SET owner = excluded.owner, beat_at = excluded.beat_at,
                ttl = excluded.ttl, info = excluded.info
            """)
        statement.bind(1, beat.component)
        statement.bind(2, owner.description)
        statement.bind(3, now)
        statement.bind(4, beat.ttl)
        statement.bind(5, beat.info)
        try statement.run()
    }

    // MARK: History

    private func appendHistory(_ executionID: Int64, _ type: String, step: String?, attempt: Int?, details: String?, at: Double? = nil) throws {
        let statement = try db.prepared("INSERT INTO history (execution_id, at, type, step, attempt, details) VALUES (?, ?, ?, ?, ?, ?)")
        statement.bind(1, executionID)
        statement.bind(2, at ?? now)
        statement.bind(3, type)
        statement.bind(4, step)
        statement.bind(5, attempt.map { Int64($0) })
        statement.bind(6, details)
        try statement.run()
    }

    static func outcomeDetails(_ outcome: TaskOutcome) -> String {
        switch outcome.result {
        case .succeeded:
            return JSONText.object(["startedAt": .time(outcome.startedAt), "finishedAt": .time(outcome.finishedAt)])
        case let .failed(error, cause, _, _):
            return JSONText.object(["startedAt": .time(outcome.startedAt), "finishedAt": .time(outcome.finishedAt),
                                    "error": .string(error), "cause": .string(cause)])
        }
    }
}

/// What effects need to know of the execution they belong to.
extension Effect {
    var isRetry: Bool {
        if case .retry = self { return true }
        return false
    }

    var isRecord: Bool {
        if case .record = self { return true }
        return false
    }

    var isNotEnd: Bool {
        switch self {
        case .succeed, .fail, .timedOut: return false
        default: return true
        }
    }
}

struct ExecutionContext {
    let id: Int64
    let uid: String
    let queue: String
    let priority: Int
    let runAt: Double?
    let createdAt: Double
    /// Activity names expand with it (`namespace--name`), as Clever's workflow-manager does.
    var namespace: String? = nil
}

extension Connection {
    func scalarDouble(_ sql: String) throws -> Double? {
        let statement = try self.statement(sql)
        guard try statement.step() else { return nil }
        return statement.optionalDouble(0)
    }
}
