import Foundation

/// The built-in program: a chain of tasks run one after another, each with its own retry
/// policy; the first task that fails for good fails the execution and the rest do not run.
/// Its state is the index of the current task.
public struct TaskChainProgram: WorkflowProgram, Codable, Equatable {
    public struct Task: Codable, Sendable, Equatable {
        public var name: String
        public var type: String
        /// The task's parameters as JSON text; nil hands the first task the execution's input.
        public var parameters: String?
        public var retry: RetryPolicy

        public init(name: String, type: String, parameters: String? = "{}", retry: RetryPolicy = RetryPolicy()) {
            self.name = name
            self.type = type
            self.parameters = parameters
            self.retry = retry
        }
    }

    public var tasks: [Task]

    public init(tasks: [Task]) { self.tasks = tasks }

    public func start(input: String) throws(ProgramError) -> ProgramDecision {
        guard let first = tasks.first else { return ProgramDecision(state: nil, effects: [.succeed(output: input)]) }
        return ProgramDecision(state: "0", effects: [.scheduleTask(request(for: first, input: input))])
    }

    public func resume(state: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
        let index = state.flatMap { Int($0) } ?? 0
        guard index < tasks.count else {
            return ProgramDecision(state: state, effects: [.fail(error: "States.Runtime", cause: "task index \(index) out of range")])
        }
        let task = tasks[index]
        switch outcome.result {
        case let .succeeded(output):
            let next = index + 1
            if next < tasks.count {
                return ProgramDecision(state: String(next), effects: [.scheduleTask(request(for: tasks[next]))])
            }
            return ProgramDecision(state: String(next), effects: [.succeed(output: output)])
        case let .failed(error, cause, retryable, retryAfter):
            if retryable && outcome.job.attempt < task.retry.maxAttempts {
                let delay = task.retry.delay(afterAttempt: outcome.job.attempt, retryAfter: retryAfter)
                return ProgramDecision(state: state, effects: [.retry(at: now + delay, reason: error)])
            }
            return ProgramDecision(state: state, effects: [.fail(error: error, cause: cause)])
        }
    }

    private func request(for task: Task, input: String = "{}") -> TaskRequest {
        TaskRequest(step: task.name, taskType: task.type, payload: task.parameters ?? input, maxAttempts: task.retry.maxAttempts)
    }
}
