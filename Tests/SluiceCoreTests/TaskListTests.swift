import Foundation
import Testing
import SluiceHTTP
@testable import SluiceCore

/// Task-list workflows run by a real engine against a real HTTP server on 127.0.0.1.
@Suite struct TaskListTests {
    /// A store with a task-list workflow registered and an engine with http and cli executors.
    final class Harness: @unchecked Sendable {
        let file = TestDatabase()
        let store: SQLiteStore
        let engine: Engine
        let client = CurlMultiClient()

        /// `name`: for a States Language machine, which carries none of its own.
        init(_ json: String, allowCommands: Bool = false, environment: [String] = [], secrets: [String: String] = [:], name: String? = nil) throws {
            store = try SQLiteStore(file.configuration, catalog: ProgramCatalog(environmentAllowlist: environment))
            try BuiltinDefinitions.register(in: store)
            let value = try Document.parse(json, file: "test.json", yaml: false)
            try store.register(definition: DefinitionCompiler.compile(text: json, value: value, file: "test.json", name: name), now: now())
            engine = Engine(store: store, configuration: EngineConfiguration(
                pools: [.init(queue: "default", concurrency: 8)],
                executors: .standard(httpClient: client, allowCommands: allowCommands, secrets: SecretStore(values: secrets))))
            engine.start()
        }

        deinit {
            engine.shutdown(grace: 1)
            client.shutdown()
        }

        func start(_ name: String, _ input: String) throws -> String {
            try engine.submit(Submission(definition: name, input: input)).uid
        }

        func finish(_ uid: String, timeout: Double = 15) throws -> ExecutionRecord {
            _ = try eventually(timeout: timeout) { try store.execution(uid: uid)?.status.isFinished == true }
            return try #require(try store.execution(uid: uid))
        }
    }

    @Test func tasksRunInOrderWithTemplatesFromInputAndEarlierResults() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try Harness("""
            {"name": "provision", "version": 1, "schemaVersion": 1,
             "inputParameters": ["device_id", "count"], "optionalParameters": ["note"],
             "tasks": [
               {"name": "lookup", "type": "http",
                "http": {"uri": "\(server.baseURL)/json?device=${encoding=url;workflow.input.device_id}", "method": "GET",
                         "headers": {"X-Request": "${workflow.input.device_id}"}}},
               {"name": "update", "type": "http",
                "http": {"uri": "\(server.baseURL)/echo", "method": "POST",
                         "json": {"id": "${lookup.json.id}", "count": "${workflow.input.count}", "tag": "${lookup.json.tags.1}",
                                  "note": "${workflow.input.note|none}", "raw": "prefix-${workflow.input.device_id}"},
                         "statusCodes": [200]}}
             ]}
            """)
        let uid = try harness.start("provision", #"{"device_id": "dev 1/${workflow.input.count}", "count": 7}"#)
        let record = try harness.finish(uid)
        #expect(record.status == .succeeded)
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests[0].path == "/json?device=dev%201%2F%24%7Bworkflow.input.count%7D")
        #expect(requests[0].headers["x-request"] == "dev 1/${workflow.input.count}")  // an input is never expanded again
        #expect(requests[0].headers["idempotency-key"] == "\(uid)/lookup")
        let body = try JSONSerialization.jsonObject(with: Data(requests[1].body.utf8)) as? [String: Any]
        #expect(body?["id"] as? Int == 42)            // whole-string templates keep the value's type
        #expect(body?["count"] as? Int == 7)
        #expect(body?["tag"] as? String == "b")
        #expect(body?["note"] as? String == "none")
        #expect(body?["raw"] as? String == "prefix-dev 1/${workflow.input.count}")
        #expect(requests[1].headers["content-type"] == "application/json")
    }

    @Test func retriesOn503ThenSucceedsRecordingEveryAttempt() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try Harness("""
            {"name": "flaky", "tasks": [{"name": "call", "type": "http", "retries": 3, "retryDelaySeconds": 0.05,
              "http": {"uri": "\(server.baseURL)/flaky?fail=2", "method": "GET"}}]}
            """)
        let record = try harness.finish(try harness.start("flaky", "{}"))
        #expect(record.status == .succeeded)
        #expect(record.attempts == 3)
        #expect(server.requests.count == 3)
        let keys = Set(server.requests.compactMap { $0.headers["idempotency-key"] })
        #expect(keys.count == 1)   // the same key on every attempt
        let history = try harness.store.history(uid: record.uid)
        #expect(history.filter { $0.type == "TaskFailed" }.count == 2)
        #expect(history.filter { $0.type == "RetryScheduled" }.count == 2)
        #expect(history.first { $0.type == "TaskFailed" }?.details?.contains("\"status\":503") == true)
    }

    @Test func networkErrorsAreRetriedButA4xxIsNotAndLaterTasksDoNotRun() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try Harness("""
            {"name": "broken", "tasks": [
               {"name": "reset", "type": "http", "retries": 2, "retryDelaySeconds": 0.01, "http": {"uri": "\(server.baseURL)/reset", "method": "GET"}},
               {"name": "never", "type": "http", "http": {"uri": "\(server.baseURL)/ok", "method": "GET"}}]}
            """)
        let record = try harness.finish(try harness.start("broken", "{}"))
        #expect(record.status == .failed)
        #expect(record.attempts == 3)
        #expect(record.error == "Sluice.Http.NoResponse")
        #expect(!server.requests.contains { $0.path == "/ok" })

        let client = try Harness("""
            {"name": "notfound", "tasks": [{"name": "get", "type": "http", "retries": 5, "http": {"uri": "\(server.baseURL)/status/404", "method": "GET"}}]}
            """)
        let failed = try client.finish(try client.start("notfound", "{}"))
        #expect(failed.status == .failed)
        #expect(failed.error == "States.Http.StatusCode.404")
        #expect(failed.attempts == 1)
    }

    @Test func listedStatusCodesCountAsSuccessAndTimeoutsFail() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try Harness("""
            {"name": "codes", "tasks": [
               {"name": "gone", "type": "http", "http": {"uri": "\(server.baseURL)/status/404", "method": "DELETE", "statusCodes": [204, 404]}},
               {"name": "slow", "type": "http", "http": {"uri": "\(server.baseURL)/delay?ms=2000", "method": "GET", "connectionTimeOut": 100, "readTimeOut": 200}}]}
            """)
        let record = try harness.finish(try harness.start("codes", "{}"))
        #expect(record.status == .failed)
        #expect(record.error == "States.Timeout")
        #expect(server.requests.first?.method == "DELETE")
    }

    @Test func missingInputIsRefusedAtSubmitAndNothingIsStored() throws {
        let harness = try Harness(#"{"name": "needs", "inputParameters": ["a", "b"], "tasks": [{"name": "n", "type": "noop"}]}"#)
        do {
            _ = try harness.start("needs", #"{"a": 1}"#)
            Issue.record("accepted a submit without b")
        } catch let error as StoreError {
            #expect(error.description.contains("missing input parameters: b"))
        }
        #expect(try harness.store.statusCounts().isEmpty)
    }

    @Test func requiresSkipsATaskWhoseValuesAreEmpty() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try Harness("""
            {"name": "maybe", "optionalParameters": ["email"], "tasks": [
               {"name": "mail", "type": "http", "requires": ["${workflow.input.email}"], "http": {"uri": "\(server.baseURL)/ok", "method": "POST"}},
               {"name": "after", "type": "http", "http": {"uri": "\(server.baseURL)/status/200", "method": "GET"}}]}
            """)
        #expect(try harness.finish(try harness.start("maybe", "{}")).status == .succeeded)
        #expect(server.requests.map(\.path) == ["/status/200"])
    }

    @Test func commandTasksAreOffUnlessAllowedAndRecordTheirOutput() throws {
        let workflow = #"{"name": "cmd", "inputParameters": ["word"], "tasks": [{"name": "echo", "type": "cli", "cli": {"command": ["printf", "{\"said\":\"%s\"}", "${workflow.input.word}"], "executionTimeOut": 5}}, {"name": "sleepy", "type": "cli", "cli": {"command": ["sleep", "5"], "executionTimeOut": 0.3}}]}"#
        let off = try Harness(workflow)
        let refused = try off.finish(try off.start("cmd", #"{"word": "hi"}"#))
        #expect(refused.error == "Sluice.CommandsDisabled")

        let on = try Harness(workflow, allowCommands: true)
        let record = try on.finish(try on.start("cmd", #"{"word": "hi; rm -rf /"}"#))
        #expect(record.status == .failed)
        #expect(record.error == "States.Timeout")
        // `sleep 5` ended by our SIGKILL at its 0.3 s timeout, not by finishing.
        let killed = try on.store.history(uid: record.uid).first { $0.type == "TaskFailed" && $0.step == "sleepy" }
        #expect(killed?.details?.contains(#""signal":9"#) == true)
        let echo = try on.store.history(uid: record.uid).first { $0.type == "TaskSucceeded" && $0.step == "echo" }
        #expect(echo?.details?.contains(#"{\"said\":\"hi; rm -rf /\"}"#) == true)
    }

    @Test func badDefinitionsNameTheFileAndPointer() {
        let cases: [(String, String)] = [
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http"}]}"#, "/tasks/0/http"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "ftp"}]}"#, "/tasks/0/type"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "noop", "colour": 1}]}"#, "/tasks/0/colour"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://h/${workflow.input.nope}"}}]}"#, "/tasks/0/http/uri"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://h/${later.json.id}"}}, {"name": "later", "type": "noop"}]}"#, "/tasks/0/http/uri"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "noop"}, {"name": "a", "type": "noop"}]}"#, "/tasks/1/name"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "u", "json": {}, "body": "b"}}]}"#, "/tasks/0/http/body"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "u", "retryStatusCodes": [409, "x"]}}]}"#, "/tasks/0/http/retryStatusCodes"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "u", "statusCodes": [99]}}]}"#, "/tasks/0/http/statusCodes"),
        ]
        for (json, pointer) in cases {
            do {
                let value = try Document.parse(json, file: "bad.json", yaml: false)
                _ = try DefinitionCompiler.compile(text: json, value: value, file: "bad.json")
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.location == pointer, "\(json): \(error)")
                #expect(error.file == "bad.json")
            }
        }
    }
}

@Suite struct ResumeTests {
    @Test func aFailedExecutionResumesFromTheFailedTaskOrANamedOne() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "twostep", "tasks": [
               {"name": "first", "type": "http", "http": {"uri": "\(server.baseURL)/json", "method": "GET"}},
               {"name": "second", "type": "http", "http": {"uri": "\(server.baseURL)/flaky?fail=1", "method": "GET"}}]}
            """)
        let uid = try harness.start("twostep", "{}")
        #expect(try harness.finish(uid).status == .failed)
        #expect(try harness.store.resume(uid: uid, from: nil, now: now()) == .resumed)
        harness.engine.noteJobsAdded()
        _ = try eventually { try harness.store.execution(uid: uid)?.status == .succeeded }
        #expect(try harness.store.execution(uid: uid)?.status == .succeeded)
        // From the failed task: "first" ran once, "second" twice.
        #expect(server.requests.map(\.path) == ["/json", "/flaky?fail=1", "/flaky?fail=1"])
        #expect(try harness.store.resume(uid: uid, from: nil, now: now()) == .notResumable(.succeeded))

        // The end the resume undid stays in history before ExecutionResumed; the final end is last.
        let lifecycle = try harness.store.history(uid: uid).map(\.type).filter { $0.hasPrefix("Execution") }
        #expect(lifecycle == ["ExecutionSubmitted", "ExecutionFailed", "ExecutionResumed", "ExecutionSucceeded"])
        let failedLine = try #require(try harness.store.history(uid: uid).first { $0.type == "ExecutionFailed" })
        #expect((failedLine.details ?? "").contains("States.Http.StatusCode"))

        let failing = try TaskListTests.Harness("""
            {"name": "broken", "tasks": [
               {"name": "first", "type": "http", "http": {"uri": "\(server.baseURL)/json", "method": "GET"}},
               {"name": "second", "type": "http", "http": {"uri": "\(server.baseURL)/status/500", "method": "GET"}}]}
            """)
        let broken = try failing.start("broken", "{}")
        #expect(try failing.finish(broken).status == .failed)
        #expect(try failing.store.resume(uid: broken, from: "nope", now: now()) == .refused("no task named nope (tasks: first, second)"))
        let before = server.requests.filter { $0.path == "/json" }.count
        #expect(try failing.store.resume(uid: broken, from: "first", now: now()) == .resumed)
        failing.engine.noteJobsAdded()
        _ = try eventually { server.requests.filter { $0.path == "/status/500" }.count == 2 }
        #expect(server.requests.filter { $0.path == "/json" }.count == before + 1)   // restarted at the named task
    }
}

@Suite struct SecretTests {
    @Test func secretsReachTheTargetButNeverHistoryOrOutput() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let secret = "s3cr3t-value-42"
        let harness = try TaskListTests.Harness("""
            {"name": "secretive", "tasks": [
               {"name": "call", "type": "http", "http": {"uri": "\(server.baseURL)/echo?key=${secrets.API_KEY}", "method": "POST",
                "headers": {"X-Api-Key": "${secrets.API_KEY}"}, "json": {"token": "${secrets.API_KEY}"}}}]}
            """, secrets: ["API_KEY": secret])
        let uid = try harness.start("secretive", "{}")
        let record = try harness.finish(uid)
        #expect(record.status == .succeeded)
        let request = try #require(server.requests.first)
        #expect(request.headers["x-api-key"] == secret)
        #expect(request.path.contains(secret))
        #expect(request.body.contains(secret))
        // The echo came back with the secret in it: output and history have it redacted.
        #expect(!(record.output ?? "").contains(secret))
        #expect((record.output ?? "").contains("[redacted]"))
        for event in try harness.store.history(uid: uid) { #expect(!(event.details ?? "").contains(secret)) }
        let payloads = try harness.store.database.read { db in try db.scalarText("SELECT group_concat(payload) FROM jobs") }
        #expect(!(payloads ?? "").contains(secret))
        #expect((payloads ?? "").contains("${secrets.API_KEY}"))
    }

    @Test func aMissingSecretFailsTheTaskWithoutRetry() throws {
        let harness = try TaskListTests.Harness("""
            {"name": "nosecret", "tasks": [{"name": "call", "type": "http", "retries": 3, "http": {"uri": "http://127.0.0.1:1/${secrets.NOPE}"}}]}
            """)
        let record = try harness.finish(try harness.start("nosecret", "{}"))
        #expect(record.error == "Sluice.MissingSecret")
        #expect(record.attempts == 1)
    }

    @Test func secretsFileAndEnvironmentLoad() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
        try "# comment\nA=one\nB=two=three\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let store = try SecretStore.load(file: file.path, environment: ["SLUICE_SECRET_C": "four", "OTHER": "x"])
        #expect(store.values == ["A": "one", "B": "two=three", "C": "four"])
        #expect(try store.resolve("x${secrets.B}y", allowing: ["B"]) == "xtwo=threey")
    }
}
