import Foundation

/// Turns a workflow document into what the store keeps: the raw text as sent, the dialect,
/// and the engine's compiled form. Dialects are told apart by shape: `tasks` is Mender's task
/// list; `StartAt`/`States` is the Amazon States Language.
public enum DefinitionCompiler {
    public static func compile(text: String, value: Any, file: String) throws(Document.LoadError) -> DefinitionSource {
        guard let object = value as? [String: Any] else {
            throw Document.LoadError(file: file, location: "/", message: "expected a workflow object")
        }
        if object["StartAt"] != nil || object["States"] != nil {
            throw Document.LoadError(file: file, location: "/StartAt",
                                     message: "States Language definitions are not supported by this build yet")
        }
        let workflow = try TaskListWorkflow.parse(value, file: file)
        // Stored compiled form: the document as normalised JSON, re-validated when loaded.
        let compiled = JSONValue(any: object).text
        return DefinitionSource(name: workflow.name, dialect: "tasklist", source: text, compiled: compiled)
    }
}

extension ProgramCatalog {
    /// Teaches the catalog the task-list dialect; `${env.NAME}` sees only `environmentAllowlist`.
    public func registerTaskList(environmentAllowlist: [String]) {
        let environment = ProcessInfo.processInfo.environment.filter { environmentAllowlist.contains($0.key) }
        register(dialect: "tasklist") { compiled in
            let value = try Document.parse(compiled, file: "(stored definition)", yaml: false)
            return TaskListProgram(workflow: try TaskListWorkflow.parse(value, file: "(stored definition)"), environment: environment)
        }
    }
}
