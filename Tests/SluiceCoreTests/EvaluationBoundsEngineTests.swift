import Foundation
import Testing
import SluiceStates
@testable import SluiceCore

/// Issue 21, through the engine on a real SQLite file and through the `sluice` binary: a
/// machine that hits an evaluation bound fails with the bound's `States.*` error, its history
/// stays bounded, and the process lives on.
@Suite struct EvaluationBoundsEngineTests {
    /// A noop task, then the reported loop: a Pass state nesting its data one level per
    /// round. It ended the process with SIGSEGV; with the task first, at every restart. (The
    /// Choice's way out, never taken, is there because a machine with no reachable end is
    /// refused when it is loaded.)
    static func loop(_ parameters: String? = nil) -> String {
        let pass = parameters.map { #""Parameters":\#($0),"# } ?? ""
        return #"""
            {"StartAt":"Work","States":{
              "Work":{"Type":"Task","Resource":"noop","ResultPath":null,"Next":"A"},
              "A":{"Type":"Pass",\#(pass)"Next":"Check"},
              "Check":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"A"},
              "Done":{"Type":"Succeed"}}}
            """#
    }

    /// Four levels a round, so the 10,000 transitions the landed code allowed reach 20,000
    /// levels: it crashed at that (exit 139, measured on the landed release binary; one level
    /// a round through the Choice got to 5,000 and did not).
    static let poisonPill = loop(#"{"a.$":"States.Array(States.Array(States.Array(States.Array($.a))))"}"#)

    final class Harness: @unchecked Sendable {
        let file = TestDatabase()
        let store: SQLiteStore
        let engine: Engine

        init(_ definitions: [String: String], limits: EvaluationLimits = .standard) throws {
            store = try file.store()
            for (name, text) in definitions {
                let value = try Document.parse(text, file: "\(name).json", yaml: false)
                try store.register(definition: DefinitionCompiler.compile(text: text, value: value, file: "\(name).json"), now: now())
            }
            engine = Engine(store: store, configuration: EngineConfiguration(pools: [.init(queue: "default", concurrency: 4)],
                                                                             evaluationLimits: limits))
            engine.start()
        }

        deinit { engine.shutdown(grace: 1) }

        func run(_ name: String, _ input: String) throws -> (ExecutionRecord, historyRows: Int64) {
            let receipt = try engine.submit(Submission(definition: name, input: input))
            _ = try eventually(timeout: 30) { try store.execution(uid: receipt.uid)?.status.isFinished == true }
            let record = try #require(try store.execution(uid: receipt.uid))
            let rows = try store.database.read { db in
                try db.scalarInt("SELECT COUNT(*) FROM history WHERE execution_id = \(receipt.rowID)") ?? -1
            }
            return (record, rows)
        }
    }

    @Test func thePoisonPillFailsItsExecutionWithBoundedHistoryAndTheEngineServesOn() throws {
        let harness = try Harness([
            "pill": Self.poisonPill,
            "spin": Self.loop(),
        ])
        let (pill, pillRows) = try harness.run("pill", #"{"a":1}"#)
        #expect(pill.status == .failed)
        #expect(pill.error == "States.DataLimitExceeded")
        #expect(pill.cause?.contains("is nested more than 128 levels deep") == true)
        #expect(pillRows < 600, "history rows: \(pillRows)")

        // A loop that keeps its data stops at the transitions of one step: about 2,000 rows, not 20,002.
        let (spin, spinRows) = try harness.run("spin", "{}")
        #expect(spin.status == .failed)
        #expect(spin.error == "States.Runtime")
        #expect(spin.cause?.contains("more than 1000 state transitions in one step") == true)
        #expect(spinRows <= 2 * 1_000 + 10, "history rows: \(spinRows)")

        // The same process serves the next one.
        let (fine, _) = try harness.run("noop", "{}")
        #expect(fine.status == .succeeded)
    }

    @Test func transitionsAreCountedAcrossStepsInTheProgramState() throws {
        // Each round is one task outcome (a step) and two states; only the execution's total stops it.
        let harness = try Harness(["rounds": #"""
            {"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"noop","Next":"Again"},
              "Again":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"Work"},
              "Done":{"Type":"Succeed"}}}
            """#], limits: EvaluationLimits(maxTransitions: 60))
        let (record, rows) = try harness.run("rounds", "{}")
        #expect(record.status == .failed)
        #expect(record.error == "States.Runtime")
        #expect(record.cause?.contains("more than 60 state transitions in this execution") == true)
        #expect(rows < 300)
    }

    @Test func aResultNestedDeeperThanTheBoundFailsAsAnInputErrorNotAnUnreadableState() throws {
        // An activity's worker hands back 510 levels: the parser accepted it, the stored program
        // state then nested deeper than it could read back ("unreadable state-machine state").
        let harness = try Harness(["deep": #"""
            {"StartAt":"Fetch","States":{"Fetch":{"Type":"Task","Resource":"deep-worker","Next":"Again"},
              "Again":{"Type":"Task","Resource":"deep-worker","End":true}}}
            """#])
        let receipt = try harness.engine.submit(Submission(definition: "deep", input: "{}"))
        let owner = LeaseOwner.current()
        var jobs: [ClaimedJob] = []
        _ = try eventually { jobs = try harness.store.claim("activity:deep-worker", limit: 1, owner: owner); return !jobs.isEmpty }
        let job = try #require(jobs.first)
        let deep = String(repeating: "[", count: 510) + "1" + String(repeating: "]", count: 510)
        harness.engine.report(TaskOutcome(job: job, result: .succeeded(output: deep), startedAt: now(), finishedAt: now(), leaseOwner: owner))
        _ = try eventually { try harness.store.execution(uid: receipt.uid)?.status.isFinished == true }
        let record = try #require(try harness.store.execution(uid: receipt.uid))
        #expect(record.status == .failed)
        #expect(record.error == "States.DataLimitExceeded")
        #expect(record.cause?.contains("the task's result is nested more than 128 levels deep") == true)
    }

    /// The reported crash, as a user meets it: `sluice run` on the machine. Exit 139 (SIGSEGV)
    /// before; now exit 1 with the bound's error.
    @Test func sluiceRunOfThePoisonPillExitsWithTheErrorInsteadOfASegfault() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bounds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("pill.asl.json")
        try Self.poisonPill.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = SluiceProcess.binary
        process.arguments = ["run", file.path, "--input", #"{"a":1}"#, "--timeout", "60"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "ended by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 1)
        #expect(stderr.contains("failed: States.DataLimitExceeded"), "\(stderr)")
        #expect(stderr.contains("nested more than 128 levels deep"))
    }
}
