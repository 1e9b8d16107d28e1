import Foundation
import Testing
@testable import SluiceCore

/// YAML and JSON bombs are refused before anything is built, and the error names the limit and
/// its value. An unbounded loader would not fail these tests by a wrong message: it would
/// expand the 363-byte file to a billion strings (4 GB) and never return, so each test first
/// requires that an error comes back at all.
@Suite struct DocumentLimitsTests {
    /// The classic billion laughs, 363 bytes: nine levels of nine aliases, 9^9 strings.
    static let billionLaughs = try! String(contentsOf: fixtures.appendingPathComponent("billion-laughs.yaml"), encoding: .utf8)
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func loadError(_ text: String, yaml: Bool = true) -> Document.LoadError? {
        do {
            _ = try Document.parse(text, file: yaml ? "bomb.yaml" : "bomb.json", yaml: yaml)
            return nil
        } catch {
            return error
        }
    }

    @Test func theBillionLaughsFileIs363Bytes() {
        #expect(Self.billionLaughs.utf8.count == 363)
    }

    @Test func billionLaughsIsRefusedNamingTheExpansionLimit() throws {
        let error = try #require(Self.loadError(Self.billionLaughs))
        #expect(error.message.contains("maxExpandedNodes = 250000"), "\(error)")
        #expect(error.location.range(of: #"^\d+:\d+$"#, options: .regularExpression) != nil, "\(error)")
    }

    /// A mapping key that is an alias of a huge node: Yams hashes keys while it composes, so
    /// this one would spin before any value is built.
    @Test func anAliasAsAMappingKeyIsCountedToo() throws {
        let keyed = Self.billionLaughs.replacingOccurrences(of: "i: &i", with: "? *h\n: 1\ni: &i")
        let error = try #require(Self.loadError(keyed))
        #expect(error.message.contains("maxExpandedNodes"), "\(error)")
    }

    /// Yams traps (the process ends) on a list or map as a mapping key: refused first.
    @Test func aCollectionAsAMappingKeyIsRefusedNotATrap() throws {
        for text in ["? [a, b]\n: 1\n", "{[a]: 1}\n", "? {a: 1}\n: 2\n", "l: &l [1]\nm: {*l : 1}\n", "x:\n  ? - a\n  : 1\n"] {
            let error = try #require(Self.loadError(text), "accepted \(text.debugDescription)")
            #expect(error.message.contains("mapping key"), "\(text.debugDescription): \(error)")
        }
        // Scalar keys, aliased ones included, still load.
        #expect(Self.loadError("k: &k key\nm: {*k : 1, 2: two, true: yes}\n") == nil)
    }

    @Test func tooManyAliasesAreRefusedNamingTheLimit() throws {
        let text = "a: &a x\nb: [" + Array(repeating: "*a", count: 1_001).joined(separator: ",") + "]\n"
        let error = try #require(Self.loadError(text))
        #expect(error.message.contains("maxAliases = 1000"), "\(error)")
        // At the limit, it loads.
        let fine = "a: &a x\nb: [" + Array(repeating: "*a", count: 999).joined(separator: ",") + "]\n"
        #expect(Self.loadError(fine) == nil)
    }

    @Test func deepNestingIsRefusedInYAMLAndJSON() throws {
        for levels in [129, 300] {
            let yaml = try #require(Self.loadError("a: " + String(repeating: "[", count: levels) + String(repeating: "]", count: levels)))
            #expect(yaml.message.contains("maxDepth = 128"), "\(yaml)")
        }
        #expect(Self.loadError("a: " + String(repeating: "[", count: 127) + String(repeating: "]", count: 127)) == nil)
        // Unclosed, libyaml stops it first.
        #expect(Self.loadError("a: " + String(repeating: "[", count: 100_000)) != nil)
        let json = try #require(Self.loadError(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), yaml: false))
        #expect(json.message.contains("maxDepth = 128"), "\(json)")
        #expect(json.location == "1:129")
        // Brackets inside strings do not count.
        #expect(Self.loadError(#"{"a": "\#(String(repeating: "[", count: 500))\"]"}"#, yaml: false) == nil)
        // Depth reached through an alias counts: 100 levels repeated inside 100 more.
        let inner = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let aliased = "a: &a " + inner + "\nb: " + String(repeating: "[", count: 100) + "*a" + String(repeating: "]", count: 100) + "\n"
        let through = try #require(Self.loadError(aliased))
        #expect(through.message.contains("maxDepth"), "\(through)")
    }

    @Test func anOversizedDocumentIsRefusedBeforeItIsParsed() throws {
        let big = "{\"name\": \"" + String(repeating: "x", count: 1_048_576) + "\"}"
        let error = try #require(Self.loadError(big, yaml: false))
        #expect(error.message.contains("maxBytes = 1048576"), "\(error)")
        // A file is refused by its size, before it is read.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try big.write(to: directory.appendingPathComponent("big.json"), atomically: true, encoding: .utf8)
        let (_, errors) = DefinitionFolder.load(directory.path)
        #expect(errors.count == 1 && errors[0].message.contains("maxBytes"), "\(errors)")
    }

    /// A link to an endless device or a FIFO would be read without end (or block the loader).
    @Test func onlyRegularFilesAreReadAndNeverPastTheLimit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-special-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("zero.yaml").path, withDestinationPath: "/dev/zero")
        #expect(mkfifo(directory.appendingPathComponent("pipe.json").path, 0o600) == 0)
        let big = directory.appendingPathComponent("big.txt")
        try Data(count: 2_000_000).write(to: big)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("big.json").path, withDestinationPath: big.path)
        let (_, errors) = DefinitionFolder.load(directory.path)
        let messages = errors.map { "\(URL(fileURLWithPath: $0.file).lastPathComponent): \($0.message)" }.sorted()
        #expect(messages.count == 3, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("big.json: ") && $0.contains("maxBytes") }, "\(messages)")
        #expect(messages.contains("pipe.json: cannot read: not a regular file"), "\(messages)")
        #expect(messages.contains("zero.yaml: cannot read: not a regular file"), "\(messages)")
    }

    @Test func aTaskListWithTooManyTasksIsRefused() throws {
        func list(_ count: Int) -> String {
            #"{"name": "many", "tasks": ["# + (0..<count).map { #"{"name": "t\#($0)", "type": "noop"}"# }.joined(separator: ",") + "]}"
        }
        let text = list(1_001)
        do {
            _ = try DefinitionCompiler.compile(text: text, value: try Document.parse(text, file: "many.json", yaml: false), file: "many.json")
            Issue.record("1001 tasks were accepted")
        } catch {
            #expect(error.location == "/tasks" && error.message.contains("maxTasks = 1000"), "\(error)")
        }
        let fine = list(1_000)
        #expect(try DefinitionCompiler.compile(text: fine, value: try Document.parse(fine, file: "ok.json", yaml: false), file: "ok.json").name == "many")
    }

    /// Anchors and aliases as people use them (shared headers) still load, merge keys included.
    @Test func ordinaryAliasesStillLoad() throws {
        let yaml = """
            name: aliased
            tasks:
              - name: one
                type: http
                http: &call
                  uri: http://127.0.0.1:1/a
                  headers: &headers { X-Team: core }
              - name: two
                type: http
                http:
                  <<: *call
                  uri: http://127.0.0.1:1/b
            """
        let value = try Document.parse(yaml, file: "aliased.yaml", yaml: true)
        let workflow = try TaskListWorkflow.parse(value, file: "aliased.yaml")
        #expect(workflow.tasks.count == 2)
        #expect(workflow.tasks[1].block["headers"]?["X-Team"] == .string("core"))
        #expect(workflow.tasks[1].block["uri"] == .string("http://127.0.0.1:1/b"))
    }

    /// The folder loader reports the bomb as that file's error and loads the rest.
    @Test func theFolderLoaderRefusesTheBombAndKeepsTheOtherFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bomb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.billionLaughs.write(to: directory.appendingPathComponent("lol.yaml"), atomically: true, encoding: .utf8)
        try #"{"name": "fine", "tasks": [{"name": "a", "type": "noop"}]}"#.write(to: directory.appendingPathComponent("fine.json"), atomically: true, encoding: .utf8)
        let (folder, errors) = DefinitionFolder.load(directory.path)
        #expect(errors.count == 1)
        #expect(errors.first?.file.hasSuffix("lol.yaml") == true)
        #expect(errors.first?.message.contains("maxExpandedNodes = 250000") == true, "\(errors)")
        #expect(folder.workflows.count == 1)
    }

    /// `sluice validate` on the bomb: exit 1 with the limit named, not an abort.
    @Test func validateRefusesTheBombNamingTheLimit() throws {
        let run = try ValidateCommandTests.validate(["lol.yaml": Self.billionLaughs])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("lol.yaml: "), "\(run.stderr)")
        #expect(run.stderr.contains("maxExpandedNodes = 250000"), "\(run.stderr)")
    }
}
