import Foundation

/// Starts scheduled workflows at their cron times on one thread. On start it settles the runs
/// missed while no process was up by each schedule's catch-up policy; every fire goes through a
/// marker, so two processes or a restart never fire the same time twice.
public final class Scheduler: @unchecked Sendable {
    private let engine: Engine
    private let schedules: [ScheduleDefinition]
    private let role: String
    private let loop = TimedLoop(name: "sluice-scheduler")

    public init(engine: Engine, schedules: [ScheduleDefinition], role: String) {
        self.engine = engine
        self.schedules = schedules
        self.role = role
    }

    public func start() {
        guard !schedules.isEmpty else { return }
        var next: [Date?] = []
        var settled = false
        var nextBeat = 0.0
        let ttl = 60.0
        loop.start { [self] in
            if !settled {
                // Runs missed while no process was up, by each schedule's policy.
                let now = Date()
                for schedule in schedules {
                    let last = (try? engine.store.latestMarker(scope: schedule.scope)).flatMap { $0 }.flatMap { try? Date($0, strategy: .iso8601) }
                    report(schedule, try? Self.fire(schedule, at: Self.missed(schedule, lastFired: last, now: now), store: engine.store))
                    next.append(schedule.cron.next(after: now))
                }
                settled = true
            }
            let now = Date()
            for (index, schedule) in schedules.enumerated() {
                guard let due = next[index], due <= now else { continue }
                report(schedule, try? Self.fire(schedule, at: [due], store: engine.store))
                next[index] = schedule.cron.next(after: due)
            }
            if now.timeIntervalSince1970 >= nextBeat {
                try? engine.store.beat([Heartbeat(component: "\(role).scheduler", ttl: ttl, info: "schedules=\(schedules.count)")],
                                       owner: engine.owner, now: now.timeIntervalSince1970)
                nextBeat = now.timeIntervalSince1970 + ttl / 3
            }
            return min(next.compactMap { $0?.timeIntervalSince1970 }.min() ?? nextBeat, nextBeat)
        }
    }

    public func stop() { loop.stop() }

    /// The missed fire times to run now, by policy: none, the latest, or all (the newest
    /// `maxCatchUp` of them). With no run ever recorded nothing counts as missed.
    public static func missed(_ schedule: ScheduleDefinition, lastFired: Date?, now: Date) -> [Date] {
        guard let lastFired else { return [] }
        switch schedule.catchUp {
        case .none: return []
        case .latest: return schedule.cron.times(after: lastFired, through: now, limit: 1)
        case .all: return schedule.cron.times(after: lastFired, through: now, limit: schedule.maxCatchUp)
        }
    }

    /// Fires `times` of `schedule`; returns the executions started (nil where already fired).
    @discardableResult
    public static func fire(_ schedule: ScheduleDefinition, at times: [Date], store: any Store) throws -> [String?] {
        guard !times.isEmpty else { return [] }
        return try store.startMarked(times.map { (scope: schedule.scope, key: ScheduleDefinition.key($0), submission: schedule.submission(for: $0)) },
                                     now: Date().timeIntervalSince1970)
    }

    private func report(_ schedule: ScheduleDefinition, _ started: [String?]?) {
        guard let started else {
            FileHandle.standardError.write(Data("sluice: schedule \(schedule.name): could not start its workflow\n".utf8))
            return
        }
        if started.contains(where: { $0 != nil }) { engine.noteJobsAdded() }
    }
}
