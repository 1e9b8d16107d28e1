import Foundation
import Hummingbird
import SluiceCore

/// `/v1/executions`: submit, get, history.
struct ExecutionRoutes {
    let engine: Engine
    let maxBodyBytes: Int

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/executions") { request, _ in try await submit(request) }
        router.get("/v1/executions/:id") { _, context in try get(context.pathParameter("id")) }
        router.get("/v1/executions/:id/history") { _, context in try history(context.pathParameter("id")) }
        router.get("/v1/executions") { request, _ in try list(request) }
        router.post("/v1/executions/:id/cancel") { request, context in try await cancel(request, context.pathParameter("id")) }
        router.post("/v1/executions/:id/resume") { request, context in try await resume(request, context.pathParameter("id")) }
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
            queue: try body.queue(), priority: try body.priority(),
            namespace: try body.namespace(), idempotencyKey: try body.idempotencyKey(), runAt: runAt)
        let receipt: SubmitReceipt
        do {
            receipt = try await engine.submitGrouped([submission])[0]
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

    /// `GET /v1/executions?status=&definition=&queue=&namespace=&limit=&cursor=`, newest first.
    /// `nextCursor` is null on the last page.
    func list(_ request: Request) throws -> Response {
        let parameters = request.uri.queryParameters
        let known: Set<String> = ["status", "definition", "queue", "namespace", "limit", "cursor"]
        if let unknown = parameters.map({ String($0.key) }).sorted().first(where: { !known.contains($0) }) {
            throw APIError.invalid("unknown query parameter \(unknown); allowed: \(known.sorted().joined(separator: ", "))")
        }
        var query = ExecutionQuery()
        if let status = parameters["status"].map(String.init) {
            guard let parsed = ExecutionStatus(rawValue: status) else {
                throw APIError.invalid("status must be one of \(ExecutionStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = parsed
        }
        query.definition = parameters["definition"].map(String.init)
        query.queue = parameters["queue"].map(String.init)
        query.namespace = parameters["namespace"].map(String.init)
        query.before = parameters["cursor"].map(String.init)
        if let limit = parameters["limit"].map(String.init) {
            guard let value = Int(limit), (1...1000).contains(value) else { throw APIError.invalid("limit must be an integer from 1 to 1000") }
            query.limit = value
        }
        let records = try engine.store.executions(query)
        let next: JSONText.Value = records.count == query.limit ? .string(records.last!.uid) : .null
        return JSONResponse.make(body: JSONText.object(["executions": .raw("[" + records.map(ExecutionJSON.render).joined(separator: ",") + "]"),
                                                        "nextCursor": next]))
    }

    func cancel(_ request: Request, _ id: String) async throws -> Response {
        let body = try await RequestBody.read(request, limit: maxBodyBytes)
        try body.allowOnly(["reason"])
        switch try engine.store.cancel(uid: id, reason: try body.string("reason"), now: Date().timeIntervalSince1970) {
        case nil:
            throw APIError.notFound("no execution \(id)")
        case let .alreadyFinished(status)?:
            throw APIError(.conflict, "already_finished", "execution \(id) already finished: \(status.rawValue)")
        case .cancelled?:
            return try get(id)
        }
    }

    /// Runs a failed or cancelled execution again from the step that failed, or `{"from": step}`.
    func resume(_ request: Request, _ id: String) async throws -> Response {
        let body = try await RequestBody.read(request, limit: maxBodyBytes)
        try body.allowOnly(["from"])
        switch try engine.store.resume(uid: id, from: try body.string("from"), now: Date().timeIntervalSince1970) {
        case nil:
            throw APIError.notFound("no execution \(id)")
        case let .notResumable(status)?:
            throw APIError(.conflict, "not_resumable", "execution \(id) is \(status.rawValue); only failed, cancelled or timed-out executions resume")
        case let .refused(reason)?:
            throw APIError(.unprocessableContent, "cannot_resume", reason)
        case .resumed?:
            engine.noteJobsAdded()
            return try get(id)
        }
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
            "namespace": record.namespace.map { .string($0) } ?? .null,
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
