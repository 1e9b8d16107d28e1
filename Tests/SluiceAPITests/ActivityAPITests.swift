import Foundation
import Testing
import SluiceCore

/// Activity tasks done by an external worker over the API: claim (long poll), heartbeat,
/// report success or failure with the task token.
@Suite struct ActivityAPITests {
    let machine = """
        {"StartAt": "Resize", "States": {
          "Resize": {"Type": "Task", "Resource": "resize-image", "Parameters": {"url.$": "$.image", "width": 300},
                     "ResultPath": "$.resized", "Catch": [{"ErrorEquals": ["Resize.Failed"], "ResultPath": "$.problem", "Next": "Done"}], "Next": "Done"},
          "Done": {"Type": "Succeed"}}}
        """

    @Test func aWorkerClaimsHeartbeatsAndReportsSuccess() async throws {
        let server = try await APITestServer.start()
        #expect(try await server.request("POST", "/v1/definitions?name=resize", body: machine).status == 201)
        // Nothing to do yet: the long poll ends empty.
        #expect(try await server.request("POST", "/v1/activities/resize-image/claim?waitSeconds=0.2").status == 204)
        let started = try await server.request("POST", "/v1/executions", body: #"{"definition": "resize", "input": {"image": "a.png"}}"#)
        let id = try #require(started.json["id"] as? String)
        let claim = try await server.request("POST", "/v1/activities/resize-image/claim?waitSeconds=5&heartbeatSeconds=30")
        #expect(claim.status == 200)
        let token = try #require(claim.json["taskToken"] as? String)
        #expect((claim.json["input"] as? [String: Any])?["url"] as? String == "a.png")
        #expect((claim.json["input"] as? [String: Any])?["width"] as? Int == 300)
        #expect(claim.json["execution"] as? String == id)
        #expect(try await server.request("POST", "/v1/activities/tasks/\(token)/heartbeat").status == 200)
        #expect(try await server.request("POST", "/v1/activities/tasks/\(token)/success", body: #"{"output": {"url": "a-300.png"}}"#).status == 200)
        var status = ""
        var execution: [String: Any] = [:]
        for _ in 0..<100 where status != "succeeded" {
            execution = try await server.request("GET", "/v1/executions/\(id)").json
            status = execution["status"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(status == "succeeded")
        #expect(((execution["output"] as? [String: Any])?["resized"] as? [String: Any])?["url"] as? String == "a-300.png")
        // The token is spent.
        #expect(try await server.request("POST", "/v1/activities/tasks/\(token)/heartbeat").status == 410)
        #expect(try await server.request("POST", "/v1/activities/tasks/nonsense/success", body: "{}").status == 400)
        await server.stop()
    }

    @Test func activityNamesExpandWithTheExecutionsNamespace() async throws {
        let server = try await APITestServer.start()
        _ = try await server.request("POST", "/v1/definitions?name=resize", body: machine)
        _ = try await server.request("POST", "/v1/executions", body: #"{"definition": "resize", "namespace": "prod", "input": {"image": "c.png"}}"#)
        #expect(try await server.request("POST", "/v1/activities/resize-image/claim?waitSeconds=0.3").status == 204)
        let claim = try await server.request("POST", "/v1/activities/prod--resize-image/claim?waitSeconds=5")
        #expect(claim.status == 200)
        #expect((claim.json["input"] as? [String: Any])?["url"] as? String == "c.png")
        await server.stop()
    }

    @Test func aSilentWorkerFailsTheTaskWithHeartbeatTimeout() async throws {
        let server = try await APITestServer.start()
        let silent = #"{"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "slow-job", "HeartbeatSeconds": 1, "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.timeout", "Next": "Done"}], "End": true}, "Done": {"Type": "Succeed"}}}"#
        _ = try await server.request("POST", "/v1/definitions?name=silent", body: silent)
        let id = try #require(try await server.request("POST", "/v1/executions", body: #"{"definition": "silent"}"#).json["id"] as? String)
        let claim = try await server.request("POST", "/v1/activities/slow-job/claim?waitSeconds=5&heartbeatSeconds=600")
        #expect(claim.json["heartbeatSeconds"] as? Double == 1)   // the state's HeartbeatSeconds wins
        // No heartbeat: the rescuer (every 5 s) fails the task, and Catch takes it.
        var execution: [String: Any] = [:]
        for _ in 0..<200 where execution["status"] as? String != "succeeded" {
            execution = try await server.request("GET", "/v1/executions/\(id)").json
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(((execution["output"] as? [String: Any])?["timeout"] as? [String: Any])?["Error"] as? String == "States.HeartbeatTimeout")
        let token = try #require(claim.json["taskToken"] as? String)
        #expect(try await server.request("POST", "/v1/activities/tasks/\(token)/success", body: "{}").status == 410)
        await server.stop()
    }

    @Test func aReportedFailureGoesThroughCatch() async throws {
        let server = try await APITestServer.start()
        _ = try await server.request("POST", "/v1/definitions?name=resize", body: machine)
        let id = try #require(try await server.request("POST", "/v1/executions", body: #"{"definition": "resize", "input": {"image": "b.png"}}"#).json["id"] as? String)
        let token = try #require(try await server.request("POST", "/v1/activities/resize-image/claim?waitSeconds=5").json["taskToken"] as? String)
        #expect(try await server.request("POST", "/v1/activities/tasks/\(token)/failure", body: #"{"error": "Resize.Failed", "cause": "not an image"}"#).status == 200)
        var execution: [String: Any] = [:]
        for _ in 0..<100 where execution["status"] as? String != "succeeded" {
            execution = try await server.request("GET", "/v1/executions/\(id)").json
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(((execution["output"] as? [String: Any])?["problem"] as? [String: Any])?["Cause"] as? String == "not an image")
        await server.stop()
    }
}
