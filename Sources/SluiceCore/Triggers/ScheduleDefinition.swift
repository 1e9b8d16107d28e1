import Foundation

/// A workflow started on a cron schedule.
///
/// ```yaml
/// schedule: nightly-report
/// workflow: report
/// cron: '0 2 * * *'
/// timezone: Europe/Berlin
/// input: { day: '${scheduled_at}' }
/// catch_up: latest        # none | latest | all (runs missed while no process was up)
/// max_catch_up: 24        # bound for all
/// ```
/// Each fire time is a marker (`schedule:NAME`, its ISO time) inserted with the execution, so a
/// restart or a second process never fires the same time twice.
public struct ScheduleDefinition: @unchecked Sendable {
    public enum CatchUp: String, Sendable {
        case none, latest, all
    }

    public var name: String
    public var workflow: String
    public var queue: String?
    public var cron: CronExpression
    public var input: [String: Any]
    public var catchUp: CatchUp
    public var maxCatchUp: Int

    public static func parse(_ value: Any, file: String) throws(Document.LoadError) -> ScheduleDefinition {
        let reader = try ObjectReader(value, file: file)
        try reader.allowOnly(["schedule", "workflow", "queue", "cron", "timezone", "input", "catch_up", "max_catch_up", "description"])
        var timeZone = TimeZone(identifier: "UTC")!
        if let identifier = try reader.string("timezone") {
            guard let zone = TimeZone(identifier: identifier) else { throw reader.error("timezone", "unknown time zone '\(identifier)'") }
            timeZone = zone
        }
        let cronText = try reader.requiredString("cron")
        let cron: CronExpression
        do { cron = try CronExpression(cronText, timeZone: timeZone) } catch {
            throw reader.error("cron", error.message)
        }
        let catchUpText = try reader.string("catch_up") ?? "latest"
        guard let catchUp = CatchUp(rawValue: catchUpText) else { throw reader.error("catch_up", "expected none, latest or all") }
        let maxCatchUp = try reader.int("max_catch_up") ?? 100
        guard maxCatchUp >= 1 else { throw reader.error("max_catch_up", "must be at least 1") }
        let queue = try reader.string("queue")
        if let queue, let problem = Names.queueProblem(queue) { throw reader.error("queue", problem) }
        return ScheduleDefinition(name: try reader.requiredString("schedule"), workflow: try reader.requiredString("workflow"),
                                  queue: queue, cron: cron, input: (try reader.child("input"))?.object ?? [:],
                                  catchUp: catchUp, maxCatchUp: maxCatchUp)
    }

    var scope: String { "schedule:\(name)" }

    static func key(_ date: Date) -> String { date.formatted(.iso8601) }

    func submission(for time: Date) -> Submission {
        let input = TriggerPlanner.renderInput(input, values: ["scheduled_at": Self.key(time), "schedule": name], files: [])
        return Submission(definition: workflow, input: input, queue: queue ?? "default")
    }
}
