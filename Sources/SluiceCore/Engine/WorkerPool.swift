import Foundation
import Synchronization

/// Runs the claimed jobs of one named queue, at most `concurrency` bodies at once, on Dispatch.
/// Holds more claimed jobs so the next body starts without a round trip to the database;
/// those are leased like running ones and given back on shutdown. How many (`Prefetch`): a
/// fixed number if configured, else about 200 ms of work at the rate jobs finish.
final class WorkerPool: Sendable {
    let queue: String
    let concurrency: Int
    let prefetch: Prefetch
    private let executors: ExecutorRegistry
    private let metrics: EngineMetrics
    private let report: @Sendable (TaskOutcome) -> Void
    private let dispatch: DispatchQueue
    private let state: Mutex<State>

    private struct State {
        var buffer: [ClaimedJob] = []
        var head = 0
        var running = 0
        var finished = 0
        /// Jobs held beyond the running ones now (see `Prefetch`).
        var prefetch: Int
        var rateWindowStart: Double = 0
        var finishedAtWindowStart = 0
        /// Shutting down: no buffered job starts any more; they are given back.
        var closed = false
        var bufferedCount: Int { buffer.count - head }
    }

    /// How many claimed jobs a pool holds beyond its running ones.
    ///
    /// A fixed count suits a queue whose jobs take long. For short jobs the buffer must cover
    /// the longest pause of the single writer (a WAL checkpoint, a slow fsync: tens of ms);
    /// 256 jobs last 25 ms at 10,000 jobs/s, and bodies then sat idle (measured: `bench http`
    /// 7,600–8,900 jobs/s with 256, 9,700–10,600 with 2,048). So by default the pool holds
    /// about `horizonSeconds` of work at its recent finishing rate, never less than the floor
    /// (`max(256, 4 × concurrency)`, which a slow queue keeps, so it does not hoard jobs that
    /// another process or a later higher-priority job could take) nor more than the ceiling.
    struct Prefetch: Sendable {
        var floor: Int
        var ceiling: Int
        var horizonSeconds: Double

        static func fixed(_ count: Int) -> Prefetch {
            Prefetch(floor: max(0, count), ceiling: max(0, count), horizonSeconds: 0)
        }

        static func adaptive(concurrency: Int) -> Prefetch {
            let floor = max(256, 4 * concurrency)
            return Prefetch(floor: floor, ceiling: max(floor, 4096), horizonSeconds: 0.2)
        }

        func target(finishedPerSecond rate: Double) -> Int {
            min(ceiling, max(floor, Int(rate * horizonSeconds)))
        }
    }

    init(queue: String, concurrency: Int, prefetch: Prefetch, executors: ExecutorRegistry, metrics: EngineMetrics,
         report: @escaping @Sendable (TaskOutcome) -> Void) {
        self.queue = queue
        self.concurrency = max(1, concurrency)
        self.prefetch = prefetch
        self.executors = executors
        self.metrics = metrics
        self.report = report
        state = Mutex(State(prefetch: prefetch.floor))
        dispatch = DispatchQueue(label: "sluice.pool.\(queue)", attributes: .concurrent)
    }

    /// How many more jobs the dispatcher may claim for this pool now. Asked once per writer
    /// cycle, which is also when the prefetch target follows the finishing rate (every 250 ms).
    /// `now` is monotonic seconds (any origin but zero: `rateWindowStart` 0 means "not started").
    func freeCapacity(now: Double) -> Int {
        state.withLock { state in
            if prefetch.floor != prefetch.ceiling, now - state.rateWindowStart >= 0.25 {
                let elapsed = now - state.rateWindowStart
                if state.rateWindowStart > 0 {
                    state.prefetch = prefetch.target(finishedPerSecond: Double(state.finished - state.finishedAtWindowStart) / elapsed)
                }
                state.rateWindowStart = now
                state.finishedAtWindowStart = state.finished
            }
            return concurrency + state.prefetch - state.running - state.bufferedCount
        }
    }

    /// On the monotonic clock: a wall clock stepped back would freeze the rate window.
    var freeCapacity: Int { freeCapacity(now: ProcessInfo.processInfo.systemUptime) }

    /// Jobs held beyond the running ones now.
    var currentPrefetch: Int { state.withLock { $0.prefetch } }

    var counts: (running: Int, buffered: Int, finished: Int) {
        state.withLock { ($0.running, $0.bufferedCount, $0.finished) }
    }

    func accept(_ jobs: [ClaimedJob]) {
        let toStart: [ClaimedJob] = state.withLock { state in
            state.buffer.append(contentsOf: jobs)
            return Self.takeStartable(&state, concurrency: concurrency)
        }
        // Off the completer's thread; jobs that start without blocking share one Dispatch hop.
        var quick: [ClaimedJob] = []
        for job in toStart {
            if executors.executor(for: job.taskType) is any StartsWithoutBlocking { quick.append(job) } else { start(job) }
        }
        if !quick.isEmpty { dispatch.async { [self, quick] in quick.forEach(startHere) } }
    }

    /// Starts no more buffered jobs (the first step of a shutdown); running ones go on.
    func close() {
        state.withLock { $0.closed = true }
    }

    /// Empties the buffer (jobs claimed but not started): used when shutting down.
    func takeUnstarted() -> [ClaimedJob] {
        state.withLock { state in
            let rest = Array(state.buffer[state.head...])
            state.buffer.removeAll()
            state.head = 0
            return rest
        }
    }

    private static func takeStartable(_ state: inout State, concurrency: Int) -> [ClaimedJob] {
        var jobs: [ClaimedJob] = []
        while !state.closed, state.running < concurrency, state.head < state.buffer.count {
            jobs.append(state.buffer[state.head])
            state.head += 1
            state.running += 1
        }
        if state.head > 1024, state.head * 2 > state.buffer.count {
            state.buffer.removeFirst(state.head)
            state.head = 0
        }
        return jobs
    }

    private func start(_ job: ClaimedJob) {
        dispatch.async { [self] in
            guard let executor = executors.executor(for: job.taskType) else {
                let now = Date().timeIntervalSince1970
                finish(TaskOutcome(job: job, result: .failed(error: "Sluice.UnknownTaskType",
                                                             cause: "no executor for task type '\(job.taskType)'",
                                                             retryable: false, retryAfter: nil),
                                   startedAt: now, finishedAt: now))
                return
            }
            executor.execute(job) { [self] outcome in finish(outcome) }
        }
    }

    /// Starts `job` on this thread when its executor starts without blocking (after an HTTP
    /// outcome: on the I/O thread, saving a Dispatch hop and a thread wake-up per job).
    private func startHere(_ job: ClaimedJob) {
        guard let executor = executors.executor(for: job.taskType), executor is any StartsWithoutBlocking else {
            start(job)
            return
        }
        executor.execute(job) { [self] outcome in finish(outcome) }
    }

    private func finish(_ outcome: TaskOutcome) {
        metrics.record(outcome)
        report(outcome)
        let next: [ClaimedJob] = state.withLock { state in
            state.running -= 1
            state.finished += 1
            return Self.takeStartable(&state, concurrency: concurrency)
        }
        next.forEach(startHere)
    }
}

/// A `TaskExecutor` whose `execute` only starts the work and returns at once, and never calls
/// its completion before returning. The pool may then run `execute` on whatever thread it is
/// on (the thread that reported the previous outcome) without blocking it or recursing.
public protocol StartsWithoutBlocking {}
