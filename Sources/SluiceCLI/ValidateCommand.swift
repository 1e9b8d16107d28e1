import ArgumentParser
import Foundation
import SluiceCore

/// `sluice validate FILE…`: checks workflow, trigger and schedule files; errors name the file
/// and the JSON pointer; exits 1 if any file is invalid.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check definition files; exit 1 if any is invalid.")

    @Argument(help: "Files (JSON or YAML).") var files: [String]

    func run() throws {
        var failures = 0
        for file in files {
            do {
                var folder = DefinitionFolder()
                try folder.add(file: file, baseDirectory: URL(fileURLWithPath: file).deletingLastPathComponent().path)
                for workflow in folder.workflows {
                    let definition = try DefinitionCompiler.compile(text: workflow.text, value: workflow.value, file: workflow.file)
                    print("\(file): ok (workflow \(definition.name), \(definition.dialect))")
                }
                for trigger in folder.triggers { print("\(file): ok (trigger \(trigger.name))") }
                for schedule in folder.schedules { print("\(file): ok (schedule \(schedule.name))") }
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
