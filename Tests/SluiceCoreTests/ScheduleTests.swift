import Foundation
import Testing
@testable import SluiceCore

@Suite struct CronTests {
    let utc = TimeZone(identifier: "UTC")!

    func date(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func stepsRangesListsAndNames() throws {
        let every15 = try CronExpression("*/15 * * * *", timeZone: utc)
        #expect(every15.next(after: date("2026-03-01T10:07:30Z")) == date("2026-03-01T10:15:00Z"))
        #expect(every15.next(after: date("2026-03-01T10:15:00Z")) == date("2026-03-01T10:30:00Z"))
        let weekdays = try CronExpression("30 9 * * mon-fri", timeZone: utc)
        // 2026-03-07 is a Saturday: the next weekday run is Monday the 9th.
        #expect(weekdays.next(after: date("2026-03-06T10:00:00Z")) == date("2026-03-09T09:30:00Z"))
        let yearly = try CronExpression("0 0 29 feb *", timeZone: utc)
        #expect(yearly.next(after: date("2026-03-01T00:00:00Z")) == date("2028-02-29T00:00:00Z"))
        let either = try CronExpression("0 12 1 * sun", timeZone: utc)
        // Day 1 or any Sunday: 2026-03-01 is a Sunday, then Sunday the 8th.
        #expect(either.next(after: date("2026-03-01T13:00:00Z")) == date("2026-03-08T12:00:00Z"))
        #expect(try CronExpression("0 0 * * 7", timeZone: utc).next(after: date("2026-03-02T00:00:00Z")) == date("2026-03-08T00:00:00Z"))
    }

    @Test func timeZonesAndDaylightSaving() throws {
        let berlin = try CronExpression("0 2 * * *", timeZone: TimeZone(identifier: "Europe/Berlin")!)
        // 02:00 Berlin is 01:00 UTC in winter.
        #expect(berlin.next(after: date("2026-01-10T00:00:00Z")) == date("2026-01-10T01:00:00Z"))
        // On 2026-03-29 02:00 does not exist in Berlin; the next existing match is 2026-03-30 02:00 CEST (00:00 UTC).
        #expect(berlin.next(after: date("2026-03-28T02:00:00Z")) == date("2026-03-30T00:00:00Z"))
    }

    @Test func badExpressionsSayWhatIsWrong() {
        for (text, fragment) in [("* * * *", "needs 5"), ("61 * * * *", "outside 0-59"), ("* * * foo *", "not a number"),
                                 ("*/0 * * * *", "bad step"), ("5-1 * * * *", "backwards")] {
            do {
                _ = try CronExpression(text, timeZone: utc)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.message.contains(fragment), "\(text): \(error.message)")
            }
        }
    }
}

@Suite struct SchedulerTests {
    func schedule(_ catchUp: String) throws -> ScheduleDefinition {
        let yaml = "schedule: hourly\nworkflow: noop\ncron: '0 * * * *'\ncatch_up: \(catchUp)\nmax_catch_up: 3\ninput: { at: '${scheduled_at}' }"
        return try ScheduleDefinition.parse(Document.parse(yaml, file: "s.yaml", yaml: true), file: "s.yaml")
    }

    @Test func catchUpPolicies() throws {
        let last = try Date("2026-03-01T00:00:00Z", strategy: .iso8601)
        let now = try Date("2026-03-01T05:30:00Z", strategy: .iso8601)
        #expect(Scheduler.missed(try schedule("none"), lastFired: last, now: now).isEmpty)
        #expect(Scheduler.missed(try schedule("latest"), lastFired: last, now: now).map(ScheduleDefinition.key) == ["2026-03-01T05:00:00Z"])
        #expect(Scheduler.missed(try schedule("all"), lastFired: last, now: now).map(ScheduleDefinition.key)
                == ["2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z", "2026-03-01T05:00:00Z"])
        #expect(Scheduler.missed(try schedule("all"), lastFired: nil, now: now).isEmpty)
    }

    @Test func aFireTimeStartsOnceWithItsTimeInTheInput() throws {
        let file = TestDatabase()
        let store = try file.store()
        let definition = try schedule("all")
        let time = try Date("2026-03-01T05:00:00Z", strategy: .iso8601)
        let first = try Scheduler.fire(definition, at: [time], store: store)
        let again = try Scheduler.fire(definition, at: [time], store: store)
        #expect(first.compactMap { $0 }.count == 1)
        #expect(again == [nil])
        let record = try #require(try store.execution(uid: first[0]!))
        #expect(record.input == #"{"at":"2026-03-01T05:00:00Z"}"#)
        #expect(try store.latestMarker(scope: "schedule:hourly") == "2026-03-01T05:00:00Z")
    }

    @Test func invalidSchedulesNameTheField() {
        for (yaml, pointer) in [("schedule: s\nworkflow: w\ncron: '* *'", "/cron"),
                                ("schedule: s\nworkflow: w\ncron: '* * * * *'\ntimezone: Mars/Base", "/timezone"),
                                ("schedule: s\nworkflow: w\ncron: '* * * * *'\ncatch_up: sometimes", "/catch_up")] {
            do {
                _ = try ScheduleDefinition.parse(Document.parse(yaml, file: "s.yaml", yaml: true), file: "s.yaml")
                Issue.record("accepted \(yaml)")
            } catch {
                #expect(error.location == pointer)
            }
        }
    }
}

@Suite struct TriggerCronTests {
    @Test func aTriggerCanScanOnACronScheduleInsteadOfAnInterval() throws {
        let yaml = "trigger: t\nworkflow: noop\ncron: '*/5 * * * *'\ntimezone: Europe/Berlin\nsource: { directory: /tmp }\nmatch: '(?<a>x)'"
        let trigger = try TriggerDefinition.parse(Document.parse(yaml, file: "t.yaml", yaml: true), file: "t.yaml", baseDirectory: "/")
        let after = try Date("2026-03-01T10:02:00Z", strategy: .iso8601)
        #expect(TriggerScanner.nextRun(trigger, after: after) == (try Date("2026-03-01T10:05:00Z", strategy: .iso8601)).timeIntervalSince1970)
        let both = yaml + "\ninterval: 10s"
        #expect(throws: Document.LoadError.self) {
            try TriggerDefinition.parse(Document.parse(both, file: "t.yaml", yaml: true), file: "t.yaml", baseDirectory: "/")
        }
    }
}
