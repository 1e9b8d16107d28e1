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

    public init(machine: StateMachine) { self.machine = machine }

    /// `context` adds to the context object (`$$`); `Execution.Input` is always the input.
    public func run(input: JSON, context given: JSON = .object([])) -> Outcome {
        var context = JSON.object([("Execution", .object([("Input", input), ("Name", .string("local")),
                                                          ("StartTime", .string(Date().formatted(.iso8601)))]))])
        if case let .object(pairs) = given { for (key, value) in pairs { context = context.setting(key, value) } }
        var name = machine.startAt
        var data = input
        for _ in 0..<maxTransitions {
            guard let state = machine.states[name] else { return .failed(error: "States.Runtime", cause: "no state \(name)") }
            let stateContext = context.setting("State", .object([("Name", .string(name))]))
            do {
                switch try step(state, data, context: stateContext) {
                case let .next(target, output):
                    name = target
                    data = output
                case let .end(output):
                    return .succeeded(output)
                case let .fail(error, cause):
                    return .failed(error: error, cause: cause)
                }
            } catch {
                return .failed(error: error.error, cause: error.cause)
            }
        }
        return .failed(error: "States.Runtime", cause: "more than \(maxTransitions) transitions")
    }

    enum Step {
        case next(String, JSON)
        case end(JSON)
        case fail(String?, String?)
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
            throw StatesError.runtime(state, "Invalid path '\(path)' : No results for path: \(path)")
        }
        return selected
    }

    static func place(_ result: JSON, into raw: JSON, at path: JSONPath??, state: String) throws(StatesError) -> JSON {
        guard let path else { return result }             // absent: "$"
        guard let path else { return raw }                // null: discard the result
        if path.text == "$" { return result }
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
            throw StatesError("States.Runtime", "The JSONPath \(text) could not be found in the input")
        }
        return value
    }

    /// Parameters / ItemSelector: keys ending in `.$` are evaluated, the rest copied.
    static func fill(_ template: JSON, input: JSON, context: JSON) throws(StatesError) -> JSON {
        switch template {
        case let .object(pairs):
            var out: [(String, JSON)] = []
            for (key, value) in pairs {
                if key.hasSuffix(".$"), case let .string(expression) = value {
                    out.append((String(key.dropLast(2)), try evaluateExpression(expression, input: input, context: context)))
                } else {
                    out.append((key, try fill(value, input: input, context: context)))
                }
            }
            return .object(out)
        case let .array(items):
            var out: [JSON] = []
            for item in items { out.append(try fill(item, input: input, context: context)) }
            return .array(out)
        default:
            return template
        }
    }
}
