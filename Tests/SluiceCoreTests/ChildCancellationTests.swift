import Foundation
import Testing
@testable import SluiceCore

/// Parallel branches and Map iterations are child executions; when they can no longer matter
/// they are cancelled, not left running.
@Suite struct ChildCancellationTests {
    /// Branch A fails at once; branch B waits 5 s (a durable timer) and would then call /ok?late.
    static func machine(_ base: String, catchIt: Bool) -> String {
        """
        {"StartAt": "Both", "States": {
          "Both": {"Type": "Parallel", \(catchIt ? #""Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "# : "")"End": true, "Branches": [
             {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "http", "Parameters": {"url": "\(base)/status/404"}, "End": true}}},
             {"StartAt": "Hold", "States": {
                "Hold": {"Type": "Wait", "Seconds": 5, "Next": "Late"},
                "Late": {"Type": "Task", "Resource": "http", "Parameters": {"url": "\(base)/ok?late"}, "End": true}}}]}\(catchIt ? #", "Caught": {"Type": "Pass", "End": true}"# : "")}}
        """
    }

    func children(_ harness: TaskListTests.Harness) throws -> [String] {
        try harness.store.database.read { db in
            let statement = try db.statement("SELECT status FROM executions WHERE parent_id IS NOT NULL ORDER BY id")
            var statuses: [String] = []
            while try statement.step() { statuses.append(statement.text(0) ?? "") }
            return statuses
        }
    }

    @Test func aFailedBranchCancelsItsSiblingWhetherTheParentFailsOrCatches() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        for catchIt in [false, true] {
            let harness = try StatesEngineTests().harness(Self.machine(server.baseURL, catchIt: catchIt))
            let record = try harness.finish(try harness.start("machine", "{}"))
            #expect(record.status == (catchIt ? .succeeded : .failed))
            #expect(try children(harness) == ["failed", "cancelled"])
            let sibling = try #require(try harness.store.database.read { db in
                try db.scalarText("SELECT uid FROM executions WHERE parent_id IS NOT NULL AND status = 'cancelled'") })
            #expect(try harness.store.history(uid: sibling).contains { $0.type == "ExecutionCancelled" && ($0.details ?? "").contains("a sibling failed") })
            let waiting = try harness.store.database.read { db in try db.scalarInt("SELECT COUNT(*) FROM jobs WHERE state IN ('scheduled', 'ready')") }
            #expect(waiting == 0)
            let timer = try harness.store.database.read { db in try db.scalarText("SELECT state FROM jobs WHERE step = 'Hold'") }
            #expect(timer == "cancelled")   // the sibling's timer will never fire, so /ok?late is never called
        }
    }

    /// Branch 0 fails inline (a Fail state) while its batch is being started; the Retry starts
    /// a new generation. No branch of either generation may be left running, and the late
    /// report of an old-generation branch must not cancel the new one.
    @Test func aBranchFailingInlineReachesEverySiblingAcrossRetries() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try StatesEngineTests().harness("""
            {"StartAt": "Both", "States": {
              "Both": {"Type": "Parallel", "End": true,
                       "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 0.05, "MaxAttempts": 1}], "Branches": [
                 {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Early", "Cause": "inline"}}},
                 {"StartAt": "Slow", "States": {"Slow": {"Type": "Task", "Resource": "http", "Parameters": {"url": "\(server.baseURL)/delay?ms=200"}, "End": true}}}]}}}
            """)
        let record = try harness.finish(try harness.start("machine", "{}"))
        #expect(record.status == .failed)
        #expect(record.error == "Early")
        let statuses = try children(harness)
        #expect(statuses.count == 4)   // two generations of two branches
        #expect(!statuses.contains("pending") && !statuses.contains("running"))
        let waiting = try harness.store.database.read { db in try db.scalarInt("SELECT COUNT(*) FROM jobs WHERE state IN ('scheduled', 'ready', 'running')") }
        #expect(waiting == 0)
        #expect(!server.requests.contains { $0.path.hasPrefix("/delay") })   // no orphan ran its task
    }

    /// Cancelling one branch directly fails the join (which a Catch takes), instead of leaving
    /// the parent waiting for a child that will never report.
    @Test func cancellingABranchDirectlyReachesItsParent() throws {
        let harness = try StatesEngineTests().harness("""
            {"StartAt": "Both", "States": {
              "Both": {"Type": "Parallel", "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}], "End": true, "Branches": [
                 {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 30, "Next": "Work"},
                                                "Work": {"Type": "Task", "Resource": "noop", "End": true}}},
                 {"StartAt": "Also", "States": {"Also": {"Type": "Wait", "Seconds": 30, "Next": "More"},
                                                "More": {"Type": "Task", "Resource": "noop", "End": true}}}]},
              "Caught": {"Type": "Pass", "End": true}}}
            """)
        let uid = try harness.start("machine", "{}")
        _ = try eventually { try children(harness).count == 2 }
        let branch = try #require(try harness.store.database.read { db in
            try db.scalarText("SELECT uid FROM executions WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1") })
        #expect(try harness.store.cancel(uid: branch, reason: "operator", now: now()) == .cancelled)
        let parent = try #require(try harness.store.execution(uid: uid))
        #expect(parent.status == .succeeded)   // caught
        #expect(parent.output?.contains("Sluice.Cancelled") == true)
        #expect(try children(harness) == ["cancelled", "cancelled"])   // its sibling went with the join
    }

    @Test func cancellingAParentCancelsItsWholeTree() throws {
        let harness = try StatesEngineTests().harness("""
            {"StartAt": "Outer", "States": {"Outer": {"Type": "Parallel", "End": true, "Branches": [
               {"StartAt": "Inner", "States": {"Inner": {"Type": "Parallel", "End": true, "Branches": [
                  {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 30, "Next": "Work"},
                                                 "Work": {"Type": "Task", "Resource": "noop", "End": true}}}]}}}]}}}
            """)
        let uid = try harness.start("machine", "{}")
        _ = try eventually { try children(harness).count == 2 }
        #expect(try harness.store.cancel(uid: uid, reason: "operator", now: now()) == .cancelled)
        #expect(try children(harness) == ["cancelled", "cancelled"])
        let waiting = try harness.store.database.read { db in try db.scalarInt("SELECT COUNT(*) FROM jobs WHERE state IN ('scheduled', 'ready')") }
        #expect(waiting == 0)
    }
}
