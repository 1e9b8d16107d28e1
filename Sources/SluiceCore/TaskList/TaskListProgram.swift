import Foundation

/// The task-list dialect as the engine runs it: tasks in order; each task's templates are
/// rendered when it is scheduled, from the input and the results of the tasks before it; a
/// task whose `requires` render empty is skipped; the first task that fails for good fails the
/// execution and the tasks after it do not run.
///
/// Program state (JSON): `{"next": index, "input": {…}, "results": {task: json}}`.
public struct TaskListProgram: WorkflowProgram {
    public let workflow: TaskListWorkflow
    /// Allowlisted environment variables, read once when the definition is loaded.
    public let environment: [String: String]

    public init(workflow: TaskListWorkflow, environment: [String: String]) {
        self.workflow = workflow
        self.environment = environment
    }

    struct State {
        var next: Int
        var input: [(String, JSONValue)]
        var results: [(String, JSONValue)]

        var text: String {
            JSONValue.object([("next", .number(Double(next))), ("input", .object(input)), ("results", .object(results))]).text
        }

        init(next: Int, input: [(String, JSONValue)], results: [(String, JSONValue)]) {
            self.next = next
            self.input = input
            self.results = results
        }

        init?(_ text: String?) {
            guard let text, let value = JSONValue(parsing: text), case let .number(next)? = value["next"],
                  case let .object(input)? = value["input"], case let .object(results)? = value["results"] else { return nil }
            self.init(next: Int(next), input: input, results: results)
        }

        func context(_ environment: [String: String]) -> TemplateContext {
            TemplateContext(input: Dictionary(input, uniquingKeysWith: { $1 }), environment: environment,
                            results: Dictionary(results, uniquingKeysWith: { $1 }))
        }
    }

    public func start(input: String) throws(ProgramError) -> ProgramDecision {
        guard let value = JSONValue(parsing: input), case let .object(pairs) = value else {
            throw ProgramError("input must be a JSON object of parameters")
        }
        let given = Set(pairs.map(\.0))
        let missing = workflow.inputParameters.filter { !given.contains($0) }
        if !missing.isEmpty { throw ProgramError("missing input parameters: \(missing.joined(separator: ", "))") }
        var state = State(next: 0, input: pairs, results: [])
        do {
            return try advance(&state)
        } catch {
            throw ProgramError("task \(workflow.tasks[state.next].name): \(error)")
        }
    }

    public func resume(state text: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
        guard var state = State(text), state.next < workflow.tasks.count else {
            return ProgramDecision(state: text, effects: [.fail(error: "States.Runtime", cause: "unreadable task-list state")])
        }
        let task = workflow.tasks[state.next]
        switch outcome.result {
        case let .succeeded(output):
            state.results.append((task.name, Self.resultJSON(output)))
            state.next += 1
            do {
                return try advance(&state)
            } catch {
                let name = state.next < workflow.tasks.count ? workflow.tasks[state.next].name : task.name
                return ProgramDecision(state: state.text, effects: [.fail(error: "States.Runtime", cause: "task \(name): \(error)")])
            }
        case let .failed(error, cause, retryable, retryAfter):
            let policy = RetryPolicy(maxAttempts: task.retries + 1, intervalSeconds: task.retryDelaySeconds, backoffRate: 2,
                                     maxDelaySeconds: 300, fullJitter: false)
            if retryable && outcome.job.attempt < policy.maxAttempts {
                // Jitter of ±20% keeps many failing executions from retrying in lockstep.
                let delay = policy.delay(afterAttempt: outcome.job.attempt, retryAfter: retryAfter) * Double.random(in: 0.8...1.2)
                return ProgramDecision(state: state.text, effects: [.retry(at: now + delay, reason: error)])
            }
            return ProgramDecision(state: state.text, effects: [.fail(error: error, cause: "task \(task.name): \(cause)")])
        }
    }

    /// Runs again from the task that failed (where `next` stopped) or from the named task,
    /// forgetting the results of that task and the ones after it.
    public func restart(state text: String?, from step: String?) throws(ProgramError) -> ProgramDecision {
        guard var state = State(text) else { throw ProgramError("unreadable task-list state") }
        if let step {
            guard let index = workflow.tasks.firstIndex(where: { $0.name == step }) else {
                throw ProgramError("no task named \(step) (tasks: \(workflow.tasks.map(\.name).joined(separator: ", ")))")
            }
            state.next = index
        }
        state.next = min(state.next, max(0, workflow.tasks.count - 1))
        let keep = Set(workflow.tasks[..<state.next].map(\.name))
        state.results.removeAll { !keep.contains($0.0) }
        do {
            return try advance(&state)
        } catch {
            throw ProgramError("task \(workflow.tasks[state.next].name): \(error)")
        }
    }

    /// Schedules the next task that should run from `state.next` on, or finishes.
    private func advance(_ state: inout State) throws(TemplateError) -> ProgramDecision {
        let context = state.context(environment)
        while state.next < workflow.tasks.count {
            let task = workflow.tasks[state.next]
            if try shouldRun(task, context) {
                let payload = try Self.payload(for: task, context)
                return ProgramDecision(state: state.text, effects: [.scheduleTask(TaskRequest(
                    step: task.name, taskType: task.type, payload: payload, maxAttempts: task.retries + 1))])
            }
            state.next += 1
        }
        return ProgramDecision(state: state.text, effects: [.succeed(output: JSONValue.object([("results", .object(state.results))]).text)])
    }

    private func shouldRun(_ task: TaskListWorkflow.Task, _ context: TemplateContext) throws(TemplateError) -> Bool {
        for requirement in task.requires {
            do {
                if try Template.render(requirement, context).isEmpty { return false }
            } catch {
                return false
            }
        }
        return true
    }

    /// The executor's parameters, templates rendered.
    static func payload(for task: TaskListWorkflow.Task, _ context: TemplateContext) throws(TemplateError) -> String {
        switch task.type {
        case "http":
            let block = task.block
            var pairs: [(String, JSONValue)] = []
            pairs.append(("url", .string(try Template.render(block["uri"]?.plainText ?? "", context))))
            pairs.append(("method", .string((block["method"]?.plainText ?? "GET").uppercased())))
            var headers: [(String, JSONValue)] = []
            if case let .object(given)? = block["headers"] {
                for (name, value) in given { headers.append((name, .string(try Template.render(value.plainText, context)))) }
            }
            if let type = block["contentType"]?.plainText, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                headers.append(("Content-Type", .string(type)))
            }
            pairs.append(("headers", .object(headers)))
            if let json = block["json"] {
                pairs.append(("json", try Template.renderJSON(json, context)))
            } else if let body = block["body"] {
                pairs.append(("body", .string(try Template.render(body.plainText, context))))
            } else if case let .object(form)? = block["formdata"] {
                var rendered: [(String, JSONValue)] = []
                for (key, value) in form { rendered.append((key, .string(try Template.render(value.plainText, context)))) }
                pairs.append(("form", .object(rendered)))
            }
            if let codes = block["statusCodes"] { pairs.append(("statusCodes", codes)) }
            let connect = block["connectionTimeOut"].flatMap { if case let .number(n) = $0 { return n } else { return nil } } ?? 10_000
            let read = block["readTimeOut"].flatMap { if case let .number(n) = $0 { return n } else { return nil } } ?? 30_000
            pairs.append(("connectTimeoutMs", .number(connect)))
            pairs.append(("timeoutMs", .number(connect + read)))
            return JSONValue.object(pairs).text
        case "cli":
            var command: [JSONValue] = []
            if case let .array(items)? = task.block["command"] {
                for item in items { command.append(.string(try Template.render(item.plainText, context))) }
            }
            let timeout = task.block["executionTimeOut"].flatMap { if case let .number(n) = $0 { return n } else { return nil } } ?? 60
            return JSONValue.object([("command", .array(command)), ("timeoutSeconds", .number(timeout))]).text
        default:
            return try Template.renderJSON(task.block, context).text
        }
    }

    /// What later templates see of a task's result: an HTTP task's parsed JSON body, a command's
    /// parsed stdout; otherwise the raw output.
    static func resultJSON(_ output: String) -> JSONValue {
        guard let value = JSONValue(parsing: output) else { return .null }
        if let json = value["json"], json != .null { return json }
        if case let .string(stdout)? = value["stdout"] { return JSONValue(parsing: stdout) ?? .string(stdout) }
        if case let .string(body)? = value["body"] { return .string(body) }
        return value
    }
}
