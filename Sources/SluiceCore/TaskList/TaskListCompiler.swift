import Foundation
import SluiceStates

/// Compiles a task list into the engine's one program, a States Language machine: the list
/// becomes a chain of Task states, so task lists and state machines share the interpreter,
/// history, Retry, resume and every engine path (design: "a task list is a chain of Task
/// states").
///
/// The machine for tasks `a`, `b`:
/// ```
/// TaskList.Start  Pass  {"input.$": "$", "results": {}}         → a
/// a               Task  sluice:tasklist:http, ResultPath $.results.a, Retry [Sluice.Retryable] → b
/// b               Task  …                                        → TaskList.End
/// TaskList.End    Pass  {"results.$": "$.results"}, End
/// ```
/// The state data is `{"input": {…}, "results": {task: result}}`; a task's templates are kept
/// unrendered in its Parameters (`template`, as JSON text so no key is read as a `.$` path)
/// and rendered by `TaskListDialect` from that data when the state is reached.
public enum TaskListCompiler {
    /// Task resources of the dialect: `sluice:tasklist:http`, `…:cli`, `…:noop`, `…:sleep`.
    public static let resourcePrefix = "sluice:tasklist:"
    /// A Retry-After or backoff never waits longer than this between attempts.
    public static let maxRetryDelaySeconds = 300.0

    /// The stored compiled form: `{"inputParameters": […], "optionalParameters": […], "tasks": [names in order], "machine": {…}}`.
    public static func compile(_ workflow: TaskListWorkflow) -> JSON {
        .object([("inputParameters", .array(workflow.inputParameters.map(JSON.string))),
                 ("optionalParameters", .array(workflow.optionalParameters.map(JSON.string))),
                 ("tasks", .array(workflow.tasks.map { .string($0.name) })),
                 ("machine", machine(for: workflow))])
    }

    static func machine(for workflow: TaskListWorkflow) -> JSON {
        let taken = Set(workflow.tasks.map(\.name))
        let start = unique("TaskList.Start", avoiding: taken)
        let end = unique("TaskList.End", avoiding: taken)
        var states: [(String, JSON)] = [(start, .object([
            ("Type", .string("Pass")),
            ("Parameters", .object([("input.$", .string("$")), ("results", .object([]))])),
            ("Next", .string(workflow.tasks.first?.name ?? end)),
        ]))]
        for (index, task) in workflow.tasks.enumerated() {
            let next = index + 1 < workflow.tasks.count ? workflow.tasks[index + 1].name : end
            var state: [(String, JSON)] = [
                ("Type", .string("Task")),
                ("Resource", .string(resourcePrefix + task.type)),
                ("Parameters", .object([("template", .string(task.block.description)),
                                        ("requires", .array(task.requires.map(JSON.string)))])),
                ("ResultPath", .string(resultPath(task.name))),
            ]
            if task.retries > 0 {
                // Transient failures only (no response, timeout, 5xx, 429): a 404 is not retried.
                state.append(("Retry", .array([.object([
                    ("ErrorEquals", .array([.string(Interpreter.retryableError)])),
                    ("MaxAttempts", .int(Int64(task.retries))),
                    ("IntervalSeconds", .double(task.retryDelaySeconds)),
                    ("BackoffRate", .double(2)),
                    ("MaxDelaySeconds", .double(maxRetryDelaySeconds)),
                    ("JitterStrategy", .string("FULL")),
                ])])))
            }
            state.append(("Next", .string(next)))
            states.append((task.name, .object(state)))
        }
        states.append((end, .object([("Type", .string("Pass")), ("Parameters", .object([("results.$", .string("$.results"))])),
                                     ("End", .bool(true))])))
        var top: [(String, JSON)] = [("Comment", .string("task list \(workflow.name)" + (workflow.version.map { " version \($0)" } ?? "")))]
        top.append(("StartAt", .string(start)))
        top.append(("States", .object(states)))
        return .object(top)
    }

    /// Where a task's result goes: `$.results.NAME`, or `$.results['NAME']` for a name the dotted
    /// form cannot carry (`TaskListWorkflow.parse` refuses names with `'` or `]`).
    static func resultPath(_ name: String) -> String {
        name.contains(where: { ".[ *?".contains($0) }) ? "$.results['\(name)']" : "$.results.\(name)"
    }

    private static func unique(_ name: String, avoiding taken: Set<String>) -> String {
        var candidate = name
        while taken.contains(candidate) { candidate += "_" }
        return candidate
    }
}
