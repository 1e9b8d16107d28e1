import Foundation
import Hummingbird
import SluiceCore

/// `/v1/executions`: submit, get, history.
struct ExecutionRoutes {
    let engine: Engine
    let maxBodyBytes: Int

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/executions") { request, _ in try await submit(request) }
        router.get("/v1/executions/:id") { _, context in try get(context.parameters.require("id")) }
        router.get("/v1/executions/:id/history") { _, context in try history(context.parameters.require("id")) }
    }

    func submit(_ request: Request) async throws -> Response {
        let body = try await RequestBody.read(request, limit: maxBodyBytes)
        try body.allowOnly(["definition", "version", "input", "queue", "namespace", "idempotencyKey", "priority", "startAt"])
        let definition = try body.string("definition", required: true)!
        var runAt: Double?
        if let startAt = try body.string("startAt") {
            guard let parsed = Timestamp.parse(startAt) else { throw APIError.invalid("/startAt must be an RFC 3339 timestamp") }
            runAt = parsed
        }
        let submission = Submission(
            definition: definition, version: try body.int("version"), input: try body.json("input", default: "{}"),
            queue: try body.string("queue") ?? "default", priority: try body.int("priority") ?? 0,
            namespace: try body.string("namespace"), idempotencyKey: try body.string("idempotencyKey"), runAt: runAt)
        let receipt: SubmitReceipt
        do {
            receipt = try engine.submit(submission)
        } catch let error as StoreError {
            switch error {
            case .unknownDefinition: throw APIError.notFound(error.description)
            default: throw APIError(.unprocessableContent, "cannot_start", error.description)
            }
        }
        guard let record = try engine.store.execution(uid: receipt.uid) else { throw APIError.notFound("execution \(receipt.uid) vanished") }
        return JSONResponse.make(status: receipt.existed ? .ok : .created, body: ExecutionJSON.render(record))
    }

    func get(_ id: String) throws -> Response {
        guard let record = try engine.store.execution(uid: id) else { throw APIError.notFound("no execution \(id)") }
        return JSONResponse.make(body: ExecutionJSON.render(record))
    }

    func history(_ id: String) throws -> Response {
        guard try engine.store.execution(uid: id) != nil else { throw APIError.notFound("no execution \(id)") }
        let events = try engine.store.history(uid: id).map { event in
            JSONText.object(["at": Timestamp.render(event.at), "type": .string(event.type),
                             "step": event.step.map { .string($0) } ?? .null,
                             "attempt": event.attempt.map { .int($0) } ?? .null,
                             "details": event.details.map { .raw($0) } ?? .null])
        }
        return JSONResponse.make(body: JSONText.object(["id": .string(id), "events": .raw("[" + events.joined(separator: ",") + "]")]))
    }
}

enum ExecutionJSON {
    static func render(_ record: ExecutionRecord) -> String {
        JSONText.object([
            "id": .string(record.uid),
            "definition": .string(record.definition),
            "version": .int(record.version),
            "status": .string(record.status.rawValue),
            "queue": .string(record.queue),
            "input": .raw(record.input),
            "output": record.output.map { .raw($0) } ?? .null,
            "error": record.error.map { .string($0) } ?? .null,
            "cause": record.cause.map { .string($0) } ?? .null,
            "attempts": .int(record.attempts),
            "createdAt": Timestamp.render(record.createdAt),
            "startedAt": Timestamp.render(record.startedAt),
            "finishedAt": Timestamp.render(record.finishedAt),
        ])
    }
}
