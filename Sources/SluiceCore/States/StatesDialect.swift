import SluiceStates

/// What a dialect compiled to the States Language adds to the engine's one program
/// (`StatesProgram`): a check of the input at submit, and Task resources of its own. The
/// task-list dialect (`TaskListDialect`) is the one there is; a plain States Language
/// definition has none and uses the standard resources (`StatesResources`).
public protocol StatesDialect: Sendable {
    /// Refuses an input at submit, before anything is stored (the API answers 400).
    func check(input: JSON) throws(ProgramError)
    /// How a Task state of one of this dialect's resources runs; nil: not one of them.
    func plan(_ call: Interpreter.TaskCall) -> TaskPlan?
    /// The state result of a succeeded task of one of this dialect's resources, from the
    /// executor's output; nil: not one of them (the output is parsed as JSON).
    func result(resource: String, output: String) -> JSON?
    /// Why a resume may not start at `step` (which the machine has), or nil.
    func restartRefusal(_ step: String) -> String?
    /// The state data a resume at `step` starts from, given the data where the execution
    /// stopped (a task list forgets the results of `step` and of the tasks after it).
    func restartData(_ raw: JSON, at step: String) -> JSON
    /// A program state stored by this dialect's earlier program, as the state to resume in
    /// and its data; nil when `stored` is not one.
    func upgrade(stored: JSON) -> (state: String, raw: JSON)?
    /// The cause an execution fails with when the task at `state` failed for good.
    func failureCause(_ cause: String, at state: String) -> String
    /// Whether history gets a `StateEntered` and a `StateExited` line for every state passed.
    /// A dialect whose states are only its tasks (already in history as TaskScheduled,
    /// TaskSucceeded, TaskFailed, TaskSkipped) plus states it adds itself says false: the lines
    /// would name states its user never wrote and cost rows on every execution.
    var recordsStateTransitions: Bool { get }
}

extension StatesDialect {
    public func restartData(_ raw: JSON, at step: String) -> JSON { raw }
    public func upgrade(stored: JSON) -> (state: String, raw: JSON)? { nil }
    public func failureCause(_ cause: String, at state: String) -> String { cause }
    public var recordsStateTransitions: Bool { true }
}

/// What reaching a Task state leads to.
public enum TaskPlan: Sendable, Equatable {
    /// A job for the executor `type`; `queue` nil is the execution's queue; `leaseSeconds` is an
    /// activity's HeartbeatSeconds.
    case job(type: String, payload: String, queue: String? = nil, leaseSeconds: Double? = nil)
    /// The task does not run; the machine goes on with the state's input unchanged.
    case skip(reason: String)
    /// The task cannot be prepared (a template names a missing value): the execution fails,
    /// or the submit is refused when it is the first task.
    case fail(error: String, cause: String)
}
