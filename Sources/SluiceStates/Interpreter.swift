import Foundation

/// The States Language one step at a time, for an engine: pure functions from (state, input,
/// event) to what happens next, no I/O. Pass, Choice, Succeed, Fail and task-free Parallel/Map
/// run inline; a Task state or a Wait hands control back (`Advance.task`, `Advance.wait`)
/// until the engine reports the task's outcome or the timer's expiry.
public struct Interpreter: Sendable {
    public let machine: StateMachine
    /// When set, collects the states entered and exited, for the execution's history.
    public var trace: Trace?

    public init(machine: StateMachine, trace: Trace? = nil) {
        self.machine = machine
        self.trace = trace
    }

    /// States entered and exited during one call, in order, and the random values drawn.
    public final class Trace: @unchecked Sendable {
        public private(set) var events: [(type: String, state: String, details: String?)] = []
        public let random = RandomValues()
        /// False: `StateEntered`/`StateExited` are not collected, only notes (see `StatesDialect.recordsStateTransitions`).
        public let transitions: Bool
        public init(transitions: Bool = true) { self.transitions = transitions }
        func entered(_ state: String) { if transitions { events.append(("StateEntered", state, nil)) } }
        func exited(_ state: String) { if transitions { events.append(("StateExited", state, nil)) } }
        /// Any other line, in its place among the states (a task skipped, and why).
        func note(_ type: String, _ state: String, details: String?) { events.append((type, state, details)) }
    }

    /// A task to run: the state's effective parameters, and the state input to resume with.
    public struct TaskCall: Sendable, Equatable {
        public let state: String
        public let resource: String
        public let input: JSON
        public let raw: JSON
        public let timeoutSeconds: Double?
        public let heartbeatSeconds: Double?
    }

    /// A durable wait: resume with `waitElapsed(state:raw:)` after `seconds` or at `until`.
    public struct WaitCall: Sendable, Equatable {
        public let state: String
        public let raw: JSON
        public let seconds: Double?
        public let until: Date?
    }

    /// A Parallel or Map state whose branches contain Task states: each branch (or item) runs
    /// as a child execution; resume with `taskSucceeded(state:raw:result:)` given the array of
    /// their outputs in order, or `taskFailed` with the first failure.
    public struct ChildrenCall: Sendable, Equatable {
        public struct Child: Sendable, Equatable {
            public let machine: JSON
            public let input: JSON
        }
        public let state: String
        public let raw: JSON
        public let children: [Child]
        /// 0: no limit.
        public let maxConcurrency: Int
    }

    public enum Advance: Sendable, Equatable {
        case succeeded(JSON)
        case failed(error: String?, cause: String?)
        case task(TaskCall)
        case wait(WaitCall)
        case children(ChildrenCall)
    }

    /// What a task failure leads to.
    public enum FailureDecision: Sendable, Equatable {
        /// Run the task again after `delay` seconds; `retrier` counts one more attempt.
        case retry(delay: Double, retrier: Int)
        case advance(Advance)
    }

    public func start(input: JSON, context: JSON) -> Advance {
        advance(from: machine.startAt, raw: input, context: context)
    }

    /// The bounds a step runs under when the caller made no `EvaluationBudget` current.
    public var limits: EvaluationLimits = .standard

    /// Runs states from `name` until one needs the outside world or the machine ends. Every
    /// state entered counts against the step's `EvaluationBudget` (transitions, deadline) and
    /// its input is checked against the data bounds; a Catch continues this loop (it does not
    /// recurse, so a state that catches its own failure cannot deepen the stack).
    public func advance(from name: String, raw: JSON, context: JSON) -> Advance {
        if let trace, RandomValues.current !== trace.random {
            return trace.random.around { advance(from: name, raw: raw, context: context) }
        }
        guard let budget = EvaluationBudget.current else {
            return EvaluationBudget(limits: limits).around { advance(from: name, raw: raw, context: context) }
        }
        let limits = budget.limits
        var name = name
        var data = raw
        let runner = LocalRunner(machine: machine)
        while true {
            guard let state = machine.states[name] else { return .failed(error: "States.Runtime", cause: "no state \(name)") }
            let stateContext = context.setting("State", .object([("Name", .string(name))]))
            // A bound on the step itself is no state's failure: no Retry or Catch applies.
            do { try budget.transition(into: name) } catch { return .failed(error: error.error, cause: error.cause) }
            trace?.entered(name)
            do {
                try limits.check(data, "the input of state '\(name)'")
                if let call = try childrenCall(state, raw: data, context: stateContext) { return .children(call) }
                switch state.kind {
                case let .task(resource, timeout, heartbeat):
                    let input = try Processing.select(state.inputPath, data, state: name, field: "InputPath")
                    var value = input
                    if let parameters = state.parameters { value = try Processing.fill(parameters, input: input, context: stateContext) }
                    try budget.raiseIfFailed()
                    try limits.check(value, "the parameters of state '\(name)'")
                    return .task(TaskCall(state: name, resource: resource, input: value, raw: data, timeoutSeconds: timeout, heartbeatSeconds: heartbeat))
                case let .wait(seconds, secondsPath, timestamp, timestampPath):
                    _ = try runner.step(state, data, context: stateContext)  // validates the paths the way AWS does
                    let input = try Processing.select(state.inputPath, data, state: name, field: "InputPath")
                    var wait = seconds
                    if let secondsPath, case let .int(value)? = secondsPath.evaluate(input) { wait = Double(value) }
                    var until: Date?
                    if let text = timestamp ?? timestampPath.flatMap({ if case let .string(s)? = $0.evaluate(input) { return s } else { return nil } }),
                       let when = ChoiceRule.timestamp(text) {
                        until = Date(timeIntervalSince1970: when)
                    }
                    return .wait(WaitCall(state: name, raw: data, seconds: wait, until: until))
                default:
                    let step = try runner.stepWithRetryAndCatch(state, data, context: stateContext)
                    try budget.raiseIfFailed()
                    switch step {
                    case let .next(target, output): trace?.exited(name); name = target; data = output
                    case let .end(output):
                        try limits.check(output, "the output of state '\(name)'")
                        trace?.exited(name)
                        return .succeeded(output)
                    case let .fail(error, cause): return .failed(error: error, cause: cause)
                    }
                }
            } catch {
                if let (next, placed) = caught(state, raw: data, error: error) {
                    trace?.exited(name)
                    name = next
                    data = placed
                    continue
                }
                return .failed(error: error.error.isEmpty ? nil : error.error, cause: error.cause)
            }
        }
    }

    /// A Parallel or Map state with Task states inside runs its branches as child executions.
    private func childrenCall(_ state: StateMachine.State, raw data: JSON, context stateContext: JSON) throws(StatesError) -> ChildrenCall? {
        let name = state.name
        switch state.kind {
        case let .parallel(branches):
            guard branches.contains(where: { !$0.resources.isEmpty }) else { return nil }
            let input = try Processing.select(state.inputPath, data, state: name, field: "InputPath")
            var value = input
            if let parameters = state.parameters { value = try Processing.fill(parameters, input: input, context: stateContext) }
            var children: [ChildrenCall.Child] = []
            for branch in branches { children.append(.init(machine: branch.raw, input: value)) }
            return ChildrenCall(state: name, raw: data, children: children, maxConcurrency: 0)
        case let .map(processor, itemsPath, itemSelector, maxConcurrency, concurrencyPath):
            guard !processor.resources.isEmpty else { return nil }
            let input = try Processing.select(state.inputPath, data, state: name, field: "InputPath")
            var limit = maxConcurrency ?? 0
            if let concurrencyPath {
                guard case let .int(value)? = concurrencyPath.evaluate(input), value >= 0 else {
                    throw StatesError.runtime(name, "The MaxConcurrencyPath field does not refer to a valid integer: \(concurrencyPath)")
                }
                limit = Int(value)
            }
            let items: JSON? = itemsPath == nil ? input : itemsPath!.evaluate(input)
            guard case let .array(values)? = items else { throw StatesError.runtime(name, "Map's ItemsPath does not reference an array") }
            var children: [ChildrenCall.Child] = []
            for (index, item) in values.enumerated() {
                let itemContext = stateContext.setting("Map", .object([("Item", .object([("Index", .int(Int64(index))), ("Value", item)]))]))
                var itemInput = item
                if let itemSelector { itemInput = try Processing.fill(itemSelector, input: input, context: itemContext) }
                children.append(.init(machine: processor.raw, input: itemInput))
            }
            return ChildrenCall(state: name, raw: data, children: children, maxConcurrency: limit)
        default:
            return nil
        }
    }

    /// The task of `state` succeeded with `result`: ResultSelector, ResultPath, OutputPath, go on.
    public func taskSucceeded(state name: String, raw: JSON, result: JSON, context: JSON) -> Advance {
        if let trace, RandomValues.current !== trace.random {
            return trace.random.around { taskSucceeded(state: name, raw: raw, result: result, context: context) }
        }
        guard let budget = EvaluationBudget.current else {
            return EvaluationBudget(limits: limits).around { taskSucceeded(state: name, raw: raw, result: result, context: context) }
        }
        guard let state = machine.states[name] else { return .failed(error: "States.Runtime", cause: "no state \(name)") }
        let stateContext = context.setting("State", .object([("Name", .string(name))]))
        do {
            // Its size is the next state's input's to check (a ResultSelector may keep a part);
            // its depth is checked now, before anything walks it.
            try budget.limits.checkDepth(result, "the result of state '\(name)'")
            let step = try LocalRunner(machine: machine).finish(state, raw: raw, result: result, context: stateContext)
            try budget.raiseIfFailed()
            switch step {
            case let .next(target, output): trace?.exited(name); return advance(from: target, raw: output, context: context)
            case let .end(output): trace?.exited(name); return .succeeded(output)
            case let .fail(error, cause): return .failed(error: error, cause: cause)
            }
        } catch {
            if let (next, placed) = caught(state, raw: raw, error: error) {
                trace?.exited(name)
                return advance(from: next, raw: placed, context: context)
            }
            return .failed(error: error.error, cause: error.cause)
        }
    }

    /// The name a Retry or Catch can give to match any failure its executor calls transient
    /// (no response, a timeout, HTTP 5xx or 429): a Sluice extension, since the States Language
    /// matches exact names only and `States.Http.StatusCode.5xx` does not exist.
    public static let retryableError = "Sluice.Retryable"

    /// The longest `Retry-After` waited for when the retrier sets no MaxDelaySeconds (a longer one is cut to this).
    public static let maxRetryAfterSeconds = 3600.0

    /// The task of `state` failed; `attempts[i]` is how many retries retrier i has used.
    /// `retryable` says the executor calls the failure transient (it then also matches
    /// `Sluice.Retryable`); `retryAfter` is the target's `Retry-After`, which lengthens the
    /// retrier's delay up to its MaxDelaySeconds.
    public func taskFailed(state name: String, raw: JSON, error: String, cause: String?, attempts: [Int], context: JSON,
                           retryable: Bool = false, retryAfter: Double? = nil) -> FailureDecision {
        guard let state = machine.states[name] else { return .advance(.failed(error: "States.Runtime", cause: "no state \(name)")) }
        if let index = state.retry.firstIndex(where: { Self.taskMatches($0.errors, error, retryable: retryable) }) {
            let used = index < attempts.count ? attempts[index] : 0
            let retrier = state.retry[index]
            if used < retrier.maxAttempts {
                var delay = retrier.delay(retry: used + 1)
                if let retryAfter { delay = max(delay, min(retryAfter, retrier.maxDelaySeconds ?? Self.maxRetryAfterSeconds)) }
                return .retry(delay: delay, retrier: index)
            }
        }
        if let (next, placed) = caught(state, raw: raw, error: StatesError(error, cause), retryable: retryable) {
            trace?.exited(name)
            return .advance(advance(from: next, raw: placed, context: context))
        }
        return .advance(.failed(error: error, cause: cause))
    }

    /// Passes over the Task `state` without running it (a task list's `requires` not met): on
    /// to its Next, or the end, with the state's input unchanged.
    public func skipTask(state name: String, raw: JSON, context: JSON, reason: String) -> Advance {
        guard let state = machine.states[name] else { return .failed(error: "States.Runtime", cause: "no state \(name)") }
        trace?.note("TaskSkipped", name, details: JSON.object([("reason", .string(reason))]).description)
        trace?.exited(name)
        guard let next = state.next, !state.end else { return .succeeded(raw) }
        return advance(from: next, raw: raw, context: context)
    }

    /// The Resource of a Task state, if `name` is one.
    public func resource(of name: String) -> String? {
        if case let .task(resource, _, _)? = machine.states[name]?.kind { return resource }
        return nil
    }

    /// The Wait of `state` is over: OutputPath, then on.
    public func waitElapsed(state name: String, raw: JSON, context: JSON) -> Advance {
        guard let state = machine.states[name] else { return .failed(error: "States.Runtime", cause: "no state \(name)") }
        do {
            let input = try Processing.select(state.inputPath, raw, state: name, field: "InputPath")
            let output = try Processing.select(state.outputPath, input, state: name, field: "OutputPath")
            trace?.exited(name)
            return state.end ? .succeeded(output) : advance(from: state.next!, raw: output, context: context)
        } catch {
            return .failed(error: error.error, cause: error.cause)
        }
    }

    public func hasState(_ name: String) -> Bool { machine.states[name] != nil }

    /// The Catch that matches `error`: the state it goes to and the data it goes with.
    private func caught(_ state: StateMachine.State, raw: JSON, error: StatesError, retryable: Bool = false) -> (String, JSON)? {
        guard let catcher = state.catchers.first(where: { Self.taskMatches($0.errors, error.error, retryable: retryable) }) else { return nil }
        var info: [(String, JSON)] = [("Error", .string(error.error))]
        if let cause = error.cause { info.append(("Cause", .string(cause))) }
        guard let placed = try? Processing.place(.object(info), into: raw, at: catcher.resultPath, state: state.name) else { return nil }
        return (catcher.next, placed)
    }

    /// `States.ALL` matches everything but States.Runtime and States.DataLimitExceeded;
    /// `States.TaskFailed` matches any task failure but a timeout (and neither of those two,
    /// which are no task's failure: a bound of the evaluation).
    static func taskMatches(_ names: [String], _ error: String, retryable: Bool = false) -> Bool {
        if LocalRunner.matches(names, error) { return true }
        if retryable && names.contains(retryableError) { return true }
        return names.contains("States.TaskFailed") && error != "States.Timeout" && error != "States.Runtime"
            && error != "States.DataLimitExceeded" && !error.isEmpty
    }
}
