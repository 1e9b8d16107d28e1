import Foundation
import Testing
@testable import SluiceCore

/// A real `sluice` process killed with SIGKILL mid-drain, then restarted: every execution
/// finishes exactly once and none is lost.
@Suite struct CrashRecoveryTests {
    @Test func sigkillMidDrainLosesNothingAndFinishesEachExecutionOnce() throws {
        let file = TestDatabase()
        let store = try file.store()
        let total = 2_000
        // 5 ms tasks, 8 at once: about 1.3 s of work, so the kill lands mid-drain.
        _ = try store.submit((0..<total).map { i in Submission(definition: "sleep", input: "{\"ms\":5}", idempotencyKey: "c\(i)") }, now: now())

        let first = try SluiceProcess.start(["worker", "--db", file.path, "--queues", "default:8"])
        #expect(try eventually(timeout: 30) { try store.count(.succeeded) >= 200 })
        first.kill(SIGKILL)
        let doneAtKill = try store.count(.succeeded)
        #expect(doneAtKill < total, "the kill should land mid-drain")
        #expect(try store.jobStates()["running"] ?? 0 > 0, "the killed process held leases")

        let second = try SluiceProcess.start(["worker", "--db", file.path, "--queues", "default:8"])
        defer { second.kill(SIGTERM) }
        // The new process releases the dead one's leases at once (same host, pid gone).
        #expect(try eventually(timeout: 30) { try store.count(.succeeded) == total })

        let (executions, successes, duplicateFinishes) = try store.database.read { db in
            (try db.scalarInt("SELECT COUNT(*) FROM executions") ?? -1,
             // Each one-task execution's task outcome was committed once (the end line is made
             // from the row, so the task lines are what a double finish would show in).
             try db.scalarInt("SELECT COUNT(*) FROM history WHERE type = 'TaskSucceeded'") ?? -1,
             try db.scalarInt("""
                SELECT COUNT(*) FROM (SELECT execution_id FROM history WHERE type = 'TaskSucceeded'
                GROUP BY execution_id HAVING COUNT(*) > 1)
                """) ?? -1)
        }
        #expect(executions == Int64(total))
        #expect(successes == Int64(total))
        #expect(duplicateFinishes == 0)
        #expect(try store.jobStates() == ["done": total])
    }
}

/// The `sluice` binary built beside the test bundle, run as a child process.
struct SluiceProcess {
    let process: Process

    static var binary: URL {
        let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var directory = testBinary.deletingLastPathComponent()
        // swift test runs .build/<triple>/debug/SluicePackageTests.xctest; sluice sits in that debug folder.
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("sluice")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: "sluice")
    }

    static func start(_ arguments: [String]) throws -> SluiceProcess {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return SluiceProcess(process: process)
    }

    func kill(_ signal: Int32) {
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }
}
