import Foundation

/// What a definition does, as the completer needs it: a pure decision function with no I/O.
/// The completer applies the effects it returns in the same transaction that recorded the event.
public protocol WorkflowProgram: Sendable {
    /// The effects of starting an execution with `input` (normally: schedule the first task).
    func start(input: String) throws(ProgramError) -> ProgramDecision
    /// The effects of a task outcome, given the execution's stored program state.
    func resume(state: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision
    /// Restarts a finished (failed, cancelled) execution at `step`, or where it stopped.
    func restart(state: String?, from step: String?) throws(ProgramError) -> ProgramDecision
}

extension WorkflowProgram {
    public func restart(state: String?, from step: String?) throws(ProgramError) -> ProgramDecision {
        throw ProgramError("this definition's dialect cannot be resumed")
    }
}

/// A program's answer: its new state (stored on the execution) and the effects to apply.
public struct ProgramDecision: Sendable {
    public var state: String?
    public var effects: [Effect]

    public init(state: String?, effects: [Effect]) {
        self.state = state
        self.effects = effects
    }
}

/// A change the completer makes on a program's behalf.
public enum Effect: Sendable {
    /// Put a new task job on the queue.
    case scheduleTask(TaskRequest)
    /// Run the job that just failed again at `at` (Unix seconds): retry with backoff.
    case retry(at: Double, reason: String)
    case succeed(output: String)
    case fail(error: String, cause: String)
    /// Ends the execution as `timed_out` (`States.Timeout`); its waiting jobs are cancelled.
    case timedOut(cause: String)
    /// A line in the execution's history (a state entered or exited, …).
    case record(type: String, step: String?, details: String?)
    /// Start child executions (Parallel branches, Map iterations); each one's end is reported
    /// back to this program as an outcome of step `$child` whose payload is the child's slot.
    case startChildren([ChildStart])
}

/// A child execution to start: its machine (compiled JSON), input and slot in the parent's join.
public struct ChildStart: Sendable {
    public var machine: String
    public var input: String
    public var slot: String
    public var runAt: Double?

    public init(machine: String, input: String, slot: String, runAt: Double? = nil) {
        self.machine = machine
        self.input = input
        self.slot = slot
        self.runAt = runAt
    }
}

/// A task to put on the queue.
public struct TaskRequest: Sendable {
    public var step: String
    public var taskType: String
    public var payload: String
    public var maxAttempts: Int
    /// nil: the execution's queue.
    public var queue: String?
    public var runAt: Double?
    /// How long a claim of this job lasts without a heartbeat (activities' HeartbeatSeconds).
    public var leaseSeconds: Double?
    /// The `${secrets.NAME}` names the definition itself wrote for this task: the only ones
    /// its executor resolves (`SecretScope`). The store seals them into the payload.
    public var secretNames: [String]

    public init(step: String, taskType: String, payload: String, maxAttempts: Int, queue: String? = nil, runAt: Double? = nil,
                leaseSeconds: Double? = nil, secretNames: [String] = []) {
        self.step = step
        self.taskType = taskType
        self.payload = payload
        self.maxAttempts = maxAttempts
        self.queue = queue
        self.runAt = runAt
        self.leaseSeconds = leaseSeconds
        self.secretNames = secretNames
    }
}

/// A definition that cannot start, with the reason.
public struct ProgramError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
