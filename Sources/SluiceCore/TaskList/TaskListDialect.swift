import Foundation
import SluiceStates

/// What a compiled task list needs of the engine's States Language program beyond the
/// standard resources: its required inputs checked at submit, and its `sluice:tasklist:*`
/// Task states turned into jobs when they are reached — templates rendered from the state data
/// (`{"input", "results"}`), `requires` checked (a task whose requirements render empty is
/// skipped) — and each job's output reduced to what later templates read.
public struct TaskListDialect: StatesDialect {
    public let inputParameters: [String]
    /// Declared optional inputs: one left out renders as "" where a template names it.
    public let optionalParameters: Set<String>
    public let taskNames: [String]
    /// Allowlisted environment variables, read once when the definition is loaded.
    public let environment: [String: String]
    /// The machine's task templates parsed once, by their JSON text (the form a Task state's
    /// Parameters keep them in): otherwise every task would parse its template when reached.
    let parsedTemplates: [String: JSON]

    /// `machine`: the compiled machine, whose templates are parsed here once.
    public init(inputParameters: [String], taskNames: [String], environment: [String: String], machine: JSON? = nil,
                optionalParameters: [String] = []) {
        self.inputParameters = inputParameters
        self.optionalParameters = Set(optionalParameters)
        self.taskNames = taskNames
        self.environment = environment
        parsedTemplates = machine.map(Self.templates(in:)) ?? [:]
    }

    /// Every `template` of the machine's Task states, parsed, by its text.
    static func templates(in machine: JSON) -> [String: JSON] {
        var found: [String: JSON] = [:]
        for (_, state) in machine["States"]?.objectPairs ?? [] {
            if case let .string(text)? = state["Parameters"]?["template"], let block = JSON(parsing: text) { found[text] = block }
        }
        return found
    }

    public func check(input: JSON) throws(ProgramError) {
        guard case let .object(pairs) = input else { throw ProgramError("input must be a JSON object of parameters") }
        let given = Set(pairs.map(\.0))
        let missing = inputParameters.filter { !given.contains($0) }
        if !missing.isEmpty { throw ProgramError("missing input parameters: \(missing.joined(separator: ", "))") }
    }

    public func plan(_ call: Interpreter.TaskCall) -> TaskPlan? {
        guard call.resource.hasPrefix(TaskListCompiler.resourcePrefix) else { return nil }
        let type = String(call.resource.dropFirst(TaskListCompiler.resourcePrefix.count))
        guard case let .string(templateText)? = call.input["template"], let block = parsedTemplates[templateText] ?? JSON(parsing: templateText) else {
            return .fail(error: "States.Runtime", cause: "task \(call.state): its compiled template is unreadable")
        }
        let context = TemplateContext(input: Dictionary(call.raw["input"]?.objectPairs ?? [], uniquingKeysWith: { $1 }),
                                      environment: environment,
                                      results: Dictionary(call.raw["results"]?.objectPairs ?? [], uniquingKeysWith: { $1 }),
                                      optionalInputs: optionalParameters)
        if case let .array(requirements)? = call.input["requires"] {
            for case let .string(requirement) in requirements where (try? Template.render(requirement, context))?.isEmpty ?? true {
                return .skip(reason: "requires \(requirement): empty")
            }
        }
        do {
            return .job(type: type, payload: try Self.payload(type: type, block: block, context))
        } catch {
            return .fail(error: "States.Runtime", cause: "task \(call.state): \(error)")
        }
    }

    /// What later templates see of a task's result: an HTTP task's parsed JSON body, a command's
    /// parsed stdout (or its text); otherwise the raw output.
    public func result(resource: String, output: String) -> JSON? {
        guard resource.hasPrefix(TaskListCompiler.resourcePrefix) else { return nil }
        guard let value = JSON(parsing: output) else { return .null }
        if let json = value["json"], json != .null { return json }
        if case let .string(stdout)? = value["stdout"] { return JSON(parsing: stdout) ?? .string(stdout) }
        if case let .string(body)? = value["body"] { return .string(body) }
        return value
    }

    /// Resuming at a task forgets its result and the results of the tasks after it, so a task
    /// skipped this time (its `requires` now empty) leaves no stale result behind.
    public func restartData(_ raw: JSON, at step: String) -> JSON {
        guard let index = taskNames.firstIndex(of: step), let results = raw["results"]?.objectPairs else { return raw }
        let later = Set(taskNames[index...])
        return raw.setting("results", .object(results.filter { !later.contains($0.0) }))
    }

    /// The state the removed `TaskListProgram` stored, `{"next": index, "input", "results"}`:
    /// the task at `next` was in flight (or failed), with that data.
    public func upgrade(stored: JSON) -> (state: String, raw: JSON)? {
        guard let next = stored["next"]?.number, let input = stored["input"], let results = stored["results"],
              next >= 0, Int(next) < taskNames.count else { return nil }
        return (taskNames[Int(next)], .object([("input", input), ("results", results)]))
    }

    /// A failed execution's cause names the task, as the task-list dialect always has.
    public func failureCause(_ cause: String, at state: String) -> String { "task \(state): \(cause)" }

    /// A task list's history is its tasks' lines (as Mender shows a job's tasks); the state
    /// lines would add TaskList.Start and TaskList.End, which nobody wrote, and 2 rows per task.
    public var recordsStateTransitions: Bool { false }

    /// A resume starts at a task, never at the compiled list's own first and last states.
    public func restartRefusal(_ step: String) -> String? {
        taskNames.contains(step) ? nil : "no task named \(step) (tasks: \(taskNames.joined(separator: ", ")))"
    }

    /// The executor's parameters, templates rendered.
    static func payload(type: String, block: JSON, _ context: TemplateContext) throws(TemplateError) -> String {
        switch type {
        case "http":
            var pairs: [(String, JSON)] = []
            pairs.append(("url", .string(try Template.render(block["uri"]?.plainText ?? "", context, inputEncoding: "url"))))
            pairs.append(("method", .string((block["method"]?.plainText ?? "GET").uppercased())))
            var headers: [(String, JSON)] = []
            for (name, value) in block["headers"]?.objectPairs ?? [] {
                headers.append((name, .string(try Template.render(value.plainText, context))))
            }
            if let type = block["contentType"]?.plainText, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                headers.append(("Content-Type", .string(type)))
            }
            pairs.append(("headers", .object(headers)))
            if let json = block["json"] {
                pairs.append(("json", try Template.renderJSON(json, context)))
            } else if let body = block["body"] {
                pairs.append(("body", .string(try Template.render(body.plainText, context))))
            } else if let form = block["formdata"]?.objectPairs {
                var rendered: [(String, JSON)] = []
                for (key, value) in form { rendered.append((key, .string(try Template.render(value.plainText, context)))) }
                pairs.append(("form", .object(rendered)))
            }
            if let codes = block["statusCodes"] { pairs.append(("statusCodes", codes)) }
            if let codes = block["retryStatusCodes"] { pairs.append(("retryStatusCodes", codes)) }
            // Mender's timeouts are milliseconds; the read timeout starts after the connect.
            let connect = block["connectionTimeOut"]?.number ?? 10_000
            let read = block["readTimeOut"]?.number ?? 30_000
            pairs.append(("connectTimeoutMs", .int(Int64(connect))))
            pairs.append(("timeoutMs", .int(Int64(connect + read))))
            return JSON.object(pairs).description
        case "cli":
            var command: [JSON] = []
            if case let .array(items)? = block["command"] {
                for item in items { command.append(.string(try Template.render(item.plainText, context))) }
            }
            // Mender's rule: none, or 0 and below, is its longest, four hours.
            let timeout = block["executionTimeOut"]?.number.flatMap { $0 > 0 ? $0 : nil } ?? 14_400
            return JSON.object([("command", .array(command)), ("timeoutSeconds", .double(timeout))]).description
        default:
            return try Template.renderJSON(block, context).description
        }
    }
}
