import Foundation
import Synchronization
import Testing
@testable import SluiceCore

@Suite struct PrefetchTests {
    @Test func theTargetIsAboutTwoHundredMillisecondsOfWorkWithinItsBounds() {
        let adaptive = WorkerPool.Prefetch.adaptive(concurrency: 8)
        #expect(adaptive.target(finishedPerSecond: 0) == 256)
        #expect(adaptive.target(finishedPerSecond: 10_000) == 2_000)
        #expect(adaptive.target(finishedPerSecond: 1_000_000) == 4_096)
        // A pool of 2,000 bodies keeps its floor of 4 × concurrency even above the usual ceiling.
        #expect(WorkerPool.Prefetch.adaptive(concurrency: 2_000).target(finishedPerSecond: 1_000_000) == 8_000)
        #expect(WorkerPool.Prefetch.fixed(4).target(finishedPerSecond: 1_000_000) == 4)
    }

    /// A pool that finished 3,000 noop jobs in half a second asks for 1,200 beyond its running
    /// ones (0.2 s at 6,000/s); one with a fixed prefetch keeps asking for the same.
    @Test func aPoolsFreeCapacityFollowsItsFinishingRate() throws {
        let finished = Atomic<Int>(0)
        let adaptive = WorkerPool(queue: "q", concurrency: 1, prefetch: .adaptive(concurrency: 1), executors: ExecutorRegistry(),
                                  metrics: EngineMetrics(), report: { _ in finished.add(1, ordering: .relaxed) })
        let fixed = WorkerPool(queue: "q", concurrency: 1, prefetch: .fixed(4), executors: ExecutorRegistry(),
                               metrics: EngineMetrics(), report: { _ in finished.add(1, ordering: .relaxed) })
        #expect(adaptive.freeCapacity(now: 100) == 1 + 256)
        #expect(fixed.freeCapacity(now: 100) == 1 + 4)
        let jobs = (0..<3_000).map { index in
            ClaimedJob(id: Int64(index), executionID: Int64(index), executionUID: "e\(index)", queue: "q", priority: 0, step: "noop",
                       taskType: "noop", payload: "{}", attempt: 1, maxAttempts: 1, enqueuedAt: 100)
        }
        adaptive.accept(jobs)
        fixed.accept(jobs)
        #expect(eventually(timeout: 10) { finished.load(ordering: .relaxed) == 6_000 })
        #expect(adaptive.freeCapacity(now: 100.5) == 1 + 1_200)
        #expect(fixed.freeCapacity(now: 100.5) == 1 + 4)
    }
}
