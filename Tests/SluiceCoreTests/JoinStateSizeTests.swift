import Foundation
import Testing
import SluiceSQLite
@testable import SluiceCore

/// Issue 21, found in review: a Map state with a Task in its processor runs its items as child
/// executions, and the parent's program state held the processor machine once per item. A
/// 50 KB processor over 5,000 items made a 250 MB state, parsed and rewritten on every child's
/// report: `sluice run` was still going after 2 minutes at 1.3 GB, and in a server the one
/// writer thread is held for every other execution meanwhile.
@Suite struct JoinStateSizeTests {
    static let machine = """
        {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
          "ItemProcessor": {"Comment": "\(String(repeating: "x", count: 50_000))",
            "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "noop", "End": true}}}, "End": true}}}
        """

    static func stateBytes(_ database: TestDatabase, uid: String) throws -> Int {
        let connection = try Connection(path: database.path)
        let select = try connection.statement("SELECT length(state) FROM executions WHERE uid = ?")
        select.bind(1, uid)
        #expect(try select.step())
        return select.int(0)
    }

    @Test func aMapsJoinHoldsItsProcessorOnceNotOncePerItem() throws {
        let database = TestDatabase()
        let store = try database.store()
        let value = try Document.parse(Self.machine, file: "fan.json", yaml: false)
        try store.register(definition: DefinitionCompiler.compile(text: Self.machine, value: value, file: "fan.json", name: "fan"), now: now())
        let items = Array(repeating: "0", count: 1_000).joined(separator: ",")
        let receipt = try store.submit([Submission(definition: "fan", input: #"{"items": [\#(items)]}"#)], now: now())[0]
        let bytes = try Self.stateBytes(database, uid: receipt.uid)
        // One copy of the 50 KB processor and 1,000 small specs (before: 1,000 copies, 50 MB).
        #expect(bytes < 200_000, "the join state is \(bytes) bytes")
    }

    /// The compact specs still run every child, in order, and a Retry starts them all again.
    @Test func aMapOverTheCompactSpecsStillGivesEveryOutput() throws {
        let harness = try TaskListTests.Harness("""
            {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "T"},
                "T": {"Type": "Task", "Resource": "noop", "Parameters": {"item.$": "$"}, "OutputPath": "$", "End": true}}},
              "End": true}}}
            """, name: "fan")
        let record = try harness.finish(try harness.start("fan", #"{"items": [1, 2, 3, 4, 5]}"#))
        #expect(record.status == .succeeded)
        let output = try #require(record.output)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [Any])
        #expect(parsed.count == 5)
    }

    /// The children's inputs are bounded as a whole: an ItemSelector that hands every item the
    /// whole 200 KB input made 100 items a 20 MB join state (1,000 items: 200 MB, rewritten on
    /// every child's report). Refused at the submit, naming the bound.
    @Test func childrenWhoseInputsTotalMoreThanTheJoinBoundAreRefused() throws {
        let database = TestDatabase()
        let store = try database.store()
        let machine = """
            {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"all.$": "$"},
              "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "noop", "End": true}}}, "End": true}}}
            """
        let value = try Document.parse(machine, file: "wide.json", yaml: false)
        try store.register(definition: DefinitionCompiler.compile(text: machine, value: value, file: "wide.json", name: "wide"), now: now())
        let items = Array(repeating: "0", count: 100).joined(separator: ",")
        let input = #"{"pad": "\#(String(repeating: "x", count: 200_000))", "items": [\#(items)]}"#
        do {
            let receipt = try store.submit([Submission(definition: "wide", input: input)], now: now())[0]
            Issue.record("accepted: a join state of \(try Self.stateBytes(database, uid: receipt.uid)) bytes")
        } catch {
            #expect("\(error)".contains("the bound on the inputs of one Map or Parallel state's children"), "\(error)")
        }
        // Ten items of the same input are within it.
        let few = #"{"pad": "\#(String(repeating: "x", count: 200_000))", "items": [0,0,0,0,0,0,0,0,0,0]}"#
        #expect(throws: Never.self) { try store.submit([Submission(definition: "wide", input: few)], now: now()) }
    }
}
