import ArgumentParser
import Foundation
import SluiceCore
import SluiceSQLite

/// `sluice bench scan`: one trigger pass over a tree of `--files` files in groups of three
/// parts, of which `--new-groups` have no marker yet. Prints the pass time and peak RSS.
struct BenchScan: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scan", abstract: "Scan a large tree with a few new groups.")

    @Option(help: "Files in the tree.") var files: Int = 100_000
    @Option(help: "Complete groups not started yet.") var newGroups: Int = 1_000

    func run() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-scan-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("tree")
        let groups = files / 3
        for station in 0..<100 {
            try FileManager.default.createDirectory(at: data.appendingPathComponent("st\(station)"), withIntermediateDirectories: true)
        }
        for group in 0..<groups {
            let folder = data.appendingPathComponent("st\(group % 100)").path
            for part in [".batch", ".batch.avro", ".batch.sig"] {
                FileManager.default.createFile(atPath: "\(folder)/\(String(format: "%06d", group))\(part)", contents: nil)
            }
        }
        let trigger = try TriggerDefinition.parse(Document.parse("""
            trigger: bench
            workflow: noop
            source: { directory: \(data.path) }
            match: '^(?<station>st[0-9]+)/(?<batch>[0-9]+)(?<part>\\.batch|\\.batch\\.avro|\\.batch\\.sig)$'
            group_by: [station, batch]
            complete: { field: part, all: [.batch, .batch.avro, .batch.sig] }
            marker: '${station}/${batch}'
            """, file: "bench.yaml", yaml: true), file: "bench.yaml", baseDirectory: "/")
        let store = try SQLiteStore(StoreConfiguration(path: root.appendingPathComponent("scan.sqlite").path))
        try BuiltinDefinitions.register(in: store)
        // Every group but the last `newGroups` was started before.
        try store.database.write { db in
            try db.transaction {
                try db.execute("""
                    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(groups - newGroups - 1))
                    INSERT INTO markers (scope, key, created_at) SELECT 'trigger:bench', 'st' || (i % 100) || '/' || printf('%06d', i), 0 FROM n;
                    """)
            }
        }
        Measurements.resetPeakRSS()
        let rssBefore = Measurements.currentRSSMegabytes()
        let start = Date().timeIntervalSince1970
        let report = TriggerScanner.pass(trigger, store: store)
        let seconds = Date().timeIntervalSince1970 - start
        print("files=\(report.scanned) groups=\(groups) started=\(report.started.count) already=\(report.alreadyStarted) "
              + "scan_s=\(Measurements.format(seconds, 3)) rss_mb=\(Measurements.format(Measurements.peakRSSMegabytes())) rss_before_scan_mb=\(Measurements.format(rssBefore))")
    }
}
