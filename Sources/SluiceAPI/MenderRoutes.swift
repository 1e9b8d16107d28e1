import Foundation
import SluiceStates
import Hummingbird
import SluiceCore

/// The routes of Mender's workflows service, so its clients work unchanged: `/status`,
/// `/api/v1/health`, start (`/api/v1/workflow/{name}`, and `/batch`, which is atomic here),
/// job status in Mender's job shape, and workflow metadata. Errors are Mender's `{"error": …}`.
struct MenderRoutes {
    let engine: Engine
    let maxBodyBytes: Int

    func register(on router: Router<BasicRequestContext>) {
        router.get("/status") { _, _ in JSONResponse.make(body: #"{"status":"ok"}"#) }
        router.get("/api/v1/health") { _, _ in try health() }
        for prefix in ["/api/v1", "/api"] {
            router.post("\(prefix)/workflow/:name") { request, context in try await start(request, context.pathParameter("name")) }
            router.post("\(prefix)/workflow/:name/batch") { request, context in try await batch(request, context.pathParameter("name")) }
            router.get("\(prefix)/workflow/:name/:id") { _, context in
                try job(context.pathParameter("id"), name: context.pathParameter("name"))
            }
            router.get("\(prefix)/metadata/workflows") { _, _ in try workflows() }
            router.post("\(prefix)/metadata/workflows") { request, _ in try await registerWorkflow(request) }
        }
        router.get("/api/v1/jobs/:id") { _, context in try job(context.pathParameter("id"), name: nil) }
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        JSONResponse.make(status: status, body: JSONText.object(["error": .string(message)]))
    }

    func health() throws -> Response {
        let now = Date().timeIntervalSince1970
        if let stale = try engine.store.heartbeats().first(where: { $0.isStale(now: now) }) {
            return Self.error(.serviceUnavailable, "component \(stale.component) has not beaten for \(Int(now - stale.beatAt)) s")
        }
        return Response(status: .noContent)
    }

    private func parameters(_ request: Request) async throws -> Any? {
        let buffer = try await RequestBody.collect(request, limit: maxBodyBytes)
        return try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])
    }

    private func submission(_ name: String, _ object: [String: Any]) -> Submission {
        Submission(definition: name, input: SluiceStates.JSON(foundation: object).description)
    }

    func start(_ request: Request, _ name: String) async throws -> Response {
        guard let object = try await parameters(request) as? [String: Any] else {
            return Self.error(.badRequest, "Unable to parse the input parameters: expected a JSON object")
        }
        return try await submit(name, [object], batch: false)
    }

    func batch(_ request: Request, _ name: String) async throws -> Response {
        guard let array = try await parameters(request) as? [Any], let objects = array as? [[String: Any]] else {
            return Self.error(.badRequest, "Unable to parse the input parameters: expected a JSON array of objects")
        }
        return try await submit(name, objects, batch: true)
    }

    /// All submissions in one transaction: a batch starts every job or none.
    private func submit(_ name: String, _ objects: [[String: Any]], batch: Bool) async throws -> Response {
        do {
            let receipts = try await engine.submitGrouped(objects.map { submission(name, $0) })
            let items = receipts.map { JSONText.object(["id": .string($0.uid), "name": .string(name)]) }
            return JSONResponse.make(status: .created, body: batch ? "[" + items.joined(separator: ",") + "]" : items[0])
        } catch let error as StoreError {
            switch error {
            case .unknownDefinition: return Self.error(.notFound, "Workflow not found")
            case let .cannotStart(_, reason): return Self.error(.badRequest, reason)
            case .invalidCompiledDefinition: return Self.error(.internalServerError, error.description)
            }
        }
    }

    /// A job in Mender's shape: input parameters as name/value strings, status
    /// pending/processing/done/failed (Mender's `StatusToString`), and each task's last result.
    func job(_ id: String, name: String?) throws -> Response {
        guard let record = try engine.store.execution(uid: id), name == nil || record.definition == name else {
            return Self.error(.notFound, "not found")
        }
        var parameters: [String] = []
        if case let .object(pairs)? = SluiceStates.JSON(parsing: record.input) {
            parameters = pairs.map { JSONText.object(["name": .string($0.0), "value": .string($0.1.plainText)]) }
        }
        let status: String
        switch record.status {
        case .pending: status = "pending"
        case .running: status = "processing"
        case .succeeded: status = "done"
        case .failed, .cancelled, .timedOut: status = "failed"
        }
        var results: [(String, String)] = []
        let types = try taskTypes(record.definition, version: record.version)
        for event in try engine.store.history(uid: id) where event.type == "TaskSucceeded" || event.type == "TaskFailed" {
            guard let step = event.step else { continue }
            let result = Self.taskResult(step: step, type: types[step], success: event.type == "TaskSucceeded",
                                         details: event.details.flatMap { SluiceStates.JSON(parsing: $0) })
            results.removeAll { $0.0 == step }
            results.append((step, result))
        }
        return JSONResponse.make(body: JSONText.object([
            "id": .string(record.uid), "workflowName": .string(record.definition), "version": .string(String(record.version)),
            "inputParameters": .raw("[" + parameters.joined(separator: ",") + "]"), "status": .string(status),
            "results": .raw("[" + results.map(\.1).joined(separator: ",") + "]"),
            "insert_time": Timestamp.render(record.createdAt),
        ]))
    }

    /// Each task's `type` by name, from the definition's source (JSON, or YAML from a folder).
    func taskTypes(_ name: String, version: Int) throws -> [String: String] {
        guard let source = try engine.store.definition(name: name, version: version)?.source,
              let document = Self.parsedSource(source, name: name) else { return [:] }
        var types: [String: String] = [:]
        guard case let .array(tasks)? = document["tasks"] else { return [:] }
        for task in tasks {
            if case let .string(taskName)? = task["name"], case let .string(type)? = task["type"] { types[taskName] = type }
        }
        return types
    }

    static func parsedSource(_ source: String, name: String) -> SluiceStates.JSON? {
        SluiceStates.JSON(parsing: source) ?? (try? Document.parse(source, file: name, yaml: true)).map { SluiceStates.JSON(foundation: $0) }
    }

    /// A task's result in Mender's shape. `type` is the task's, from its definition: a task
    /// that failed before it sent anything (commands off, say) still shows as what it is.
    static func taskResult(step: String, type: String? = nil, success: Bool, details: SluiceStates.JSON?) -> String {
        if details?["request"] != nil || (type == "http" && details?["command"] == nil) {
            let request = details?["request"]
            var headers: [String] = []
            if case let .object(pairs)? = request?["headers"] { headers = pairs.map { "\($0.0): \($0.1.plainText)" } }
            return JSONText.object([
                "name": .string(step), "type": .string("http"), "success": .bool(success),
                "httpRequest": .raw(JSONText.object(["uri": .string(request?["url"]?.plainText ?? ""), "method": .string(request?["method"]?.plainText ?? ""),
                                                      "body": .string(request?["body"]?.plainText ?? ""), "headers": .raw(SluiceStates.JSON.array(headers.map(SluiceStates.JSON.string)).description)])),
                "httpResponse": .raw(JSONText.object(["statusCode": .int(Int(details?["status"]?.plainText ?? "0") ?? 0),
                                                       "body": .string(details?["body"]?.plainText ?? details?["error"]?.plainText ?? "")])),
            ])
        }
        if details?["command"] != nil || type == "cli" {
            let command = details?["command"] ?? .array([])
            return JSONText.object([
                "name": .string(step), "type": .string("cli"), "success": .bool(success),
                "cli": .raw(JSONText.object(["command": .raw(command.description), "output": .string(details?["stdout"]?.plainText ?? ""),
                                             "error": .string(details?["stderr"]?.plainText ?? ""),
                                             "exitCode": .int(Int(details?["exitCode"]?.plainText ?? "0") ?? 0)])),
            ])
        }
        return JSONText.object(["name": .string(step), "type": .string(type ?? "noop"), "success": .bool(success)])
    }

    func workflows() throws -> Response {
        let items = try engine.store.definitions().filter { $0.dialect == "tasklist" }.map { record in
            // The source is kept as written: JSON, or YAML from a definitions folder.
            Self.parsedSource(record.source, name: record.name)?.description ?? JSONText.object(["name": .string(record.name), "version": .int(record.version)])
        }
        return JSONResponse.make(body: "[" + items.joined(separator: ",") + "]")
    }

    func registerWorkflow(_ request: Request) async throws -> Response {
        let buffer: ByteBuffer
        do { buffer = try await RequestBody.collect(request, limit: maxBodyBytes) } catch let error as APIError {
            return Self.error(error.status, error.message)
        }
        do {
            let text = try Document.text(utf8: buffer.readableBytesView, file: "request body")
            let value = try Document.parse(text, file: "request body", yaml: false)
            // Mender's route registers Mender's dialect only; a machine has no name here.
            let definition = try DefinitionCompiler.compile(text: text, value: value, file: "request body", dialect: "tasklist")
            let before = try engine.store.definition(name: definition.name, version: nil)?.version
            let version = try engine.store.register(definition: definition, now: Date().timeIntervalSince1970)
            if before == version { return Self.error(.conflict, "Workflow already exists") }
            return Response(status: .created)
        } catch let error as Document.LoadError {
            return Self.error(.badRequest, error.description)
        }
    }
}
