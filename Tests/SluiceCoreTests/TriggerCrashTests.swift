import Foundation
import Testing
@testable import SluiceCore

/// A real `sluice serve` scanning a real folder, killed with SIGKILL mid-scan and restarted:
/// every complete group ends with exactly one execution and one marker.
@Suite struct TriggerCrashTests {
    @Test func sigkillMidScanThenRestartStartsEveryGroupExactlyOnce() throws {
        let file = TestDatabase()
        let store = try file.store()
        let groups = 5_000
        let data = file.directory.appendingPathComponent("intake")
        for batch in 0..<groups {
            let folder = data.appendingPathComponent("s\(batch % 10)")
            if batch < 10 { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            for part in [".batch", ".batch.sig"] {
                FileManager.default.createFile(atPath: folder.appendingPathComponent(String(format: "%05d", batch) + part).path, contents: Data("x".utf8))
            }
        }
        let definitions = file.directory.appendingPathComponent("definitions")
        try FileManager.default.createDirectory(at: definitions, withIntermediateDirectories: true)
        try """
            trigger: intake
            workflow: noop
            interval: 1s
            source: { directory: \(data.path) }
            match: '^(?<station>s[0-9])/(?<batch>[0-9]+)(?<part>\\.batch|\\.batch\\.sig)$'
            group_by: [station, batch]
            complete: { field: part, all: [.batch, .batch.sig] }
            marker: '${station}/${batch}'
            """.write(to: definitions.appendingPathComponent("intake.yaml"), atomically: true, encoding: .utf8)
        let arguments = ["serve", "--db", file.path, "--definitions", definitions.path, "--listen", "127.0.0.1:0"]

        let first = try SluiceProcess.start(arguments)
        #expect(try eventually(timeout: 60) { try store.statusCounts().values.reduce(0, +) > 0 })
        first.kill(SIGKILL)
        let atKill = try store.statusCounts().values.reduce(0, +)
        #expect(atKill < groups, "the kill should land mid-scan")

        let second = try SluiceProcess.start(arguments)
        defer { second.kill(SIGTERM) }
        #expect(try eventually(timeout: 60) { try store.statusCounts().values.reduce(0, +) >= groups })
        Thread.sleep(forTimeInterval: 1.5)  // one more interval: a re-scan must add nothing
        let (executions, markers, unlinked) = try store.database.read { db in
            (try db.scalarInt("SELECT COUNT(*) FROM executions") ?? -1,
             try db.scalarInt("SELECT COUNT(*) FROM markers WHERE scope = 'trigger:intake'") ?? -1,
             try db.scalarInt("SELECT COUNT(*) FROM markers WHERE execution_id IS NULL") ?? -1)
        }
        #expect(executions == Int64(groups))
        #expect(markers == Int64(groups))
        #expect(unlinked == 0)
    }
}
