import Foundation
import SluiceStates
import Synchronization

/// Turns stored compiled definitions into programs, once per definition row: a definition
/// version is immutable, so its program is cached by row id for the life of the process.
///
/// Every program it hands out is wrapped (`GuardedProgram`) so that each step runs under the
/// catalog's `limits`; the writer names the execution in the crash slot (`inflight`) while it
/// evaluates that execution's program.
public final class ProgramCatalog: Sendable {
    public typealias Loader = @Sendable (_ compiled: String) throws -> any WorkflowProgram

    private let loaders: Mutex<[String: Loader]>
    private let cache = Mutex<[Int64: any WorkflowProgram]>([:])
    private let evaluationLimits = Mutex(EvaluationLimits.standard)
    /// Where a step writes the id of the execution it evaluates (`InflightSlots`), if an engine attached one.
    let inflight = InflightPointer()

    /// The bounds every States Language step runs under (an engine sets its configuration's).
    public var limits: EvaluationLimits {
        get { evaluationLimits.withLock { $0 } }
        set { evaluationLimits.withLock { $0 = newValue } }
    }

    public init(environmentAllowlist: [String] = []) {
        loaders = Mutex(["taskchain": { compiled in
            try JSONDecoder().decode(TaskChainProgram.self, from: Data(compiled.utf8))
        }])
        registerTaskList(environmentAllowlist: environmentAllowlist)
        registerStates()
    }

    /// Teaches the catalog a dialect (the States Language interpreter registers itself here).
    public func register(dialect: String, loader: @escaping Loader) {
        loaders.withLock { $0[dialect] = loader }
    }

    func cached(_ definitionID: Int64) -> (any WorkflowProgram)? {
        cache.withLock { $0[definitionID] }
    }

    public func program(definitionID: Int64, name: String, dialect: String, compiled: @autoclosure () -> String?) throws -> any WorkflowProgram {
        if let cached = cache.withLock({ $0[definitionID] }) { return cached }
        guard let loader = loaders.withLock({ $0[dialect] }) else {
            throw StoreError.invalidCompiledDefinition(name: name, reason: "unknown dialect \(dialect)")
        }
        guard let text = compiled() else {
            throw StoreError.invalidCompiledDefinition(name: name, reason: "no compiled form stored")
        }
        let program: any WorkflowProgram
        do { program = GuardedProgram(try loader(text), catalog: self) } catch {
            throw StoreError.invalidCompiledDefinition(name: name, reason: "\(error)")
        }
        cache.withLock { $0[definitionID] = program }
        return program
    }
}

/// A program whose every step runs under its catalog's evaluation limits. The crash slot is
/// not set here but by the writer (`InflightPointer.name`), around the whole handling of an
/// execution's outcome: the children a decision starts are evaluated after `resume` returns,
/// when the writer applies its effects, and a crash there is the parent's too.
struct GuardedProgram: WorkflowProgram {
    let inner: any WorkflowProgram
    let catalog: ProgramCatalog
    /// Only the States Language evaluates user expressions; other programs need no budget.
    let budgeted: Bool

    init(_ inner: any WorkflowProgram, catalog: ProgramCatalog) {
        self.inner = inner
        self.catalog = catalog
        budgeted = inner is StatesProgram
    }

    func start(input: String) throws(ProgramError) -> ProgramDecision {
        guard budgeted else { return try inner.start(input: input) }
        return try StatesProgram.budgeted(prior: 0, limits: catalog.limits) { () throws(ProgramError) in try inner.start(input: input) }
    }

    func resume(state: String?, after outcome: TaskOutcome, now: Double) -> ProgramDecision {
        guard budgeted else { return inner.resume(state: state, after: outcome, now: now) }
        return StatesProgram.budgeted(prior: 0, limits: catalog.limits) { inner.resume(state: state, after: outcome, now: now) }
    }

    func restart(state: String?, from step: String?) throws(ProgramError) -> ProgramDecision {
        guard budgeted else { return try inner.restart(state: state, from: step) }
        return try StatesProgram.budgeted(prior: 0, limits: catalog.limits) { () throws(ProgramError) in try inner.restart(state: state, from: step) }
    }
}

/// The address of this process's crash slot, or none: set when an engine starts, cleared when
/// it stops (the mapping itself is never unmapped, so a step on another thread never writes
/// to freed memory).
final class InflightPointer: Sendable {
    private let address = Atomic<UInt>(0)

    var pointer: UnsafeMutablePointer<Int64>? {
        UnsafeMutablePointer(bitPattern: address.load(ordering: .acquiring))
    }

    func attach(_ pointer: UnsafeMutablePointer<Int64>?) {
        address.store(pointer.map { UInt(bitPattern: $0) } ?? 0, ordering: .releasing)
    }

    /// Writes `execution` into the slot and returns what to put back when its evaluation ends:
    /// the previous value, not 0, because evaluations nest (a child's start, and a parent's
    /// decision on a child that ended at once, run inside the parent's outcome handling).
    /// Two plain stores into the mapping per evaluation, no syscall.
    func name(_ execution: Int64) -> Mark {
        guard let slot = pointer else { return Mark(slot: nil, previous: 0) }
        let previous = slot.pointee
        slot.pointee = execution
        return Mark(slot: slot, previous: previous)
    }

    /// What `name(_:)` replaced.
    struct Mark {
        let slot: UnsafeMutablePointer<Int64>?
        let previous: Int64

        func restore() { slot?.pointee = previous }
    }
}
