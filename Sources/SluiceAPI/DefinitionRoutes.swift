import Foundation
import Hummingbird
import SluiceCore

/// `/v1/definitions`: list (newest version of each), upload a new version (JSON, or YAML with
/// `Content-Type: application/yaml`; a States Language machine with `?name=`), get one by name and version or `latest`. Definitions are
/// kept as the raw text the user sent; a changed upload becomes a new version, an identical
/// one returns the existing version.
struct DefinitionRoutes {
    let engine: Engine
    let maxBodyBytes: Int

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/definitions") { _, _ in try list() }
        router.post("/v1/definitions") { request, _ in try await upload(request) }
        router.get("/v1/definitions/:name") { _, context in try get(context.pathParameter("name"), "latest") }
        router.get("/v1/definitions/:name/:version") { _, context in
            try get(context.pathParameter("name"), context.pathParameter("version"))
        }
    }

    static func render(_ record: DefinitionRecord) -> String {
        JSONText.object(["name": .string(record.name), "version": .int(record.version), "dialect": .string(record.dialect),
                         "createdAt": Timestamp.render(record.createdAt), "source": .string(record.source)])
    }

    func list() throws -> Response {
        let items = try engine.store.definitions().map(Self.render)
        return JSONResponse.make(body: JSONText.object(["definitions": .raw("[" + items.joined(separator: ",") + "]")]))
    }

    func get(_ name: String, _ version: String) throws -> Response {
        var number: Int?
        if version != "latest" {
            guard let parsed = Int(version), parsed > 0 else { throw APIError.invalid("version must be a positive integer or latest") }
            number = parsed
        }
        guard let record = try engine.store.definition(name: name, version: number) else {
            throw APIError.notFound("no definition \(name)" + (number.map { " version \($0)" } ?? ""))
        }
        return JSONResponse.make(body: Self.render(record))
    }

    func upload(_ request: Request) async throws -> Response {
        let buffer = try await RequestBody.collect(request, limit: maxBodyBytes)
        let yaml = (request.headers[.contentType] ?? "").contains("yaml")
        let definition: DefinitionSource
        do {
            let text = try Document.text(utf8: buffer.readableBytesView, file: "request body")
            let value = try Document.parse(text, file: "request body", yaml: yaml)
            // A States Language document has no name field: `?name=` gives it one.
            let name = request.uri.queryParameters["name"].map(String.init)
            if (value as? [String: Any])?["StartAt"] != nil && name == nil {
                throw Document.LoadError(file: "request body", location: "", message: "a States Language definition needs ?name=NAME")
            }
            definition = try DefinitionCompiler.compile(text: text, value: value, file: "request body", name: name)
        } catch let error as Document.LoadError {
            throw APIError(.badRequest, "invalid_definition", "\(error.location.isEmpty ? "" : "at \(error.location): ")\(error.message)")
        }
        let before = try engine.store.definition(name: definition.name, version: nil)?.version
        let version = try engine.store.register(definition: definition, now: Date().timeIntervalSince1970)
        guard let record = try engine.store.definition(name: definition.name, version: version) else {
            throw APIError.notFound("definition \(definition.name) vanished")
        }
        return JSONResponse.make(status: before == version ? .ok : .created, body: Self.render(record))
    }
}
