import Foundation
import SluiceStates

/// A States Language definition as the engine runs it: the pure `Interpreter` decides, this
/// maps its answers to engine effects. A Task state becomes a job for the executor its
/// `Resource` names (`http`, `command`, `arn:aws:states:::http:invoke`, `noop`, `sleep`);
/// a Wait becomes a durable timer job (a `noop` job scheduled at the due time), never a
/// sleeping thread; Retry delays become the job's next `run_at`.
///
/// Program state (JSON): `{"phase": "task"|"wait", "state", "raw", "attempts": [..], "input"}`.
public struct StatesProgram: WorkflowProgram {
    public let interpreter: Interpreter
    public let name: String

    public init(machine: StateMachine, name: String) {
        interpreter = Interpreter(machine: machine)
        self.name = name
    }

    struct Memory {
        var phase: String
        var state: String
        var raw: SluiceStates.JSON
        var attempts: [Int]
        var input: SluiceStates.JSON

        var text: String {
            SluiceStates.JSON.object([("phase", .string(phase)), ("state", .string(state)), ("raw", raw),
                                      ("attempts", .array(attempts.map { .int(Int64($0)) })), ("input", input)]).description
        }

        init(phase: String, state: String, raw: SluiceStates.JSON, attempts: [Int], input: SluiceStates.JSON) {
            self.phase = phase
            self.state = state
            self.raw = raw
            self.attempts = attempts
            self.input = input
        }

        init?(_ text: String?) {
            guard let text, let value = try? JSONParser.parse(text), case let .string(phase)? = value["phase"],
                  case let .string(state)? = value["state"], let raw = value["raw"], let input = value["input"] else { return nil }
            var attempts: [Int] = []
            if case let .array(items)? = value["attempts"] { attempts = items.compactMap { $0.number.map { Int($0) } } }
            self.init(phase: phase, state: state, raw: raw, attempts: attempts, input: input)
        }
    }

    func context(_ input: SluiceStates.JSON) -> SluiceStates.JSON {
        .object([("Execution", .object([("Input", input)])), ("StateMachine", .object([("Name", .string(name))]))])
    }

    /// A copy of the interpreter that records the states it passes through.
    private func traced() -> (Interpreter, Interpreter.Trace) {
        let trace = Interpreter.Trace()
        var copy = interpreter
        copy.trace = trace
        return (copy, trace)
    }

    /// History lines for the states passed (and random values drawn), before the decision's own effects.
    private func withTrace(_ decision: ProgramDecision, _ trace: Interpreter.Trace) -> ProgramDecision {
        var decision = decision
        var records = trace.events.map { Effect.record(type: $0.type, step: $0.state, details: nil) }
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
        let (interpreter, trace) = traced()
        let now = Date().timeIntervalSince1970
        var decision = withTrace(decide(interpreter.start(input: input, context: context(input)), input: input, now: now), trace)
        // The machine's TimeoutSeconds: a timer job that ends the execution as timed_out if it fires first.
        if let limit = interpreter.machine.timeoutSeconds, decision.effects.contains(where: { if case .scheduleTask = $0 { return true } else { return false } }) {
            decision.effects.append(.scheduleTask(TaskRequest(step: Self.machineTimeoutStep, taskType: "noop", payload: "{}", maxAttempts: 1, runAt: now + limit)))
        }
        return decision
    }

    /// The step name of the machine-timeout timer job.
    static let machineTimeoutStep = "$timeout"

    public func resume(state text: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
        let (interpreter, trace) = traced()
        return withTrace(resume(interpreter, state: text, after: outcome, now: now), trace)
    }

    private func resume(_ interpreter: Interpreter, state text: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
        if outcome.job.step == Self.machineTimeoutStep {
            return ProgramDecision(state: text, effects: [.timedOut(cause: "the execution ran longer than its TimeoutSeconds (\(interpreter.machine.timeoutSeconds ?? 0) s)")])
        }
        guard var memory = Memory(text) else {
            return ProgramDecision(state: text, effects: [.fail(error: "States.Runtime", cause: "unreadable state-machine state")])
        }
        let context = context(memory.input)
        if memory.phase == "wait" {
            return decide(interpreter.waitElapsed(state: memory.state, raw: memory.raw, context: context), input: memory.input, now: now, current: memory)
        }
        switch outcome.result {
        case let .succeeded(output):
            let result = (try? JSONParser.parse(output)) ?? .string(output)
            return decide(interpreter.taskSucceeded(state: memory.state, raw: memory.raw, result: result, context: context), input: memory.input,
                          now: now, current: memory)
        case let .failed(error, cause, _, _):
            switch interpreter.taskFailed(state: memory.state, raw: memory.raw, error: error, cause: cause, attempts: memory.attempts, context: context) {
            case let .retry(delay, retrier):
                while memory.attempts.count <= retrier { memory.attempts.append(0) }
                memory.attempts[retrier] += 1
                return ProgramDecision(state: memory.text, effects: [.retry(at: now + delay, reason: error)])
            case let .advance(advance):
                return decide(advance, input: memory.input, now: now, current: memory)
            }
        }
    }

    public func restart(state text: String?, from step: String?) throws(ProgramError) -> ProgramDecision {
        guard let memory = Memory(text) else { throw ProgramError("this execution never reached a task; start it again instead") }
        let target = step ?? memory.state
        guard interpreter.hasState(target) else { throw ProgramError("no state named \(target)") }
        // Resumes with the input the stopped state had.
        let (interpreter, trace) = traced()
        return withTrace(decide(interpreter.advance(from: target, raw: memory.raw, context: context(memory.input)), input: memory.input,
                                now: Date().timeIntervalSince1970), trace)
    }

    /// `current` is kept as the state of a failed execution, so a resume knows where it stopped.
    private func decide(_ advance: Interpreter.Advance, input: SluiceStates.JSON, now: Double, current: Memory? = nil) -> ProgramDecision {
        switch advance {
        case let .succeeded(output):
            return ProgramDecision(state: nil, effects: [.succeed(output: output.description)])
        case let .failed(error, cause):
            return ProgramDecision(state: current?.text, effects: [.fail(error: error ?? "", cause: cause ?? "")])
        case let .task(call):
            let memory = Memory(phase: "task", state: call.state, raw: call.raw, attempts: [], input: input)
            let (type, payload) = StatesResources.job(for: call)
            let queue = type == "activity" ? StatesResources.activityQueue(call.resource) : nil
            let lease = type == "activity" ? (call.heartbeatSeconds ?? call.timeoutSeconds) : nil
            return ProgramDecision(state: memory.text, effects: [.scheduleTask(TaskRequest(step: call.state, taskType: type, payload: payload,
                                                                                           maxAttempts: 1_000, queue: queue, leaseSeconds: lease))])
        case let .wait(call):
            let memory = Memory(phase: "wait", state: call.state, raw: call.raw, attempts: [], input: input)
            let due = call.until?.timeIntervalSince1970 ?? now + (call.seconds ?? 0)
            return ProgramDecision(state: memory.text, effects: [.scheduleTask(TaskRequest(step: call.state, taskType: "noop", payload: "{}",
                                                                                           maxAttempts: 1, runAt: due))])
        }
    }
}

/// Which executor runs a Task state's `Resource`, and its parameters in that executor's form.
public enum StatesResources {
    public static let supported = ["http", "command", "noop", "sleep", "arn:aws:states:::http:invoke"]

    /// The queue an activity's tasks wait in until an external worker claims them.
    public static func activityQueue(_ name: String) -> String { "activity:" + name }

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
            if let timeout = call.timeoutSeconds { pairs.append(("timeoutMs", .int(Int64(timeout * 1000)))) }
            return ("http", SluiceStates.JSON.object(pairs).description)
        case "command":
            var input = call.input
            if let timeout = call.timeoutSeconds, input["timeoutSeconds"] == nil { input = input.setting("timeoutSeconds", .double(timeout)) }
            return ("cli", input.description)
        case "http":
            var input = call.input
            if let timeout = call.timeoutSeconds, input["timeoutMs"] == nil { input = input.setting("timeoutMs", .int(Int64(timeout * 1000))) }
            return ("http", input.description)
        default:
            return ("activity", call.input.description)
        }
    }
}
