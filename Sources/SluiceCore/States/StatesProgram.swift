import Foundation
import SluiceStates

/// A States Language definition as the engine runs it: the pure `Interpreter` decides, this
/// maps its answers to engine effects. A Task state becomes a job for the executor its
/// `Resource` names (`http`, `command`, `arn:aws:states:::http:invoke`, `noop`, `sleep`);
/// a Wait becomes a durable timer job (a `noop` job scheduled at the due time), never a
/// sleeping thread; Retry delays become the job's next `run_at`.
///
/// A dialect compiled to the States Language (the task list) brings its `StatesDialect`:
/// an input check at submit and resources of its own; there is no second program.
///
/// Program state (JSON): `{"phase": "task"|"wait", "state", "raw", "attempts": [..], "input", "join", "transitions"}`;
/// `transitions` counts the states entered so far, so the bound on transitions per execution
/// (`EvaluationLimits.maxTransitions`) holds across steps and restarts of the process.
///
/// Every step runs under an `EvaluationBudget`: the one the catalog made current with its
/// configured limits (`ProgramCatalog.limits`), or the standard limits.
public struct StatesProgram: WorkflowProgram {
    public let interpreter: Interpreter
    public let name: String
    public let dialect: (any StatesDialect)?
    /// Per Task state, the secrets its own Parameters name (see `SecretScope`).
    let secretNames: [String: [String]]

    public init(machine: StateMachine, name: String, dialect: (any StatesDialect)? = nil) {
        interpreter = Interpreter(machine: machine)
        self.name = name
        self.dialect = dialect
        var names: [String: [String]] = [:]
        for (state, body) in machine.raw["States"]?.objectPairs ?? [] {
            if let parameters = body["Parameters"] {
                let found = SecretScope.names(inParameters: parameters)
                if !found.isEmpty { names[state] = found }
            }
        }
        secretNames = names
    }

    /// A Task state that could not be prepared; `memory` is where the execution stopped.
    struct PlanFailure: Error {
        let error: String
        let cause: String
        let memory: Memory
    }

    /// Runs `decide`, turning a task that cannot be prepared into the execution's failure.
    private func settled(_ body: () throws(PlanFailure) -> ProgramDecision) -> ProgramDecision {
        do { return try body() } catch {
            return ProgramDecision(state: error.memory.text, effects: [.fail(error: error.error, cause: error.cause)])
        }
    }

    struct Memory {
        var phase: String
        var state: String
        var raw: SluiceStates.JSON
        var attempts: [Int]
        var input: SluiceStates.JSON
        /// While joining children: `{generation, count, max, started, done: {index: output}, machines: [machine],
        /// specs: [{machine, input}]}`; a spec's machine is an index into `machines` (a state written before
        /// `machines` existed holds the machine itself).
        var join: SluiceStates.JSON = .null
        /// States entered in this execution so far.
        var transitions: Int

        var text: String {
            SluiceStates.JSON.object([("phase", .string(phase)), ("state", .string(state)), ("raw", raw),
                                      ("attempts", .array(attempts.map { .int(Int64($0)) })), ("input", input), ("join", join),
                                      ("transitions", .int(Int64(transitions)))]).description
        }

        /// `transitions` nil: the total of the step running now (its budget's).
        init(phase: String, state: String, raw: SluiceStates.JSON, attempts: [Int], input: SluiceStates.JSON, transitions: Int? = nil) {
            self.phase = phase
            self.state = state
            self.raw = raw
            self.attempts = attempts
            self.input = input
            self.transitions = transitions ?? EvaluationBudget.current?.totalTransitions ?? 0
        }

        init?(_ text: String?) {
            guard let text, let value = try? JSONParser.parse(text), case let .string(phase)? = value["phase"],
                  case let .string(state)? = value["state"], let raw = value["raw"], let input = value["input"] else { return nil }
            var attempts: [Int] = []
            if case let .array(items)? = value["attempts"] { attempts = items.compactMap { $0.number.map { Int($0) } } }
            let transitions = value["transitions"]?.number.flatMap { Int(exactly: $0) } ?? 0
            self.init(phase: phase, state: state, raw: raw, attempts: attempts, input: input, transitions: transitions)
            join = value["join"] ?? .null
        }
    }

    func context(_ input: SluiceStates.JSON) -> SluiceStates.JSON {
        .object([("Execution", .object([("Input", input)])), ("StateMachine", .object([("Name", .string(name))]))])
    }

    /// A copy of the interpreter that records the states it passes through.
    private func traced() -> (Interpreter, Interpreter.Trace) {
        let trace = Interpreter.Trace(transitions: dialect?.recordsStateTransitions ?? true)
        var copy = interpreter
        copy.trace = trace
        return (copy, trace)
    }

    /// History lines for the states passed (and random values drawn), before the decision's own effects.
    private func withTrace(_ decision: ProgramDecision, _ trace: Interpreter.Trace) -> ProgramDecision {
        var decision = decision
        var records = trace.events.map { Effect.record(type: $0.type, step: $0.state, details: $0.details) }
        if !trace.random.drawn.isEmpty {
            records.append(.record(type: "RandomValuesDrawn", step: nil,
                                   details: "{\"values\":" + SluiceStates.JSON.array(trace.random.drawn).description + "}"))
        }
        decision.effects = records + decision.effects
        return decision
    }

    public func start(input text: String) throws(ProgramError) -> ProgramDecision {
        let input: SluiceStates.JSON
        do { input = try JSONParser.parse(text) } catch { throw ProgramError("input is not JSON: \(error)") }
        try dialect?.check(input: input)
        let (interpreter, trace) = traced()
        let now = Date().timeIntervalSince1970
        // A first task that cannot be prepared refuses the submit: nothing is stored.
        let first: ProgramDecision
        do {
            first = try budgeted(prior: 0) { () throws(PlanFailure) in
                try decide(interpreter, interpreter.start(input: input, context: context(input)), input: input, now: now)
            }
        } catch {
            throw ProgramError(error.cause)
        }
        var decision = withTrace(first, trace)
        // The machine's TimeoutSeconds: a timer job that ends the execution as timed_out if it fires first.
        if let limit = interpreter.machine.timeoutSeconds, decision.effects.contains(where: { if case .scheduleTask = $0 { return true } else { return false } }) {
            decision.effects.append(.scheduleTask(TaskRequest(step: Self.machineTimeoutStep, taskType: "noop", payload: "{}", maxAttempts: 1, runAt: now + limit)))
        }
        return decision
    }

    /// The stored program state, or one its dialect's earlier program stored (a task in flight
    /// across an upgrade goes on where it was).
    private func memory(_ text: String?) -> Memory? {
        if let memory = Memory(text) { return memory }
        guard let dialect, let text, let stored = try? JSONParser.parse(text), let (state, raw) = dialect.upgrade(stored: stored) else { return nil }
        return Memory(phase: "task", state: state, raw: raw, attempts: [], input: raw["input"] ?? .object([]))
    }

    /// The step of the synthetic outcome that reports a child execution's end.
    public static let childStep = "$child"

    /// A child ended: record it; start the next waiting one; when all are done, go on with the
    /// array of their outputs; on a failure, Retry (all children again) or Catch.
    private func joined(_ interpreter: Interpreter, _ memory: inout Memory, slot: String, result: TaskOutcome.Result, now: Double) -> ProgramDecision {
        let parts = slot.split(separator: ":")
        guard memory.phase == "join", parts.count == 2, let index = Int(parts[1]),
              case let .int(generation)? = memory.join["generation"], String(generation) == parts[0],
              case let .array(specs)? = memory.join["specs"] else {
            return ProgramDecision(state: memory.text, effects: [])  // a child of an earlier attempt: ignored
        }
        let context = context(memory.input)
        switch result {
        case let .succeeded(output):
            var done = memory.join["done"] ?? .object([])
            done = done.setting(String(index), (try? JSONParser.parse(output)) ?? .null)
            memory.join = memory.join.setting("done", done)
            guard case let .object(finished) = done else { return ProgramDecision(state: memory.text, effects: []) }
            if finished.count == specs.count {
                let outputs = (0..<specs.count).map { done[String($0)] ?? .null }
                return settled { () throws(PlanFailure) in
                    try decide(interpreter, interpreter.taskSucceeded(state: memory.state, raw: memory.raw, result: .array(outputs), context: context),
                               input: memory.input, now: now, current: memory)
                }
            }
            let started = Int(memory.join["started"]?.number ?? 0)
            guard started < specs.count else { return ProgramDecision(state: memory.text, effects: []) }
            memory.join = memory.join.setting("started", .int(Int64(started + 1)))
            let spec = Self.expanded(specs[started], machines: memory.join["machines"])
            return ProgramDecision(state: memory.text, effects: [.startChildren([child(spec, generation: Int(generation), index: started, runAt: nil)])])
        case let .failed(error, cause, _, _):
            switch interpreter.taskFailed(state: memory.state, raw: memory.raw, error: error, cause: cause, attempts: memory.attempts, context: context) {
            case let .retry(delay, retrier):
                while memory.attempts.count <= retrier { memory.attempts.append(0) }
                memory.attempts[retrier] += 1
                let machines = memory.join["machines"]
                return startJoin(&memory, specs: specs.map { Self.expanded($0, machines: machines) }, maxConcurrency: Int(memory.join["max"]?.number ?? 0),
                                 runAt: now + delay)
            case let .advance(advance):
                return settled { () throws(PlanFailure) in try decide(interpreter, advance, input: memory.input, now: now, current: memory) }
            }
        }
    }

    private func child(_ spec: SluiceStates.JSON, generation: Int, index: Int, runAt: Double?) -> ChildStart {
        ChildStart(machine: (spec["machine"] ?? .null).description, input: (spec["input"] ?? .object([])).description,
                   slot: "\(generation):\(index)", runAt: runAt)
    }

    /// Starts (again) a join over `specs`: a new generation, the first `maxConcurrency` children.
    private func startJoin(_ memory: inout Memory, specs: [SluiceStates.JSON], maxConcurrency: Int, runAt: Double?) -> ProgramDecision {
        let generation = Int.random(in: 1...Int(Int32.max))
        let first = maxConcurrency > 0 ? min(maxConcurrency, specs.count) : specs.count
        let (machines, compact) = Self.compacted(specs)
        memory.phase = "join"
        memory.join = .object([("generation", .int(Int64(generation))), ("max", .int(Int64(maxConcurrency))), ("started", .int(Int64(first))),
                               ("done", .object([])), ("machines", .array(machines)), ("specs", .array(compact))])
        if specs.isEmpty {
            return ProgramDecision(state: memory.text, effects: [])
        }
        return ProgramDecision(state: memory.text, effects: [.startChildren((0..<first).map { child(specs[$0], generation: generation, index: $0, runAt: runAt) })])
    }

    /// Each distinct child machine once, and the specs naming theirs by index. A Map's children
    /// share one machine: written into every spec, the program state was items x machine bytes
    /// (5,000 items of a 50 KB processor made 250 MB, parsed and rewritten on every child's
    /// report, which held the completer for minutes and every other execution with it).
    static func compacted(_ specs: [SluiceStates.JSON]) -> (machines: [SluiceStates.JSON], specs: [SluiceStates.JSON]) {
        var machines: [SluiceStates.JSON] = []
        var compact: [SluiceStates.JSON] = []
        compact.reserveCapacity(specs.count)
        for spec in specs {
            let machine = spec["machine"] ?? .null
            let index: Int
            if let known = machines.lastIndex(of: machine) { index = known } else { machines.append(machine); index = machines.count - 1 }
            compact.append(.object([("machine", .int(Int64(index))), ("input", spec["input"] ?? .object([]))]))
        }
        return (machines, compact)
    }

    /// The most bytes the inputs of one join's children may total. The join's state holds them
    /// and is rewritten on every child's report: a Map whose ItemSelector hands each of 1,000
    /// items the whole 250 KB input made a 250 MB state written 1,000 times.
    static let maxJoinInputBytes = 16 << 20

    static func checkJoinInputs(_ call: Interpreter.ChildrenCall, memory: Memory) throws(PlanFailure) {
        let depth = (EvaluationBudget.current?.limits.maxDepth ?? EvaluationLimits.standard.maxDepth) + 1
        let bound = EvaluationLimits(maxDepth: depth, maxPayloadBytes: maxJoinInputBytes)
        do { try bound.check(.array(call.children.map(\.input)), "") } catch {
            throw PlanFailure(error: "States.DataLimitExceeded",
                              cause: "the inputs of the \(call.children.count) branches or items of state '\(call.state)' total more than "
                                  + "\(maxJoinInputBytes) bytes (the bound on the inputs of one Map or Parallel state's children)",
                              memory: memory)
        }
    }

    /// A spec with its machine in place of its index (a spec that holds its machine is kept).
    static func expanded(_ spec: SluiceStates.JSON, machines: SluiceStates.JSON?) -> SluiceStates.JSON {
        guard case let .int(index)? = spec["machine"], case let .array(list)? = machines, index >= 0, Int(index) < list.count else { return spec }
        return spec.setting("machine", list[Int(index)])
    }

    /// The step name of the machine-timeout timer job.
    static let machineTimeoutStep = "$timeout"

    public func resume(state text: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
        let (interpreter, trace) = traced()
        return withTrace(resume(interpreter, state: text, after: outcome, now: now), trace)
    }

    /// `body` under the step's budget (the one made current, else a fresh one of `limits`),
    /// counting from `prior` transitions.
    static func budgeted<T, E: Error>(prior: Int, limits: EvaluationLimits = .standard, payloadBytes: Int? = nil,
                                      _ body: () throws(E) -> T) throws(E) -> T {
        if let budget = EvaluationBudget.current {
            budget.priorTransitions = prior
            if let payloadBytes { budget.limits.maxPayloadBytes = max(budget.limits.maxPayloadBytes, payloadBytes) }
            return try body()
        }
        let budget = EvaluationBudget(limits: limits, priorTransitions: prior)
        if let payloadBytes { budget.limits.maxPayloadBytes = max(budget.limits.maxPayloadBytes, payloadBytes) }
        let result: Result<T, E> = budget.around { () -> Result<T, E> in
            do throws(E) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// A dialect is not the States Language: Mender's task lists have no payload limit, and
    /// their data (the results of their tasks, each response capped by its executor, in a
    /// list that cannot loop) is bounded at 16 MiB only against runaway growth. The States
    /// Language keeps Step Functions' 256 KiB.
    static let dialectPayloadBytes = 16 << 20

    private func budgeted<T, E: Error>(prior: Int, _ body: () throws(E) -> T) throws(E) -> T {
        try Self.budgeted(prior: prior, payloadBytes: dialect == nil ? nil : Self.dialectPayloadBytes, body)
    }

    private func resume(_ interpreter: Interpreter, state text: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
        if outcome.job.step == Self.machineTimeoutStep {
            return ProgramDecision(state: text, effects: [.timedOut(cause: "the execution ran longer than its TimeoutSeconds (\(interpreter.machine.timeoutSeconds ?? 0) s)")])
        }
        guard var memory = memory(text) else {
            return ProgramDecision(state: text, effects: [.fail(error: "States.Runtime", cause: "unreadable state-machine state")])
        }
        return budgeted(prior: memory.transitions) { resume(interpreter, memory: &memory, after: outcome, now: now) }
    }

    private func resume(_ interpreter: Interpreter, memory: inout Memory, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
        let context = context(memory.input)
        if outcome.job.step == Self.childStep {
            return joined(interpreter, &memory, slot: outcome.job.payload, result: outcome.result, now: now)
        }
        if memory.phase == "wait" {
            return settled { () throws(PlanFailure) in
                try decide(interpreter, interpreter.waitElapsed(state: memory.state, raw: memory.raw, context: context), input: memory.input, now: now, current: memory)
            }
        }
        switch outcome.result {
        case let .succeeded(output):
            let resource = interpreter.resource(of: memory.state) ?? ""
            let result: SluiceStates.JSON
            if let reduced = dialect?.result(resource: resource, output: output) {
                result = reduced
            } else {
                switch Self.parseResult(output) {
                case let .success(value): result = value
                case let .failure(bound):
                    // Too deep to be a state's data: the task's failure, which only a Retry or
                    // Catch naming States.DataLimitExceeded handles (not an unreadable state later).
                    let failure = TaskOutcome(job: outcome.job, result: .failed(error: bound.error, cause: bound.cause ?? "", retryable: false, retryAfter: nil),
                                              startedAt: outcome.startedAt, finishedAt: outcome.finishedAt, record: outcome.record,
                                              leaseOwner: outcome.leaseOwner)
                    return resume(interpreter, memory: &memory, after: failure, now: now)
                }
            }
            return settled { () throws(PlanFailure) in
                try decide(interpreter, interpreter.taskSucceeded(state: memory.state, raw: memory.raw, result: result, context: context), input: memory.input,
                           now: now, current: memory)
            }
        case let .failed(error, cause, retryable, retryAfter):
            switch interpreter.taskFailed(state: memory.state, raw: memory.raw, error: error, cause: cause, attempts: memory.attempts, context: context,
                                          retryable: retryable, retryAfter: retryAfter) {
            case let .retry(delay, retrier):
                while memory.attempts.count <= retrier { memory.attempts.append(0) }
                memory.attempts[retrier] += 1
                return ProgramDecision(state: memory.text, effects: [.retry(at: now + delay, reason: error)])
            case var .advance(advance):
                // The execution fails with this task's failure: its dialect may say where (a task list names the task).
                if let dialect, case let .failed(error, cause) = advance {
                    advance = .failed(error: error, cause: dialect.failureCause(cause ?? "", at: memory.state))
                }
                return settled { () throws(PlanFailure) in try decide(interpreter, advance, input: memory.input, now: now, current: memory) }
            }
        }
    }

    /// A task's output as its result: its JSON, or its text when it is not JSON; a failure
    /// when it nests deeper than the step's bound.
    static func parseResult(_ output: String) -> Result<SluiceStates.JSON, StatesError> {
        let maxDepth = EvaluationBudget.current?.limits.maxDepth ?? EvaluationLimits.standard.maxDepth
        do { return .success(try JSONParser.parse(output, maxDepth: maxDepth)) } catch {
            guard error.isDepthLimit else { return .success(.string(output)) }
            return .failure(StatesError("States.DataLimitExceeded",
                                        "the task's result is nested more than \(maxDepth) levels deep (the maximum depth of a value)"))
        }
    }

    public func restart(state text: String?, from step: String?) throws(ProgramError) -> ProgramDecision {
        guard let memory = memory(text) else { throw ProgramError("this execution never reached a task; start it again instead") }
        let target = step ?? memory.state
        if let refusal = dialect?.restartRefusal(target) { throw ProgramError(refusal) }
        guard interpreter.hasState(target) else { throw ProgramError("no state named \(target)") }
        // Resumes with the input the stopped state had.
        let (interpreter, trace) = traced()
        let decision: ProgramDecision
        do {
            let raw = dialect?.restartData(memory.raw, at: target) ?? memory.raw
            // A resumed execution starts its count of transitions again.
            decision = try budgeted(prior: 0) { () throws(PlanFailure) in
                try decide(interpreter, interpreter.advance(from: target, raw: raw, context: context(memory.input)), input: memory.input,
                           now: Date().timeIntervalSince1970)
            }
        } catch {
            throw ProgramError(error.cause)
        }
        return withTrace(decision, trace)
    }

    /// `current` is kept as the state of a failed execution, so a resume knows where it stopped.
    /// Skipped tasks and empty joins continue in a loop, not by recursion: a task list of a
    /// thousand skipped tasks must not deepen the stack.
    private func decide(_ interpreter: Interpreter, _ advance: Interpreter.Advance, input: SluiceStates.JSON, now: Double,
                        current: Memory? = nil) throws(PlanFailure) -> ProgramDecision {
        var advance = advance
        while true {
        switch advance {
        case let .succeeded(output):
            return ProgramDecision(state: nil, effects: [.succeed(output: output.description)])
        case let .failed(error, cause):
            return ProgramDecision(state: current?.text, effects: [.fail(error: error ?? "", cause: cause ?? "")])
        case let .task(call):
            let memory = Memory(phase: "task", state: call.state, raw: call.raw, attempts: [], input: input)
            switch dialect?.plan(call) ?? StatesResources.plan(for: call) {
            case let .job(type, payload, queue, lease):
                // Only the executors that resolve secrets get the names (an activity's worker never does).
                let secrets = type == "http" || type == "cli" ? secretNames[call.state] ?? [] : []
                return ProgramDecision(state: memory.text, effects: [.scheduleTask(TaskRequest(step: call.state, taskType: type, payload: payload,
                                                                                               maxAttempts: 1_000, queue: queue, leaseSeconds: lease,
                                                                                               secretNames: secrets))])
            case let .skip(reason):
                advance = interpreter.skipTask(state: call.state, raw: call.raw, context: context(input), reason: reason)
                continue
            case let .fail(error, cause):
                throw PlanFailure(error: error, cause: cause, memory: memory)
            }
        case let .children(call):
            var memory = Memory(phase: "join", state: call.state, raw: call.raw, attempts: [], input: input)
            try Self.checkJoinInputs(call, memory: memory)
            let specs = call.children.map { SluiceStates.JSON.object([("machine", $0.machine), ("input", $0.input)]) }
            if specs.isEmpty {
                advance = interpreter.taskSucceeded(state: call.state, raw: call.raw, result: .array([]), context: context(input))
                continue
            }
            return startJoin(&memory, specs: specs, maxConcurrency: call.maxConcurrency, runAt: nil)
        case let .wait(call):
            let memory = Memory(phase: "wait", state: call.state, raw: call.raw, attempts: [], input: input)
            let due = call.until?.timeIntervalSince1970 ?? now + (call.seconds ?? 0)
            return ProgramDecision(state: memory.text, effects: [.scheduleTask(TaskRequest(step: call.state, taskType: "noop", payload: "{}",
                                                                                           maxAttempts: 1, runAt: due))])
        }
        }
    }
}

/// Which executor runs a Task state's `Resource`, and its parameters in that executor's form.
public enum StatesResources {
    public static let supported = ["http", "command", "noop", "sleep", "arn:aws:states:::http:invoke"]

    /// The queue an activity's tasks wait in until an external worker claims them.
    public static func activityQueue(_ name: String) -> String { "activity:" + name }

    /// The job for a Task state: an executor's, or an activity's (queue `activity:NAME`,
    /// leased for the state's HeartbeatSeconds).
    static func plan(for call: Interpreter.TaskCall) -> TaskPlan {
        let (type, payload) = job(for: call)
        guard type == "activity" else { return .job(type: type, payload: payload) }
        return .job(type: type, payload: payload, queue: activityQueue(call.resource), leaseSeconds: call.heartbeatSeconds ?? call.timeoutSeconds)
    }

    /// Seconds as whole milliseconds, clamped: a TimeoutSeconds of 1e300 must not trap the conversion.
    static func milliseconds(_ seconds: Double) -> Int64 {
        Int64(exactly: (min(max(seconds, 0), 1e12) * 1000).rounded(.down)) ?? 0
    }

    static func job(for call: Interpreter.TaskCall) -> (type: String, payload: String) {
        switch call.resource {
        case "arn:aws:states:::http:invoke":
            // AWS's HTTP task: ApiEndpoint, Method, Headers, QueryParameters, RequestBody.
            var url = call.input["ApiEndpoint"].flatMap { if case let .string(s) = $0 { return s } else { return nil } } ?? ""
            if case let .object(query)? = call.input["QueryParameters"], !query.isEmpty {
                var components = URLComponents()
                var items: [URLQueryItem] = []
                for (key, value) in query {
                    if case let .string(text) = value { items.append(URLQueryItem(name: key, value: text)) }
                    else { items.append(URLQueryItem(name: key, value: value.description)) }
                }
                components.queryItems = items
                url += (url.contains("?") ? "&" : "?") + (components.percentEncodedQuery ?? "")
            }
            var pairs: [(String, SluiceStates.JSON)] = [("url", .string(url)), ("method", call.input["Method"] ?? .string("GET"))]
            if let headers = call.input["Headers"] { pairs.append(("headers", headers)) }
            if let body = call.input["RequestBody"] { pairs.append(("json", body)) }
            if let timeout = call.timeoutSeconds { pairs.append(("timeoutMs", .int(milliseconds(timeout)))) }
            return ("http", SluiceStates.JSON.object(pairs).description)
        case "command":
            var input = call.input
            if let timeout = call.timeoutSeconds, input["timeoutSeconds"] == nil { input = input.setting("timeoutSeconds", .double(timeout)) }
            return ("cli", input.description)
        case "http":
            var input = call.input
            if let timeout = call.timeoutSeconds, input["timeoutMs"] == nil { input = input.setting("timeoutMs", .int(milliseconds(timeout))) }
            return ("http", input.description)
        case "noop", "sleep":
            // The built-in executors, so a machine can exercise the queue alone (`sleep` reads `{"ms": N}`).
            return (call.resource, call.input.description)
        default:
            return ("activity", call.input.description)
        }
    }
}
