import Foundation
import Testing
@testable import SluiceCore

/// Triggers over real files in a temporary directory.
@Suite struct TriggerTests {
    /// A folder of files and a trigger over it.
    final class Intake: @unchecked Sendable {
        let root: URL
        init() {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-intake-\(UUID().uuidString)")
            try! FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: root) }

        func drop(_ path: String, _ content: String = "x") throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }

        func trigger(_ extra: String = "") throws -> TriggerDefinition {
            let yaml = """
                trigger: intake
                workflow: noop
                source: { directory: \(root.path) }
                match: '^(?<station>[a-z]+)/(?<batch>[0-9]+)(?<part>\\.batch|\\.batch\\.avro|\\.batch\\.sig)$'
                group_by: [station, batch]
                complete: { field: part, all: [.batch, .batch.avro, .batch.sig] }
                input: { station: '${station}', batch: '${batch}', files: '${files}' }
                marker: 'intake/${station}/${batch}'
                \(extra)
                """
            return try TriggerDefinition.parse(Document.parse(yaml, file: "intake.yaml", yaml: true), file: "intake.yaml", baseDirectory: "/")
        }
    }

    @Test func completeGroupStartsOnceAndARescanStartsNothing() throws {
        let intake = Intake()
        let file = TestDatabase()
        let store = try file.store()
        for part in [".batch", ".batch.avro", ".batch.sig"] { try intake.drop("north/0001\(part)") }
        let trigger = try intake.trigger()
        let first = TriggerScanner.pass(trigger, store: store)
        #expect(first.started.count == 1)
        let record = try #require(try store.execution(uid: first.started[0]))
        let input = try JSONSerialization.jsonObject(with: Data(record.input.utf8)) as? [String: Any]
        #expect(input?["station"] as? String == "north")
        #expect(input?["batch"] as? String == "0001")
        #expect((input?["files"] as? [String])?.count == 3)
        let second = TriggerScanner.pass(trigger, store: store)
        #expect(second.started.isEmpty)
        #expect(second.alreadyStarted == 1)
        #expect(try store.statusCounts().values.reduce(0, +) == 1)
    }

    @Test func incompleteGroupWaitsUntilItCompletes() throws {
        let intake = Intake()
        let file = TestDatabase()
        let store = try file.store()
        try intake.drop("south/0002.batch")
        try intake.drop("south/0002.batch.avro")
        let trigger = try intake.trigger()
        let waiting = TriggerScanner.pass(trigger, store: store)
        #expect(waiting.started.isEmpty)
        #expect(waiting.waiting == 1)
        try intake.drop("south/0002.batch.sig")
        #expect(TriggerScanner.pass(trigger, store: store).started.count == 1)
    }

    @Test func unmatchedAndMalformedNamesAreCountedAndDoNotStopTheScan() throws {
        let intake = Intake()
        let file = TestDatabase()
        let store = try file.store()
        try intake.drop("README.txt")
        try intake.drop("north/not-a-batch.bin")
        try intake.drop("north/\u{00e9}\u{0301}weird name .batch")
        for part in [".batch", ".batch.avro", ".batch.sig"] { try intake.drop("east/0003\(part)") }
        let report = TriggerScanner.pass(try intake.trigger(), store: store)
        #expect(report.unmatched == 3)
        #expect(report.started.count == 1)
    }

    @Test func dryRunReportsWhatWouldStartAndWritesNothing() throws {
        let intake = Intake()
        let file = TestDatabase()
        let store = try file.store()
        for part in [".batch", ".batch.avro", ".batch.sig"] { try intake.drop("west/0004\(part)") }
        try intake.drop("west/0005.batch")
        let before = try fileSnapshot(file)
        let json = try TriggerDryRun.report([try intake.trigger()], store: store)
        #expect(try fileSnapshot(file) == before)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let trigger = (object?["triggers"] as? [[String: Any]])?.first
        #expect(trigger?["wouldStart"] as? Int == 1)
        let actions = (trigger?["groups"] as? [[String: Any]])?.compactMap { $0["action"] as? String }.sorted()
        #expect(actions == ["start", "wait"])
        #expect(try store.statusCounts().isEmpty)
    }

    @Test func onChangeStartsAgainWhenTheGroupChanges() throws {
        let intake = Intake()
        let file = TestDatabase()
        let store = try file.store()
        let trigger = try intake.trigger("redo: on_change")
        for part in [".batch", ".batch.avro", ".batch.sig"] { try intake.drop("north/0006\(part)") }
        #expect(TriggerScanner.pass(trigger, store: store).started.count == 1)
        #expect(TriggerScanner.pass(trigger, store: store).started.isEmpty)
        try intake.drop("north/0006.batch", "changed content")
        #expect(TriggerScanner.pass(trigger, store: store).started.count == 1)
    }

    @Test func twoScannersAtOnceNeverStartAGroupTwice() async throws {
        let intake = Intake()
        let file = TestDatabase()
        _ = try file.store()
        for batch in 0..<50 {
            for part in [".batch", ".batch.avro", ".batch.sig"] { try intake.drop("north/\(String(format: "%04d", batch))\(part)") }
        }
        let trigger = try intake.trigger()
        let path = file.configuration
        // Two stores (two connections, as two processes would have) scanning concurrently.
        async let a = Task.detached { TriggerScanner.pass(trigger, store: try! SQLiteStore(path)).started.count }.value
        async let b = Task.detached { TriggerScanner.pass(trigger, store: try! SQLiteStore(path)).started.count }.value
        let (startedA, startedB) = await (a, b)
        #expect(startedA + startedB == 50)
        #expect(try file.store().statusCounts().values.reduce(0, +) == 50)
    }

    @Test func invalidTriggersAreRefusedWithThePointer() throws {
        let cases: [(String, String)] = [
            ("trigger: t\nworkflow: w\nsource: { directory: /tmp }\nmatch: '(?<a>x)'\ncolour: red", "/colour"),
            ("trigger: t\nworkflow: w\nsource: { directory: /tmp }\nmatch: '(?<a>x'", "/match"),
            ("trigger: t\nworkflow: w\nsource: { directory: /tmp }\nmatch: '(?<a>x)'\ngroup_by: [b]", "/group_by/0"),
            ("trigger: t\nworkflow: w\nsource: { directory: /tmp }\nmatch: '(?<a>x)'\nmarker: '${nope}'", "/marker"),
            ("trigger: t\nworkflow: w\nmatch: '(?<a>x)'", "/source"),
            ("trigger: t\nworkflow: w\nsource: { directory: /tmp }\nmatch: '(?<a>x)'\nwindow: { lookback: soon }", "/window/lookback"),
        ]
        for (yaml, pointer) in cases {
            do {
                _ = try TriggerDefinition.parse(Document.parse(yaml, file: "t.yaml", yaml: true), file: "t.yaml", baseDirectory: "/")
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.location == pointer, "\(yaml)")
            }
        }
    }

    @Test func fixedWindowsWaitForGraceAndCatchUp() throws {
        let intake = Intake()
        let trigger = try intake.trigger("window: { every: 1h, grace: 5m }")
        let hour = 3600.0
        let base = (Date().timeIntervalSince1970 / hour).rounded(.down) * hour - 10 * hour
        let files = [0.0, 1, 2].flatMap { offset in
            [".batch", ".batch.avro", ".batch.sig"].map { ScannedFile(path: "north/0001\($0)", size: 1, modified: base + offset * hour + 60) }
        }
        // Now is 3h05m+ after base: windows 0 and 1 closed with grace; window 2 closes at 3h05m.
        let plan = TriggerPlanner.plan(trigger, files: files, now: base + 3 * hour + 60)
        #expect(plan.ready.count == 2)
        #expect(plan.waiting.count == 1)
        let noCatchUp = try intake.trigger("window: { every: 1h, grace: 5m, catch_up: false }")
        #expect(TriggerPlanner.plan(noCatchUp, files: files, now: base + 3 * hour + 60).ready.count == 1)
    }

    private func fileSnapshot(_ file: TestDatabase) throws -> [String: Int] {
        var sizes: [String: Int] = [:]
        for suffix in ["", "-wal"] {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file.path + suffix)
            sizes[suffix] = (attributes?[.size] as? Int) ?? -1
        }
        let checksum = try SQLiteStore(file.configuration).database.read { db in
            try db.scalarInt("SELECT (SELECT COUNT(*) FROM markers) * 1000000 + (SELECT COUNT(*) FROM executions) * 1000 + (SELECT COUNT(*) FROM heartbeats)")
        }
        sizes["rows"] = Int(checksum ?? -1)
        return sizes
    }
}
