import Foundation
import Testing
import SluiceHTTP
@testable import SluiceCore

/// How inputs land in requests and commands, as Mender's definitions expect, and what a
/// definition may not hold.
@Suite struct TaskListInputTests {
    @Test func inputsInAURIAreURLEncodedUnlessTheExpressionSaysPlain() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "lookup", "inputParameters": ["id", "base"], "optionalParameters": ["tag"], "tasks": [
               {"name": "get", "type": "http", "http": {"uri": "${encoding=plain;workflow.input.base}/json/${workflow.input.id}?tag=${workflow.input.tag}&x=1"}}]}
            """)
        let record = try harness.finish(try harness.start("lookup", #"{"id": "a/b?c=d é", "base": "\#(server.baseURL)"}"#))
        #expect(record.error == "States.Http.StatusCode.404")   // no such route: the path it asked for is what counts
        // An input cannot add a path segment or a query parameter; a missing optional input is "".
        #expect(server.requests.first?.path == "/json/a%2Fb%3Fc%3Dd%20%C3%A9?tag=&x=1")
    }

    @Test func aMissingOptionalInputRendersEmpty() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "opt", "optionalParameters": ["note"], "tasks": [
               {"name": "post", "type": "http", "http": {"uri": "\(server.baseURL)/echo", "method": "POST", "body": "[${workflow.input.note}]"}}]}
            """)
        #expect(try harness.finish(try harness.start("opt", "{}")).status == .succeeded)
        #expect(server.requests.first?.body == "[]")
    }

    @Test func formDataIsEncodedAsAFormAndAPlusSurvives() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "form", "inputParameters": ["v"], "tasks": [
               {"name": "post", "type": "http", "http": {"uri": "\(server.baseURL)/echo", "method": "POST",
                "formdata": {"value": "${workflow.input.v}", "b c": "x&y=z"}}}]}
            """)
        #expect(try harness.finish(try harness.start("form", #"{"v": "1+1 = 2"}"#)).status == .succeeded)
        let request = try #require(server.requests.first)
        #expect(request.body == "b+c=x%26y%3Dz&value=1%2B1+%3D+2")
        #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
    }

    @Test func aHeaderValueWithALineBreakFailsWithoutSendingOrRetrying() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "hdr", "inputParameters": ["who"], "tasks": [
               {"name": "get", "type": "http", "retries": 3, "retryDelaySeconds": 0,
                "http": {"uri": "\(server.baseURL)/ok", "headers": {"X-Who": "${workflow.input.who}"}}}]}
            """)
        let record = try harness.finish(try harness.start("hdr", #"{"who": "me\r\nX-Admin: yes"}"#))
        #expect(record.status == .failed)
        #expect(record.error == "Sluice.Http.InvalidRequest")
        #expect(record.attempts == 1)
        #expect(server.requests.isEmpty)
    }

    /// Running, or a zombie nobody reaped (the test may run under a PID 1 that never reaps).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    static func pid(in details: String?) -> pid_t? {
        guard let details, let range = details.range(of: #""stdout":"(\d+)"#, options: .regularExpression) else { return nil }
        return pid_t(details[range].filter(\.isNumber))
    }

    @Test func aCommandsTimeoutKillsWhatItStartedToo() throws {
        // `sh` starts `sleep` and waits: the timeout must take `sleep` too, not `sh` alone.
        let harness = try TaskListTests.Harness("""
            {"name": "slow", "tasks": [{"name": "nap", "type": "cli",
               "cli": {"command": ["sh", "-c", "sleep 30 & echo $!; wait"], "executionTimeOut": 0.5}}]}
            """, allowCommands: true)
        let record = try harness.finish(try harness.start("slow", "{}"), timeout: 10)
        #expect(record.error == "States.Timeout")
        let failed = try harness.store.history(uid: record.uid).first { $0.type == "TaskFailed" }
        let sleeper = try #require(Self.pid(in: failed?.details))
        #expect(try eventually(timeout: 3) { !Self.isAlive(sleeper) })
    }

    @Test func whatACommandLeavesRunningEndsWithIt() throws {
        // `sh` exits at once; the `sleep` it left holds stdout open and would keep the task waiting.
        let harness = try TaskListTests.Harness("""
            {"name": "leaver", "tasks": [{"name": "go", "type": "cli", "cli": {"command": ["sh", "-c", "sleep 30 & echo $!"]}}]}
            """, allowCommands: true)
        let record = try harness.finish(try harness.start("leaver", "{}"), timeout: 10)
        #expect(record.status == .succeeded)
        let done = try harness.store.history(uid: record.uid).first { $0.type == "TaskSucceeded" }
        let sleeper = try #require(Self.pid(in: done?.details))
        #expect(try eventually(timeout: 3) { !Self.isAlive(sleeper) })
    }

    @Test func aCommandsStderrAndExitCodeAreRecorded() throws {
        let harness = try TaskListTests.Harness("""
            {"name": "bad", "tasks": [{"name": "fail", "type": "cli", "cli": {"command": ["sh", "-c", "echo oops >&2; exit 3"]}}]}
            """, allowCommands: true)
        let record = try harness.finish(try harness.start("bad", "{}"))
        #expect(record.error == "Sluice.Command.ExitCode.3")
        let failed = try harness.store.history(uid: record.uid).first { $0.type == "TaskFailed" }
        #expect(failed?.details?.contains(#""stderr":"oops\n""#) == true)
        #expect(failed?.details?.contains(#""exitCode":3"#) == true)
    }

    @Test func valuesOfTheWrongTypeOrRangeAreRefusedWithTheirPointer() {
        let cases: [(String, String)] = [
            (#"{"name": "x", "tasks": [{"name": "a", "type": "noop", "retryDelaySeconds": -1}]}"#, "/tasks/0/retryDelaySeconds"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "noop", "retries": -2}]}"#, "/tasks/0/retries"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://h/", "readTimeOut": "5000"}}]}"#, "/tasks/0/http/readTimeOut"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://h/", "headers": ["X: y"]}}]}"#, "/tasks/0/http/headers"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://h/", "headers": {"X": 5}}}]}"#, "/tasks/0/http/headers/X"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://h/", "method": "GET /x"}}]}"#, "/tasks/0/http/method"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://h/${encoding=base64;env.X}"}}]}"#, "/tasks/0/http/uri"),
            (#"{"name": "x", "tasks": [{"name": "a", "type": "cli", "cli": {"command": ["true"], "executionTimeOut": "10"}}]}"#, "/tasks/0/cli/executionTimeOut"),
        ]
        for (json, pointer) in cases {
            do {
                let value = try Document.parse(json, file: "bad.json", yaml: false)
                _ = try TaskListWorkflow.parse(value, file: "bad.json")
                Issue.record("accepted: \(json)")
            } catch {
                #expect("\(error)".hasPrefix("bad.json: \(pointer):"), "\(json) → \(error)")
            }
        }
    }
}

extension TaskListInputTests {
    @Test func aKeyWithASlashIsOnePointerToken() {
        let json = #"{"name": "x", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://h/", "headers": {"X/Y~Z": 1}}}]}"#
        do {
            _ = try TaskListWorkflow.parse(try Document.parse(json, file: "k.json", yaml: false), file: "k.json")
            Issue.record("accepted")
        } catch {
            #expect("\(error)".hasPrefix("k.json: /tasks/0/http/headers/X~1Y~0Z: expected a string"))
        }
    }
}

/// The rest of the dialect's surface, each against the real server.
extension TaskListInputTests {
    @Test func contentTypeHTMLEncodingAndTheEnvironmentAllowlist() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "page", "inputParameters": ["name"], "tasks": [
               {"name": "post", "type": "http", "http": {"uri": "\(server.baseURL)/echo", "method": "PUT", "contentType": "text/html",
                "headers": {"X-Home": "${env.HOME}", "X-Path": "${env.PATH|hidden}"},
                "body": "<p>${encoding=html;workflow.input.name}</p>"}}]}
            """, environment: ["HOME"])
        #expect(try harness.finish(try harness.start("page", #"{"name": "<b>&'\""}"#)).status == .succeeded)
        let request = try #require(server.requests.first)
        #expect(request.method == "PUT")
        #expect(request.headers["content-type"] == "text/html")
        #expect(request.body == "<p>&lt;b&gt;&amp;&#39;&quot;</p>")
        #expect(request.headers["x-home"] == ProcessInfo.processInfo.environment["HOME"])
        #expect(request.headers["x-path"] == "hidden")   // PATH is not on the allowlist
    }

    @Test func aCommandsJSONStdoutFeedsALaterTask() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "chain", "tasks": [
               {"name": "make", "type": "cli", "cli": {"command": ["printf", "{\\"id\\": 7, \\"tag\\": \\"x-y\\"}"]}},
               {"name": "use", "type": "http", "http": {"uri": "\(server.baseURL)/echo?id=${make.json.id}&tag=${make.json.tag}"}}]}
            """, allowCommands: true)
        #expect(try harness.finish(try harness.start("chain", "{}")).status == .succeeded)
        // Results from earlier tasks go into a uri as they are (only inputs are encoded there, as in Mender).
        #expect(server.requests.first?.path == "/echo?id=7&tag=x-y")
    }

    @Test func aTenMegabyteResponseIsCappedInOutputAndHistory() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "big", "tasks": [{"name": "get", "type": "http", "http": {"uri": "\(server.baseURL)/big?bytes=10485760"}}]}
            """)
        let record = try harness.finish(try harness.start("big", "{}"))
        #expect(record.status == .succeeded)
        let line = try #require(try harness.store.history(uid: record.uid).first { $0.type == "TaskSucceeded" })
        let details = try #require(line.details)
        #expect(details.contains(#""truncated":true"#))
        #expect(details.contains(#""durationMs":"#))
        #expect(details.utf8.count < 20 * 1024)            // the record keeps 16 KiB of body
        #expect((record.output ?? "").utf8.count < 300 * 1024)   // the output keeps 256 KiB
    }

    @Test func aReadTimeoutIsRetriedAndEveryAttemptRecorded() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness("""
            {"name": "slowpoke", "tasks": [{"name": "get", "type": "http", "retries": 1, "retryDelaySeconds": 0,
               "http": {"uri": "\(server.baseURL)/delay?ms=1500", "connectionTimeOut": 1000, "readTimeOut": 200}}]}
            """)
        let record = try harness.finish(try harness.start("slowpoke", "{}"))
        #expect(record.status == .failed)
        #expect(record.error == "States.Timeout")
        let failures = try harness.store.history(uid: record.uid).filter { $0.type == "TaskFailed" }
        #expect(failures.count == 2)
        #expect(server.requests.filter { $0.path.hasPrefix("/delay") }.count == 2)
    }
}
