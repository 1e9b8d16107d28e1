import Foundation
import Testing
import SluiceCore
@testable import SluiceAPI

/// What the API accepted before and now refuses with a 400 naming the field or limit, through
/// a real server: bombs and bad names at `POST /v1/definitions`, machines at Mender's register
/// route, queues and priorities at submit. Nothing is stored for a refused request.
@Suite struct SubmitValidationTests {
    /// The 363-byte billion laughs (see DocumentLimitsTests).
    static let billionLaughs = try! String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/billion-laughs.yaml"), encoding: .utf8)
    static let machine = #"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#

    static func message(_ reply: APITestServer.Reply) -> String {
        ((reply.json["error"] as? [String: Any])?["message"] as? String) ?? (reply.json["error"] as? String) ?? ""
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    @Test func theBillionLaughsYAMLIsA400NamingTheLimit() async throws {
        let server = try await APITestServer.start()
        let reply = try await server.request("POST", "/v1/definitions", body: Self.billionLaughs,
                                             headers: ["Content-Type": "application/yaml"])
        #expect(reply.status == 400)
        #expect(reply.errorCode == "invalid_definition")
        #expect(Self.message(reply).contains("maxExpandedNodes = 250000"), "\(Self.message(reply))")
        // The server still answers, and nothing was stored.
        #expect(try await server.request("GET", "/v1/definitions").status == 200)
        #expect(try server.store.definitions().map(\.name).sorted() == ["noop", "sleep"])
        await server.stop()
    }

    @Test func deepJSONIsA400NamingTheLimit() async throws {
        let server = try await APITestServer.start()
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        let reply = try await server.request("POST", "/v1/definitions?name=deep", body: deep)
        #expect(reply.status == 400)
        #expect(Self.message(reply).contains("maxDepth = 128"), "\(Self.message(reply))")
        await server.stop()
    }

    @Test func badDefinitionNamesAreRefusedAndBuiltInsAreNotShadowed() async throws {
        let server = try await APITestServer.start()
        for name in ["", "a\nb", "a\r\nX-Injected: 1", "../escape", "noop", "sleep"] {
            let reply = try await server.request("POST", "/v1/definitions?name=\(Self.percentEncoded(name))", body: Self.machine)
            #expect(reply.status == 400, "name \(name.debugDescription): \(reply.status)")
        }
        let list = #"{"name": "noop", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://127.0.0.1:1/"}}]}"#
        #expect(try await server.request("POST", "/v1/definitions", body: list).status == 400)
        #expect(try await server.request("POST", "/api/v1/metadata/workflows", body: list).status == 400)
        // noop is still the built-in, version 1, and runs.
        #expect(try server.store.definition(name: "noop", version: nil)?.dialect == "taskchain")
        #expect(try server.store.definitions().map(\.name).sorted() == ["noop", "sleep"])
        #expect(try await server.request("POST", "/v1/definitions?name=fine", body: Self.machine).status == 201)
        await server.stop()
    }

    @Test func mendersRegisterRouteRefusesAStatesLanguageMachine() async throws {
        let server = try await APITestServer.start()
        let reply = try await server.request("POST", "/api/v1/metadata/workflows", body: Self.machine)
        #expect(reply.status == 400)
        #expect(Self.message(reply).contains("expected a task list"), "\(Self.message(reply))")
        #expect(try server.store.definition(name: "request body", version: nil) == nil)
        await server.stop()
    }

    @Test func aMachineWithNoEndOrANegativeWaitIsA400() async throws {
        let server = try await APITestServer.start()
        let loop = #"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}"#
        let wait = #"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": -100, "End": true}}}"#
        let map = #"{"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": -1, "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}}}"#
        let file = #"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "http", "Parameters": {"url": "file:///etc/passwd"}, "End": true}}}"#
        for (body, pointer) in [(loop, "/States"), (wait, "/States/W/Seconds"), (map, "/States/M/MaxConcurrency"), (file, "/States/T/Parameters/url")] {
            let reply = try await server.request("POST", "/v1/definitions?name=m", body: body)
            #expect(reply.status == 400)
            #expect(Self.message(reply).hasPrefix("at \(pointer):"), "\(Self.message(reply))")
        }
        #expect(try server.store.definition(name: "m", version: nil) == nil)
        await server.stop()
    }

    @Test func aQueueNoPoolCanServeOrAPriorityOutOfRangeIsA400() async throws {
        let server = try await APITestServer.start()
        let cases: [(String, String)] = [
            (#"{"definition": "noop", "queue": ""}"#, "/queue"),
            (#"{"definition": "noop", "queue": "two\nlines"}"#, "/queue"),
            (#"{"definition": "noop", "queue": "with space"}"#, "/queue"),
            (#"{"definition": "noop", "priority": 1e300}"#, "/priority"),
            (#"{"definition": "noop", "priority": -1e300}"#, "/priority"),
            (#"{"definition": "noop", "priority": 1.5}"#, "/priority"),
            (#"{"definition": "noop", "priority": 9223372036854775807}"#, "/priority"),
            (#"{"definition": "noop", "priority": true}"#, "/priority"),
        ]
        for (body, field) in cases {
            let reply = try await server.request("POST", "/v1/executions", body: body)
            #expect(reply.status == 400, "\(body): \(reply.status)")
            #expect(Self.message(reply).hasPrefix(field), "\(body): \(Self.message(reply))")
        }
        #expect(try server.store.statusCounts().values.reduce(0, +) == 0)
        let fine = try await server.request("POST", "/v1/executions", body: #"{"definition": "noop", "queue": "default", "priority": -5}"#)
        #expect(fine.status == 201)
        await server.stop()
    }
}
