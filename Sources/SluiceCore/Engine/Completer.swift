import Foundation
import SluiceHTTP
import Synchronization

/// The engine's single writer. One thread loops: wait for work, then one transaction that
/// records every task outcome that arrived (group commit), promotes due timers, rescues
/// expired leases, claims ready jobs for pools with free capacity, and beats; commit once;
/// then hand the claimed jobs to the pools.
///
/// Claims are writes, and SQLite has one writer per file, so claiming in the completer's
/// transaction saves a commit (an fsync) per cycle instead of contending for the lock.
final class Completer: @unchecked Sendable {
    private let store: SQLiteStore
    private let configuration: EngineConfiguration
    private let owner: LeaseOwner
    let pools: [WorkerPool]
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var outcomes: [TaskOutcome] = []
    typealias SubmitCallback = @Sendable (Result<[SubmitReceipt], any Error>) -> Void
    private var submits: [(batch: [Submission], done: SubmitCallback)] = []
    private var externalChange = false
    private var localChange = false
    private var stopping = false
    private var claiming = true
    /// A cycle that may claim is running: its claimed jobs reach the pools when it ends.
    private var claimInFlight = false
    private var stopped = false
    private var lastError: String?

    // Owned by the loop thread.
    private var dispatcher: Dispatcher
    private var nextScheduledAt: Double? = 0
    private var nextRescueAt: Double = 0
    private var nextExtendAt: Double = 0
    private var nextBeatAt: Double = 0
    private var lastDataVersion: Int64 = -1
    /// inotify reports the other process's WAL write before its commit is visible (the fsync
    /// and the wal-index update come after), so an unchanged `data_version` right after an
    /// event is re-checked a few times with growing gaps.
    private var recheckAt: Double?
    private var recheckGap = 0.0002
    private var recheckUntil = 0.0
    private var thread: Thread?
    private var watcher: ChangeWatcher?
    private let cycles = Atomic<Int>(0)
    private let busyNanoseconds = Atomic<Int>(0)

    init(store: SQLiteStore, configuration: EngineConfiguration, owner: LeaseOwner) {
        self.store = store
        self.configuration = configuration
        self.owner = owner
        var pools: [WorkerPool] = []
        dispatcher = Dispatcher(queues: configuration.pools.map(\.queue), claimBatch: configuration.claimBatch)
        let box = WeakBox()
        for pool in configuration.pools {
            pools.append(WorkerPool(queue: pool.queue, concurrency: pool.concurrency,
                                    prefetch: pool.prefetch.map(WorkerPool.Prefetch.fixed) ?? .adaptive(concurrency: pool.concurrency),
                                    executors: configuration.executors, metrics: configuration.metrics,
                                    report: { outcome in box.value?.enqueue(outcome) }))
        }
        self.pools = pools
        box.value = self
        if configuration.watchExternalChanges {
            watcher = ChangeWatcher(databasePath: store.database.configuration.path) { box.value?.noteExternalChange() }
        }
    }

    private final class WeakBox: @unchecked Sendable { weak var value: Completer? }

    var cycleCount: Int { cycles.load(ordering: .relaxed) }
    /// Time spent inside store cycles: how close the single writer is to saturation.
    var busySeconds: Double { Double(busyNanoseconds.load(ordering: .relaxed)) / 1e9 }

    func start() {
        let thread = Thread { [self] in
            ThreadNames.nameCurrentThread(ThreadNames.writer)
            if configuration.writerNice != 0 { ThreadPriority.setCurrentThreadNice(configuration.writerNice) }
            loop()
        }
        thread.name = ThreadNames.writer
        // Programs run on this thread; their recursion is bounded (`EvaluationLimits.maxDepth`,
        // nesting of definitions), and the room is virtual memory until touched.
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
        watcher?.start()
    }

    // MARK: Signals from other threads

    func enqueue(_ outcome: TaskOutcome) {
        condition.lock()
        outcomes.append(outcome)
        condition.signal()
        condition.unlock()
    }

    /// Commits a submit batch in the next cycle (group commit); `done` runs after the commit.
    func enqueue(_ batch: [Submission], done: @escaping SubmitCallback) {
        condition.lock()
        submits.append((batch, done))
        condition.signal()
        condition.unlock()
    }

    /// Another process may have written (inotify saw the WAL change).
    func noteExternalChange() {
        condition.lock()
        externalChange = true
        condition.signal()
        condition.unlock()
    }

    /// This process made jobs ready (a submit through the engine): claim now.
    func noteLocalChange() {
        condition.lock()
        localChange = true
        condition.signal()
        condition.unlock()
    }

    /// Stops claiming new jobs; outcomes are still committed. Returns once no cycle that may
    /// claim is running, so the pools receive no job after this (a shutdown then gives back
    /// exactly what they hold). Not to be called on the completer's own thread.
    func stopClaiming() {
        condition.lock()
        claiming = false
        condition.broadcast()
        while claimInFlight { condition.wait() }
        condition.unlock()
    }

    /// Commits what is pending and ends the loop.
    func stopAndWait() {
        condition.lock()
        stopping = true
        condition.signal()
        while !stopped { condition.wait() }
        condition.unlock()
        watcher?.stop()
    }

    // MARK: The loop

    private func loop() {
        while true {
            let now = Date().timeIntervalSince1970
            let deadline = nextDeadline(now: now)
            condition.lock()
            var idle = outcomes.isEmpty && submits.isEmpty && !externalChange && !localChange && !stopping && now < deadline && !hasClaimWork
            condition.unlock()
            if idle, let watcher {
                // Arm before the last look, so a commit after the look still wakes us.
                watcher.arm()
                if checkDataVersion() { idle = false }
            }
            condition.lock()
            while idle && outcomes.isEmpty && submits.isEmpty && !externalChange && !localChange && !stopping
                    && Date().timeIntervalSince1970 < deadline && !hasClaimWork {
                condition.wait(until: Date(timeIntervalSince1970: deadline))
            }
            let taken = outcomes
            outcomes.removeAll(keepingCapacity: true)
            let takenSubmits = submits
            submits.removeAll(keepingCapacity: true)
            let external = externalChange
            let local = localChange
            externalChange = false
            localChange = false
            let finishing = stopping
            let mayClaim = claiming && !stopping
            claimInFlight = mayClaim
            condition.unlock()
            watcher?.disarm()

            if local { dispatcher.markAllMayHaveReady() }
            if external || !local {
                let changed = checkDataVersion()
                let time = Date().timeIntervalSince1970
                if changed {
                    recheckAt = nil
                } else if external {
                    recheckGap = 0.0002
                    recheckUntil = time + 0.05
                    recheckAt = time + recheckGap
                } else if let due = recheckAt, time >= due {
                    recheckGap *= 2
                    recheckAt = time + recheckGap < recheckUntil ? time + recheckGap : nil
                }
            }
            do {
                try cycle(outcomes: taken, submits: takenSubmits, mayClaim: mayClaim)
                // Let the threads this commit released run first (the pools' bodies, curl's I/O
                // thread, an HTTP target on this host): the next cycle only gains from waiting,
                // as it then commits more at once. bench http +4% (6 of 7 interleaved pairs),
                // bench queue drain 19,100 → 23,200/s; pickup latency unchanged.
                sched_yield()
            } catch {
                for submit in takenSubmits { submit.done(.failure(error)) }
                // The transaction rolled back: outcomes go back to the inbox and are retried.
                // The error is most likely SQLITE_BUSY from another process holding the lock too long.
                condition.lock()
                outcomes.insert(contentsOf: taken, at: 0)
                lastError = "\(error)"
                condition.unlock()
                // Once per interval: a lasting failure (a full disk) is hit by every cycle.
                ThrottledLog.standard.report(ThrottledLog.kind(of: error), "completer cycle failed: \(error)")
                Thread.sleep(forTimeInterval: 0.05)
            }
            if mayClaim {
                condition.lock()
                claimInFlight = false
                condition.broadcast()
                condition.unlock()
            }
            if finishing {
                condition.lock()
                let drained = outcomes.isEmpty && submits.isEmpty
                if drained {
                    stopped = true
                    condition.broadcast()
                }
                condition.unlock()
                if drained { return }
            }
        }
    }

    /// Claims are due when a pool has room and its queue may hold ready jobs. Read without the
    /// loop's condition lock by design: it only decides whether to sleep.
    private var hasClaimWork: Bool {
        claiming && dispatcher.anyMayHaveReady && pools.contains { $0.freeCapacity > 0 && dispatcher.mayHaveReady[$0.queue] == true }
    }

    private func nextDeadline(now: Double) -> Double {
        var deadline = now + configuration.idlePollSeconds
        if let next = nextScheduledAt { deadline = min(deadline, next) }
        if let recheck = recheckAt { deadline = min(deadline, recheck) }
        deadline = min(deadline, nextRescueAt, nextBeatAt)
        if !pools.isEmpty { deadline = min(deadline, nextExtendAt) }
        return deadline
    }

    /// True when another connection committed since the last check.
    @discardableResult
    private func checkDataVersion() -> Bool {
        guard let version = try? store.database.write({ try $0.dataVersion() }) else { return false }
        guard version != lastDataVersion else { return false }
        let first = lastDataVersion < 0
        lastDataVersion = version
        if first { return false }
        dispatcher.markAllMayHaveReady()
        nextScheduledAt = 0   // another process may have scheduled or promoted jobs
        return true
    }

    private func cycle(outcomes: [TaskOutcome], submits: [(batch: [Submission], done: SubmitCallback)], mayClaim: Bool) throws {
        let now = Date().timeIntervalSince1970
        var request = CycleRequest(owner: owner, now: now, leaseUntil: now + configuration.leaseSeconds)
        request.outcomes = outcomes
        request.submissions = submits.map(\.batch)
        if let next = nextScheduledAt, next <= now { request.promoteDue = true }
        if now >= nextRescueAt { request.rescueExpired = true }
        if !pools.isEmpty && now >= nextExtendAt { request.extendLeases = true }
        if now >= nextBeatAt { request.heartbeats = heartbeats() }
        if !submits.isEmpty { dispatcher.markAllMayHaveReady() }
        if mayClaim { request.claims = dispatcher.claims(pools: pools) }
        let idle = outcomes.isEmpty && submits.isEmpty && !request.promoteDue && !request.rescueExpired && !request.extendLeases
            && request.heartbeats.isEmpty && request.claims.isEmpty
        if idle { return }

        let began = DispatchTime.now().uptimeNanoseconds
        let result = try store.runCycle(request)
        busyNanoseconds.add(Int(DispatchTime.now().uptimeNanoseconds - began), ordering: .relaxed)
        cycles.add(1, ordering: .relaxed)
        configuration.metrics.cycles.increment()
        if !outcomes.isEmpty { configuration.metrics.outcomesPerCycle.record(outcomes.count) }
        if request.promoteDue || result.nextScheduledAt != nil || !outcomes.isEmpty || request.rescueExpired {
            nextScheduledAt = result.nextScheduledAt
        }
        if request.rescueExpired { nextRescueAt = now + configuration.rescueIntervalSeconds }
        if request.extendLeases { nextExtendAt = now + configuration.leaseSeconds / 3 }
        if !request.heartbeats.isEmpty { nextBeatAt = now + configuration.heartbeatTTLSeconds / 3 }
        for (submit, submitted) in zip(submits, result.submitted) { submit.done(submitted) }
        dispatcher.update(asked: request.claims, result: result)
        for pool in pools {
            if let jobs = result.claimed[pool.queue] { pool.accept(jobs) }
        }
    }

    private func heartbeats() -> [Heartbeat] {
        let ttl = configuration.heartbeatTTLSeconds
        let role = configuration.role
        var beats = [Heartbeat(component: "\(role).completer", ttl: ttl, info: "cycles=\(cycleCount)"),
                     Heartbeat(component: "\(role).rescuer", ttl: ttl)]
        if !pools.isEmpty { beats.append(Heartbeat(component: "\(role).dispatcher", ttl: ttl)) }
        for pool in pools {
            let counts = pool.counts
            beats.append(Heartbeat(component: "\(role).pool:\(pool.queue)", ttl: ttl,
                                   info: "running=\(counts.running) buffered=\(counts.buffered) finished=\(counts.finished) prefetch=\(pool.currentPrefetch)"))
        }
        return beats
    }
}
