import Foundation
import Testing
import SluiceHTTP
import SluiceStates
@testable import SluiceCore

/// A task list is compiled to the engine's States Language machine (a chain of Task states)
/// and run by the one program, `StatesProgram`, against a real HTTP server on 127.0.0.1.
@Suite struct TaskListMachineTests {
    static let twoTasks = """
        {"name": "pair", "version": 3, "inputParameters": ["id"],
         "tasks": [
           {"name": "look up.v2", "type": "http", "retries": 2, "retryDelaySeconds": 0.01,
            "http": {"uri": "URL/json?id=${workflow.input.id}", "method": "GET"}},
           {"name": "report", "type": "http", "requires": ["${workflow.input.report|}"],
            "http": {"uri": "URL/echo", "method": "POST", "json": {"id": "${look up.v2.json.id}"}}}
         ]}
        """

    @Test func theCompiledFormIsAChainOfTaskStates() throws {
        let text = Self.twoTasks.replacingOccurrences(of: "URL", with: "http://127.0.0.1:9")
        let source = try DefinitionCompiler.compile(text: text, value: try Document.parse(text, file: "pair.json", yaml: false), file: "pair.json")
        #expect(source.dialect == "tasklist")
        let compiled = try JSONParser.parse(try #require(source.compiled))
        #expect(compiled["inputParameters"] == .array([.string("id")]))
        #expect(compiled["tasks"] == .array([.string("look up.v2"), .string("report")]))
        let machine = try #require(compiled["machine"])
        _ = try StateMachine(machine)   // a valid States Language machine
        let states = try #require(machine["States"]?.objectPairs)
        #expect(states.map(\.0) == ["TaskList.Start", "look up.v2", "report", "TaskList.End"])
        #expect(machine["StartAt"] == .string("TaskList.Start"))
        let first = try #require(machine["States"]?["look up.v2"])
        #expect(first["Type"] == .string("Task"))
        #expect(first["Resource"] == .string("sluice:tasklist:http"))
        #expect(first["ResultPath"] == .string("$.results['look up.v2']"))
        #expect(first["Next"] == .string("report"))
        #expect(first["Retry"]?.description.contains(#""ErrorEquals":["Sluice.Retryable"],"MaxAttempts":2"#) == true)
        #expect(machine["States"]?["report"]?["Retry"] == nil)   // no retries asked: none compiled
        #expect(machine["States"]?["report"]?["Next"] == .string("TaskList.End"))
        #expect(machine["States"]?["TaskList.End"]?["End"] == .bool(true))
    }

    @Test func aTaskListRunsOnTheStatesLanguageProgramWithItsHistory() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness(Self.twoTasks.replacingOccurrences(of: "URL", with: server.baseURL))
        let id = try #require(try harness.store.database.read { db in try db.scalarInt("SELECT id FROM definitions WHERE name = 'pair'") })
        let compiled = try harness.store.database.read { db in try db.scalarText("SELECT compiled FROM definitions WHERE name = 'pair'") }
        let program = try harness.store.catalog.program(definitionID: id, name: "pair", dialect: "tasklist", compiled: compiled)
        #expect((program as? GuardedProgram)?.inner is StatesProgram)   // the catalog wraps each program (limits, crash slot)

        // `report` requires a value that is absent: skipped, with the reason in history.
        let skipped = try harness.finish(try harness.start("pair", #"{"id": "a"}"#))
        #expect(skipped.status == .succeeded)
        #expect(skipped.output == #"{"results":{"look up.v2":{"id":42,"name":"widget","tags":["a","b"],"nested":{"ok":true}}}}"#)
        let history = try harness.store.history(uid: skipped.uid)
        let skip = try #require(history.first { $0.type == "TaskSkipped" })
        #expect(skip.step == "report")
        #expect(skip.details?.contains("requires ${workflow.input.report|}: empty") == true)
        // The tasks' lines only: no StateEntered/StateExited, nothing for the compiler's own Pass states.
        #expect(history.map { "\($0.type):\($0.step ?? "")" } == [
            "ExecutionSubmitted:", "TaskScheduled:look up.v2", "TaskSucceeded:look up.v2", "TaskSkipped:report", "ExecutionSucceeded:",
        ])

        // With the value, `report` runs and reads the earlier result through a bracketed path.
        let ran = try harness.finish(try harness.start("pair", #"{"id": "b", "report": "yes"}"#))
        #expect(ran.status == .succeeded)
        let echo = try #require(server.requests.last { $0.path == "/echo" })
        #expect(echo.body == #"{"id":42}"#)
    }

    @Test func aMissingValueRefusesTheSubmitAtTheFirstTaskAndFailsALaterOne() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        // An allowlisted variable that is not set has no value (a declared optional input would render "").
        let first = try TaskListTests.Harness("""
            {"name": "gaps", "tasks": [{"name": "one", "type": "http", "http": {"uri": "\(server.baseURL)/ok?v=${env.SLUICE_TEST_UNSET_VARIABLE}"}}]}
            """, environment: ["SLUICE_TEST_UNSET_VARIABLE"])
        #expect {
            _ = try first.start("gaps", "{}")
        } throws: { error in
            "\(error)".contains("task one: ${env.SLUICE_TEST_UNSET_VARIABLE}: no value")
        }
        #expect(try first.store.statusCounts().isEmpty)   // nothing stored
        let later = try TaskListTests.Harness("""
            {"name": "gaps", "tasks": [
               {"name": "one", "type": "http", "http": {"uri": "\(server.baseURL)/json"}},
               {"name": "two", "type": "http", "http": {"uri": "\(server.baseURL)/ok?v=${one.json.missing}"}}]}
            """)
        let record = try later.finish(try later.start("gaps", "{}"))
        #expect(record.status == .failed)
        #expect(record.error == "States.Runtime")
        #expect(record.cause?.contains("task two: ${one.json.missing}: no value") == true)
        #expect(server.requests.map(\.path) == ["/json"])
    }

    @Test func aDefinitionStoredBeforeCompilationStillRuns() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness(#"{"name": "unused", "tasks": [{"name": "n", "type": "noop"}]}"#)
        // The earlier compiled form: the normalised document itself.
        let document = #"{"name":"legacy","tasks":[{"name":"get","type":"http","http":{"method":"GET","uri":"\#(server.baseURL)/json"}}]}"#
        try harness.store.register(definition: DefinitionSource(name: "legacy", dialect: "tasklist", source: document, compiled: document), now: now())
        let record = try harness.finish(try harness.start("legacy", "{}"))
        #expect(record.status == .succeeded)
        #expect(record.output?.hasPrefix(#"{"results":{"get":{"id":42"#) == true)
    }

    @Test func aChangedFileInTheFolderIsANewVersionAndRunningExecutionsKeepTheirs() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-defs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ version: Int) throws {
            try """
                name: versioned
                tasks:
                  - name: wait
                    type: http
                    http: {uri: "\(server.baseURL)/delay?ms=300", method: GET}
                  - name: mark
                    type: http
                    http: {uri: "\(server.baseURL)/ok?v=\(version)", method: GET}
                """.write(to: folder.appendingPathComponent("versioned.yaml"), atomically: true, encoding: .utf8)
        }
        let harness = try TaskListTests.Harness(#"{"name": "unused", "tasks": [{"name": "n", "type": "noop"}]}"#)
        func load() throws -> Int {
            let (loaded, errors) = DefinitionFolder.load(folder.path)
            #expect(errors.isEmpty)
            let document = try #require(loaded.workflows.first)
            return try harness.store.register(definition: DefinitionCompiler.compile(text: document.text, value: document.value, file: document.file), now: now())
        }
        try write(1)
        #expect(try load() == 1)
        let first = try harness.start("versioned", "{}")
        _ = try eventually { server.requests.contains { $0.path == "/delay?ms=300" } }   // running version 1
        try write(2)
        #expect(try load() == 2)
        #expect(try load() == 2)   // unchanged: no new version
        let second = try harness.start("versioned", "{}")
        #expect(try harness.finish(first).version == 1)
        #expect(try harness.finish(second).version == 2)
        #expect(try harness.finish(first).status == .succeeded)
        #expect(Set(server.requests.map(\.path).filter { $0.hasPrefix("/ok") }) == ["/ok?v=1", "/ok?v=2"])
    }

    @Test func aHostileJSONBodyIsCarriedThroughWithoutHarm() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "hostile", "tasks": [
               {"name": "get", "type": "http", "http": {"uri": "\(server.baseURL)/surrogate", "method": "GET"}},
               {"name": "use", "type": "http", "http": {"uri": "\(server.baseURL)/echo", "method": "POST", "json": {"name": "${get.json.name}"}}}]}
            """)
        let record = try harness.finish(try harness.start("hostile", "{}"))
        #expect(record.status == .succeeded)
        #expect(record.output?.contains("\u{FFFD}A") == true)
        #expect(server.requests.last?.body.contains("\u{FFFD}A") == true)
    }

    @Test func resumingAtATaskForgetsTheResultsFromThereOn() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "again", "tasks": [
               {"name": "a", "type": "http", "http": {"uri": "\(server.baseURL)/once", "method": "GET"}},
               {"name": "b", "type": "http", "requires": ["${a.json.flag|}"], "http": {"uri": "\(server.baseURL)/json", "method": "GET"}},
               {"name": "c", "type": "http", "http": {"uri": "\(server.baseURL)/flaky?fail=1", "method": "GET"}}]}
            """)
        let uid = try harness.start("again", "{}")
        #expect(try harness.finish(uid).status == .failed)        // b ran (flag yes), c answered 503
        #expect(try harness.store.resume(uid: uid, from: "a", now: now()) == .resumed)
        harness.engine.noteJobsAdded()
        _ = try eventually { try harness.store.execution(uid: uid)?.status == .succeeded }
        let output = try #require(try harness.store.execution(uid: uid)?.output)
        #expect(output.contains(#""a":{"flag":""}"#))
        #expect(!output.contains(#""b":"#))   // skipped this time: its earlier result is gone
        #expect(try harness.store.history(uid: uid).filter { $0.type == "TaskSkipped" }.count == 1)
    }

    @Test func aTaskInFlightAcrossTheUpgradeGoesOn() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "upgrade", "inputParameters": ["who"], "tasks": [
               {"name": "slow", "type": "http", "http": {"uri": "\(server.baseURL)/delay?ms=400", "method": "GET"}},
               {"name": "then", "type": "http", "http": {"uri": "\(server.baseURL)/echo", "method": "POST", "body": "${workflow.input.who}"}}]}
            """)
        let uid = try harness.start("upgrade", #"{"who": "me"}"#)
        _ = try eventually { server.requests.contains { $0.path.hasPrefix("/delay") } }
        // What the removed TaskListProgram stored while its first task ran.
        try harness.store.database.write { db in
            let statement = try db.statement("UPDATE executions SET state = ? WHERE uid = ?")
            statement.bind(1, #"{"next":0,"input":{"who":"me"},"results":{}}"#)
            statement.bind(2, uid)
            try statement.run()
        }
        let record = try harness.finish(uid)
        #expect(record.status == .succeeded)
        #expect(server.requests.last { $0.path == "/echo" }?.body == "me")
        #expect(record.output?.contains(#""slow":"late""#) == true)
    }

    @Test func a4xxIsRetriedOnlyWhenListed() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "conflict", "tasks": [{"name": "put", "type": "http", "retries": 2, "retryDelaySeconds": 0.01,
               "http": {"uri": "\(server.baseURL)/status/409", "method": "PUT", "retryStatusCodes": [409]}}]}
            """)
        let record = try harness.finish(try harness.start("conflict", "{}"))
        #expect(record.status == .failed)
        #expect(record.error == "States.Http.StatusCode.409")
        #expect(record.cause?.hasPrefix("task put: HTTP 409 from PUT ") == true)   // says where
        #expect(record.attempts == 3)
        #expect(server.requests.filter { $0.path == "/status/409" }.count == 3)
    }

    @Test func taskNamesThatCannotBeStateNamesAreRefused() {
        let json = #"{"name": "bad", "tasks": [{"name": "it's", "type": "noop"}]}"#
        #expect {
            _ = try DefinitionCompiler.compile(text: json, value: try Document.parse(json, file: "bad.json", yaml: false), file: "bad.json")
        } throws: { error in
            (error as? Document.LoadError)?.location == "/tasks/0/name"
        }
    }
}

/// `Sluice.Retryable` and `Retry-After` in a plain States Language machine.
@Suite struct RetryableErrorTests {
    @Test func retryableMatchesTransientFailuresOnlyAndRetryAfterLengthensTheDelay() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try StatesEngineTests().harness("""
            {"StartAt": "Call", "States": {
              "Call": {"Type": "Task", "Resource": "http", "Parameters": {"url.$": "$.url"},
                       "Retry": [{"ErrorEquals": ["Sluice.Retryable"], "IntervalSeconds": 0.01, "MaxAttempts": 1}], "End": true}}}
            """)
        let flaky = try harness.finish(try harness.start("machine", #"{"url": "\#(server.baseURL)/flaky?fail=1"}"#))
        #expect(flaky.status == .succeeded)
        #expect(flaky.attempts == 2)

        let missing = try harness.finish(try harness.start("machine", #"{"url": "\#(server.baseURL)/status/404"}"#))
        #expect(missing.status == .failed)
        #expect(missing.error == "States.Http.StatusCode.404")
        #expect(missing.attempts == 1)

        // 429 with Retry-After: 1 — the retry is scheduled a second later, not 10 ms.
        let slow = try harness.finish(try harness.start("machine", #"{"url": "\#(server.baseURL)/retry-after"}"#))
        #expect(slow.status == .failed)
        #expect(slow.attempts == 2)
        let history = try harness.store.history(uid: slow.uid)
        let failedAt = try #require(history.first { $0.type == "TaskFailed" }?.at)
        let retry = try #require(history.first { $0.type == "RetryScheduled" }?.details)
        let at = try #require(try JSONParser.parse(retry)["at"]?.number)
        #expect(at - failedAt >= 0.99)
    }

    @Test func theInterpreterMatchesRetryableOnlyWhenTheExecutorSaysSo() throws {
        let machine = try StateMachine(parsing: """
            {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "http",
              "Retry": [{"ErrorEquals": ["Sluice.Retryable"], "IntervalSeconds": 2, "MaxAttempts": 1, "MaxDelaySeconds": 5}], "End": true}}}
            """)
        let interpreter = Interpreter(machine: machine)
        let transient = interpreter.taskFailed(state: "T", raw: .object([]), error: "States.Http.StatusCode.503", cause: nil, attempts: [],
                                               context: .object([]), retryable: true, retryAfter: 30)
        #expect(transient == .retry(delay: 5, retrier: 0))   // Retry-After 30 s, capped at MaxDelaySeconds
        let permanent = interpreter.taskFailed(state: "T", raw: .object([]), error: "States.Http.StatusCode.404", cause: "x", attempts: [],
                                               context: .object([]))
        #expect(permanent == .advance(.failed(error: "States.Http.StatusCode.404", cause: "x")))
    }
}

@Suite struct JSONTextTimeTests {
    @Test func timesAreWrittenWithSixFractionDigits() {
        #expect(JSONText.time(0) == "0.000000")
        #expect(JSONText.time(1.5) == "1.500000")
        #expect(JSONText.time(1764612345.000001) == "1764612345.000001")
        #expect(JSONText.time(12.0000004) == "12.000000")
        #expect(JSONText.time(-1) == "null")
        #expect(JSONText.time(.nan) == "null")
        #expect(JSONText.object(["at": .time(2.25)]) == #"{"at":2.250000}"#)
    }
}
