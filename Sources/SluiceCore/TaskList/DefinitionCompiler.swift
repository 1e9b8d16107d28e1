import Foundation
import SluiceStates

/// Turns a workflow document into what the store keeps: the raw text as sent, the dialect,
/// and the engine's compiled form. Dialects are told apart by shape: `tasks` is Mender's task
/// list; `StartAt`/`States` is the Amazon States Language.
public enum DefinitionCompiler {
    /// `name` names a States Language definition (which has no name field of its own); by
    /// default the file's base name.
    /// Every new definition passes here (API, Mender's register route, definitions folder,
    /// `sluice validate`, `sluice run`), so its name is checked here (`Names`), and a States
    /// Language machine gets the checks only new definitions need (`StateMachine.check`).
    /// `dialect`, when given, is the only dialect accepted (Mender's route takes task lists).
    public static func compile(text: String, value: Any, file: String, name: String? = nil,
                               dialect: String? = nil) throws(Document.LoadError) -> DefinitionSource {
        guard let object = value as? [String: Any] else {
            throw Document.LoadError(file: file, location: "/", message: "expected a workflow object")
        }
        let isMachine = object["StartAt"] != nil || object["States"] != nil
        if let dialect, dialect != (isMachine ? "asl" : "tasklist") {
            throw Document.LoadError(file: file, location: "/", message: dialect == "tasklist"
                ? "expected a task list (name, tasks); a States Language machine goes to POST /v1/definitions?name=NAME"
                : "expected a States Language machine (StartAt, States)")
        }
        if isMachine {
            let json = SluiceStates.JSON(foundation: object)
            let machine: StateMachine
            do {
                machine = try StateMachine(json)
                try machine.check()
            } catch { throw Document.LoadError(file: file, location: error.pointer, message: error.message) }
            // Task states inside Parallel and Map run as child executions joined by the parent.
            for (state, resource) in machine.resources {
                // Any other resource is an activity that external workers take over the API.
                if resource.isEmpty || resource.count > 200 {
                    throw Document.LoadError(file: file, location: "/States/\(state)/Resource", message: "a resource name of 1 to 200 characters")
                }
            }
            try checkStaticURLs(machine, file: file)
            let definitionName = name ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            if let problem = Names.definitionProblem(definitionName) {
                throw Document.LoadError(file: file, location: name == nil ? "" : "?name", message: problem)
            }
            return DefinitionSource(name: definitionName, dialect: "asl", source: text, compiled: json.description)
        }
        let workflow = try TaskListWorkflow.parse(value, file: file)
        if let problem = Names.definitionProblem(workflow.name) { throw Document.LoadError(file: file, location: "/name", message: problem) }
        // Stored compiled form: the state machine the list becomes, with its required inputs.
        let compiled = TaskListCompiler.compile(workflow)
        do { _ = try StateMachine(compiled["machine"] ?? .null) } catch {
            throw Document.LoadError(file: file, location: "/", message: "the task list compiles to an invalid machine: \(error)")
        }
        return DefinitionSource(name: workflow.name, dialect: "tasklist", source: text, compiled: compiled.description)
    }
}

extension DefinitionCompiler {
    /// A Task's URL written without a path (`http` resource's `url`, AWS's `ApiEndpoint`) is
    /// checked now for its scheme; one taken from the input is checked when it is sent.
    static func checkStaticURLs(_ machine: StateMachine, file: String) throws(Document.LoadError) {
        for task in machine.taskStates {
            let field: String
            switch task.resource {
            case "http": field = "url"
            case "arn:aws:states:::http:invoke": field = "ApiEndpoint"
            default: continue
            }
            guard case let .string(url)? = task.parameters?[field], let problem = URLScheme.staticProblem(url) else { continue }
            throw Document.LoadError(file: file, location: "/States/\(task.state)/Parameters/\(field)", message: problem)
        }
    }
}

/// The schemes a task may send to: http and https only (curl would read `file://` and speak
/// ftp, gopher …). `HTTPExecutor` checks every URL as sent; this checks what a definition
/// fixes before any value is put in.
enum URLScheme {
    /// The problem with `template`'s scheme, if its literal start already decides it: text
    /// up to the first `${` that is neither `http://`/`https://` nor the start of one.
    static func staticProblem(_ template: String) -> String? {
        let literal = template.range(of: "${").map { String(template[..<$0.lowerBound]) } ?? template
        if literal.isEmpty || HTTPExecutor.hasWebScheme(literal) { return nil }
        let lower = literal.lowercased()
        if template.contains("${") && ("http://".hasPrefix(lower) || "https://".hasPrefix(lower)) { return nil }
        return "only http:// and https:// URLs are sent"
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
