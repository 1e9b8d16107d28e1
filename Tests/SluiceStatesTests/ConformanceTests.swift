import Foundation
import Testing
@testable import SluiceStates

/// The AWS-recorded States Language corpus in `../shared/conformance/asl` (see its README),
/// for the cases whose state types and intrinsics this build implements. Every run of those
/// cases must match: status exactly, output by JSON value, error exactly, cause when exact.
@Suite struct ConformanceTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/conformance/asl/cases")

    /// Every case: all of their features are implemented.
    static let supported = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
                            "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30"]

    static var caseFiles: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
        return files.filter { name in supported.contains { name.hasPrefix($0 + "-") } }.sorted()
    }

    @Test func theCorpusIsThere() {
        #expect(Self.caseFiles.count == Self.supported.count)
    }

    @Test(arguments: caseFiles)
    func everyRunMatchesAWS(file: String) throws {
        let text = try String(contentsOf: Self.corpus.appendingPathComponent(file), encoding: .utf8)
        let document = try JSONParser.parse(text)
        guard case let .array(runs)? = document["runs"] else { Issue.record("no runs in \(file)"); return }
        for run in runs {
            let name = run["name"].flatMap { if case let .string(s) = $0 { return s } else { return nil } } ?? "?"
            guard let definition = run["definition"] ?? document["definition"], let expected = run["expected"] else {
                Issue.record("\(file) \(name): no definition or expectation"); continue
            }
            let machine: StateMachine
            do { machine = try StateMachine(definition) } catch {
                Issue.record("\(file) \(name): definition refused: \(error)"); continue
            }
            let context = run["context"] ?? .object([])
            let outcome = LocalRunner(machine: machine).run(input: run["input"] ?? .object([]), context: context)
            switch (outcome, expected["status"]) {
            case let (.succeeded(output), .string("SUCCEEDED")?):
                #expect(output == expected["output"], "\(file) \(name): output \(output) != \(expected["output"] ?? .null)")
            case let (.failed(error, cause), .string("FAILED")?):
                let expectedError = expected["error"].flatMap { if case let .string(s) = $0 { return s } else { return nil } }
                #expect(error == expectedError, "\(file) \(name): error \(error ?? "nil") != \(expectedError ?? "nil")")
                if expected["cause_match"] == .string("exact") {
                    let expectedCause = expected["cause"].flatMap { if case let .string(s) = $0 { return s } else { return nil } }
                    #expect(cause == expectedCause, "\(file) \(name): cause \(cause ?? "nil") != \(expectedCause ?? "nil")")
                }
            default:
                Issue.record("\(file) \(name): got \(outcome), expected \(expected)")
            }
        }
    }
}
