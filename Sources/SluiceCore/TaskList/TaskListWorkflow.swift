import Foundation
import SluiceStates

/// A workflow in Mender's task-list dialect, run unchanged:
/// `name`, `description`, `version`, `schemaVersion`, `tasks[]`, `inputParameters`,
/// `optionalParameters`; each task `name`, `type` (`http`, `cli`, and Sluice's `noop`/`sleep`),
/// `retries`, `retryDelaySeconds`, `requires` and its type's block.
public struct TaskListWorkflow: Sendable {
    public struct Task: Sendable {
        public var name: String
        public var type: String
        public var retries: Int
        public var retryDelaySeconds: Double
        /// Templates that must all render non-empty for the task to run; otherwise it is skipped.
        public var requires: [String]
        /// The type's block (`http` or `cli`), templates not yet rendered.
        public var block: JSON
    }

    public var name: String
    public var description: String?
    public var version: Int?
    public var inputParameters: [String]
    public var optionalParameters: [String]
    public var tasks: [Task]

    static let workflowFields: Set<String> = ["name", "description", "version", "schemaVersion", "tasks", "inputParameters", "optionalParameters", "topic"]
    static let taskFields: Set<String> = ["name", "type", "retries", "retryDelaySeconds", "requires", "http", "cli", "sleep", "noop"]
    static let httpFields: Set<String> = ["uri", "method", "headers", "contentType", "json", "body", "formdata", "statusCodes", "retryStatusCodes", "connectionTimeOut", "readTimeOut"]
    static let cliFields: Set<String> = ["command", "executionTimeOut"]

    /// Parses and validates; errors name the file and JSON pointer.
    public static func parse(_ value: Any, file: String) throws(Document.LoadError) -> TaskListWorkflow {
        let reader = try ObjectReader(value, file: file)
        try reader.allowOnly(workflowFields)
        let name = try reader.requiredString("name")
        let inputs = try reader.strings("inputParameters") ?? []
        let optional = try reader.strings("optionalParameters") ?? []
        guard let rawTasks = reader.object["tasks"] as? [Any] else { throw reader.error("tasks", "required: a list of tasks") }
        let maxTasks = DocumentLimits.standard.maxTasks
        if rawTasks.count > maxTasks {
            throw reader.error("tasks", "\(rawTasks.count) tasks are too many \(DocumentLimits.named("maxTasks", maxTasks))")
        }
        var tasks: [Task] = []
        var names: Set<String> = []
        for (index, rawTask) in rawTasks.enumerated() {
            let task = try ObjectReader(rawTask, file: file, pointer: "/tasks/\(index)")
            try task.allowOnly(taskFields)
            let taskName = try task.requiredString("name")
            guard names.insert(taskName).inserted else { throw task.error("name", "duplicate task name '\(taskName)'") }
            // The name becomes a state name and a JSONPath key (`$.results['name']`).
            if taskName.contains(where: { "']".contains($0) }) || taskName.contains(".json") {
                throw task.error("name", "a task name may not contain ', ] or .json")
            }
            let type = try task.requiredString("type")
            var block = JSON.object([])
            switch type {
            case "http":
                guard let http = try task.child("http") else { throw task.error("http", "required for an http task") }
                try http.allowOnly(httpFields)
                let uri = try http.requiredString("uri")
                if let method = try http.string("method"), method.isEmpty || !method.allSatisfy({ $0.isLetter && $0.isASCII }) {
                    throw http.error("method", "expected an HTTP method such as GET or POST")
                }
                _ = try http.string("contentType")
                for field in ["headers", "formdata"] {
                    guard let object = try http.child(field) else { continue }
                    for (name, value) in object.object where !(value is String) {
                        throw object.error(Document.pointerToken(name), "expected a string (a template is fine)")
                    }
                }
                for field in ["connectionTimeOut", "readTimeOut"] {
                    if let milliseconds = try http.double(field), !(milliseconds >= 0 && milliseconds <= 86_400_000) {
                        throw http.error(field, "expected milliseconds from 0 to 86400000")
                    }
                }
                let bodies = ["json", "body", "formdata"].filter { http.object[$0] != nil }
                if bodies.count > 1 { throw http.error(bodies[1], "use only one of json, body, formdata") }
                // `retryStatusCodes` (Sluice's): statuses retried besides 5xx and 429, e.g. a 409 that clears.
                for field in ["statusCodes", "retryStatusCodes"] {
                    if let codes = http.object[field], !((codes as? [Any])?.allSatisfy { ($0 as? NSNumber).map { (100...599).contains($0.intValue) } ?? false } ?? false) {
                        throw http.error(field, "expected a list of HTTP status codes (100-599)")
                    }
                }
                if let problem = URLScheme.staticProblem(uri) { throw http.error("uri", problem) }
                block = JSON(foundation: http.object)
            case "cli":
                guard let cli = try task.child("cli") else { throw task.error("cli", "required for a cli task") }
                try cli.allowOnly(cliFields)
                guard let command = try cli.strings("command"), !command.isEmpty else { throw cli.error("command", "required: the program and its arguments") }
                if let seconds = try cli.double("executionTimeOut"), !(seconds >= 0 && seconds <= 86_400) {
                    throw cli.error("executionTimeOut", "expected seconds from 0 to 86400 (0: the longest, as in Mender)")
                }
                block = JSON(foundation: cli.object)
            case "noop":
                break
            case "sleep":
                block = JSON(foundation: (try task.child("sleep"))?.object ?? [:])
            default:
                throw task.error("type", "unknown task type '\(type)' (http, cli, noop, sleep)")
            }
            let retries = try task.int("retries") ?? 0
            if retries < 0 || retries > 1_000 { throw task.error("retries", "expected 0 to 1000") }
            let retryDelay = try task.double("retryDelaySeconds") ?? 1
            if !(retryDelay >= 0 && retryDelay <= 86_400) { throw task.error("retryDelaySeconds", "expected seconds from 0 to 86400") }
            let parsed = Task(name: taskName, type: type, retries: retries,
                              retryDelaySeconds: retryDelay,
                              requires: try task.strings("requires") ?? [], block: block)
            // Templates may name only declared inputs (or carry a fallback) and earlier tasks.
            for (where_, text) in parsed.templateStrings() {
                for expression in Template.expressions(in: text) {
                    let (flag, identifier, fallback) = Template.parse(expression)
                    if let flag, !["url", "html", "plain"].contains(flag) {
                        throw Document.LoadError(file: file, location: "/tasks/\(index)\(where_)",
                                                 message: "${\(expression)}: unknown encoding '\(flag)' (url, html or plain)")
                    }
                    if identifier.hasPrefix("workflow.input.") {
                        let key = String(identifier.dropFirst("workflow.input.".count))
                        if fallback == nil && !inputs.contains(key) && !optional.contains(key) {
                            throw Document.LoadError(file: file, location: "/tasks/\(index)\(where_)",
                                                     message: "${\(expression)} names input '\(key)', which is not in inputParameters or optionalParameters")
                        }
                    } else if let range = identifier.range(of: ".json") {
                        let earlier = String(identifier[..<range.lowerBound])
                        if !tasks.contains(where: { $0.name == earlier }) {
                            throw Document.LoadError(file: file, location: "/tasks/\(index)\(where_)",
                                                     message: "${\(expression)} names task '\(earlier)', which does not run before this one")
                        }
                    } else if !identifier.hasPrefix("env.") && !identifier.hasPrefix("secrets.") {
                        throw Document.LoadError(file: file, location: "/tasks/\(index)\(where_)",
                                                 message: "${\(expression)}: unknown reference (workflow.input.KEY, env.NAME, secrets.NAME or TASK.json.PATH)")
                    }
                }
            }
            tasks.append(parsed)
        }
        return TaskListWorkflow(name: name, description: try reader.string("description"), version: try reader.int("version"),
                                inputParameters: inputs, optionalParameters: optional, tasks: tasks)
    }
}

extension TaskListWorkflow.Task {
    /// Every string in the task that may hold templates, with its pointer below the task.
    func templateStrings() -> [(String, String)] {
        var found: [(String, String)] = []
        func walk(_ value: JSON, _ pointer: String) {
            switch value {
            case let .string(text): found.append((pointer, text))
            case let .array(items): for (i, item) in items.enumerated() { walk(item, "\(pointer)/\(i)") }
            case let .object(pairs): for (key, item) in pairs { walk(item, "\(pointer)/\(Document.pointerToken(key))") }
            default: break
            }
        }
        walk(block, "/\(type)")
        for (i, text) in requires.enumerated() { found.append(("/requires/\(i)", text)) }
        return found
    }
}
