import Foundation

/// Runs a state machine to its end in memory, without I/O: input and output processing, the
/// state types this build knows, waits not slept (their durations are checked, not spent).
/// The conformance corpus runs through it; the engine will drive the same states step by step.
public struct LocalRunner: Sendable {
    public enum Outcome: Sendable, Equatable {
        case succeeded(JSON)
        case failed(error: String?, cause: String?)
    }

    public let machine: StateMachine
    /// How many transitions before giving up on a loop.
    public var maxTransitions = 10_000
    /// Performs Task states in memory (tests, `sluice run` of pure machines); nil refuses them.
    public var tasks: (@Sendable (_ resource: String, _ input: JSON) -> Result<JSON, StatesError>)?

    public init(machine: StateMachine, tasks: (@Sendable (_ resource: String, _ input: JSON) -> Result<JSON, StatesError>)? = nil) {
        self.machine = machine
        self.tasks = tasks
    }

    /// The bounds of a run when no `EvaluationBudget` is current (a branch or iteration run
    /// inside an interpreter's step spends that step's).
    public var limits: EvaluationLimits = .standard

    /// `context` adds to the context object (`$$`); `Execution.Input` is always the input.
    /// Each state's input is checked against the data bounds, and the step's deadline between states.
    public func run(input: JSON, context given: JSON = .object([])) -> Outcome {
        guard let budget = EvaluationBudget.current else {
            return EvaluationBudget(limits: limits).around { run(input: input, context: given) }
        }
        var context = JSON.object([("Execution", .object([("Input", input), ("Name", .string("local")),
                                                          ("StartTime", .string(Date().formatted(.iso8601)))]))])
        if case let .object(pairs) = given { for (key, value) in pairs { context = context.setting(key, value) } }
        var name = machine.startAt
        var data = input
        for _ in 0..<maxTransitions {
            guard let state = machine.states[name] else { return .failed(error: "States.Runtime", cause: "no state \(name)") }
            let stateContext = context.setting("State", .object([("Name", .string(name))]))
            do { try budget.checkDeadline() } catch { return .failed(error: error.error, cause: error.cause) }
            do {
                try budget.limits.check(data, "the input of state '\(name)'")
                let step = try stepWithRetryAndCatch(state, data, context: stateContext)
                try budget.raiseIfFailed()
                switch step {
                case let .next(target, output):
                    name = target
                    data = output
                case let .end(output):
                    try budget.limits.check(output, "the output of state '\(name)'")
                    return .succeeded(output)
                case let .fail(error, cause):
                    return .failed(error: error, cause: cause)
                }
            } catch {
                // A Fail state without Error fails with no error name; it travels as "".
                return .failed(error: error.error.isEmpty ? nil : error.error, cause: error.cause)
            }
        }
        return .failed(error: "States.Runtime", cause: "more than \(maxTransitions) transitions")
    }

    /// ResultSelector, ResultPath, OutputPath, then the transition.
    func finish(_ state: StateMachine.State, raw: JSON, result: JSON, context: JSON) throws(StatesError) -> Step {
        var value = result
        if let selector = state.resultSelector { value = try Processing.fill(selector, input: result, context: context) }
        let placed = try Processing.place(value, into: raw, at: state.resultPath, state: state.name)
        let output = try Processing.select(state.outputPath, placed, state: state.name, field: "OutputPath")
        return state.end ? .end(output) : .next(state.next!, output)
    }

    enum Step {
        case next(String, JSON)
        case end(JSON)
        case fail(String?, String?)
    }

    /// Retry then Catch, as the spec orders them. `States.ALL` does not cover States.Runtime.
    func stepWithRetryAndCatch(_ state: StateMachine.State, _ raw: JSON, context: JSON) throws(StatesError) -> Step {
        var attempts: [Int] = Array(repeating: 0, count: state.retry.count)
        while true {
            let failure: StatesError
            do {
                return try step(state, raw, context: context)
            } catch {
                failure = error
            }
            if let index = state.retry.firstIndex(where: { Self.matches($0.errors, failure.error) }), attempts[index] < state.retry[index].maxAttempts {
                attempts[index] += 1
                continue  // The local runner does not sleep the interval.
            }
            if let catcher = state.catchers.first(where: { Self.matches($0.errors, failure.error) }) {
                var info: [(String, JSON)] = [("Error", .string(failure.error))]
                if let cause = failure.cause { info.append(("Cause", .string(cause))) }
                let placed = try Processing.place(.object(info), into: raw, at: catcher.resultPath, state: state.name)
                return .next(catcher.next, placed)
            }
            throw failure
        }
    }

    static func matches(_ names: [String], _ error: String) -> Bool {
        names.contains(error) || (names.contains("States.ALL") && error != "States.Runtime" && error != "States.DataLimitExceeded" && !error.isEmpty)
    }

    func step(_ state: StateMachine.State, _ raw: JSON, context: JSON) throws(StatesError) -> Step {
        let input = try Processing.select(state.inputPath, raw, state: state.name, field: "InputPath")
        switch state.kind {
        case let .pass(result):
            var value = input
            if let parameters = state.parameters { value = try Processing.fill(parameters, input: input, context: context) }
            if let result { value = result }
            let placed = try Processing.place(value, into: raw, at: state.resultPath, state: state.name)
            let output = try Processing.select(state.outputPath, placed, state: state.name, field: "OutputPath")
            return state.end ? .end(output) : .next(state.next!, output)
        case let .choice(rules, defaultNext):
            let output = try Processing.select(state.outputPath, input, state: state.name, field: "OutputPath")
            for (rule, next) in rules where rule.matches(input, context: context) { return .next(next, output) }
            guard let defaultNext else { throw StatesError("States.NoChoiceMatched", "No Choice matched in state '\(state.name)'") }
            return .next(defaultNext, output)
        case let .wait(_, secondsPath, timestamp, timestampPath):
            if let secondsPath {
                guard let value = secondsPath.evaluate(input) else {
                    throw StatesError.runtime(state.name, "The SecondsPath parameter does not reference an input value: \(secondsPath)")
                }
                guard case let .int(seconds) = value else {
                    throw StatesError.runtime(state.name, "The SecondsPath parameter cannot be parsed as a long value: \(secondsPath) == \(value)")
                }
                if seconds < 0 { throw StatesError.runtime(state.name, "The SecondsPath parameter references a negative value: \(secondsPath) == \(seconds)") }
            }
            if let timestampPath {
                guard case let .string(text)? = timestampPath.evaluate(input), ChoiceRule.timestamp(text) != nil else {
                    throw StatesError.runtime(state.name, "The TimestampPath parameter does not reference a valid ISO-8601 timestamp: \(timestampPath)")
                }
            }
            if let timestamp, ChoiceRule.timestamp(timestamp) == nil {
                throw StatesError.runtime(state.name, "invalid Timestamp \(timestamp)")
            }
            let output = try Processing.select(state.outputPath, input, state: state.name, field: "OutputPath")
            return state.end ? .end(output) : .next(state.next!, output)
        case .succeed:
            return .end(try Processing.select(state.outputPath, input, state: state.name, field: "OutputPath"))
        case let .task(resource, _, _):
            guard let tasks else { throw StatesError("States.Runtime", "Task state '\(state.name)' needs an engine to run \(resource)") }
            var value = input
            if let parameters = state.parameters { value = try Processing.fill(parameters, input: input, context: context) }
            switch tasks(resource, value) {
            case let .success(result): return try finish(state, raw: raw, result: result, context: context)
            case let .failure(error): throw error
            }
        case let .parallel(branches):
            var value = input
            if let parameters = state.parameters { value = try Processing.fill(parameters, input: input, context: context) }
            var results: [JSON] = []
            for branch in branches {
                switch LocalRunner(machine: branch, tasks: tasks).run(input: value, context: context) {
                case let .succeeded(output): results.append(output)
                case let .failed(error, cause): throw StatesError(error ?? "", cause)
                }
            }
            return try finish(state, raw: raw, result: .array(results), context: context)
        case let .map(processor, itemsPath, itemSelector, _, concurrencyPath):
            if let concurrencyPath {
                let value = concurrencyPath.evaluate(input)
                guard case let .int(limit)? = value, limit >= 0 else {
                    let shown: String = { if case let .string(s)? = value { return s }; return value?.description ?? "null" }()
                    throw StatesError.runtime(state.name, "The MaxConcurrencyPath field refers to value \"\(shown)\" which is not a valid integer: \(concurrencyPath)")
                }
            }
            let items = itemsPath.map { $0.evaluate(input) } ?? input
            guard case let .array(values)? = items else {
                throw StatesError.runtime(state.name, "Map's ItemsPath does not reference an array")
            }
            var results: [JSON] = []
            for (index, item) in values.enumerated() {
                let itemContext = context.setting("Map", .object([("Item", .object([("Index", .int(Int64(index))), ("Value", item)]))]))
                var itemInput = item
                if let itemSelector { itemInput = try Processing.fill(itemSelector, input: input, context: itemContext) }
                switch LocalRunner(machine: processor, tasks: tasks).run(input: itemInput, context: itemContext) {
                case let .succeeded(output): results.append(output)
                case let .failed(error, cause): throw StatesError(error ?? "", cause)
                }
            }
            return try finish(state, raw: raw, result: .array(results), context: context)
        case let .fail(error, errorPath, cause, causePath):
            func resolve(_ literal: String?, _ path: String?) throws(StatesError) -> String? {
                if let literal { return literal }
                guard let path else { return nil }
                let value = try Processing.evaluateExpression(path, input: raw, context: context)
                if case let .string(text) = value { return text }
                return value.description
            }
            return .fail(try resolve(error, errorPath), try resolve(cause, causePath))
        }
    }
}

/// InputPath / Parameters / ResultPath / OutputPath.
enum Processing {
    static func select(_ path: JSONPath??, _ value: JSON, state: String, field: String) throws(StatesError) -> JSON {
        guard let path else { return value }             // absent: "$"
        guard let path else { return .object([]) }       // null: {}
        guard let selected = path.evaluate(value) else {
            try EvaluationBudget.current?.raiseIfFailed()
            throw StatesError.runtime(state, "Invalid path '\(path)' : No results for path: \(path)")
        }
        return selected
    }

    static func place(_ result: JSON, into raw: JSON, at path: JSONPath??, state: String) throws(StatesError) -> JSON {
        guard let path else { return result }             // absent: "$"
        guard let path else { return raw }                // null: discard the result
        if path.text == "$" { return result }
        // Placing recurses once per segment and nests the result as deep: a ResultPath of
        // 100,000 segments (a 200 KB definition) ended the process with SIGSEGV.
        let maxDepth = EvaluationBudget.current?.limits.maxDepth ?? EvaluationLimits.standard.maxDepth
        if path.segments.count > maxDepth {
            throw StatesError("States.DataLimitExceeded", "the ResultPath of state '\(state)' (\(path.text.prefix(40))…) has \(path.segments.count) "
                              + "segments and would nest the result more than \(maxDepth) levels deep (the maximum depth of a value)")
        }
        guard let placed = path.assign(result, into: raw) else {
            throw StatesError("States.ResultPathMatchFailure", "Unable to apply ResultPath \(path) to input \(raw) in state '\(state)'")
        }
        return placed
    }

    /// A `.$` value: a path (`$.x`, `$$.x`) or an intrinsic call.
    static func evaluateExpression(_ text: String, input: JSON, context: JSON) throws(StatesError) -> JSON {
        if Intrinsics.isCall(text) { return try Intrinsics.evaluate(try Intrinsics.parse(text), input: input, context: context) }
        let path: JSONPath
        do { path = try JSONPath(text) } catch { throw StatesError("States.Runtime", error.description) }
        guard let value = path.evaluate(path.context ? context : input) else {
            try EvaluationBudget.current?.raiseIfFailed()
            throw StatesError("States.Runtime", "The JSONPath \(text) could not be found in the input")
        }
        return value
    }

    /// Parameters / ResultSelector / ItemSelector: keys ending in `.$` are evaluated, the rest
    /// copied (`PayloadTemplate` holds them with their expressions parsed).
    static func fill(_ template: PayloadTemplate, input: JSON, context: JSON) throws(StatesError) -> JSON {
        try template.fill(input: input, context: context)
    }
}
