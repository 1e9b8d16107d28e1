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
        // Stored compiled form: the document as normalised JSON, re-validated when loaded.
        let compiled = JSONValue(any: object).text
        return DefinitionSource(name: workflow.name, dialect: "tasklist", source: text, compiled: compiled)
    }
}

extension SluiceStates.JSON {
    /// From JSONSerialization / Yams values (keys sorted: their order is lost already).
    init(foundation value: Any) {
        switch value {
        case is NSNull: self = .null
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { self = .bool(number.boolValue) }
            else if number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 9e15, !"fd".contains(String(cString: number.objCType)) {
                self = .int(number.int64Value)
            } else { self = .double(number.doubleValue) }
        case let flag as Bool: self = .bool(flag)
        case let int as Int: self = .int(Int64(int))
        case let double as Double: self = .double(double)
        case let text as String: self = .string(text)
        case let array as [Any]: self = .array(array.map { SluiceStates.JSON(foundation: $0) })
        case let object as [String: Any]: self = .object(object.keys.sorted().map { ($0, SluiceStates.JSON(foundation: object[$0]!)) })
        default: self = .string("\(value)")
        }
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
        register(dialect: "tasklist") { compiled in
            let value = try Document.parse(compiled, file: "(stored definition)", yaml: false)
            return TaskListProgram(workflow: try TaskListWorkflow.parse(value, file: "(stored definition)"), environment: environment)
        }
    }
}
