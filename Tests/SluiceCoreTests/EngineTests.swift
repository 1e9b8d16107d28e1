import Foundation
import Synchronization
import Testing
import SluiceHTTP
@testable import SluiceCore

/// The engine in-process on a real file: drain, concurrency limits, wake-ups, shutdown.
@Suite struct EngineTests {
    @Test func drainsEverySubmittedExecution() throws {
        let file = TestDatabase()
        let store = try file.store()
        let engine = Engine(store: store, configuration: EngineConfiguration(pools: [.init(queue: "default", concurrency: 4)]))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        try engine.submit((0..<500).map { _ in Submission(definition: "noop") })
        #expect(try eventually { try store.count(.succeeded) == 500 })
        #expect(try store.jobStates() == ["done": 500])
    }

    @Test func neverRunsMoreBodiesThanTheConcurrencyLimit() throws {
        let file = TestDatabase()
        let store = try file.store()
        let gauge = ConcurrencyGauge()
        var executors = ExecutorRegistry()
        executors.register("gauged", gauge)
        try store.register(definition: BuiltinDefinitions.taskChain(name: "gauged", .init(name: "g", type: "gauged")), now: now())
        let engine = Engine(store: store, configuration: EngineConfiguration(
            pools: [.init(queue: "default", concurrency: 3)], executors: executors))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        try engine.submit((0..<60).map { _ in Submission(definition: "gauged") })
        #expect(try eventually { try store.count(.succeeded) == 60 })
        #expect(gauge.peak == 3)
    }

    @Test func noticesAnotherProcessSubmittingWithoutAnInProcessWakeUp() throws {
        let file = TestDatabase()
        let store = try file.store()
        let engine = Engine(store: store, configuration: EngineConfiguration(
            pools: [.init(queue: "default", concurrency: 2)], idlePollSeconds: 30))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        Thread.sleep(forTimeInterval: 0.2)
        // A second connection, as another process would have: the engine is not told.
        let outsider = try SQLiteStore(file.configuration)
        let receipt = try outsider.submit([Submission(definition: "noop")], now: now())[0]
        // idlePollSeconds is 30 s: only the change watcher can make this finish in time.
        #expect(try eventually(timeout: 2) { try store.execution(uid: receipt.uid)?.status == .succeeded })
    }

    @Test func pausedQueueWaitsAndResumes() throws {
        let file = TestDatabase()
        let store = try file.store()
        let engine = Engine(store: store, configuration: EngineConfiguration(pools: [.init(queue: "default", concurrency: 2)]))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        try engine.setPaused(queue: "default", paused: true)
        try engine.submit((0..<5).map { _ in Submission(definition: "noop") })
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try store.count(.pending) == 5)
        try engine.setPaused(queue: "default", paused: false)
        #expect(try eventually { try store.count(.succeeded) == 5 })
    }

    @Test func timersFireWhenDue() throws {
        let file = TestDatabase()
        let store = try file.store()
        let engine = Engine(store: store, configuration: EngineConfiguration(pools: [.init(queue: "default", concurrency: 2)]))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        let start = now()
        let receipt = try engine.submit(Submission(definition: "noop", runAt: start + 0.3))
        Thread.sleep(forTimeInterval: 0.1)
        #expect(try store.execution(uid: receipt.uid)?.status == .pending)
        #expect(try eventually(timeout: 3) { try store.execution(uid: receipt.uid)?.status == .succeeded })
        let started = try #require(try store.execution(uid: receipt.uid)?.startedAt)
        #expect(started >= start + 0.3)
    }

    @Test func gracefulShutdownFinishesRunningTasksAndReleasesTheRest() throws {
        let file = TestDatabase()
        let store = try file.store()
        let engine = Engine(store: store, configuration: EngineConfiguration(pools: [.init(queue: "default", concurrency: 2, prefetch: 4)]))
        engine.start()
        try engine.submit((0..<10).map { _ in Submission(definition: "sleep", input: "{\"ms\":200}") })
        #expect(eventually { engine.load.running == 2 })
        engine.shutdown(grace: 5)
        // The two running finished within the grace period; the rest went back to the queue.
        #expect(try store.count(.succeeded) == 2)
        #expect(try store.jobStates()["ready"] == 8)
        #expect(try store.jobStates()["running"] == nil)
        // Released jobs that never started did not use up an attempt.
        let attempts = try store.database.read { db in try db.scalarInt("SELECT MAX(attempt) FROM jobs WHERE state = 'ready'") }
        #expect(attempts == 0)
    }

    @Test func componentsBeat() throws {
        let file = TestDatabase()
        let store = try file.store()
        let engine = Engine(store: store, configuration: EngineConfiguration(role: "t", pools: [.init(queue: "default", concurrency: 1)]))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        #expect(try eventually { try store.heartbeats().count == 4 })
        let components = Set(try store.heartbeats().map(\.component))
        #expect(components == ["t.completer", "t.rescuer", "t.dispatcher", "t.pool:default"])
        #expect(try store.heartbeats().allSatisfy { !$0.isStale(now: now()) })
    }
}

/// An executor that records how many bodies run at once.
final class ConcurrencyGauge: TaskExecutor {
    private let state = Mutex((current: 0, peak: 0))

    var peak: Int { state.withLock { $0.peak } }

    func execute(_ job: ClaimedJob, completion: @escaping @Sendable (TaskOutcome) -> Void) {
        let started = now()
        state.withLock { state in
            state.current += 1
            state.peak = max(state.peak, state.current)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(5)) { [self] in
            state.withLock { $0.current -= 1 }
            completion(TaskOutcome(job: job, result: .succeeded(output: "{}"), startedAt: started, finishedAt: now()))
        }
    }
}

@Suite struct WriterPriorityTests {
    /// Nice values of this process's threads named `name` (tests run side by side, so several
    /// engines' writers may be alive at once).
    func nices(ofThreadsNamed name: String) -> [Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { task in
            guard (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) == name,
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // Nice is field 19 of stat: the 17th after the name's closing parenthesis.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 16 ? Int(fields[16]) : nil
        }
    }

    @Test func theWriterThreadRunsAtTheConfiguredNice() throws {
        let file = TestDatabase()
        let engine = Engine(store: try file.store(), configuration: EngineConfiguration(role: "niced", pools: [], writerNice: 7))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        #expect(eventually { nices(ofThreadsNamed: ThreadNames.writer).contains(7) })
    }

    @Test func aThreadLowersItsOwnPriorityOnly() throws {
        let result = Mutex<(own: Int?, caller: Int?)>((nil, nil))
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            ThreadNames.nameCurrentThread("sl-test-nice")
            result.withLock { $0.own = ThreadPriority.setCurrentThreadNice(5) ? 5 : nil }
            done.wait()   // stay alive while the test reads /proc
        }
        thread.start()
        #expect(eventually { nices(ofThreadsNamed: "sl-test-nice") == [5] })
        #expect(result.withLock { $0.own } == 5)
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == 0, "the process (its main thread) is unchanged")
        done.signal()
    }
}
