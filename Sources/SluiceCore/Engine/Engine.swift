import Foundation

/// Sluice in one process: submits, the completer (group commits, claims, rescues, timers,
/// heartbeats) and the worker pools, on one SQLite file. Start it, submit, shut it down.
public final class Engine: Sendable {
    public let store: SQLiteStore
    public let configuration: EngineConfiguration
    public let owner: LeaseOwner
    private let completer: Completer
    /// This process's crash slot (`<db>-inflight`), when quarantine is on and the file maps.
    private let slots: InflightSlots?

    public init(store: SQLiteStore, configuration: EngineConfiguration) {
        self.store = store
        self.configuration = configuration
        owner = LeaseOwner.current()
        completer = Completer(store: store, configuration: configuration, owner: owner)
        store.catalog.limits = configuration.evaluationLimits
        var slots: InflightSlots?
        if configuration.crashQuarantine {
            do { slots = try InflightSlots(databasePath: store.database.configuration.path) } catch {
                FileHandle.standardError.write(Data("sluice: \(error); running without crash quarantine\n".utf8))
            }
        }
        self.slots = slots
    }

    /// Quarantines what crashed earlier processes twice (`CrashQuarantine`), then starts the
    /// completer (which rescues the leases of dead processes in its first cycle), the pools
    /// and the change watcher.
    public func start() {
        if let slots {
            do {
                _ = try CrashQuarantine.recover(slots, store: store, now: Date().timeIntervalSince1970)
                store.catalog.inflight.attach(slots.executionPointer)
            } catch {
                FileHandle.standardError.write(Data("sluice: reading the crash slots failed: \(error); running without crash quarantine\n".utf8))
            }
        }
        completer.start()
    }

    /// Starts executions in one transaction and wakes the dispatcher.
    @discardableResult
    public func submit(_ submissions: [Submission]) throws -> [SubmitReceipt] {
        let receipts = try store.submit(submissions, now: Date().timeIntervalSince1970)
        completer.noteLocalChange()
        return receipts
    }

    @discardableResult
    public func submit(_ submission: Submission) throws -> SubmitReceipt {
        try submit([submission])[0]
    }

    /// Starts executions through the completer, which commits them together with whatever else
    /// its next cycle holds: many concurrent submitters share one fsync. Needs a started engine.
    public func submitGrouped(_ submissions: [Submission]) async throws -> [SubmitReceipt] {
        try await withCheckedThrowingContinuation { continuation in
            completer.enqueue(submissions) { result in continuation.resume(with: result) }
        }
    }

    /// Hands a task outcome to the completer (external activity workers report through this).
    public func report(_ outcome: TaskOutcome) { completer.enqueue(outcome) }

    /// Something outside the engine (a trigger, the scheduler) put jobs on the queue: claim now.
    public func noteJobsAdded() { completer.noteLocalChange() }

    public func setPaused(queue: String, paused: Bool) throws {
        try store.setPaused(queue: queue, paused: paused, now: Date().timeIntervalSince1970)
        completer.noteLocalChange()
    }

    /// Group commits made so far (for benchmarks: jobs per commit tells how well outcomes batch).
    public var cycleCount: Int { completer.cycleCount }
    /// Seconds the completer spent inside store cycles (the single writer's utilisation).
    public var completerBusySeconds: Double { completer.busySeconds }

    /// Jobs running and held in pools now.
    public var load: (running: Int, buffered: Int) {
        completer.pools.reduce((0, 0)) { sum, pool in
            let counts = pool.counts
            return (sum.0 + counts.running, sum.1 + counts.buffered)
        }
    }

    /// Graceful stop: claim nothing more, give back claimed jobs that have not started, let
    /// running tasks finish within `grace` seconds, commit their outcomes, then release the
    /// leases of whatever is still running so another process can take it at once.
    public func shutdown(grace: Double = 10) {
        // Close the pools first (a task ending now starts no buffered one), then wait out a
        // claim in flight, so the buffers hold every claimed job that never started.
        for pool in completer.pools { pool.close() }
        completer.stopClaiming()
        let unstarted = completer.pools.flatMap { $0.takeUnstarted() }
        let deadline = Date().timeIntervalSince1970 + grace
        while load.running > 0 && Date().timeIntervalSince1970 < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        completer.stopAndWait()
        store.catalog.inflight.attach(nil)
        slots?.release()
        do {
            try store.releaseLeases(owner: owner, notStarted: unstarted.map(\.id), allRemaining: true,
                                    now: Date().timeIntervalSince1970)
        } catch {
            FileHandle.standardError.write(Data("sluice: releasing leases at shutdown failed: \(error); they return when they expire\n".utf8))
        }
    }
}
