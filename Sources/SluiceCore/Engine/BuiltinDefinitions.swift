import Foundation

/// Definitions every database has, so the queue can be exercised and measured on its own:
/// `noop` (one task that does nothing) and `sleep` (one task that waits `{"ms": N}`, taken
/// from the execution's input).
public enum BuiltinDefinitions {
    /// The built-ins' names: an upload by one of these names would become its newest version
    /// and shadow it, so definition loaders refuse them (`Names.definitionProblem`).
    public static let names: Set<String> = ["noop", "sleep"]

    public static func register(in store: any Store, now: Double = Date().timeIntervalSince1970) throws {
        try store.register(definition: taskChain(name: "noop", TaskChainProgram.Task(name: "noop", type: "noop")), now: now)
        try store.register(definition: taskChain(name: "sleep", TaskChainProgram.Task(name: "sleep", type: "sleep", parameters: nil)), now: now)
    }

    /// A one-or-more-task chain definition in the engine's own compiled form.
    public static func taskChain(name: String, _ tasks: TaskChainProgram.Task...) -> DefinitionSource {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let compiled = String(decoding: (try? encoder.encode(TaskChainProgram(tasks: tasks))) ?? Data("{}".utf8), as: UTF8.self)
        return DefinitionSource(name: name, dialect: "taskchain", source: compiled, compiled: compiled)
    }
}
