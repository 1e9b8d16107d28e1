import Testing
@testable import SluiceStates

@Suite struct StateMachineTests {
    @Test func definitionErrorsNameThePointer() {
        let cases: [(String, String)] = [
            (#"{"States": {"A": {"Type": "Pass", "End": true}}}"#, "/StartAt"),
            (#"{"StartAt": "B", "States": {"A": {"Type": "Pass", "End": true}}}"#, "/StartAt"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}}"#, "/States/A"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Colour": 1}}}"#, "/States/A/Colour"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Teleport", "End": true}}}"#, "/States/A/Type"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericWobbles": 1, "Next": "A"}]}}}"#, "/States/A/Choices/0/NumericWobbles"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "X", "States": {}}]}}}"#, "/States/A/Branches/0/States"),
        ]
        for (text, pointer) in cases {
            do {
                _ = try StateMachine(parsing: text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.pointer == pointer, "\(text): \(error)")
            }
        }
    }

    @Test func jsonParserKeepsIntegersOrderAndReportsTheOffset() throws {
        let value = try JSONParser.parse(#"{"b": 1, "a": 1.0, "s": "\u00e9\n"}"#)
        #expect(value.description == #"{"b":1,"a":1.0,"s":"é\n"}"#)
        do {
            _ = try JSONParser.parse(#"{"a": [1, 2}"#)
            Issue.record("accepted bad JSON")
        } catch {
            #expect(error.offset == 11)
        }
    }

    @Test func stringMatchesWildcardsAndEscapes() {
        #expect(ChoiceRule.wildcard("log-2026.txt", "log-*.txt"))
        #expect(!ChoiceRule.wildcard("log-2026.csv", "log-*.txt"))
        #expect(ChoiceRule.wildcard("a*b", #"a\*b"#))
        #expect(!ChoiceRule.wildcard("axb", #"a\*b"#))
    }

    @Test func retriesThenCatchesAndStatesAllDoesNotCatchRuntimeErrors() throws {
        let caught = try StateMachine(parsing: """
            {"StartAt": "P", "States": {
              "P": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "why"}}}],
                    "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done", "ResultPath": "$.error"}], "Next": "Done"},
              "Done": {"Type": "Succeed"}}}
            """)
        #expect(LocalRunner(machine: caught).run(input: .object([("x", .int(1))]))
                == .succeeded(.object([("x", .int(1)), ("error", .object([("Error", .string("Boom")), ("Cause", .string("why"))]))])))
        let runtime = try StateMachine(parsing: """
            {"StartAt": "P", "States": {
              "P": {"Type": "Parallel", "Branches": [{"StartAt": "W", "States": {"W": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "End": true},
              "Done": {"Type": "Succeed"}}}
            """)
        guard case .failed("States.Runtime", _) = LocalRunner(machine: runtime).run(input: .object([])) else {
            Issue.record("States.ALL caught a States.Runtime error"); return
        }
    }
}

@Suite struct RandomValueTests {
    @Test func randomValuesAreRecordedAndAReplayGivesTheSameResult() throws {
        let machine = try StateMachine(parsing: """
            {"StartAt": "Roll", "States": {"Roll": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()", "n.$": "States.MathRandom(1, 1000000)"}, "End": true}}}
            """)
        var interpreter = Interpreter(machine: machine)
        let trace = Interpreter.Trace()
        interpreter.trace = trace
        guard case let .succeeded(first) = interpreter.start(input: .object([]), context: .object([])) else {
            Issue.record("did not succeed"); return
        }
        #expect(trace.random.drawn.count == 2)
        #expect(trace.random.drawn == [first["id"]!, first["n"]!])
        let replay = RandomValues(replaying: trace.random.drawn)
        let again = replay.around { LocalRunner(machine: machine).run(input: .object([])) }
        #expect(again == .succeeded(first))
        // Without the replay, new values.
        #expect(LocalRunner(machine: machine).run(input: .object([])) != .succeeded(first))
    }
}

@Suite struct RetrierTests {
    static func retrier(_ retry: String) throws -> StateMachine.Retrier {
        let machine = try StateMachine(parsing: #"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "noop", "End": true, "Retry": [\#(retry)]}}}"#)
        guard case let .some(state) = machine.states["T"], let first = state.retry.first else { throw DefinitionError(pointer: "", message: "no retrier") }
        return first
    }

    @Test func backoffGrowsUpToItsCapAndFullJitterStaysUnderIt() throws {
        let plain = try Self.retrier(#"{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxDelaySeconds": 5}"#)
        #expect((1...5).map { plain.delay(retry: $0) } == [1, 2, 4, 5, 5])
        let jittered = try Self.retrier(#"{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}"#)
        let delays = (0..<200).map { _ in jittered.delay(retry: 4) }
        #expect(delays.allSatisfy { $0 >= 0 && $0 <= 5 })
        #expect(Set(delays).count > 100)   // spread, not one value
    }

    @Test func aNegativeOrNonNumericRetryFieldIsRefusedWithItsPointer() {
        for (field, value) in [("IntervalSeconds", "-1"), ("BackoffRate", "0.5"), ("MaxAttempts", "\"3\""), ("MaxDelaySeconds", "-2")] {
            let error = #expect(throws: DefinitionError.self) {
                _ = try Self.retrier(#"{"ErrorEquals": ["States.ALL"], "\#(field)": \#(value)}"#)
            }
            #expect(error?.pointer == "/States/T/Retry/0/\(field)")
        }
    }
}
