import SluiceSQLite

/// Ends the still-active descendants of an execution that ended otherwise than by success:
/// the Parallel branches and Map iterations that would run on for nothing. A branch that
/// fails stops its siblings (as Step Functions does); a cancelled, failed or timed-out parent
/// stops the whole tree below it. Runs inside the caller's transaction.
///
/// A descendant's job that is running when it is cancelled finishes on its own; its outcome
/// then finds the execution finished and only closes the job.
enum ExecutionCancellation {
    /// Cancels every active execution below `parentID` (children, their children, …) with
    /// `Sluice.Cancelled` and `cause`, and their jobs that have not started. Returns how many.
    /// `slotGeneration` limits the first level to the children of one join generation (their
    /// `parent_slot` is `generation:index`); nil takes every child.
    @discardableResult
    static func cancelDescendants(of parentID: Int64, slotGeneration: String? = nil, cause: String, now: Double, in db: Connection) throws -> Int {
        let tree = try db.prepared("""
            WITH RECURSIVE tree(id) AS (
                SELECT id FROM executions WHERE parent_id = ?1 AND status IN ('pending', 'running')
                                            AND (?2 IS NULL OR parent_slot LIKE ?2 || ':%')
                UNION
                SELECT e.id FROM executions e JOIN tree ON e.parent_id = tree.id WHERE e.status IN ('pending', 'running'))
            SELECT id FROM tree
            """)
        tree.bind(1, parentID)
        tree.bind(2, slotGeneration)
        var ids: [Int64] = []
        while try tree.step() { ids.append(tree.int64(0)) }
        tree.reset()
        for id in ids { try cancel(id, cause: cause, now: now, in: db) }
        return ids.count
    }

    /// Jobs of a finished execution that have not started will never be needed.
    static func cancelWaitingJobs(of executionID: Int64, now: Double, in db: Connection) throws {
        let jobs = try db.prepared("UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE execution_id = ? AND state IN ('scheduled', 'ready')")
        jobs.bind(1, now)
        jobs.bind(2, executionID)
        try jobs.run()
    }

    /// Cancels one active execution and its waiting jobs, with its history line; false when it
    /// had already finished.
    @discardableResult
    static func cancel(_ id: Int64, cause: String, now: Double, in db: Connection) throws -> Bool {
        let execution = try db.prepared("""
            UPDATE executions SET status = 'cancelled', error = 'Sluice.Cancelled', cause = ?, finished_at = ?, updated_at = ?
            WHERE id = ? AND status IN ('pending', 'running')
            """)
        execution.bind(1, cause)
        execution.bind(2, now)
        execution.bind(3, now)
        execution.bind(4, id)
        guard try execution.run() == 1 else { return false }
        try cancelWaitingJobs(of: id, now: now, in: db)
        let history = try db.prepared("INSERT INTO history (execution_id, at, type, details) VALUES (?, ?, 'ExecutionCancelled', ?)")
        history.bind(1, id)
        history.bind(2, now)
        history.bind(3, JSONText.object(["reason": .string(cause)]))
        try history.run()
        return true
    }
}
