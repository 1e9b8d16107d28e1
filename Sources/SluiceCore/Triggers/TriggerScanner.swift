import Foundation
import Synchronization

/// Runs each trigger on its interval on one thread: scan, plan, start the ready groups with
/// their markers (one transaction), wake the dispatcher, beat. A failing scan is reported and
/// retried next interval; one bad file name never stops a scan (it is counted as unmatched).
public final class TriggerScanner: @unchecked Sendable {
    public struct PassReport: Sendable {
        public let trigger: String
        public var started: [String] = []
        public var alreadyStarted = 0
        public var waiting = 0
        public var unmatched = 0
        public var scanned = 0
        public var errors: [String] = []
    }

    private let engine: Engine
    private let triggers: [TriggerDefinition]
    private let role: String
    private let loop = TimedLoop(name: "sluice-scanner")
    /// Set by `stop()`: the walk in progress checks it per entry, so a stop (SIGTERM) does not
    /// wait for a pass over a large tree to finish.
    private let stopping = Atomic<Bool>(false)

    public init(engine: Engine, triggers: [TriggerDefinition], role: String) {
        self.engine = engine
        self.triggers = triggers
        self.role = role
    }

    public func start() {
        guard !triggers.isEmpty else { return }
        // Interval triggers scan at once on start; cron triggers wait for their first time.
        var next = triggers.map { $0.cron == nil ? 0 : Self.nextRun($0, after: Date()) }
        var nextBeat = 0.0
        let ttl = max(15, (triggers.map(\.interval).max() ?? 10) * 3)
        loop.start { [self] in
            let now = Date().timeIntervalSince1970
            for (index, trigger) in triggers.enumerated() where now >= next[index] {
                if stopping.load(ordering: .relaxed) { break }
                let report = Self.pass(trigger, store: engine.store, now: now, limits: .standard,
                                       isCancelled: { [self] in stopping.load(ordering: .relaxed) })
                if !report.started.isEmpty { engine.noteJobsAdded() }
                for error in report.errors { FileHandle.standardError.write(Data("sluice: trigger \(trigger.name): \(error)\n".utf8)) }
                next[index] = Self.nextRun(trigger, after: Date())
            }
            if now >= nextBeat {
                try? engine.store.beat([Heartbeat(component: "\(role).scanner", ttl: ttl, info: "triggers=\(triggers.count)")],
                                       owner: engine.owner, now: now)
                nextBeat = now + ttl / 3
            }
            return min(next.min() ?? now + 1, nextBeat)
        }
    }

    public func stop() {
        stopping.store(true, ordering: .relaxed)
        loop.stop()
    }

    /// One pass of one trigger: what the scan thread does each interval.
    @discardableResult
    public static func pass(_ trigger: TriggerDefinition, store: any Store, now: Double = Date().timeIntervalSince1970) -> PassReport {
        pass(trigger, store: store, now: now, limits: .standard, isCancelled: { false })
    }

    /// A pass with the walk's bounds and stop flag (`FileWalker`); a walk cut short starts nothing.
    static func pass(_ trigger: TriggerDefinition, store: any Store, now: Double = Date().timeIntervalSince1970,
                     limits: FileWalker.Limits, isCancelled: @escaping () -> Bool = { false }) -> PassReport {
        let plan = TriggerPlanner.scan(trigger, now: now, limits: limits, isCancelled: isCancelled)
        var report = PassReport(trigger: trigger.name, waiting: plan.waiting.count, unmatched: plan.unmatched,
                                scanned: plan.scanned, errors: plan.errors)
        guard !plan.ready.isEmpty else { return report }
        let scope = "trigger:\(trigger.name)"
        do {
            // Skip groups whose markers exist with a read first: a re-scan of a big tree then costs no write.
            let known = try store.existingMarkers(scope: scope, keys: plan.ready.map(\.markerKey))
            let fresh = plan.ready.filter { !known.contains($0.markerKey) }
            report.alreadyStarted = plan.ready.count - fresh.count
            for chunk in stride(from: 0, to: fresh.count, by: 500).map({ Array(fresh[$0..<min($0 + 500, fresh.count)]) }) {
                let items = chunk.map { group in
                    (scope: scope, key: group.markerKey,
                     submission: Submission(definition: trigger.workflow, input: group.input(for: trigger), queue: trigger.queue ?? "default"))
                }
                let started = try store.startMarked(items, now: now)
                report.started += started.compactMap { $0 }
                report.alreadyStarted += started.filter { $0 == nil }.count
            }
        } catch {
            report.errors.append("\(error)")
        }
        return report
    }

    static func nextRun(_ trigger: TriggerDefinition, after date: Date) -> Double {
        if let cron = trigger.cron {
            return cron.next(after: date)?.timeIntervalSince1970 ?? date.timeIntervalSince1970 + 86400
        }
        return date.timeIntervalSince1970 + trigger.interval
    }
}
