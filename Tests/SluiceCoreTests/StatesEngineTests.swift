import Foundation
import Testing
import SluiceHTTP
@testable import SluiceCore

/// States Language definitions run by the engine: tasks through the executors, Retry as
/// rescheduled jobs, Wait as a durable timer job, Catch, and resume.
@Suite struct StatesEngineTests {
    func harness(_ definition: String, name: String = "machine") throws -> TaskListTests.Harness {
        let harness = try TaskListTests.Harness(#"{"name": "unused", "tasks": [{"name": "n", "type": "noop"}]}"#)
        let value = try Document.parse(definition, file: "\(name).json", yaml: false)
        try harness.store.register(definition: DefinitionCompiler.compile(text: definition, value: value, file: "\(name).json"), now: now())
        return harness
    }

    @Test func choiceTaskRetryWaitAndCatchRunThroughTheEngine() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try harness("""
            {"StartAt": "Route", "States": {
              "Route": {"Type": "Choice", "Choices": [{"Variable": "$.kind", "StringEquals": "fetch", "Next": "Fetch"}], "Default": "Done"},
              "Fetch": {"Type": "Task", "Resource": "http", "Parameters": {"url": "\(server.baseURL)/flaky?fail=2", "method": "GET"},
                        "ResultSelector": {"attempt.$": "$.json.attempt", "status.$": "$.status"}, "ResultPath": "$.fetched",
                        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 0.05, "MaxAttempts": 3, "BackoffRate": 1}], "Next": "Pause"},
              "Pause": {"Type": "Wait", "Seconds": 0.3, "Next": "Missing"},
              "Missing": {"Type": "Task", "Resource": "http", "Parameters": {"url": "\(server.baseURL)/status/404"},
                          "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.caught", "Next": "Done"}], "End": true},
              "Done": {"Type": "Pass", "Parameters": {"attempt.$": "$.fetched.attempt", "error.$": "$.caught.Error"}, "End": true}}}
            """)
        let started = Date()
        let uid = try harness.start("machine", #"{"kind": "fetch"}"#)
        let record = try harness.finish(uid)
        #expect(record.status == .succeeded)
        #expect(record.output == #"{"attempt":3,"error":"States.Http.StatusCode.404"}"#)
        #expect(Date().timeIntervalSince(started) >= 0.3)   // the Wait was really waited (durably, as a timer job)
        #expect(server.requests.map(\.path) == ["/flaky?fail=2", "/flaky?fail=2", "/flaky?fail=2", "/status/404"])
        let history = try harness.store.history(uid: uid).map(\.type)
        #expect(history.filter { $0 == "RetryScheduled" }.count == 2)
        // Each state passed is in the history, entered then exited, in order.
        let states = try harness.store.history(uid: uid).filter { $0.type == "StateEntered" }.compactMap(\.step)
        #expect(states == ["Route", "Fetch", "Pause", "Missing", "Done"])
        #expect(try harness.store.history(uid: uid).filter { $0.type == "StateExited" }.count == 5)
        let timers = try harness.store.database.read { db in try db.scalarInt("SELECT COUNT(*) FROM jobs WHERE step = 'Pause' AND task_type = 'noop'") }
        #expect(timers == 1)
    }

    @Test func failedMachinesResumeFromTheFailedState() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try harness("""
            {"StartAt": "Call", "States": {
              "Call": {"Type": "Task", "Resource": "http", "Parameters": {"url.$": "States.Format('\(server.baseURL)/flaky?fail={}', $.fails)"}, "End": true}}}
            """)
        let uid = try harness.start("machine", #"{"fails": 1}"#)
        let failed = try harness.finish(uid)
        #expect(failed.status == .failed)
        #expect(failed.error == "States.Http.StatusCode.503")
        #expect(try harness.store.resume(uid: uid, from: nil, now: now()) == .resumed)
        harness.engine.noteJobsAdded()
        _ = try eventually { try harness.store.execution(uid: uid)?.status == .succeeded }
        #expect(try harness.store.execution(uid: uid)?.status == .succeeded)
    }

    @Test func parallelAndMapWithTasksRunAsChildExecutionsJoinedByTheParent() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try harness("""
            {"StartAt": "Both", "States": {
              "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "Each", "Branches": [
                 {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "http", "Parameters": {"url": "\(server.baseURL)/json"}, "ResultSelector": {"id.$": "$.json.id"}, "End": true}}},
                 {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "plain", "End": true}}}]},
              "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ResultPath": "$.each", "Next": "Risky",
                       "ItemSelector": {"n.$": "$$.Map.Item.Value"},
                       "ItemProcessor": {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "http",
                           "Parameters": {"url.$": "States.Format('\(server.baseURL)/status/200?n={}', $.n)"}, "ResultSelector": {"status.$": "$.status"}, "End": true}}}},
              "Risky": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.risky", "End": true,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}],
                        "ItemProcessor": {"StartAt": "Fails", "States": {"Fails": {"Type": "Task", "Resource": "http",
                           "Parameters": {"url": "\(server.baseURL)/status/404"}, "End": true}}}},
              "Done": {"Type": "Pass", "End": true}}}
            """)
        let uid = try harness.start("machine", #"{"items": [1, 2, 3]}"#)
        let record = try harness.finish(uid)
        #expect(record.status == .succeeded)
        let output = try JSONSerialization.jsonObject(with: Data((record.output ?? "{}").utf8)) as? [String: Any]
        #expect((output?["both"] as? [Any])?.count == 2)
        #expect(((output?["both"] as? [Any])?.first as? [String: Any])?["id"] as? Int == 42)
        #expect((output?["both"] as? [Any])?.last as? String == "plain")
        #expect((output?["each"] as? [[String: Any]])?.compactMap { $0["status"] as? Int } == [200, 200, 200])
        #expect((output?["caught"] as? [String: Any])?["Error"] as? String == "States.Http.StatusCode.404")
        // MaxConcurrency 1: the three Map calls came one after another, in order.
        #expect(server.requests.filter { $0.path.hasPrefix("/status/200") }.map(\.path) == ["/status/200?n=1", "/status/200?n=2", "/status/200?n=3"])
        let children = try harness.store.database.read { db in try db.scalarInt("SELECT COUNT(*) FROM executions WHERE parent_id IS NOT NULL") }
        #expect((children ?? 0) >= 6)   // 2 branches + 3 items + at least one failing item
    }

    @Test func randomValuesDrawnAreInTheHistory() throws {
        let harness = try harness(#"{"StartAt": "Roll", "States": {"Roll": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "End": true}}}"#)
        let record = try harness.finish(try harness.start("machine", "{}"))
        let drawn = try harness.store.history(uid: record.uid).first { $0.type == "RandomValuesDrawn" }?.details ?? ""
        let id = (try JSONSerialization.jsonObject(with: Data((record.output ?? "{}").utf8)) as? [String: Any])?["id"] as? String ?? "?"
        #expect(drawn.contains(id))
    }

    @Test func theMachineTimeoutEndsALongExecutionAsTimedOut() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try harness("""
            {"TimeoutSeconds": 0.3, "StartAt": "Slow", "States": {
              "Slow": {"Type": "Task", "Resource": "http", "Parameters": {"url": "\(server.baseURL)/delay?ms=1500"}, "Next": "After"},
              "After": {"Type": "Pass", "End": true}}}
            """)
        let uid = try harness.start("machine", "{}")
        let record = try harness.finish(uid)
        #expect(record.status == .timedOut)
        #expect(record.error == "States.Timeout")
        // The slow request finishing later changes nothing.
        _ = eventually(timeout: 3) { server.requests.count == 1 && (try? harness.store.jobStates()["running"]) == nil }
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try harness.store.execution(uid: uid)?.status == .timedOut)
        #expect(try harness.store.history(uid: uid).filter { $0.type == "StateEntered" }.compactMap(\.step) == ["Slow"])
    }

    @Test func badDefinitionsAreRefusedWithThePointer() {
        let cases: [(String, String)] = [
            (#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "", "End": true}}}"#, "/States/A/Resource"),
            (#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}"#, "/States/A"),
        ]
        for (text, pointer) in cases {
            do {
                let value = try Document.parse(text, file: "m.json", yaml: false)
                _ = try DefinitionCompiler.compile(text: text, value: value, file: "m.json")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.location == pointer, "\(text): \(error)")
            }
        }
    }
}

/// `noop` and `sleep` resources run on the built-in executors, not as activities nobody claims.
@Suite struct BuiltinResourceTests {
    @Test func noopAndSleepResourcesRunOnTheBuiltInExecutors() throws {
        let harness = try StatesEngineTests().harness("""
            {"StartAt": "Nothing", "States": {
              "Nothing": {"Type": "Task", "Resource": "noop", "ResultPath": null, "Next": "Nap"},
              "Nap": {"Type": "Task", "Resource": "sleep", "Parameters": {"ms": 20}, "End": true}}}
            """)
        let record = try harness.finish(try harness.start("machine", "{}"), timeout: 5)
        #expect(record.status == .succeeded)
        let queues = try harness.store.database.read { db in try db.scalarText("SELECT group_concat(DISTINCT queue) FROM jobs") }
        #expect(queues == "default")
        let types = try harness.store.database.read { db in try db.scalarText("SELECT group_concat(task_type, ',') FROM (SELECT task_type FROM jobs ORDER BY id)") }
        #expect(types == "noop,sleep")
    }
}
