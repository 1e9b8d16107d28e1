import Foundation
import Testing
import SluiceStates
@testable import SluiceCore

/// A task resolves only the `${secrets.NAME}` its definition wrote: the same text arriving
/// as data (an input, a selected value, a payload key) goes out as text.
@Suite struct SecretScopeTests {
    @Test func aSecretPlaceholderInAnInputIsSentAsText() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let secret = "s3cr3t-value-42"
        let harness = try TaskListTests.Harness("""
            {"name": "relay", "inputParameters": ["note"], "tasks": [
               {"name": "auth", "type": "http", "http": {"uri": "\(server.baseURL)/echo?n=${workflow.input.note}", "method": "POST",
                "headers": {"X-Api-Key": "${secrets.API_KEY}"}, "json": {"note": "${workflow.input.note}"}}},
               {"name": "forward", "type": "http", "http": {"uri": "\(server.baseURL)/echo", "method": "POST",
                "json": {"note": "${workflow.input.note}"}}}]}
            """, secrets: ["API_KEY": secret, "OTHER": "other-secret-99"])
        // In `forward` (which names no secret) the placeholder is the input's text; in `auth`,
        // which names API_KEY only, OTHER stays text as well.
        let record = try harness.finish(try harness.start("relay", #"{"note": "${secrets.API_KEY}${secrets.OTHER}"}"#))
        #expect(record.status == .succeeded)
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests[0].headers["x-api-key"] == secret)
        #expect(!requests[0].body.contains("other-secret-99"))
        #expect(requests[0].body.contains("${secrets.OTHER}"))
        #expect(requests[1].body == #"{"note":"${secrets.API_KEY}${secrets.OTHER}"}"#)
    }

    @Test func aStatesTaskIgnoresASecretListItsInputBrings() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        // No Parameters: the job's payload is the selected input, keys and all.
        let machine = #"{"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "http", "InputPath": "$.request", "End": true}}}"#
        let harness = try TaskListTests.Harness(machine, secrets: ["API_KEY": "s3cr3t-value-42"], name: "forwarder")
        let input = #"{"request": {"url": "\#(server.baseURL)/echo", "method": "POST", "body": "${secrets.API_KEY}", "sluice.secrets": ["API_KEY"]}}"#
        let record = try harness.finish(try harness.start("forwarder", input))
        #expect(record.status == .succeeded)
        #expect(server.requests.first?.body == "${secrets.API_KEY}")
    }

    @Test func sealingKeepsOnlyTheDefinitionsNames() throws {
        // A key spelled with an escape is the same key once parsed: it is dropped too.
        let forged = #"{"url": "http://h/${secrets.A}", "sluice\u002esecrets": ["A"]}"#
        let sealed = try #require(JSON(parsing: SecretScope.seal(forged, names: [])))
        #expect(SecretScope.allowed(in: sealed).isEmpty)
        let granted = try #require(JSON(parsing: SecretScope.seal(forged, names: ["B"])))
        #expect(SecretScope.allowed(in: granted) == ["B"])
        #expect(SecretScope.seal(#"{"url": "http://h/"}"#, names: []) == #"{"url": "http://h/"}"#)   // nothing to seal: unparsed
        // A backslash before any other character is no JSON escape: refused, not read as the key.
        #expect(JSON(parsing: #"{"sluice\.secrets": ["A"]}"#) == nil)
        #expect(SecretScope.names(inParameters: JSON(parsing: #"{"a": "${secrets.X} ${secrets.Y}", "b.$": "$.x", "c": ["${secrets.X}"]}"#)!) == ["X", "Y"])
    }

    @Test func aCommandDoesNotInheritSluicesSecretsOrToken() throws {
        setenv("SLUICE_SECRET_CHILD_TEST", "inherited", 1)
        let harness = try TaskListTests.Harness("""
            {"name": "env", "tasks": [{"name": "show", "type": "cli", "cli": {"command": ["sh", "-c", "echo \\"[$SLUICE_SECRET_CHILD_TEST][$HOME]\\""]}}]}
            """, allowCommands: true)
        let record = try harness.finish(try harness.start("env", "{}"))
        #expect(record.status == .succeeded)
        let line = try harness.store.history(uid: record.uid).first { $0.type == "TaskSucceeded" }
        #expect(line?.details?.contains("[][\(ProcessInfo.processInfo.environment["HOME"] ?? "")]") == true)
    }

    @Test func resolvingLeavesUnnamedPlaceholdersAsText() throws {
        let store = SecretStore(values: ["A": "1", "B": "2"])
        #expect(try store.resolve("${secrets.A}-${secrets.B}-${secrets.C}", allowing: ["A"]) == "1-${secrets.B}-${secrets.C}")
        #expect(throws: SecretStore.MissingSecret.self) { try store.resolve("${secrets.C}", allowing: ["C"]) }
    }
}
