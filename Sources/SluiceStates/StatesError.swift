/// A failure as the States Language names it: an error name (`States.Runtime`,
/// `States.TaskFailed`, a Fail state's own) and a human-readable cause.
public struct StatesError: Error, Sendable, Equatable, CustomStringConvertible {
    public let error: String
    public let cause: String?

    public init(_ error: String, _ cause: String? = nil) {
        self.error = error
        self.cause = cause
    }

    public var description: String { cause.map { "\(error): \($0)" } ?? error }

    static func runtime(_ state: String, _ detail: String) -> StatesError {
        StatesError("States.Runtime", "An error occurred while executing the state '\(state)'. \(detail)")
    }
}
