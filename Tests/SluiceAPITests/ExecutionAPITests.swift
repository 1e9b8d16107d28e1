import Foundation
import Testing
import SluiceAPI
import SluiceCore

/// The API over loopback with real requests.
@Suite struct ExecutionAPITests {
    @Test func submitThenGetThenHistory() async throws {
        let server = try await APITestServer.start()
        let created = try await server.request("POST", "/v1/executions", body: #"{"definition":"noop","input":{"a":[1,2]}}"#)
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? String)
        #expect((created.json["input"] as? [String: Any])?["a"] as? [Int] == [1, 2])
        var status = ""
        for _ in 0..<200 where status != "succeeded" {
            status = try await server.request("GET", "/v1/executions/\(id)").json["status"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(status == "succeeded")
        let history = try await server.request("GET", "/v1/executions/\(id)/history")
        let types = (history.json["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
        #expect(types == ["ExecutionSubmitted", "TaskScheduled", "TaskSucceeded", "ExecutionSucceeded"])
        await server.stop()
    }

    @Test func sameIdempotencyKeyReturnsTheFirstExecution() async throws {
        let server = try await APITestServer.start()
        let first = try await server.request("POST", "/v1/executions", body: #"{"definition":"noop","idempotencyKey":"k"}"#)
        let second = try await server.request("POST", "/v1/executions", body: #"{"definition":"noop","idempotencyKey":"k"}"#)
        #expect(first.status == 201)
        #expect(second.status == 200)
        #expect(first.json["id"] as? String == second.json["id"] as? String)
        #expect(try server.store.statusCounts().values.reduce(0, +) == 1)
        await server.stop()
    }

    @Test func badInputGetsA4xxWithACodeAndNothingIsStored() async throws {
        let server = try await APITestServer.start(maxBodyBytes: 1024)
        let cases: [(String, Int, String)] = [
            ("{not json", 400, "invalid_json"),
            (#"{"definition":"noop","bogus":1}"#, 400, "invalid_request"),
            (#"{"input":{}}"#, 400, "invalid_request"),
            (#"{"definition":"noop","priority":"high"}"#, 400, "invalid_request"),
            (#"{"definition":"noop","startAt":"tomorrow"}"#, 400, "invalid_request"),
            (#"{"definition":"missing"}"#, 404, "not_found"),
            ("[1,2]", 400, "invalid_request"),
            (#"{"definition":"noop","input":""# + String(repeating: "x", count: 2000) + #""}"#, 413, "body_too_large"),
        ]
        for (body, status, code) in cases {
            let reply = try await server.request("POST", "/v1/executions", body: body)
            #expect(reply.status == status, "\(body.prefix(40))")
            #expect(reply.errorCode == code, "\(body.prefix(40))")
        }
        #expect(try server.store.statusCounts().values.reduce(0, +) == 0)
        #expect(try await server.request("GET", "/v1/executions/nope").status == 404)
        await server.stop()
    }

    @Test func queuesPauseAndResumeAndHealthReportsComponents() async throws {
        let server = try await APITestServer.start()
        let paused = try await server.request("POST", "/v1/queues/default/pause")
        #expect(paused.json["paused"] as? Bool == true)
        _ = try await server.request("POST", "/v1/executions", body: #"{"definition":"noop"}"#)
        try await Task.sleep(for: .milliseconds(200))
        let queues = try await server.request("GET", "/v1/queues")
        let queue = (queues.json["queues"] as? [[String: Any]])?.first { $0["name"] as? String == "default" }
        #expect(queue?["ready"] as? Int == 1)
        #expect(try await server.request("POST", "/v1/queues/default/resume").json["paused"] as? Bool == false)
        let health = try await server.request("GET", "/v1/health")
        #expect(health.status == 200)
        #expect((health.json["components"] as? [Any])?.count == 4)
        await server.stop()
    }

    @Test func tokenIsRequiredWhenSetAndBeyondLoopback() async throws {
        #expect(throws: APIConfigurationError.self) {
            try APIConfiguration(host: "0.0.0.0", port: 0).validate()
        }
        let server = try await APITestServer.start(token: "s3cret")
        #expect(try await server.request("GET", "/v1/queues").status == 401)
        #expect(try await server.request("GET", "/v1/queues", headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(try await server.request("GET", "/v1/queues", headers: ["Authorization": "Bearer s3cret"]).status == 200)
        await server.stop()
    }
}

@Suite struct ListCancelMetricsTests {
    @Test func listFiltersAndPagesWithACursor() async throws {
        let server = try await APITestServer.start()
        #expect(try await server.request("POST", "/v1/queues/default/pause").status == 200)
        var ids: [String] = []
        for i in 0..<5 {
            let reply = try await server.request("POST", "/v1/executions", body: #"{"definition":"noop","namespace":"n\#(i % 2)"}"#)
            ids.append(try #require(reply.json["id"] as? String))
        }
        let page1 = try await server.request("GET", "/v1/executions?limit=2")
        let first = (page1.json["executions"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(first == [ids[4], ids[3]])
        let cursor = try #require(page1.json["nextCursor"] as? String)
        let page2 = try await server.request("GET", "/v1/executions?limit=2&cursor=\(cursor)")
        #expect((page2.json["executions"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[2], ids[1]])
        let filtered = try await server.request("GET", "/v1/executions?namespace=n1")
        #expect((filtered.json["executions"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[3], ids[1]])
        #expect(filtered.json["nextCursor"] is NSNull)
        #expect(try await server.request("GET", "/v1/executions?status=weird").status == 400)
        #expect(try await server.request("GET", "/v1/executions?colour=red").status == 400)
        await server.stop()
    }

    @Test func cancelStopsAWaitingExecutionOnce() async throws {
        let server = try await APITestServer.start()
        _ = try await server.request("POST", "/v1/queues/default/pause")
        let created = try await server.request("POST", "/v1/executions", body: #"{"definition":"noop"}"#)
        let id = try #require(created.json["id"] as? String)
        let cancelled = try await server.request("POST", "/v1/executions/\(id)/cancel", body: #"{"reason":"not needed"}"#)
        #expect(cancelled.status == 200)
        #expect(cancelled.json["status"] as? String == "cancelled")
        #expect(cancelled.json["cause"] as? String == "not needed")
        let again = try await server.request("POST", "/v1/executions/\(id)/cancel")
        #expect(again.status == 409)
        #expect(again.errorCode == "already_finished")
        _ = try await server.request("POST", "/v1/queues/default/resume")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await server.request("GET", "/v1/executions/\(id)").json["status"] as? String == "cancelled")
        #expect(try await server.request("POST", "/v1/executions/nope/cancel").status == 404)
        await server.stop()
    }

    @Test func metricsExposeCountsDepthAndTaskLatency() async throws {
        let server = try await APITestServer.start()
        for _ in 0..<3 { _ = try await server.request("POST", "/v1/executions", body: #"{"definition":"noop"}"#) }
        var text = ""
        for _ in 0..<100 {
            text = String(decoding: try await server.request("GET", "/metrics").body, as: UTF8.self)
            if text.contains(#"sluice_executions{status="succeeded"} 3"#) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(text.contains(#"sluice_executions{status="succeeded"} 3"#))
        #expect(text.contains(#"sluice_queue_jobs{queue="default",state="ready"} 0"#))
        #expect(text.contains(#"sluice_tasks_total{type="noop",outcome="succeeded"} 3"#))
        #expect(text.contains("sluice_task_duration_seconds_bucket"))
        await server.stop()
    }
}

@Suite struct EventStreamTests {
    @Test func streamsStatusChangesUntilTheExecutionFinishes() async throws {
        let server = try await APITestServer.start()
        let created = try await server.request("POST", "/v1/executions", body: #"{"definition":"sleep","input":{"ms":300}}"#)
        let id = try #require(created.json["id"] as? String)
        // The stream ends by itself after the event that shows the execution finished.
        let reply = try await server.request("GET", "/v1/executions/\(id)/events")
        let text = String(decoding: reply.body, as: UTF8.self)
        let statuses = text.split(separator: "\n").filter { $0.hasPrefix("data: ") }.compactMap { line -> String? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
            return object?["status"] as? String
        }
        #expect(statuses.last == "succeeded")
        #expect(statuses.contains("running"))
        #expect(text.contains("event: execution"))
        #expect(try await server.request("GET", "/v1/executions/nope/events").status == 404)
        await server.stop()
    }
}

@Suite struct NumberFieldTests {
    /// On Linux, JSONSerialization's 0 and 1 answer `is Bool`; they must still count as integers.
    @Test func integerFieldsAcceptZeroAndOneAndRefuseBooleans() async throws {
        let server = try await APITestServer.start()
        #expect(try await server.request("POST", "/v1/executions", body: #"{"definition":"noop","version":1,"priority":0}"#).status == 201)
        #expect(try await server.request("POST", "/v1/executions", body: #"{"definition":"noop","priority":1}"#).status == 201)
        #expect(try await server.request("POST", "/v1/executions", body: #"{"definition":"noop","priority":true}"#).status == 400)
        await server.stop()
    }
}

@Suite struct StaleHealthTests {
    @Test func aStaleComponentMakesHealth503AndDegraded() async throws {
        let server = try await APITestServer.start()
        #expect(try await server.request("GET", "/v1/health").status == 200)
        // A scanner that beat two minutes ago with a 15 s TTL: down.
        try server.store.beat([Heartbeat(component: "server.scanner", ttl: 15)], owner: LeaseOwner.current(),
                              now: Date().timeIntervalSince1970 - 120)
        let health = try await server.request("GET", "/v1/health")
        #expect(health.status == 503)
        #expect(health.json["status"] as? String == "degraded")
        let stale = (health.json["components"] as? [[String: Any]])?.first { $0["component"] as? String == "server.scanner" }
        #expect(stale?["stale"] as? Bool == true)
        #expect(try await server.request("GET", "/api/v1/health").status == 503)
        await server.stop()
    }
}
