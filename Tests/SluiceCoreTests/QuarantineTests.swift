import Foundation
import Testing
import SluiceStates
@testable import SluiceCore

/// Issue 21: an execution that has crashed the process twice is quarantined at start-up, so
/// the rest is served. The crash slot (`<db>-inflight`) names the execution whose step was
/// running when a process died; a restart counts it (`crash_count`), the second one fails it
/// with `Sluice.Quarantined` and cancels its jobs.
@Suite struct QuarantineTests {
    static func register(_ store: SQLiteStore, _ name: String, _ text: String) throws {
        let value = try Document.parse(text, file: "\(name).json", yaml: false)
        try store.register(definition: DefinitionCompiler.compile(text: text, value: value, file: "\(name).json"), now: now())
    }

    /// A pid that is certainly gone: a child that ran and was reaped.
    static func deadPid() throws -> Int64 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return Int64(process.processIdentifier)
    }

    static func crashCount(_ store: SQLiteStore, _ id: Int64) throws -> Int64 {
        try store.database.read { db in try db.scalarInt("SELECT crash_count FROM executions WHERE id = \(id)") ?? -1 }
    }

    @Test func anExecutionNamedInTheSlotsOfTwoDeadProcessesIsQuarantinedAndTheRestServed() throws {
        let file = TestDatabase()
        let store = try file.store()
        // Waits on an activity no worker claims: active across the restarts.
        try Self.register(store, "stuck", #"{"StartAt":"Wait","States":{"Wait":{"Type":"Task","Resource":"nobody","End":true}}}"#)
        let poison = try store.submit([Submission(definition: "stuck", input: "{}")], now: now())[0]
        let bystander = try store.submit([Submission(definition: "stuck", input: "{}")], now: now())[0]
        let slots = try InflightSlots(databasePath: file.path)

        // A process died while evaluating the poison's step: the first restart counts it.
        slots.recordForTesting(slot: 7, pid: try Self.deadPid(), startTime: 0, execution: poison.rowID)
        let first = Engine(store: store, configuration: EngineConfiguration(pools: [.init(queue: "default", concurrency: 2)]))
        first.start()
        first.shutdown(grace: 1)
        #expect(try Self.crashCount(store, poison.rowID) == 1)
        #expect(try store.execution(uid: poison.uid)?.status.isFinished == false)
        #expect(!slots.slotsForTesting.contains { $0.execution == poison.rowID }, "the orphaned slot is cleared")

        // It crashed a second process: the next start-up quarantines it.
        slots.recordForTesting(slot: 11, pid: try Self.deadPid(), startTime: 0, execution: poison.rowID)
        let second = Engine(store: store, configuration: EngineConfiguration(pools: [.init(queue: "default", concurrency: 2)]))
        second.start()
        defer { second.shutdown(grace: 1) }
        let record = try #require(try store.execution(uid: poison.uid))
        #expect(record.status == .failed)
        #expect(record.error == "Sluice.Quarantined")
        #expect(record.cause?.contains("the process died 2 times") == true)
        #expect(try Self.crashCount(store, poison.rowID) == 2)
        let waiting = try store.database.read { db in
            try db.scalarInt("SELECT COUNT(*) FROM jobs WHERE execution_id = \(poison.rowID) AND state <> 'cancelled'") ?? -1
        }
        #expect(waiting == 0, "the quarantined execution's jobs are cancelled")

        // Everything else is served: the bystander is untouched, a new execution completes.
        #expect(try store.execution(uid: bystander.uid)?.status.isFinished == false)
        #expect(try Self.crashCount(store, bystander.rowID) == 0)
        let fresh = try second.submit(Submission(definition: "noop", input: "{}"))
        #expect(try eventually(timeout: 15) { try store.execution(uid: fresh.uid)?.status == .succeeded })
    }

    @Test func aLiveProcessesSlotIsLeftAloneAndACleanShutdownFreesIt() throws {
        let file = TestDatabase()
        let store = try file.store()
        try Self.register(store, "stuck", #"{"StartAt":"Wait","States":{"Wait":{"Type":"Task","Resource":"nobody","End":true}}}"#)
        let running = try store.submit([Submission(definition: "stuck", input: "{}")], now: now())[0]
        let slots = try InflightSlots(databasePath: file.path)
        // This test process is alive: its slot names an execution mid-step, which is no crash.
        slots.recordForTesting(slot: 3, pid: Int64(getpid()), startTime: InflightSlots.startTime(pid: Int64(getpid())) ?? 0, execution: running.rowID)
        let engine = Engine(store: store, configuration: EngineConfiguration(pools: []))
        engine.start()
        engine.shutdown(grace: 1)
        #expect(try Self.crashCount(store, running.rowID) == 0)
        #expect(slots.slotsForTesting[3].execution == running.rowID)
    }

    /// The real thing: a `sluice worker` child killed with SIGKILL while it evaluates the
    /// poison's step (a step that runs to its 1 s bound), twice. The third process quarantines
    /// it at start-up and serves the rest.
    @Test func aWorkerKilledTwiceMidStepQuarantinesTheExecutionOnTheThirdStart() throws {
        let file = TestDatabase()
        let store = try file.store()
        // After the noop task, ArrayUnique over 20,000 items: seconds of work, cut at the 1 s bound.
        try Self.register(store, "slow", #"""
            {"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"noop","Next":"Spin"},
              "Spin":{"Type":"Pass","Parameters":{"u.$":"States.ArrayUnique($.items)"},"End":true}}}
            """#)
        let items = (0..<20_000).map(String.init).joined(separator: ",")
        let poison = try store.submit([Submission(definition: "slow", input: "{\"items\":[\(items)]}")], now: now())[0]
        let slots = try InflightSlots(databasePath: file.path)

        for round in 1...2 {
            let worker = try SluiceProcess.start(["worker", "--db", file.path, "--queues", "default:2"])
            // Its own slot, mid-step (a dead worker's slot keeps the id until a start-up reads it).
            let pid = Int64(worker.process.processIdentifier)
            let seen = eventually(timeout: 30) { slots.slotsForTesting.contains { $0.pid == pid && $0.execution == poison.rowID } }
            worker.kill(SIGKILL)
            #expect(seen, "round \(round): the worker never evaluated the poison's step")
            #expect(try store.execution(uid: poison.uid)?.status.isFinished == false)
        }

        let third = try SluiceProcess.start(["worker", "--db", file.path, "--queues", "default:2"])
        defer { third.kill(SIGTERM) }
        #expect(try eventually(timeout: 30) { try store.execution(uid: poison.uid)?.status == .failed })
        let record = try #require(try store.execution(uid: poison.uid))
        #expect(record.error == "Sluice.Quarantined")
        #expect(try Self.crashCount(store, poison.rowID) == 2)
        let other = try store.submit([Submission(definition: "noop", input: "{}")], now: now())[0]
        #expect(try eventually(timeout: 30) { try store.execution(uid: other.uid)?.status == .succeeded })
    }
}
