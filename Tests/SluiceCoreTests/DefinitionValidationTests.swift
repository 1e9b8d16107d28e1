import Foundation
import Testing
@testable import SluiceCore
import SluiceStates

/// Values every loader accepted before and must refuse, each with the field it names: names,
/// queues, priorities, machines that cannot end, negative waits and concurrency, a trigger
/// that never pauses, URLs of schemes no task may send to.
@Suite struct DefinitionValidationTests {
    static func compileError(_ text: String, name: String? = nil, dialect: String? = nil) -> Document.LoadError? {
        do {
            let value = try Document.parse(text, file: "d.json", yaml: false)
            _ = try DefinitionCompiler.compile(text: text, value: value, file: "d.json", name: name, dialect: dialect)
            return nil
        } catch {
            return error
        }
    }

    static let machine = #"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#

    @Test func definitionNamesAreCheckedForEveryDialect() throws {
        for bad in ["", "a\nb", "a\r", "../etc", "a/b", "..", "noop", "sleep", "x\u{0}y", " padded", String(repeating: "n", count: 129)] {
            let error = try #require(Self.compileError(Self.machine, name: bad), "ASL name \(bad.debugDescription) was accepted")
            #expect(error.location == "?name", "\(error)")
            let list = #"{"name": \#(SluiceStates.JSON.string(bad).description), "tasks": [{"name": "a", "type": "noop"}]}"#
            let listError = try #require(Self.compileError(list), "task list name \(bad.debugDescription) was accepted")
            // An empty name was refused before as required; the rest are new.
            #expect(listError.location == "/name", "\(listError)")
        }
        #expect(try #require(Self.compileError(Self.machine, name: "noop")).message.contains("built-in"))
        for good in ["my def", "provision_device", "order.v2", "Ünïcode-name", String(repeating: "n", count: 128)] {
            #expect(Self.compileError(Self.machine, name: good) == nil, "\(good)")
        }
    }

    @Test func mendersRouteTakesTaskListsOnly() throws {
        let error = try #require(Self.compileError(Self.machine, name: "m", dialect: "tasklist"))
        #expect(error.message.contains("expected a task list"), "\(error)")
        #expect(Self.compileError(#"{"name": "t", "tasks": [{"name": "a", "type": "noop"}]}"#, dialect: "tasklist") == nil)
    }

    @Test func aMachineWithNoReachableEndIsRefused() throws {
        let loop = #"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}"#
        let error = try #require(Self.compileError(loop, name: "loop"))
        #expect(error.location == "/States" && error.message.contains("no end is reachable"), "\(error)")
        // A choice that can leave the loop ends.
        let polling = #"""
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "C"},
             "C": {"Type": "Choice", "Choices": [{"Variable": "$.done", "BooleanEquals": true, "Next": "D"}], "Default": "W"},
             "D": {"Type": "Succeed"}}}
            """#
        #expect(Self.compileError(polling, name: "poll") == nil)
        // Inside a Parallel branch too, with the branch's pointer.
        let branch = #"""
            {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
              {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "X"}}}]}}}
            """#
        let inner = try #require(Self.compileError(branch, name: "p"))
        #expect(inner.location == "/States/P/Branches/0/States", "\(inner)")
    }

    @Test func anUnreachableStateIsRefusedAsAWSDoes() throws {
        let text = #"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Orphan": {"Type": "Pass", "End": true}}}"#
        let error = try #require(Self.compileError(text, name: "u"))
        #expect(error.location == "/States/Orphan" && error.message.contains("not reachable"), "\(error)")
        // A state reached only from a Catch is reachable.
        let caught = #"""
            {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "noop", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]}, "F": {"Type": "Fail"}}}
            """#
        #expect(Self.compileError(caught, name: "c") == nil)
    }

    @Test func negativeWaitsTimeoutsAndConcurrencyAreRefused() throws {
        let cases: [(String, String)] = [
            (#"{"Type": "Wait", "Seconds": -100, "End": true}"#, "/States/S/Seconds"),
            (#"{"Type": "Wait", "Seconds": 1e300, "End": true}"#, "/States/S/Seconds"),
            (#"{"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true}"#, "/States/S"),
            (#"{"Type": "Wait", "End": true}"#, "/States/S"),
            (#"{"Type": "Task", "Resource": "noop", "TimeoutSeconds": 0, "End": true}"#, "/States/S/TimeoutSeconds"),
            (#"{"Type": "Task", "Resource": "noop", "HeartbeatSeconds": -5, "End": true}"#, "/States/S/HeartbeatSeconds"),
            (#"{"Type": "Map", "MaxConcurrency": -1, "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}"#, "/States/S/MaxConcurrency"),
            (#"{"Type": "Map", "MaxConcurrency": 1.5, "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}"#, "/States/S/MaxConcurrency"),
        ]
        for (state, pointer) in cases {
            let text = #"{"StartAt": "S", "States": {"S": \#(state)}}"#
            let error = try #require(Self.compileError(text, name: "n"), "accepted: \(state)")
            #expect(error.location == pointer, "\(state): \(error)")
        }
        for state in [#"{"Type": "Wait", "Seconds": 0, "End": true}"#,
                      #"{"Type": "Map", "MaxConcurrency": 0, "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}"#] {
            #expect(Self.compileError(#"{"StartAt": "S", "States": {"S": \#(state)}}"#, name: "n") == nil, "\(state)")
        }
        let timeout = #"{"StartAt": "S", "TimeoutSeconds": -1, "States": {"S": {"Type": "Succeed"}}}"#
        #expect(Self.compileError(timeout, name: "n")?.location == "/TimeoutSeconds")
    }

    /// What AWS refuses when a machine is created, found by the malformed-input corpus.
    @Test func fieldsAWSRefusesAtCreationAreRefused() throws {
        let cases: [(String, String)] = [
            (#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "End": true}, "B": {"Type": "Succeed"}}}"#, "/States/A"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}, "Bogus": 1}"#, "/Bogus"),
            (#"{"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {"Type": "Succeed"}}}"#, "/QueryLanguage"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Wait", "Timestamp": "never", "End": true}}}"#, "/States/A/Timestamp"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"a.$": "nope"}, "End": true}}}"#, "/States/A/Parameters/a.$"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x": [{"a.$": 5}]}, "End": true}}}"#, "/States/A/Parameters/x/0/a.$"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"a.$": "States.Teleport($.x)"}, "End": true}}}"#, "/States/A/Parameters/a.$"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"a.$": "States.Format('x {}', $.a"}, "End": true}}}"#, "/States/A/Parameters/a.$"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Fail", "ErrorPath": "nope"}}}"#, "/States/A/ErrorPath"),
            (#"{"StartAt": "", "States": {"": {"Type": "Pass", "End": true}}}"#, "/States/"),
        ]
        for (text, pointer) in cases {
            let error = try #require(Self.compileError(text, name: "n"), "accepted \(text)")
            #expect(error.location == pointer, "\(text): \(error)")
        }
        let long = String(repeating: "s", count: 81)
        #expect(Self.compileError(#"{"StartAt": "\#(long)", "States": {"\#(long)": {"Type": "Succeed"}}}"#, name: "n")?.location == "/States/\(long)")
        // An intrinsic nested 70,000 calls deep is refused at once (the parser would rescan it per level).
        let deep = String(repeating: "States.Array(", count: 70_000) + "1" + String(repeating: ")", count: 70_000)
        let deepError = try #require(Self.compileError(#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"a.$": "\#(deep)"}, "End": true}}}"#, name: "n"))
        #expect(deepError.location == "/States/A/Parameters/a.$")
        let fine = #"""
            {"StartAt": "A", "Comment": "c", "QueryLanguage": "JSONPath", "States": {"A": {"Type": "Pass", "End": true,
              "Parameters": {"n.$": "States.Format('{} and {}', $.a, States.Array(1, 'x(y'))", "c.$": "$$.Execution.Id", "plain": {"k": 1}}}}}
            """#
        #expect(Self.compileError(fine, name: "n") == nil)
    }

    /// The AWS-recorded corpus: every definition there passes the new checks (AWS ran them).
    @Test func everyConformanceDefinitionPassesTheChecks() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/conformance/asl/cases")
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".json") }
        #expect(files.count == 30)
        var checked = 0
        for file in files {
            let document = try JSONParser.parse(String(contentsOf: corpus.appendingPathComponent(file), encoding: .utf8))
            guard case let .array(runs)? = document["runs"] else { continue }
            for run in runs {
                guard let definition = run["definition"] ?? document["definition"] else { continue }
                do { try StateMachine(definition).check() } catch { Issue.record("\(file): \(error)") }
                checked += 1
            }
        }
        #expect(checked == 565)
    }

    @Test func aTaskURLWhoseSchemeIsNotTheWebsIsRefusedWhenItIsWritten() throws {
        func list(_ uri: String) -> String {
            #"{"name": "u", "optionalParameters": ["url"], "tasks": [{"name": "a", "type": "http", "http": {"uri": \#(SluiceStates.JSON.string(uri).description)}}]}"#
        }
        for bad in ["file:///etc/passwd", "FILE:///etc/passwd", "gopher://h/x", "ftp://${workflow.input.url}", "localhost/x"] {
            let error = try #require(Self.compileError(list(bad)), "accepted \(bad)")
            #expect(error.location == "/tasks/0/http/uri" && error.message.contains("http://"), "\(error)")
        }
        for good in ["http://127.0.0.1/x", "HTTPS://h/x", "${workflow.input.url}", "http://${env.HOST}/x", "https${workflow.input.url}"] {
            #expect(Self.compileError(list(good)) == nil, "\(good)")
        }
        func machine(_ resource: String, _ parameters: String) -> String {
            #"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "\#(resource)", "Parameters": \#(parameters), "End": true}}}"#
        }
        let http = try #require(Self.compileError(machine("http", #"{"url": "file:///etc/passwd"}"#), name: "h"))
        #expect(http.location == "/States/T/Parameters/url", "\(http)")
        let invoke = try #require(Self.compileError(machine("arn:aws:states:::http:invoke", #"{"ApiEndpoint": "gopher://x", "Method": "GET"}"#), name: "h"))
        #expect(invoke.location == "/States/T/Parameters/ApiEndpoint", "\(invoke)")
        #expect(Self.compileError(machine("http", #"{"url.$": "$.url"}"#), name: "h") == nil)
        #expect(Self.compileError(machine("http", #"{"url": "https://example.test/"}"#), name: "h") == nil)
    }

    @Test func aTriggerMustPauseAndNameAQueueAPoolCanServe() throws {
        func trigger(_ extra: String) -> Document.LoadError? {
            let yaml = "trigger: t\nworkflow: w\nsource: { directory: /tmp }\nmatch: '^(?<f>.*)$'\n" + extra
            do {
                _ = try TriggerDefinition.parse(Document.parse(yaml, file: "t.yaml", yaml: true), file: "t.yaml", baseDirectory: "/")
                return nil
            } catch { return error }
        }
        for bad in ["interval: 0s", "interval: 0", "interval: 10ms"] {
            #expect(trigger(bad)?.location == "/interval", "\(bad)")
        }
        #expect(trigger("interval: 100ms") == nil)
        #expect(trigger("queue: \"a b\"")?.location == "/queue")
        #expect(trigger("queue: \"\"")?.location == "/queue")
        #expect(trigger("queue: reports") == nil)
        let schedule = "schedule: s\nworkflow: w\ncron: '* * * * *'\nqueue: \"bad\\nqueue\"\n"
        #expect(throws: Document.LoadError.self) {
            _ = try ScheduleDefinition.parse(Document.parse(schedule, file: "s.yaml", yaml: true), file: "s.yaml")
        }
    }

    @Test func queueNamesFollowOneRule() {
        for bad in ["", "a\nb", "a b", "q\u{0}", "ü", String(repeating: "q", count: 129)] {
            #expect(Names.queueProblem(bad) != nil, "\(bad.debugDescription)")
        }
        for good in ["default", "reports", "activity:check-order", "a.b_c:d-e", String(repeating: "q", count: 128)] {
            #expect(Names.queueProblem(good) == nil, "\(good)")
        }
        #expect(Names.priority(fromJSON: 1e300) == nil)
        #expect(Names.priority(fromJSON: 1.5) == nil)
        #expect(Names.priority(fromJSON: -.infinity) == nil)
        #expect(Names.priority(fromJSON: 7) == 7)
    }

    /// The store's submit refuses what the API refuses, for submitters that do not pass the
    /// API (`sluice submit --db`, triggers): nothing is stored.
    @Test func theStoreRefusesABadQueueOrPriorityAndStoresNothing() throws {
        let file = TestDatabase()
        let store = try file.store()
        for submission in [Submission(definition: "noop", queue: ""), Submission(definition: "noop", queue: "a\nb"),
                           Submission(definition: "noop", priority: Int.min)] {
            #expect(throws: StoreError.self) { _ = try store.submit([submission], now: now()) }
        }
        #expect(try store.statusCounts().values.reduce(0, +) == 0)
        #expect(try store.submit([Submission(definition: "noop", queue: "reports", priority: 5)], now: now()).count == 1)
    }
}
