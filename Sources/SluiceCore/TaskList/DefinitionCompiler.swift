import Foundation
import SluiceStates

/// Turns a workflow document into what the store keeps: the raw text as sent, the dialect,
/// and the engine's compiled form. Dialects are told apart by shape: `tasks` is Mender's task
/// list; `StartAt`/`States` is the Amazon States Language.
public enum DefinitionCompiler {
    /// `name` names a States Language definition (which has no name field of its own); by
    /// default the file's base name.
    public static func compile(text: String, value: Any, file: String, name: String? = nil) throws(Document.LoadError) -> DefinitionSource {
        guard let object = value as? [String: Any] else {
            throw Document.LoadError(file: file, location: "/", message: "expected a workflow object")
        }
        if object["StartAt"] != nil || object["States"] != nil {
            let json = SluiceStates.JSON(foundation: object)
            let machine: StateMachine
            do { machine = try StateMachine(json) } catch { throw Document.LoadError(file: file, location: error.pointer, message: error.message) }
            // Task states inside Parallel and Map run as child executions joined by the parent.
            for (state, resource) in machine.resources {
                // Any other resource is an activity that external workers take over the API.
                if resource.isEmpty || resource.count > 200 {
                    throw Document.LoadError(file: file, location: "/States/\(state)/Resource", message: "a resource name of 1 to 200 characters")
                }
            }
            let definitionName = name ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            return DefinitionSource(name: definitionName, dialect: "asl", source: text, compiled: json.description)
        }
        let workflow = try TaskListWorkflow.parse(value, file: file)
        // Stored compiled form: the state machine the list becomes, with its required inputs.
        let compiled = TaskListCompiler.compile(workflow)
        do { _ = try StateMachine(compiled["machine"] ?? .null) } catch {
            throw Document.LoadError(file: file, location: "/", message: "the task list compiles to an invalid machine: \(error)")
        }
        return DefinitionSource(name: workflow.name, dialect: "tasklist", source: text, compiled: compiled.description)
    }
}

extension ProgramCatalog {
    /// Teaches the catalog the States Language.
    public func registerStates() {
        register(dialect: "asl") { compiled in
            StatesProgram(machine: try StateMachine(parsing: compiled), name: "")
        }
    }

    /// Teaches the catalog the task-list dialect; `${env.NAME}` sees only `environmentAllowlist`.
    public func registerTaskList(environmentAllowlist: [String]) {
        let environment = ProcessInfo.processInfo.environment.filter { environmentAllowlist.contains($0.key) }
        register(dialect: "tasklist") { text in
            var compiled = try JSONParser.parse(text)
            if compiled["machine"] == nil {
                // Stored before task lists were compiled to a machine: the normalised document.
                let value = try Document.parse(text, file: "(stored definition)", yaml: false)
                compiled = TaskListCompiler.compile(try TaskListWorkflow.parse(value, file: "(stored definition)"))
            }
            guard let machineJSON = compiled["machine"] else { throw ProgramError("a compiled task list without its machine") }
            let machine = try StateMachine(machineJSON)
            func strings(_ key: String) -> [String] {
                guard case let .array(items)? = compiled[key] else { return [] }
                return items.compactMap { if case let .string(text) = $0 { return text } else { return nil } }
            }
            return StatesProgram(machine: machine, name: "", dialect: TaskListDialect(inputParameters: strings("inputParameters"), taskNames: strings("tasks"),
                                                                                environment: environment, machine: machineJSON,
                                                                                optionalParameters: strings("optionalParameters")))
        }
    }
}
