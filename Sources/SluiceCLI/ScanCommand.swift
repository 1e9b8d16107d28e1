import ArgumentParser
import Foundation
import SluiceCore

/// `sluice scan`: run every trigger once now; with --dry-run, print what each would start and
/// why, as JSON, and write nothing.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scan", abstract: "Run the triggers once; --dry-run shows what they would start.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Folder with workflow, trigger and schedule files.") var definitions: String
    @Flag(help: "Print what would start and why; write nothing.") var dryRun = false

    func run() throws {
        let (folder, errors) = DefinitionFolder.load(definitions)
        for error in errors { FileHandle.standardError.write(Data("sluice: \(error)\n".utf8)) }
        if !errors.isEmpty { throw ExitCode(2) }
        if dryRun {
            guard FileManager.default.fileExists(atPath: database.db) else {
                // No database yet: nothing has been started, and a dry run must not create one.
                print(try TriggerDryRun.report(folder.triggers, store: NoMarkers()))
                return
            }
            let store = try SQLiteStore(database.configuration, migrate: false)
            print(try TriggerDryRun.report(folder.triggers, store: store))
            return
        }
        let store = try database.openStore()
        for trigger in folder.triggers {
            let report = TriggerScanner.pass(trigger, store: store)
            print("\(trigger.name): scanned=\(report.scanned) started=\(report.started.count) already=\(report.alreadyStarted) waiting=\(report.waiting) unmatched=\(report.unmatched)")
            for error in report.errors { FileHandle.standardError.write(Data("sluice: \(trigger.name): \(error)\n".utf8)) }
        }
    }
}
