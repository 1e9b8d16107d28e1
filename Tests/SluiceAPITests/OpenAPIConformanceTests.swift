import Foundation
import Testing
import Yams
import SluiceAPI

/// Every JSON response the API gives in a scenario that touches every endpoint, errors
/// included, must match the schema the OpenAPI file declares for that path, method and status.
@Suite struct OpenAPIConformanceTests {
    @Test func everyResponseMatchesTheOpenAPIFile() async throws {
        let spec = try OpenAPISpec(yaml: APIServer.openAPI)
        let server = try await APITestServer.start(maxBodyBytes: 4096)
        var checked = 0
        func check(_ method: String, _ path: String, _ template: String, body: String? = nil) async throws -> APITestServer.Reply {
            let reply = try await server.request(method, path, body: body)
            let schema = try #require(spec.responseSchema(path: template, method: method, status: reply.status),
                                      "\(method) \(template) answered \(reply.status), which the OpenAPI file does not declare")
            let value = try JSONSerialization.jsonObject(with: reply.body, options: [.fragmentsAllowed])
            let problems = spec.validate(value, against: schema, at: "")
            #expect(problems.isEmpty, "\(method) \(path) \(reply.status): \(problems)")
            checked += 1
            return reply
        }
        let created = try await check("POST", "/v1/executions", "/v1/executions", body: #"{"definition":"noop","input":{"x":1},"namespace":"n"}"#)
        let id = try #require(created.json["id"] as? String)
        _ = try await check("POST", "/v1/executions", "/v1/executions", body: #"{"definition":"noop","idempotencyKey":"a"}"#)
        _ = try await check("POST", "/v1/executions", "/v1/executions", body: #"{"definition":"noop","idempotencyKey":"a"}"#)
        _ = try await check("POST", "/v1/executions", "/v1/executions", body: "{oops")
        _ = try await check("POST", "/v1/executions", "/v1/executions", body: #"{"definition":"nope"}"#)
        _ = try await check("POST", "/v1/executions", "/v1/executions", body: #"{"definition":"noop","input":""# + String(repeating: "y", count: 5000) + #""}"#)
        try await Task.sleep(for: .milliseconds(200))
        _ = try await check("GET", "/v1/executions/\(id)", "/v1/executions/{id}")
        _ = try await check("GET", "/v1/executions/missing", "/v1/executions/{id}")
        _ = try await check("GET", "/v1/executions/\(id)/history", "/v1/executions/{id}/history")
        _ = try await check("GET", "/v1/executions?limit=1", "/v1/executions")
        _ = try await check("GET", "/v1/executions?status=bogus", "/v1/executions")
        _ = try await check("POST", "/v1/executions/\(id)/cancel", "/v1/executions/{id}/cancel")
        _ = try await check("POST", "/v1/queues/default/pause", "/v1/queues/{name}/pause")
        let waiting = try await check("POST", "/v1/executions", "/v1/executions", body: #"{"definition":"noop"}"#)
        _ = try await check("POST", "/v1/executions/\(waiting.json["id"] as? String ?? "")/cancel", "/v1/executions/{id}/cancel")
        _ = try await check("POST", "/v1/queues/default/resume", "/v1/queues/{name}/resume")
        _ = try await check("GET", "/v1/queues", "/v1/queues")
        _ = try await check("GET", "/v1/health", "/v1/health")
        let workflow = #"{"name": "flow", "tasks": [{"name": "a", "type": "http", "http": {"uri": "http://127.0.0.1:1/x"}}]}"#
        _ = try await check("POST", "/v1/definitions", "/v1/definitions", body: workflow)
        _ = try await check("POST", "/v1/definitions", "/v1/definitions", body: workflow)
        _ = try await check("POST", "/v1/definitions", "/v1/definitions", body: #"{"name": "bad", "tasks": [{"name": "a"}]}"#)
        _ = try await check("GET", "/v1/definitions", "/v1/definitions")
        _ = try await check("GET", "/v1/definitions/flow", "/v1/definitions/{name}")
        _ = try await check("GET", "/v1/definitions/flow/1", "/v1/definitions/{name}/{version}")
        _ = try await check("GET", "/v1/definitions/flow/x", "/v1/definitions/{name}/{version}")
        _ = try await check("GET", "/v1/definitions/none", "/v1/definitions/{name}")
        _ = try await check("POST", "/v1/executions/\(id)/resume", "/v1/executions/{id}/resume")
        _ = try await check("POST", "/v1/executions/missing/resume", "/v1/executions/{id}/resume")
        #expect(checked == 28)
        let yaml = try await server.request("GET", "/v1/openapi.yaml")
        #expect(yaml.status == 200)
        #expect(String(decoding: yaml.body, as: UTF8.self).hasPrefix("openapi: 3"))
        await server.stop()
    }
}

/// Just enough of OpenAPI 3.0 schema checking for our own file: $ref, type, nullable, enum,
/// required, properties, additionalProperties: false, items.
struct OpenAPISpec {
    let root: [String: Any]

    init(yaml: String) throws {
        root = try #require(try Yams.load(yaml: yaml) as? [String: Any])
    }

    func responseSchema(path: String, method: String, status: Int) -> [String: Any]? {
        guard let paths = root["paths"] as? [String: Any], let item = paths[path] as? [String: Any],
              let operation = item[method.lowercased()] as? [String: Any],
              let responses = operation["responses"] as? [String: Any],
              var response = responses[String(status)] as? [String: Any] else { return nil }
        if let ref = response["$ref"] as? String, let resolved = resolve(ref) { response = resolved }
        let content = response["content"] as? [String: Any]
        return (content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
    }

    func resolve(_ ref: String) -> [String: Any]? {
        var node: Any = root
        for part in ref.dropFirst(2).split(separator: "/") {
            guard let object = node as? [String: Any], let next = object[String(part)] else { return nil }
            node = next
        }
        return node as? [String: Any]
    }

    func validate(_ value: Any, against schema: [String: Any], at pointer: String) -> [String] {
        if let ref = schema["$ref"] as? String {
            guard let resolved = resolve(ref) else { return ["\(pointer): unresolvable \(ref)"] }
            return validate(value, against: resolved, at: pointer)
        }
        if value is NSNull {
            return (schema["nullable"] as? Bool == true || schema["type"] == nil) ? [] : ["\(pointer): null not allowed"]
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { "\($0)" == "\(value)" }) {
            return ["\(pointer): \(value) not in enum"]
        }
        switch schema["type"] as? String {
        case "object"?:
            guard let object = value as? [String: Any] else { return ["\(pointer): expected object"] }
            var problems: [String] = []
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil { problems.append("\(pointer)/\(key): missing") }
            for (key, child) in object {
                if let childSchema = properties[key] as? [String: Any] {
                    problems += validate(child, against: childSchema, at: "\(pointer)/\(key)")
                } else if schema["additionalProperties"] as? Bool == false {
                    problems.append("\(pointer)/\(key): not in the schema")
                }
            }
            return problems
        case "array"?:
            guard let array = value as? [Any] else { return ["\(pointer): expected array"] }
            guard let items = schema["items"] as? [String: Any] else { return [] }
            return array.enumerated().flatMap { validate($1, against: items, at: "\(pointer)/\($0)") }
        case "string"?:
            return value is String ? [] : ["\(pointer): expected string"]
        case "integer"?:
            return (value as? NSNumber).map { $0.doubleValue == $0.doubleValue.rounded() && !isBoolean(value) } == true ? [] : ["\(pointer): expected integer"]
        case "number"?:
            return value is NSNumber && !isBoolean(value) ? [] : ["\(pointer): expected number"]
        case "boolean"?:
            return isBoolean(value) ? [] : ["\(pointer): expected boolean"]
        default:
            return []
        }
    }
}

/// On Linux every NSNumber answers `is Bool`; JSON booleans have the type code "c".
func isBoolean(_ value: Any) -> Bool {
    if let number = value as? NSNumber { return String(cString: number.objCType) == "c" }
    return value is Bool
}
