import Foundation
import SluiceCore

/// The one-task definitions the benches compare, one per program: the built-in chain, a
/// States Language machine, and a Mender task list (compiled to a machine). The same task
/// through each shows what a program costs the completer per execution.
enum BenchDefinitions {
    /// A one-Task States Language machine whose task takes the execution's input as its parameters.
    static func asl(name: String, resource: String) throws -> DefinitionSource {
        let text = #"{"StartAt": "Run", "States": {"Run": {"Type": "Task", "Resource": "\#(resource)", "End": true}}}"#
        return try DefinitionCompiler.compile(text: text, value: try Document.parse(text, file: "bench", yaml: false), file: "bench", name: name)
    }

    /// A one-task task list: `type` with `block` (its type's block as JSON text, or nil).
    static func taskList(name: String, type: String, block: String?, inputs: [String] = []) throws -> DefinitionSource {
        let inputList = inputs.map { "\"\($0)\"" }.joined(separator: ",")
        let body = block.map { ", \"\(type)\": \($0)" } ?? ""
        let text = #"{"name": "\#(name)", "inputParameters": [\#(inputList)], "tasks": [{"name": "run", "type": "\#(type)"\#(body)}]}"#
        return try DefinitionCompiler.compile(text: text, value: try Document.parse(text, file: "bench", yaml: false), file: "bench")
    }
}
