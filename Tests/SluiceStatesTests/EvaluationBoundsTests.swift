import Foundation
import Testing
@testable import SluiceStates

/// Issue 21: no definition can crash or wedge the process. Each bound of `EvaluationLimits`
/// is hit by a small hostile machine and fails that run with a `States.*` error naming the
/// bound and its value; before the bounds these crashed the process (SIGSEGV, a trap),
/// ran for minutes, or wrote 20,000 history lines.
@Suite struct EvaluationBoundsTests {
    static func machine(_ text: String) throws -> StateMachine {
        try StateMachine(try JSONParser.parse(text))
    }

    static func failure(_ advance: Interpreter.Advance) -> (error: String?, cause: String)? {
        if case let .failed(error, cause) = advance { return (error, cause ?? "") }
        return nil
    }

    /// A Pass state `A` (with `parameters`, if any) that loops back through a Choice whose way
    /// out is never taken (a machine with no reachable end is refused when loaded).
    static func loop(_ parameters: String? = nil) -> String {
        let pass = parameters.map { #""Parameters":\#($0),"# } ?? ""
        return #"""
            {"StartAt":"A","States":{"A":{"Type":"Pass",\#(pass)"Next":"Check"},
              "Check":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"A"},
              "Done":{"Type":"Succeed"}}}
            """#
    }

    /// The reported machine, nesting the data deeper each round: it ended the process with
    /// SIGSEGV (thousands of levels deep when written, compared or freed). Four levels a round, so the 10,000 transitions the landed code allowed reach 20,000
    /// levels: it crashed at that (exit 139, measured on the landed release binary; one level
    /// a round through the Choice got to 5,000 and did not).
    static let nestingLoop = loop(#"{"a.$":"States.Array(States.Array(States.Array(States.Array($.a))))"}"#)

    @Test func aPassStateNestingItsDataFailsAtTheDepthBoundInsteadOfCrashing() throws {
        let interpreter = Interpreter(machine: try Self.machine(Self.nestingLoop), trace: Interpreter.Trace())
        let failed = try #require(Self.failure(interpreter.start(input: .object([("a", .int(1))]), context: .object([]))))
        #expect(failed.error == "States.DataLimitExceeded")
        #expect(failed.cause.contains("is nested more than 128 levels deep"))
        // It stopped at the bound: two transitions per level, two history lines each.
        #expect(interpreter.trace!.events.count < 4 * 140)

        let local = LocalRunner(machine: try Self.machine(Self.nestingLoop)).run(input: .object([("a", .int(1))]))
        guard case let .failed(error, cause) = local else { Issue.record("expected a failure, got \(local)"); return }
        #expect(error == "States.DataLimitExceeded")
        #expect(cause?.contains("nested more than 128 levels deep") == true)
    }

    @Test func aLoopThatKeepsItsDataStopsAtTheTransitionsOfOneStep() throws {
        let machine = try Self.machine(Self.loop())
        let interpreter = Interpreter(machine: machine, trace: Interpreter.Trace())
        let failed = try #require(Self.failure(interpreter.start(input: .object([]), context: .object([]))))
        #expect(failed.error == "States.Runtime")
        #expect(failed.cause.contains("more than 1000 state transitions in one step"))
        // 20,000 lines before (10,000 transitions per call); now one bound's worth.
        #expect(interpreter.trace!.events.count <= 2 * 1_000 + 1)
    }

    @Test func theTransitionsOfEarlierStepsCountTowardsTheExecutionsBound() throws {
        let machine = try Self.machine(Self.loop())
        let budget = EvaluationBudget(limits: EvaluationLimits(maxTransitions: 10_000), priorTransitions: 9_990)
        let advance = budget.around { Interpreter(machine: machine).start(input: .object([]), context: .object([])) }
        let failed = try #require(Self.failure(advance))
        #expect(failed.error == "States.Runtime")
        #expect(failed.cause.contains("more than 10000 state transitions in this execution"))
        #expect(budget.transitions == 11)
    }

    /// A Task whose Parameters fail, caught back to itself: the interpreter recursed once per
    /// catch, each call with 10,000 transitions of its own, until the stack ran out (SIGSEGV).
    @Test func aStateCatchingItsOwnFailureLoopsWithinTheBoundsNotTheStack() throws {
        let machine = try Self.machine(#"""
            {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"http","Parameters":{"x.$":"$.missing"},
              "Catch":[{"ErrorEquals":["States.Runtime"],"ResultPath":null,"Next":"A"}],"End":true}}}
            """#)
        let failed = try #require(Self.failure(Interpreter(machine: machine).start(input: .object([]), context: .object([]))))
        #expect(failed.error == "States.Runtime")
        #expect(failed.cause.contains("more than 1000 state transitions in one step"))
    }

    @Test func dataOverThePayloadLimitFailsWithDataLimitExceeded() throws {
        let machine = try Self.machine(#"{"StartAt":"Twice","States":{"Twice":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s"},"End":true}}}"#)
        let half = JSON.object([("s", .string(String(repeating: "x", count: 140_000)))])
        let failed = try #require(Self.failure(Interpreter(machine: machine).start(input: half, context: .object([]))))
        #expect(failed.error == "States.DataLimitExceeded")
        #expect(failed.cause.contains("the output of state 'Twice' is larger than 262144 bytes"))
        // Within the bound it runs as before.
        let small = JSON.object([("s", .string(String(repeating: "x", count: 100_000)))])
        guard case .succeeded = Interpreter(machine: machine).start(input: small, context: .object([])) else {
            Issue.record("a 200 KB output is within the limit"); return
        }
        // An input over the limit fails at the first state.
        let big = JSON.object([("s", .string(String(repeating: "x", count: 262_145)))])
        let refused = try #require(Self.failure(Interpreter(machine: machine).start(input: big, context: .object([]))))
        #expect(refused.cause.contains("the input of state 'Twice' is larger than 262144 bytes"))
    }

    /// `States.Array($, $)` shares storage: each transition doubles the data's text without
    /// doubling memory, so only a bound on the text stops it before anything writes it.
    @Test func doublingDataIsStoppedAtThePayloadLimit() throws {
        let machine = try Self.machine(Self.loop(#"{"a.$":"States.Array($, $)"}"#))
        let failed = try #require(Self.failure(Interpreter(machine: machine).start(input: .object([("k", .string("v"))]), context: .object([]))))
        #expect(failed.error == "States.DataLimitExceeded")
        #expect(failed.cause.contains("larger than 262144 bytes"))
    }

    @Test func intrinsicsWithHugeNumbersFailInsteadOfTrapping() throws {
        // Each converted a double to an integer unchecked: a trap (SIGILL) ended the process.
        for call in ["States.MathAdd(1e300, 1)", "States.ArrayRange(0, 1e300, 1)", "States.MathRandom(1e300, 2e300)",
                     "States.MathAdd(9223372036854775807, 1)"] {
            let machine = try Self.machine(#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"\#(call)"},"End":true}}}"#)
            let failed = try #require(Self.failure(Interpreter(machine: machine).start(input: .object([]), context: .object([]))), "\(call)")
            #expect(failed.error == "States.IntrinsicFailure", "\(call)")
        }
        // A range of 10^15 items was allocated before it was counted.
        let range = try Self.machine(#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"States.ArrayRange(0, 1000000000000000, 1)"},"End":true}}}"#)
        let failed = try #require(Self.failure(Interpreter(machine: range).start(input: .object([]), context: .object([]))))
        #expect(failed.cause.contains("more than 1000 items"))
        // A chunk size beyond an Int trapped too; now it is one chunk.
        let partition = try Self.machine(#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"States.ArrayPartition($.a, 1e300)"},"End":true}}}"#)
        let advance = Interpreter(machine: partition).start(input: .object([("a", .array([.int(1), .int(2)]))]), context: .object([]))
        #expect(advance == .succeeded(.object([("v", .array([.array([.int(1), .int(2)])]))])))
        // The ranges AWS accepts still work.
        let good = try Self.machine(#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"States.ArrayRange(5, 1, -2)","w.$":"States.MathAdd(1.5, -3)"},"End":true}}}"#)
        #expect(Interpreter(machine: good).start(input: .object([]), context: .object([]))
                == .succeeded(.object([("v", .array([.int(5), .int(3), .int(1)])), ("w", .int(-1))])))
    }

    @Test func deeplyNestedIntrinsicCallsAreRefusedByTheParser() {
        let depth = 3_000
        let text = String(repeating: "States.Array(", count: depth) + "1" + String(repeating: ")", count: depth)
        #expect(throws: StatesError.self) { try Intrinsics.parse(text) }
        do { _ = try Intrinsics.parse(text) } catch {
            #expect(error.error == "States.IntrinsicFailure")
            #expect(error.cause?.contains("nested more than 32 deep") == true)
        }
        let fine = String(repeating: "States.Array(", count: 20) + "1" + String(repeating: ")", count: 20)
        #expect(throws: Never.self) { try Intrinsics.parse(fine) }
    }

    @Test func aStepPastItsTimeFailsWithTheTimeBound() throws {
        // ArrayUnique over 20,000 distinct items compares 2·10^8 pairs: seconds of one core.
        let machine = try Self.machine(#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"u.$":"States.ArrayUnique($.items)"},"End":true}}}"#)
        let input = JSON.object([("items", .array((0..<20_000).map { JSON.int(Int64($0)) }))])
        let budget = EvaluationBudget(limits: EvaluationLimits(stepSeconds: 0.05))
        let failed = try #require(Self.failure(budget.around { Interpreter(machine: machine).start(input: input, context: .object([])) }))
        #expect(failed.error == "States.Runtime")
        #expect(failed.cause.contains("the step ran longer than 0.05 s"))
    }

    @Test func aJSONPathMatchingMoreThanAPayloadHoldsIsStopped() throws {
        // 100 levels each holding "a": `$..a..a..a` matches C(100, 3) = 161,700 values.
        var data = JSON.object([("a", .int(0))])
        for _ in 0..<99 { data = .object([("a", data)]) }
        let machine = try Self.machine(#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"m.$":"$..a..a..a"},"End":true}}}"#)
        let failed = try #require(Self.failure(Interpreter(machine: machine).start(input: data, context: .object([]))))
        #expect(failed.error == "States.DataLimitExceeded")
        #expect(failed.cause.contains("matched more than 131072 values"))
    }

    @Test func theParserRefusesTextDeeperThanItsBoundAndSaysSo() throws {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSONParser.parse(deep) }
        do {
            _ = try JSONParser.parse(deep, maxDepth: 128)
            Issue.record("200 levels passed a bound of 128")
        } catch {
            #expect(error.isDepthLimit)
            #expect(error.description.contains("nested more than 128 levels deep"))
        }
        #expect(throws: Never.self) { try JSONParser.parse(String(repeating: "[", count: 128) + String(repeating: "]", count: 128), maxDepth: 128) }
        let tooDeep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(tooDeep) }
    }

    @Test func aTaskResultNestedTooDeeplyFailsTheTaskAsADataLimit() throws {
        let machine = try Self.machine(#"""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"http","Next":"Done",
              "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Done"}]},"Done":{"Type":"Succeed"}}}
            """#)
        var deep = JSON.int(1)
        for _ in 0..<200 { deep = .array([deep]) }
        let advance = Interpreter(machine: machine).taskSucceeded(state: "T", raw: .object([]), result: deep, context: .object([]))
        // States.ALL does not catch a data limit (as in Step Functions).
        let failed = try #require(Self.failure(advance))
        #expect(failed.error == "States.DataLimitExceeded")
        #expect(failed.cause.contains("the result of state 'T' is nested more than 128 levels deep"))
    }
}
