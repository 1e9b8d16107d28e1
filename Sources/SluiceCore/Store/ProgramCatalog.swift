import Foundation
import SluiceStates
import Synchronization

/// Turns stored compiled definitions into programs, once per definition row: a definition
/// version is immutable, so its program is cached by row id for the life of the process.
///
/// Every program it hands out is wrapped (`GuardedProgram`) so that each step runs under the
/// catalog's `limits` and names its execution in the crash slot while it runs.
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

/// A program whose every step runs under its catalog's evaluation limits and, while it runs,
/// names its execution in this process's crash slot: if the step kills the process, the next
/// start-up knows which execution did it (`CrashQuarantine`). The slot is a plain store into a
/// shared mapping before the step and another after: no syscall, no fsync.
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
        let slot = catalog.inflight.pointer
        slot?.pointee = outcome.job.executionID
        defer { slot?.pointee = 0 }
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
}
