import Foundation

/// `sluice scan --dry-run`: what each trigger would start now and why, as JSON, reading the
/// markers but writing nothing (no marker, no execution, no heartbeat, no metric).
public enum TriggerDryRun {
    public static func report(_ triggers: [TriggerDefinition], store: any MarkerReader, now: Double = Date().timeIntervalSince1970) throws -> String {
        var entries: [String] = []
        for trigger in triggers {
            let plan = TriggerPlanner.scan(trigger, now: now)
            let known = try store.existingMarkers(scope: "trigger:\(trigger.name)", keys: plan.ready.map(\.markerKey))
            let groups = plan.ready.map { group in
                JSONText.object([
                    "group": .string(group.groupKey),
                    "action": .string(known.contains(group.markerKey) ? "skip" : "start"),
                    "reason": .string(known.contains(group.markerKey) ? "marker \(group.markerKey) exists: already started" : "complete and not started yet"),
                    "marker": .string(group.markerKey),
                    "workflow": .string(trigger.workflow),
                    "input": .raw(group.input(for: trigger)),
                    "files": .int(group.files.count),
                ])
            } + plan.waiting.map { waiting in
                JSONText.object(["group": .string(waiting.groupKey), "action": .string("wait"), "reason": .string(waiting.reason)])
            }
            entries.append(JSONText.object([
                "trigger": .string(trigger.name),
                "directory": .string(trigger.directory),
                "scanned": .int(plan.scanned),
                "unmatched": .int(plan.unmatched),
                "wouldStart": .int(plan.ready.filter { !known.contains($0.markerKey) }.count),
                "groups": .raw("[" + groups.joined(separator: ",") + "]"),
                "errors": .raw("[" + plan.errors.map(JSONText.quote).joined(separator: ",") + "]"),
            ]))
        }
        return "{\"triggers\":[" + entries.joined(separator: ",") + "]}"
    }
}
