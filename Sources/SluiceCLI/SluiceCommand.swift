import ArgumentParser

@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A workflow manager for one host: workflows, queue and history in one SQLite file.",
        version: SluiceVersion.string,
        subcommands: [ServeCommand.self, ServerCommand.self, WorkerCommand.self, ValidateCommand.self, MigrateCommand.self, ScanCommand.self, SubmitCommand.self,
                      StatusCommand.self, ListCommand.self, CancelCommand.self, ResumeCommand.self, DefinitionsCommand.self, RunCommand.self, QueuesCommand.self, HealthCommand.self,
                      BenchCommand.self]
    )
}

enum SluiceVersion {
    static let string = "0.1.0"
}
