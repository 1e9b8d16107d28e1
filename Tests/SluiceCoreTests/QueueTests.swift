import Foundation
import Testing
@testable import SluiceCore

/// Queue semantics through the store: claim order, leases, rescue, pause, retries, idempotency.
@Suite struct QueueTests {
    let owner = LeaseOwner(host: ProcessInfo.processInfo.hostName, pid: getpid(), token: "a")
    let other = LeaseOwner(host: ProcessInfo.processInfo.hostName, pid: getpid(), token: "b")

    @Test func claimsHigherPriorityFirstThenFIFO() throws {
        let file = TestDatabase()
        let store = try file.store()
        let low = try store.submit([Submission(definition: "noop", priority: 0)], now: now())[0]
        let high1 = try store.submit([Submission(definition: "noop", priority: 5)], now: now())[0]
        let high2 = try store.submit([Submission(definition: "noop", priority: 5)], now: now())[0]
        let jobs = try store.claim(limit: 3, owner: owner)
        #expect(jobs.map(\.executionUID) == [high1.uid, high2.uid, low.uid])
        #expect(jobs.allSatisfy { $0.attempt == 1 })
    }

    @Test func claimTakesAtMostTheLimitAndNeverTheSameJobTwice() throws {
        let file = TestDatabase()
        let store = try file.store()
        _ = try store.submit((0..<10).map { _ in Submission(definition: "noop") }, now: now())
        let first = try store.claim(limit: 4, owner: owner)
        let second = try store.claim(limit: 100, owner: other)
        #expect(first.count == 4)
        #expect(second.count == 6)
        #expect(Set(first.map(\.id)).isDisjoint(with: second.map(\.id)))
        #expect(try store.claim(limit: 100, owner: owner).isEmpty)
        #expect(try store.count(.running) == 10)
    }

    @Test func queuesAreSeparate() throws {
        let file = TestDatabase()
        let store = try file.store()
        _ = try store.submit([Submission(definition: "noop", queue: "reports")], now: now())
        #expect(try store.claim("default", limit: 10, owner: owner).isEmpty)
        #expect(try store.claim("reports", limit: 10, owner: owner).count == 1)
    }

    @Test func pausedQueueIsNotClaimedUntilResumed() throws {
        let file = TestDatabase()
        let store = try file.store()
        _ = try store.submit([Submission(definition: "noop")], now: now())
        try store.setPaused(queue: "default", paused: true, now: now())
        #expect(try store.claim(limit: 10, owner: owner).isEmpty)
        #expect(try store.queues().first { $0.name == "default" }?.paused == true)
        try store.setPaused(queue: "default", paused: false, now: now())
        #expect(try store.claim(limit: 10, owner: owner).count == 1)
    }

    @Test func successFinishesJobAndExecutionWithHistory() throws {
        let file = TestDatabase()
        let store = try file.store()
        let receipt = try store.submit([Submission(definition: "noop")], now: now())[0]
        let job = try #require(try store.claim(limit: 1, owner: owner).first)
        #expect(try store.execution(uid: receipt.uid)?.status == .running)
        // A resume refused while it runs names the status clients see, not the stored pending.
        #expect(try store.resume(uid: receipt.uid, from: nil, now: now()) == .notResumable(.running))
        let result = try store.commit([succeeded(job, output: "{\"x\":1}")], owner: owner)
        #expect(result.staleOutcomes == 0)
        let record = try #require(try store.execution(uid: receipt.uid))
        #expect(record.status == .succeeded)
        #expect(record.output == "{\"x\":1}")
        #expect(record.attempts == 1)
        let history = try store.history(uid: receipt.uid)
        #expect(history.map(\.type) == ["ExecutionSubmitted", "TaskScheduled", "TaskSucceeded", "ExecutionSucceeded"])
        // The lines made from the row keep time order with the stored ones around them.
        #expect(history.map(\.at) == history.map(\.at).sorted())
        #expect(try store.jobStates() == ["done": 1])
    }

    @Test func expiredLeaseIsRescuedAndTheLateOutcomeIsIgnored() throws {
        let file = TestDatabase()
        let store = try file.store()
        let receipt = try store.submit([Submission(definition: "noop")], now: now())[0]
        let start = now()
        let job = try #require(try store.claim(limit: 1, owner: owner, lease: 1, at: start).first)
        // Another process's rescuer, after the lease expired.
        var rescue = CycleRequest(owner: other, now: start + 2, leaseUntil: start + 32)
        rescue.rescueExpired = true
        rescue.claims = [("default", 1)]
        let result = try store.runCycle(rescue)
        #expect(result.rescued == 1)
        let again = try #require(result.claimed["default"]?.first)
        #expect(again.id == job.id)
        #expect(again.attempt == 2)
        // The first owner finally reports: its lease is gone, so nothing changes.
        #expect(try store.commit([succeeded(job)], owner: owner).staleOutcomes == 1)
        #expect(try store.execution(uid: receipt.uid)?.status == .running)
        #expect(try store.commit([succeeded(again)], owner: other).staleOutcomes == 0)
        #expect(try store.execution(uid: receipt.uid)?.status == .succeeded)
        #expect(try store.history(uid: receipt.uid).filter { $0.type == "ExecutionSucceeded" }.count == 1)
    }

    @Test func leasesOfADeadLocalProcessAreReleasedWithoutWaitingForExpiry() throws {
        let file = TestDatabase()
        let store = try file.store()
        _ = try store.submit([Submission(definition: "noop")], now: now())
        // A process that no longer exists: run a short-lived child and take its pid.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = LeaseOwner(host: ProcessInfo.processInfo.hostName, pid: child.processIdentifier, token: "x")
        #expect(try store.claim(limit: 1, owner: dead, lease: 3600).count == 1)
        var request = CycleRequest(owner: owner, now: now(), leaseUntil: now() + 30)
        request.rescueExpired = true
        #expect(try store.runCycle(request).rescued == 1)
        #expect(try store.jobStates() == ["ready": 1])
        // It read as running while its job was leased; with the job back in the queue it stays
        // running (it started), and the counts agree.
        let uid = try #require(try store.executions(ExecutionQuery(limit: 1)).first?.uid)
        #expect(try store.execution(uid: uid)?.status == .running)
        #expect(try store.statusCounts() == [.running: 1])
    }

    @Test func leaseExtensionKeepsALongTaskFromBeingRescued() throws {
        let file = TestDatabase()
        let store = try file.store()
        _ = try store.submit([Submission(definition: "noop")], now: now())
        let start = now()
        _ = try store.claim(limit: 1, owner: owner, lease: 1, at: start)
        var extend = CycleRequest(owner: owner, now: start + 0.5, leaseUntil: start + 100)
        extend.extendLeases = true
        _ = try store.runCycle(extend)
        var rescue = CycleRequest(owner: other, now: start + 50, leaseUntil: start + 80)
        rescue.rescueExpired = true
        #expect(try store.runCycle(rescue).rescued == 0)
    }

    @Test func retryableFailureIsScheduledWithBackoffThenPromoted() throws {
        let file = TestDatabase()
        let store = try file.store()
        let retry = RetryPolicy(maxAttempts: 3, intervalSeconds: 10, backoffRate: 2)
        try store.register(definition: BuiltinDefinitions.taskChain(name: "flaky", .init(name: "t", type: "noop", retry: retry)), now: now())
        let receipt = try store.submit([Submission(definition: "flaky")], now: now())[0]
        let start = now()
        let first = try #require(try store.claim(limit: 1, owner: owner, at: start).first)
        let result = try store.commit([failed(first)], owner: owner, at: start)
        let nextRunAt = try #require(result.nextScheduledAt)
        #expect(abs(nextRunAt - (start + 10)) < 0.01)
        #expect(try store.jobStates() == ["scheduled": 1])
        #expect(try store.claim(limit: 1, owner: owner, at: start + 1).isEmpty)
        // Due: promoted and claimed as attempt 2; its failure backs off 20 s.
        var promote = CycleRequest(owner: owner, now: start + 11, leaseUntil: start + 41)
        promote.promoteDue = true
        promote.claims = [("default", 1)]
        let second = try #require(try store.runCycle(promote).claimed["default"]?.first)
        #expect(second.attempt == 2)
        let afterSecond = try store.commit([failed(second)], owner: owner, at: start + 11)
        #expect(abs((afterSecond.nextScheduledAt ?? 0) - (start + 31)) < 0.01)
        promote = CycleRequest(owner: owner, now: start + 32, leaseUntil: start + 62)
        promote.promoteDue = true
        promote.claims = [("default", 1)]
        let third = try #require(try store.runCycle(promote).claimed["default"]?.first)
        _ = try store.commit([failed(third)], owner: owner, at: start + 32)
        let record = try #require(try store.execution(uid: receipt.uid))
        #expect(record.status == .failed)
        #expect(record.error == "States.TaskFailed")
        #expect(record.attempts == 3)
        #expect(try store.history(uid: receipt.uid).filter { $0.type == "TaskFailed" }.count == 3)
    }

    @Test func nonRetryableFailureFailsAtOnce() throws {
        let file = TestDatabase()
        let store = try file.store()
        let retry = RetryPolicy(maxAttempts: 5, intervalSeconds: 1)
        try store.register(definition: BuiltinDefinitions.taskChain(name: "strict", .init(name: "t", type: "noop", retry: retry)), now: now())
        let receipt = try store.submit([Submission(definition: "strict")], now: now())[0]
        let job = try #require(try store.claim(limit: 1, owner: owner).first)
        _ = try store.commit([failed(job, retryable: false)], owner: owner)
        #expect(try store.execution(uid: receipt.uid)?.status == .failed)
        #expect(try store.jobStates() == ["failed": 1])
    }

    @Test func chainRunsTasksInOrderAndStopsAtAFailure() throws {
        let file = TestDatabase()
        let store = try file.store()
        try store.register(definition: BuiltinDefinitions.taskChain(
            name: "chain", .init(name: "a", type: "noop"), .init(name: "b", type: "noop"), .init(name: "c", type: "noop")), now: now())
        let receipt = try store.submit([Submission(definition: "chain")], now: now())[0]
        let a = try #require(try store.claim(limit: 5, owner: owner).first)
        #expect(a.step == "a")
        _ = try store.commit([succeeded(a)], owner: owner)
        let b = try #require(try store.claim(limit: 5, owner: owner).first)
        #expect(b.step == "b")
        _ = try store.commit([failed(b, retryable: false)], owner: owner)
        #expect(try store.claim(limit: 5, owner: owner).isEmpty)
        #expect(try store.execution(uid: receipt.uid)?.status == .failed)
        #expect(!(try store.history(uid: receipt.uid)).contains { $0.step == "c" })
    }

    @Test func sameIdempotencyKeyReturnsTheFirstExecution() throws {
        let file = TestDatabase()
        let store = try file.store()
        let first = try store.submit([Submission(definition: "noop", idempotencyKey: "k1")], now: now())[0]
        let second = try store.submit([Submission(definition: "noop", idempotencyKey: "k1")], now: now())[0]
        #expect(!first.existed)
        #expect(second.existed)
        #expect(second.uid == first.uid)
        #expect(try store.count(.pending) == 1)
    }

    @Test func unknownDefinitionIsRefusedAndNothingIsStored() throws {
        let file = TestDatabase()
        let store = try file.store()
        _ = try store.submit([Submission(definition: "noop")], now: now())
        #expect(throws: StoreError.unknownDefinition(name: "nope", version: nil)) {
            try store.submit([Submission(definition: "noop"), Submission(definition: "nope")], now: now())
        }
        #expect(try store.count(.pending) == 1)
    }

    @Test func changedDefinitionBecomesANewVersion() throws {
        let file = TestDatabase()
        let store = try file.store()
        let v1 = try store.register(definition: BuiltinDefinitions.taskChain(name: "w", .init(name: "a", type: "noop")), now: now())
        let same = try store.register(definition: BuiltinDefinitions.taskChain(name: "w", .init(name: "a", type: "noop")), now: now())
        let v2 = try store.register(definition: BuiltinDefinitions.taskChain(name: "w", .init(name: "b", type: "noop")), now: now())
        #expect(v1 == 1)
        #expect(same == 1)
        #expect(v2 == 2)
        let receipt = try store.submit([Submission(definition: "w", version: 1)], now: now())[0]
        #expect(try store.execution(uid: receipt.uid)?.version == 1)
    }
}
