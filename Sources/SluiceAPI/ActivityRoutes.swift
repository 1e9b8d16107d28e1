import Foundation
import Hummingbird
import SluiceCore

/// External workers for activity tasks (Task states whose Resource names no executor):
/// `POST /v1/activities/{name}/claim?waitSeconds=&heartbeatSeconds=` long-polls for a task
/// (204 when none came), then `POST /v1/activities/tasks/{token}/heartbeat`, `/success`
/// (`{"output": …}`) or `/failure` (`{"error", "cause"}`).
struct ActivityRoutes {
    let engine: Engine
    let maxBodyBytes: Int

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/activities/:name/claim") { request, context in try await claim(request, context.pathParameter("name")) }
        router.post("/v1/activities/tasks/:token/heartbeat") { request, context in try heartbeat(request, context.pathParameter("token")) }
        router.post("/v1/activities/tasks/:token/success") { request, context in try await report(request, context.pathParameter("token"), success: true) }
        router.post("/v1/activities/tasks/:token/failure") { request, context in try await report(request, context.pathParameter("token"), success: false) }
    }

    private func seconds(_ request: Request, _ name: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else { return value }
        guard let number = Double(text), range.contains(number) else {
            throw APIError.invalid("\(name) must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func claim(_ request: Request, _ name: String) async throws -> Response {
        let wait = try seconds(request, "waitSeconds", default: 20, range: 0...60)
        let heartbeat = try seconds(request, "heartbeatSeconds", default: 60, range: 1...86_400)
        let deadline = Date().addingTimeInterval(wait)
        while true {
            if let task = try engine.claimActivity(name, heartbeatSeconds: heartbeat) {
                return JSONResponse.make(body: JSONText.object([
                    "taskToken": .string(task.token), "activity": .string(name), "execution": .string(task.job.executionUID),
                    "state": .string(task.job.step), "attempt": .int(task.job.attempt), "input": .raw(task.input),
                    "heartbeatSeconds": .number(task.leaseSeconds),
                ]))
            }
            if Date() >= deadline { return Response(status: .noContent) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func heartbeat(_ request: Request, _ token: String) throws -> Response {
        let seconds = try seconds(request, "heartbeatSeconds", default: 60, range: 1...86_400)
        do { try engine.heartbeatActivity(token: token, heartbeatSeconds: seconds) } catch let error as ActivityError {
            throw APIError(error == .badToken ? .badRequest : .gone, error == .badToken ? "bad_token" : "lease_lost", error.description)
        }
        return JSONResponse.make(body: #"{"ok":true}"#)
    }

    func report(_ request: Request, _ token: String, success: Bool) async throws -> Response {
        let body = try await RequestBody.read(request, limit: maxBodyBytes)
        let result: TaskOutcome.Result
        if success {
            try body.allowOnly(["output"])
            result = .succeeded(output: try body.json("output", default: "null"))
        } else {
            try body.allowOnly(["error", "cause"])
            result = .failed(error: try body.string("error") ?? "States.TaskFailed", cause: try body.string("cause") ?? "",
                             retryable: true, retryAfter: nil)
        }
        do { try engine.reportActivity(token: token, result: result) } catch let error as ActivityError {
            throw APIError(error == .badToken ? .badRequest : .gone, error == .badToken ? "bad_token" : "lease_lost", error.description)
        }
        return JSONResponse.make(body: #"{"ok":true}"#)
    }
}
