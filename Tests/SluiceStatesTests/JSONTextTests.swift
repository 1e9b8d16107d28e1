import Testing
@testable import SluiceStates

/// The parser and printer the completer runs on every program state and task output: what
/// they read and write must not change when they are made faster.
@Suite struct JSONTextTests {
    @Test func stringsWithAndWithoutEscapesReadTheSame() throws {
        #expect(try JSONParser.parse(#""plain""#) == .string("plain"))
        #expect(try JSONParser.parse(#""a\"b\\c\/d\n\t\r\b\f""#) == .string("a\"b\\c/d\n\t\r\u{8}\u{c}"))
        #expect(try JSONParser.parse(#""caf\u00e9 \ud83d\ude00 ü""#) == .string("café 😀 ü"))
        #expect(try JSONParser.parse(#""lone \ud800 high""#) == .string("lone \u{FFFD} high"))
        #expect(try JSONParser.parse("\"raw\tcontrol\"") == .string("raw\tcontrol"))
    }

    @Test func numbersKeepIntegersApartFromDoubles() throws {
        let cases: [(String, JSON)] = [
            ("0", .int(0)), ("-0", .int(0)), ("42", .int(42)), ("-17", .int(-17)), ("007", .int(7)),
            ("9223372036854775807", .int(Int64.max)), ("-9223372036854775808", .int(Int64.min)),
            ("9223372036854775808", .double(9223372036854775808)), ("1.5", .double(1.5)), ("1e3", .double(1000)),
            ("-2.5E-1", .double(-0.25)),
        ]
        for (text, expected) in cases {
            let value = try JSONParser.parse(text)
            #expect(value.description == expected.description, "\(text) read as \(value)")
            if case .int = expected { guard case .int = value else { Issue.record("\(text) is not an integer"); continue } }
            if case .double = expected { guard case .double = value else { Issue.record("\(text) is not a double"); continue } }
        }
    }

    @Test func badTextIsRefusedAtItsOffset() {
        let cases: [(String, Int, String)] = [
            ("", 0, "unexpected end"), ("-", 0, "expected a value"), ("tru", 0, "expected true"), ("nul", 0, "expected null"),
            (#"{"a" 1}"#, 5, "expected :"), (#"["x"#, 3, "unterminated string"), (#"["x\"#, 4, "unterminated string"),
            ("[1,]", 3, "expected a value"), ("1 2", 2, "unexpected text after the value"), (#""\u12""#, 3, "bad \\u escape"),
        ]
        for (text, offset, message) in cases {
            do {
                let value = try JSONParser.parse(text)
                Issue.record("accepted \(text) as \(value)")
            } catch {
                #expect(error.offset == offset && error.message == message, "\(text): \(error)")
            }
        }
    }

    @Test func printingRoundTripsAndEscapesOnlyWhatItMust() throws {
        let text = #"{"k":"v","esc":"q\"b\\n\nt\tc\u0001","u":"é😀","n":[1,-2,1.5,2.0,true,false,null],"o":{},"a":[]}"#
        let value = try JSONParser.parse(text)
        #expect(value.description == text)
        #expect(try JSONParser.parse(value.description) == value)
        #expect(JSON.quote("a\u{1f}b") == #""a\u001fb""#)
    }

    @Test func parametersFillAsTheyAreWritten() throws {
        let template = try JSONParser.parse(#"""
            {"plain": {"x": [1, {"y": "$.not.a.path"}]}, "picked.$": "$.a", "ctx.$": "$$.Execution.Input.a",
             "call.$": "States.Format('{}-{}', $.a, $.b)", "nested": [{"deep.$": "$.b"}], "kept.$": 5}
            """#)
        let input = try JSONParser.parse(#"{"a": "A", "b": 2}"#)
        let context = JSON.object([("Execution", .object([("Input", input)]))])
        let filled = try Processing.fill(PayloadTemplate(template), input: input, context: context)
        #expect(filled.description == #"{"plain":{"x":[1,{"y":"$.not.a.path"}]},"picked":"A","ctx":"A","call":"A-2","nested":[{"deep":2}],"kept.$":5}"#)
    }

    @Test func anExpressionThatDoesNotParseFailsWhenReachedAsBefore() throws {
        // The definition loads; the state fails when it runs, with the parser's error.
        let machine = try StateMachine(parsing: #"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "not a path"}, "End": true}}}"#)
        #expect(LocalRunner(machine: machine).run(input: .object([])) == .failed(error: "States.Runtime", cause: "invalid JSONPath 'not a path': must start with $"))
        let missing = try StateMachine(parsing: #"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "$.nope"}, "End": true}}}"#)
        #expect(LocalRunner(machine: missing).run(input: .object([])) == .failed(error: "States.Runtime", cause: "The JSONPath $.nope could not be found in the input"))
        let badCall = try StateMachine(parsing: #"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "States.Format('{}'"}, "End": true}}}"#)
        guard case let .failed(error, _) = LocalRunner(machine: badCall).run(input: .object([])) else { Issue.record("a bad call ran"); return }
        #expect(error == "States.IntrinsicFailure")
    }
}
