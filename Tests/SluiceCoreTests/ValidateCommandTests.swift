import Foundation
import Testing

/// `sluice validate`, run as the binary: exit status and messages that say where.
@Suite struct ValidateCommandTests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func validate(_ files: [String: String]) throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-validate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            let path = directory.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let process = Process()
        process.executableURL = SluiceProcess.binary
        process.arguments = ["validate"] + paths
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self).replacingOccurrences(of: directory.path + "/", with: ""),
                   stderr: String(decoding: stderr, as: UTF8.self).replacingOccurrences(of: directory.path + "/", with: ""))
    }

    @Test func goodFilesPassAndEachBadOneIsNamedWithWhere() throws {
        let good = try Self.validate(["ok.json": #"{"name": "ok", "tasks": [{"name": "a", "type": "noop"}]}"#])
        #expect(good.status == 0)
        #expect(good.stdout.contains("ok.json: ok (workflow ok, tasklist)"))

        let bad = try Self.validate([
            "ok.json": #"{"name": "ok", "tasks": [{"name": "a", "type": "noop"}]}"#,
            "field.json": #"{"name": "f", "tasks": [{"name": "a", "type": "ftp"}]}"#,
            "broken.json": "{\"name\": \"b\",\n  \"tasks\": [}\n",
            "broken.yaml": "name: y\ntasks:\n  - name: a\n    type: [noop\n",
        ])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("ok.json: ok"))
        let lines = bad.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.contains { $0.hasPrefix("field.json: /tasks/0/type: unknown task type 'ftp'") })
        #expect(lines.contains { $0.hasPrefix("broken.json: 2:13: invalid JSON") })
        #expect(lines.contains { $0.range(of: #"^broken\.yaml: \d+:\d+: invalid YAML"#, options: .regularExpression) != nil })
    }
}
