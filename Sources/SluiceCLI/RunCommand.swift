import ArgumentParser
import Foundation
import SluiceCore

/// `sluice run FILE --input JSON`: runs one workflow in this process on a throwaway database
/// (or `--db`) and exits with its outcome: 0 and the output on success, 1 and the error on
/// failure, 2 for a definition or input that cannot start. For CI steps and test harnesses.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run one workflow in-process; exit 0 only if it succeeded.")

    @Argument(help: "Workflow file (JSON or YAML).") var file: String
    @Option(help: "Input as JSON.") var input: String = "{}"
    @Option(help: "Database file (default: a temporary one).") var db: String?
    @Flag(help: "Let cli tasks run commands.") var allowCommands = false
    @Option(help: "Environment variables templates may read, comma-separated.") var envAllow: String = ""
    @Option(help: "Secrets file for ${secrets.NAME}.") var secretsFile: String?
    @Option(help: "Give up after this many seconds (exit 3).") var timeout: Double = 3600
    @Flag(help: "Print the execution as JSON.") var json = false

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-run-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let allow = envAllow.split(separator: ",").map(String.init)
        let store: SQLiteStore
        let definition: DefinitionSource
        let secrets: SecretStore
        do {
            store = try SQLiteStore(StoreConfiguration(path: db ?? directory.appendingPathComponent("run.sqlite").path, sync: .normal),
                                    catalog: ProgramCatalog(environmentAllowlist: allow))
            try BuiltinDefinitions.register(in: store)
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let value = try Document.parse(text, file: file, yaml: !file.hasSuffix(".json"))
            definition = try DefinitionCompiler.compile(text: text, value: value, file: file)
            try store.register(definition: definition, now: Date().timeIntervalSince1970)
            secrets = try SecretStore.load(file: secretsFile)
        } catch {
            fail("\(error)", code: 2)
        }
        let engine = Engine(store: store, configuration: EngineConfiguration(
            role: "run", pools: [.init(queue: "default", concurrency: 8)],
            executors: .standard(allowCommands: allowCommands, secrets: secrets)))
        engine.start()
        defer { engine.shutdown(grace: 1) }
        let uid: String
        do { uid = try engine.submit(Submission(definition: definition.name, input: input)).uid } catch {
            fail("\(error)", code: 2)
        }
        let deadline = Date().addingTimeInterval(timeout)
        var record = try store.execution(uid: uid)
        while let current = record, !current.status.isFinished, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
            record = try store.execution(uid: uid)
        }
        guard let record else { fail("execution vanished", code: 2) }
        if json {
            print("{\"id\":\"\(record.uid)\",\"status\":\"\(record.status.rawValue)\",\"output\":\(record.output ?? "null"),\"error\":\(record.error.map { "\"\($0)\"" } ?? "null")}")
        } else if record.status == .succeeded {
            print(record.output ?? "null")
        } else if record.status.isFinished {
            FileHandle.standardError.write(Data("\(record.status.rawValue): \(record.error ?? "") \(record.cause ?? "")\n".utf8))
        } else {
            FileHandle.standardError.write(Data("still \(record.status.rawValue) after \(timeout) s\n".utf8))
        }
        switch record.status {
        case .succeeded: return
        case .pending, .running: throw ExitCode(3)
        default: throw ExitCode(1)
        }
    }
}
