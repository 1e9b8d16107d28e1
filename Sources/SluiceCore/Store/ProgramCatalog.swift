import Foundation
import Synchronization

/// Turns stored compiled definitions into programs, once per definition row: a definition
/// version is immutable, so its program is cached by row id for the life of the process.
public final class ProgramCatalog: Sendable {
    public typealias Loader = @Sendable (_ compiled: String) throws -> any WorkflowProgram

    private let loaders: Mutex<[String: Loader]>
    private let cache = Mutex<[Int64: any WorkflowProgram]>([:])

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
        do { program = try loader(text) } catch {
            throw StoreError.invalidCompiledDefinition(name: name, reason: "\(error)")
        }
        cache.withLock { $0[definitionID] = program }
        return program
    }
}
