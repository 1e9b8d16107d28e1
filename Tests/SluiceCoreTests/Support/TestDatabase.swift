import Foundation
@testable import SluiceCore

/// A real SQLite file in a fresh temporary directory, removed when the value is released.
final class TestDatabase: @unchecked Sendable {
    let directory: URL
    let path: String

    init(_ name: String = "test") {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("\(name).sqlite").path
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    var configuration: StoreConfiguration { StoreConfiguration(path: path, sync: .normal) }

    /// A migrated store with the built-in definitions.
    func store() throws -> SQLiteStore {
        let store = try SQLiteStore(configuration)
        try BuiltinDefinitions.register(in: store)
        return store
    }
}

func now() -> Double { Date().timeIntervalSince1970 }

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
/// Tests only: the engine itself never sleep-polls.
func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().timeIntervalSince1970 + timeout
    while Date().timeIntervalSince1970 < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return try condition()
}

extension SQLiteStore {
    func count(_ status: ExecutionStatus) throws -> Int { try statusCounts()[status] ?? 0 }

    /// One cycle that only claims.
    func claim(_ queue: String = "default", limit: Int, owner: LeaseOwner, lease: Double = 30, at time: Double = now()) throws -> [ClaimedJob] {
        var request = CycleRequest(owner: owner, now: time, leaseUntil: time + lease)
        request.claims = [(queue, limit)]
        return try runCycle(request).claimed[queue] ?? []
    }

    func commit(_ outcomes: [TaskOutcome], owner: LeaseOwner, at time: Double = now()) throws -> CycleResult {
        var request = CycleRequest(owner: owner, now: time, leaseUntil: time + 30)
        request.outcomes = outcomes
        return try runCycle(request)
    }

    func jobStates() throws -> [String: Int] {
        try database.read { db in
            let statement = try db.statement("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            var result: [String: Int] = [:]
            while try statement.step() { result[statement.text(0) ?? ""] = statement.int(1) }
            return result
        }
    }
}

func succeeded(_ job: ClaimedJob, output: String = "{}") -> TaskOutcome {
    TaskOutcome(job: job, result: .succeeded(output: output), startedAt: now(), finishedAt: now())
}

func failed(_ job: ClaimedJob, retryable: Bool = true, retryAfter: Double? = nil) -> TaskOutcome {
    TaskOutcome(job: job, result: .failed(error: "States.TaskFailed", cause: "boom", retryable: retryable, retryAfter: retryAfter),
                startedAt: now(), finishedAt: now())
}
