import Foundation
import PackagePlugin

/// Compiles the repository's data files into the targets that need them, so the `sluice`
/// binary carries them and runs from any directory:
/// - SluiceCore: `migrations/*.sql` as `embeddedMigrations`;
/// - SluiceAPI: `api/openapi.yaml` as `embeddedOpenAPI`.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let tool = try context.tool(named: "EmbedMigrationsTool").url
        switch target.name {
        case "SluiceAPI":
            let file = context.package.directoryURL.appending(path: "api").appending(path: "openapi.yaml")
            let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedOpenAPI.swift")
            return [.buildCommand(displayName: "Embedding openapi.yaml", executable: tool,
                                  arguments: ["--text", "embeddedOpenAPI", output.path, file.path],
                                  inputFiles: [file], outputFiles: [output])]
        default:
            let folder = context.package.directoryURL.appending(path: "migrations")
            let files = try FileManager.default
                .contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
            return [.buildCommand(displayName: "Embedding \(files.count) migrations", executable: tool,
                                  arguments: [output.path] + files.map(\.path), inputFiles: files, outputFiles: [output])]
        }
    }
}
