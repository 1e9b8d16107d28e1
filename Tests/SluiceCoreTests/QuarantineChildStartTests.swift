import Foundation
import Synchronization
import Testing
import SluiceStates
@testable import SluiceCore

/// Issue 21 review: the crash slot names an execution during every program evaluation the
/// writer performs for it, not only inside a step's `resume`. A Map's children are started
/// (their programs' `start`) while the writer applies the parent's decision, after a task's
/// outcome or after a child ended; a crash there must be held against the parent, not against
/// nobody. A client's submit names nothing: what it creates is not committed, and a crash
/// rolls it back (its row ids would go to the next submissions).
@Suite struct QuarantineChildStartTests {
    /// The States program with a probe in front of `start`: it notes what the crash slot holds
    /// while a program starts on input `input`.
    struct SlotProbe: WorkflowProgram {
        let inner: StatesProgram
        let catalog: ProgramCatalog
        let seen: Seen

        func start(input: String) throws(ProgramError) -> ProgramDecision {
            let slot = catalog.inflight.pointer?.pointee ?? -1
            seen.starts.withLock { $0[input] = slot }
            return try inner.start(input: input)
        }

        func resume(state: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
            inner.resume(state: state, after: outcome, now: now)
        }
    }

    final class Seen: Sendable { let starts = Mutex<[String: Int64]>([:]) }

    @Test func aChildsStartNamesItsParentInTheCrashSlot() throws {
        let file = TestDatabase()
        let store = try file.store()
        let seen = Seen()
        let catalog = store.catalog
        catalog.register(dialect: "asl") { compiled in
            let inner = StatesProgram(machine: try StateMachine(parsing: compiled), name: "")
            return SlotProbe(inner: inner, catalog: catalog, seen: seen)
        }
        // A Task in the processor: a processor of Pass states alone runs inline, with no children.
        let processor = #"{"StartAt":"Echo","States":{"Echo":{"Type":"Task","Resource":"noop","End":true}}}"#
        // One child at a time: the first starts with the parent (a client's submit), the second
        // when the first ended (the parent's decision on a `$child` outcome) ...
        try QuarantineTests.register(store, "mapFirst", #"""
            {"StartAt":"Map","States":{"Map":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,"ItemProcessor":\#(processor),"End":true}}}
            """#)
        // ... or the first after a task's outcome (the completer's cycle).
        try QuarantineTests.register(store, "mapAfterTask", #"""
            {"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"noop","ResultPath":null,"Next":"Map"},
              "Map":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,"ItemProcessor":\#(processor),"End":true}}}
            """#)
        let engine = Engine(store: store, configuration: EngineConfiguration(pools: [.init(queue: "default", concurrency: 2)]))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        #expect(catalog.inflight.pointer != nil, "the engine attached its crash slot")
        let first = try engine.submit(Submission(definition: "mapFirst", input: #"{"items":["a1","a2"]}"#))
        let second = try engine.submit(Submission(definition: "mapAfterTask", input: #"{"items":["b1","b2"]}"#))
        for receipt in [first, second] {
            #expect(try eventually(timeout: 30) { try store.execution(uid: receipt.uid)?.status == .succeeded })
        }
        let starts = seen.starts.withLock { $0 }
        #expect(starts[#""a1""#] == 0, "a child started by a client's submit: nothing committed to name")
        #expect(starts[#""a2""#] == first.rowID, "a child started when its sibling ended names the parent")
        #expect(starts[#""b1""#] == second.rowID, "a child started after the parent's task outcome names the parent")
        #expect(starts[#""b2""#] == second.rowID)
        #expect(catalog.inflight.pointer?.pointee == 0, "the slot is cleared once nothing is evaluated")
    }
}
