import Foundation
import Testing
@testable import SluiceCore

/// `make run` loads examples/: every file there must load and compile.
@Suite struct ExamplesTests {
    @Test func everyExampleLoadsAndCompiles() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples").path
        let (folder, errors) = DefinitionFolder.load(examples)
        #expect(errors.isEmpty, "\(errors)")
        #expect(folder.triggers.map(\.name) == ["intake"])
        #expect(folder.schedules.map(\.name) == ["ping-every-minute"])
        let names = try folder.workflows.map { try DefinitionCompiler.compile(text: $0.text, value: $0.value, file: $0.file).name }
        #expect(Set(names).isSuperset(of: ["provision_device", "process_batch", "ping", "order_pipeline.asl"]))
        // The sample intake folder holds two complete batches and one incomplete.
        let plan = TriggerPlanner.scan(folder.triggers[0])
        #expect(plan.ready.count == 2)
        #expect(plan.waiting.count == 1)
        #expect(plan.unmatched == 1)
    }
}
