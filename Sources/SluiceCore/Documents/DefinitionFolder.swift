import Foundation

/// Everything a `--definitions DIR` folder holds, sorted by kind: workflow definitions,
/// triggers and schedules, each file JSON or YAML. A document is a trigger if it has a
/// `trigger` key, a schedule if it has `schedule`; anything else is a workflow definition,
/// handed to the dialect compilers.
public struct DefinitionFolder: Sendable {
    public var workflows: [WorkflowDocument] = []
    public var triggers: [TriggerDefinition] = []
    public var schedules: [ScheduleDefinition] = []

    public init() {}

    /// A workflow definition file, parsed but not yet compiled.
    public struct WorkflowDocument: @unchecked Sendable {
        public let file: String
        public let text: String
        public let value: Any
    }

    /// Reads every `.json`, `.yaml` and `.yml` file below `directory`; returns all problems at once.
    public static func load(_ directory: String) -> (folder: DefinitionFolder, errors: [Document.LoadError]) {
        var folder = DefinitionFolder()
        var errors: [Document.LoadError] = []
        let base = URL(fileURLWithPath: directory).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
            return (folder, [Document.LoadError(file: directory, location: "", message: "cannot read the folder")])
        }
        var files: [URL] = []
        for case let url as URL in enumerator where ["json", "yaml", "yml"].contains(url.pathExtension) { files.append(url) }
        for url in files.sorted(by: { $0.path < $1.path }) {
            do {
                try folder.add(file: url.path, baseDirectory: url.deletingLastPathComponent().path)
            } catch {
                errors.append(error)
            }
        }
        return (folder, errors)
    }

    public mutating func add(file path: String, baseDirectory: String) throws(Document.LoadError) {
        let text = try Document.read(path: path)
        let value = try Document.parse(text, file: path, yaml: !path.hasSuffix(".json"))
        if let object = value as? [String: Any], object["trigger"] != nil {
            triggers.append(try TriggerDefinition.parse(value, file: path, baseDirectory: baseDirectory))
        } else if let object = value as? [String: Any], object["schedule"] != nil {
            schedules.append(try ScheduleDefinition.parse(value, file: path))
        } else {
            workflows.append(WorkflowDocument(file: path, text: text, value: value))
        }
    }
}
