import Foundation

/// The bounds on evaluating a state machine, so that no definition can crash or wedge the
/// process that runs it. Each is checked where the work happens, and a bound that is hit
/// fails that execution with a `States.*` error naming the bound and its value:
/// - `maxDepth`: how deeply a value (state input, output, parameters, a task's result) may
///   nest. Every walk over a value (writing, parsing, comparing, freeing) recurses once per
///   level; a Pass state looping on `States.Array($.a)` nested its data one level per
///   transition and ended the process with SIGSEGV at a few thousand levels.
///   `States.DataLimitExceeded`.
/// - `maxPayloadBytes`: Step Functions' 256 KiB payload limit on state input, output and
///   parameters (the size of their compact JSON text). `States.DataLimitExceeded`.
/// - `maxTransitionsPerStep` and `maxTransitions`: states run inline in one program step (each
///   a `StateEntered`/`StateExited` pair in history), and in the whole execution (counted in
///   its program state across steps; AWS stops at 25,000 history events). `States.Runtime`.
/// - `stepSeconds`: wall time of one program step, checked between states and inside the
///   intrinsic and JSONPath loops that can run long on a small definition. `States.Runtime`.
public struct EvaluationLimits: Sendable, Equatable {
    public var maxDepth: Int
    public var maxPayloadBytes: Int
    public var maxTransitionsPerStep: Int
    public var maxTransitions: Int
    public var stepSeconds: Double

    public init(maxDepth: Int = 128, maxPayloadBytes: Int = 262_144, maxTransitionsPerStep: Int = 1_000,
                maxTransitions: Int = 10_000, stepSeconds: Double = 1) {
        self.maxDepth = maxDepth
        self.maxPayloadBytes = maxPayloadBytes
        self.maxTransitionsPerStep = maxTransitionsPerStep
        self.maxTransitions = maxTransitions
        self.stepSeconds = stepSeconds
    }

    public static let standard = EvaluationLimits()

    /// Throws `States.DataLimitExceeded` when `value` nests deeper than `maxDepth` or its JSON
    /// text is larger than `maxPayloadBytes`. `what` says which value ("the output of state 'A'").
    /// Stops walking as soon as it knows: the cost is at most the bound, never the value's size.
    public func check(_ value: JSON, _ what: @autoclosure () -> String) throws(StatesError) {
        var remaining = maxPayloadBytes
        switch Self.walk(value, level: 0, maxDepth: maxDepth, remaining: &remaining) {
        case .within: return
        case .tooDeep:
            throw StatesError("States.DataLimitExceeded", "\(what()) is nested more than \(maxDepth) levels deep (the maximum depth of a value)")
        case .tooLarge:
            throw StatesError("States.DataLimitExceeded",
                              "\(what()) is larger than \(maxPayloadBytes) bytes (the payload size limit of a state's input, output or parameters)")
        }
    }

    /// The depth half of `check`: for a task's result, whose size is checked once a
    /// ResultSelector, ResultPath and OutputPath have made it the next state's input.
    public func checkDepth(_ value: JSON, _ what: @autoclosure () -> String) throws(StatesError) {
        var unbounded = Int.max
        if Self.walk(value, level: 0, maxDepth: maxDepth, remaining: &unbounded) == .tooDeep {
            throw StatesError("States.DataLimitExceeded", "\(what()) is nested more than \(maxDepth) levels deep (the maximum depth of a value)")
        }
    }

    enum Measure { case within, tooDeep, tooLarge }

    /// Recursion is bounded by `maxDepth`: a container at the bound is refused before its
    /// members are visited. `remaining` counts down the bytes of the compact text (a string's
    /// escapes are not counted, a non-integral double as 24 bytes).
    static func walk(_ value: JSON, level: Int, maxDepth: Int, remaining: inout Int) -> Measure {
        switch value {
        case .null: remaining -= 4
        case let .bool(flag): remaining -= flag ? 4 : 5
        case let .int(number): remaining -= digits(number)
        case let .double(number): remaining -= number == number.rounded() && abs(number) < 1e15 ? digits(Int64(number)) + 2 : 24
        case let .string(text): remaining -= text.utf8.count + 2
        case let .array(items):
            guard level < maxDepth else { return .tooDeep }
            remaining -= 2 + max(0, items.count - 1)
            guard remaining >= 0 else { return .tooLarge }
            for item in items {
                let inner = walk(item, level: level + 1, maxDepth: maxDepth, remaining: &remaining)
                guard inner == .within else { return inner }
            }
        case let .object(pairs):
            guard level < maxDepth else { return .tooDeep }
            remaining -= 2 + max(0, pairs.count - 1)
            guard remaining >= 0 else { return .tooLarge }
            for (key, member) in pairs {
                remaining -= key.utf8.count + 3
                let inner = walk(member, level: level + 1, maxDepth: maxDepth, remaining: &remaining)
                guard inner == .within else { return inner }
            }
        }
        return remaining >= 0 ? .within : .tooLarge
    }

    private static func digits(_ number: Int64) -> Int {
        var count = number < 0 ? 2 : 1
        var rest = number / 10
        while rest != 0 { count += 1; rest /= 10 }
        return count
    }
}

/// What one program step may still spend: its deadline and transitions, under `limits`. The
/// interpreter makes one per step and makes it current on its thread (`around`), so the loops
/// deep inside JSONPath and the intrinsics can stop without every signature carrying it; a
/// loop that cannot throw records the failure (`fail`) and the interpreter raises it after the
/// state (`raiseIfFailed`).
public final class EvaluationBudget: @unchecked Sendable {
    /// Set before the step runs (a dialect may widen a bound); read by the step.
    public var limits: EvaluationLimits
    /// Transitions the execution made in earlier steps (kept in its program state).
    public var priorTransitions: Int
    /// Transitions made in this step (top-level states; inline branches and iterations count
    /// against the deadline, not here, as they make no history lines).
    public private(set) var transitions = 0
    /// The first bound a non-throwing loop hit.
    public private(set) var failure: StatesError?
    private let deadline: UInt64
    private var ticks = 0

    public init(limits: EvaluationLimits = .standard, priorTransitions: Int = 0) {
        self.limits = limits
        self.priorTransitions = priorTransitions
        let nanoseconds = limits.stepSeconds * 1e9
        deadline = DispatchTime.now().uptimeNanoseconds &+ (nanoseconds >= 1.8e19 ? UInt64.max / 2 : UInt64(max(0, nanoseconds)))
    }

    public var totalTransitions: Int { priorTransitions + transitions }

    /// Counts one transition; throws `States.Runtime` past either transition bound or the deadline.
    func transition(into state: String) throws(StatesError) {
        transitions += 1
        if transitions > limits.maxTransitionsPerStep {
            throw StatesError("States.Runtime", "more than \(limits.maxTransitionsPerStep) state transitions in one step, entering state '\(state)' "
                              + "(the bound on transitions per step)")
        }
        if totalTransitions > limits.maxTransitions {
            throw StatesError("States.Runtime", "more than \(limits.maxTransitions) state transitions in this execution, entering state '\(state)' "
                              + "(the bound on transitions per execution)")
        }
        try checkDeadline()
        try raiseIfFailed()
    }

    /// Throws `States.Runtime` once the step has run longer than `stepSeconds`.
    func checkDeadline() throws(StatesError) {
        if let failure { throw failure }
        if DispatchTime.now().uptimeNanoseconds >= deadline { throw expired() }
    }

    /// For hot loops: a clock read every 1,024 calls. True when the step must stop (the
    /// failure is recorded for `raiseIfFailed`).
    @inline(__always) func overrun() -> Bool {
        if failure != nil { return true }
        ticks &+= 1
        guard ticks & 1023 == 0 else { return false }
        if DispatchTime.now().uptimeNanoseconds >= deadline { failure = expired(); return true }
        return false
    }

    /// Records a bound hit where nothing can be thrown; the first one wins.
    func fail(_ error: StatesError) {
        if failure == nil { failure = error }
    }

    func raiseIfFailed() throws(StatesError) {
        if let failure { throw failure }
    }

    private func expired() -> StatesError {
        StatesError("States.Runtime", "the step ran longer than \(Self.seconds(limits.stepSeconds)) s (the bound on evaluation time per step)")
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    // MARK: The budget current on this thread

    private static let thread = ThreadCurrent<EvaluationBudget>("the evaluation budget")

    /// The budget `around` made current on this thread, or nil.
    public static var current: EvaluationBudget? { thread.value }

    /// Runs `body` with this budget current on the calling thread.
    public func around<T>(_ body: () throws -> T) rethrows -> T {
        try Self.thread.with(self, body)
    }
}
