import Foundation
import Testing
import SluiceCore
import SluiceStates
@testable import SluiceAPI

private typealias StatesJSON = SluiceStates.JSON

/// Mender workflows' routes, as its clients call them.
@Suite struct MenderAPITests {
    let workflow = #"{"name": "decommission", "version": 1, "schemaVersion": 1, "inputParameters": ["device_id"], "tasks": [{"name": "forget", "type": "noop"}]}"#

    @Test func registerStartAndReadAJobInMendersShape() async throws {
        let server = try await APITestServer.start()
        #expect(try await server.request("GET", "/status").json["status"] as? String == "ok")
        #expect(try await server.request("GET", "/api/v1/health").status == 204)
        #expect(try await server.request("POST", "/api/v1/metadata/workflows", body: workflow).status == 201)
        #expect(try await server.request("POST", "/api/v1/metadata/workflows", body: workflow).status == 409)
        let listed = try await server.request("GET", "/api/v1/metadata/workflows")
        let names = (try JSONSerialization.jsonObject(with: listed.body) as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["decommission"])

        let started = try await server.request("POST", "/api/v1/workflow/decommission", body: #"{"device_id": "d1", "extra": 5}"#)
        #expect(started.status == 201)
        #expect(started.json["name"] as? String == "decommission")
        let id = try #require(started.json["id"] as? String)
        var job: [String: Any] = [:]
        for _ in 0..<100 {
            job = try await server.request("GET", "/api/v1/workflow/decommission/\(id)").json
            if job["status"] as? String == "done" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(job["status"] as? String == "done")
        #expect(job["workflowName"] as? String == "decommission")
        let parameters = job["inputParameters"] as? [[String: String]]
        #expect(parameters?.first { $0["name"] == "device_id" }?["value"] == "d1")
        #expect(parameters?.first { $0["name"] == "extra" }?["value"] == "5")
        #expect((job["results"] as? [[String: Any]])?.first?["success"] as? Bool == true)
        #expect(try await server.request("GET", "/api/v1/jobs/\(id)").json["id"] as? String == id)
        #expect(try await server.request("GET", "/api/v1/workflow/other/\(id)").status == 404)
        await server.stop()
    }

    @Test func errorsAreMendersAndABatchIsAllOrNothing() async throws {
        let server = try await APITestServer.start()
        _ = try await server.request("POST", "/api/v1/metadata/workflows", body: workflow)
        let missing = try await server.request("POST", "/api/v1/workflow/decommission", body: #"{"other": 1}"#)
        #expect(missing.status == 400)
        #expect((missing.json["error"] as? String)?.contains("device_id") == true)
        #expect(try await server.request("POST", "/api/v1/workflow/decommission", body: "{nope").status == 400)
        #expect(try await server.request("POST", "/api/v1/workflow/unknown", body: "{}").status == 404)
        let badBatch = try await server.request("POST", "/api/v1/workflow/decommission/batch", body: #"[{"device_id": "a"}, {"x": 1}]"#)
        #expect(badBatch.status == 400)
        #expect(try server.store.statusCounts().values.reduce(0, +) == 0)
        let batch = try await server.request("POST", "/api/v1/workflow/decommission/batch", body: #"[{"device_id": "a"}, {"device_id": "b"}]"#)
        #expect(batch.status == 201)
        #expect((try JSONSerialization.jsonObject(with: batch.body) as? [[String: Any]])?.count == 2)
        #expect(try server.store.statusCounts().values.reduce(0, +) == 2)
        let invalid = try await server.request("POST", "/api/v1/metadata/workflows", body: #"{"name": "w", "tasks": [{"name": "t", "type": "ftp"}]}"#)
        #expect(invalid.status == 400)
        #expect((invalid.json["error"] as? String)?.contains("/tasks/0/type") == true)
        await server.stop()
    }

    @Test func aFailedJobReadsFailedAndYAMLDefinitionsListWithTheirTasks() async throws {
        let server = try await APITestServer.start()
        // Command tasks are off in this server: the task fails, and so does the job.
        let yaml = """
            name: run_tool
            inputParameters: [device_id]
            tasks:
              - name: tool
                type: cli
                cli:
                  command: [echo, "${workflow.input.device_id}"]
            """
        let value = try Document.parse(yaml, file: "run_tool.yaml", yaml: true)
        try server.store.register(definition: DefinitionCompiler.compile(text: yaml, value: value, file: "run_tool.yaml"), now: Date().timeIntervalSince1970)
        let listed = try await server.request("GET", "/api/v1/metadata/workflows")
        let definitions = try JSONSerialization.jsonObject(with: listed.body) as? [[String: Any]]
        let tasks = definitions?.first { $0["name"] as? String == "run_tool" }?["tasks"] as? [[String: Any]]
        #expect(tasks?.first?["name"] as? String == "tool")   // the YAML source, as JSON

        let started = try await server.request("POST", "/api/v1/workflow/run_tool", body: #"{"device_id": "d1"}"#)
        let id = try #require(started.json["id"] as? String)
        var job: [String: Any] = [:]
        for _ in 0..<200 {
            job = try await server.request("GET", "/api/v1/jobs/\(id)").json
            if job["status"] as? String != "pending" && job["status"] as? String != "processing" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(job["status"] as? String == "failed")   // Mender's StatusToString
        let result = (job["results"] as? [[String: Any]])?.first
        #expect(result?["success"] as? Bool == false)
        #expect(result?["type"] as? String == "cli")
        await server.stop()
    }

    @Test func anHTTPTaskResultKeepsTheRequestBodySent() throws {
        let details = StatesJSON(parsing: #"{"request": {"method": "POST", "url": "http://h/x", "headers": {"content-type": "application/json"}, "bodyBytes": 9, "body": "{\"a\":\"b\"}"}, "status": 201, "body": "ok"}"#)
        let result = try #require(StatesJSON(parsing: MenderRoutes.taskResult(step: "call", success: true, details: details)))
        #expect(result["httpRequest"]?["body"] == .string(#"{"a":"b"}"#))
        #expect(result["httpRequest"]?["headers"] == .array([.string("content-type: application/json")]))
        #expect(result["httpResponse"]?["statusCode"] == .int(201))
    }
}
