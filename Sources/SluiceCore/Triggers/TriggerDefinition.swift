import Foundation

/// A trigger: scan a directory tree for files, group them by fields captured from their paths,
/// and start one execution per complete group — never twice, thanks to a marker written in the
/// same transaction as the execution.
///
/// ```yaml
/// trigger: intake
/// workflow: process-batch
/// interval: 10s
/// source: { directory: data/intake }
/// match: '^(?<station>[a-z]+)/(?<batch>[0-9]+)(?<part>\.batch(\.avro|\.sig)?)$'
/// group_by: [station, batch]
/// complete: { field: part, all: [.batch, .batch.avro, .batch.sig] }   # or: complete: any
/// window: { lookback: 24h }            # or { every: 1h, grace: 5m, catch_up: true }
/// input: { station: '${station}', batch: '${batch}', files: '${files}' }
/// marker: 'intake/${station}/${batch}'
/// redo: never                          # or on_change
/// ```
/// Unchecked Sendable: `regex` and `input` are immutable after parsing.
public struct TriggerDefinition: @unchecked Sendable {
    public enum Completeness: Sendable, Equatable {
        /// Any matching file makes the group ready.
        case any
        /// The group needs a file for every value of `field`.
        case all(field: String, values: [String])
    }

    public enum Window: Sendable, Equatable {
        case none
        /// Only files modified within the last `seconds`.
        case lookback(seconds: Double)
        /// Files fall into fixed windows by modification time; a window is started once it has
        /// closed and `grace` has passed. Without catch-up only the newest closed window counts.
        case fixed(seconds: Double, grace: Double, catchUp: Bool)
    }

    public enum Redo: String, Sendable {
        /// A group starts once, ever.
        case never
        /// New or changed files in a started group start it again (the marker carries a fingerprint).
        case onChange = "on_change"
    }

    public var name: String
    public var workflow: String
    public var queue: String?
    public var interval: Double
    /// When set, the trigger scans at these times instead of every `interval`.
    public var cron: CronExpression?
    public var directory: String
    public var pattern: String
    public var regex: NSRegularExpression
    public var captureNames: [String]
    public var groupBy: [String]
    public var completeness: Completeness
    public var window: Window
    /// JSON object template; `${field}` from captures, `${files}` (a list), `${group}`, `${window}`.
    public var input: [String: Any]
    public var marker: String
    public var redo: Redo

    /// Reads and validates a trigger document; errors name the file and JSON pointer.
    public static func parse(_ value: Any, file: String, baseDirectory: String) throws(Document.LoadError) -> TriggerDefinition {
        let reader = try ObjectReader(value, file: file)
        try reader.allowOnly(["trigger", "workflow", "queue", "interval", "cron", "timezone", "source", "match", "group_by", "complete",
                              "window", "input", "marker", "redo", "description"])
        var cron: CronExpression?
        if let text = try reader.string("cron") {
            var zone = TimeZone(identifier: "UTC")!
            if let identifier = try reader.string("timezone") {
                guard let named = TimeZone(identifier: identifier) else { throw reader.error("timezone", "unknown time zone '\(identifier)'") }
                zone = named
            }
            do { cron = try CronExpression(text, timeZone: zone) } catch { throw reader.error("cron", error.message) }
            if reader.object["interval"] != nil { throw reader.error("interval", "use either interval or cron") }
        }
        let name = try reader.requiredString("trigger")
        let workflow = try reader.requiredString("workflow")
        guard let source = try reader.child("source") else { throw reader.error("source", "required") }
        try source.allowOnly(["directory"])
        var directory = try source.requiredString("directory")
        if !directory.hasPrefix("/") { directory = URL(fileURLWithPath: baseDirectory).appendingPathComponent(directory).standardizedFileURL.path }
        let pattern = try reader.requiredString("match")
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw reader.error("match", "not a valid regular expression: \(error.localizedDescription)")
        }
        let captureNames = Self.captureNames(in: pattern)
        let groupBy = try reader.strings("group_by") ?? captureNames
        for (index, field) in groupBy.enumerated() where !captureNames.contains(field) {
            throw reader.error("group_by/\(index)", "'\(field)' is not a named capture of /match (captures: \(captureNames.joined(separator: ", ")))")
        }
        var completeness = Completeness.any
        if let text = reader.object["complete"] as? String {
            guard text == "any" else { throw reader.error("complete", "expected 'any' or { field, all: [...] }") }
        } else if let complete = try reader.child("complete") {
            try complete.allowOnly(["field", "all"])
            let field = try complete.requiredString("field")
            guard captureNames.contains(field) else { throw complete.error("field", "'\(field)' is not a named capture of /match") }
            guard let values = try complete.strings("all"), !values.isEmpty else { throw complete.error("all", "required: the parts a group needs") }
            completeness = .all(field: field, values: values)
        }
        var window = Window.none
        if let reading = try reader.child("window") {
            try reading.allowOnly(["lookback", "every", "grace", "catch_up"])
            if let lookback = try reading.duration("lookback") {
                guard try reading.duration("every") == nil else { throw reading.error("every", "use either lookback or every") }
                window = .lookback(seconds: lookback)
            } else if let every = try reading.duration("every") {
                guard every > 0 else { throw reading.error("every", "must be positive") }
                window = .fixed(seconds: every, grace: try reading.duration("grace") ?? 0, catchUp: try reading.bool("catch_up") ?? true)
            } else {
                throw reading.error(nil, "needs lookback or every")
            }
        }
        let input = (try reader.child("input"))?.object ?? ["files": "${files}"]
        let marker = try reader.string("marker") ?? groupBy.map { "${\($0)}" }.joined(separator: "/")
        for field in TemplateText.fields(in: marker) where !captureNames.contains(field) && !["group", "window"].contains(field) {
            throw reader.error("marker", "names '${\(field)}', which is not a named capture of /match")
        }
        // A zero interval would rescan the tree without pause; a queue no pool serves would
        // leave every execution the trigger starts pending.
        let interval = try reader.duration("interval") ?? 10
        if !(interval >= minimumInterval && interval <= 31_536_000) {
            throw reader.error("interval", "expected a duration from \(Int(minimumInterval * 1000))ms to 365d")
        }
        let queue = try reader.string("queue")
        if let queue, let problem = Names.queueProblem(queue) { throw reader.error("queue", problem) }
        let redoText = try reader.string("redo") ?? "never"
        guard let redo = Redo(rawValue: redoText) else { throw reader.error("redo", "expected never or on_change") }
        return TriggerDefinition(name: name, workflow: workflow, queue: queue,
                                 interval: interval, cron: cron, directory: directory, pattern: pattern,
                                 regex: regex, captureNames: captureNames, groupBy: groupBy, completeness: completeness,
                                 window: window, input: input, marker: marker, redo: redo)
    }

    /// The shortest scan interval: a walk of the tree at most ten times a second.
    public static let minimumInterval = 0.1

    /// The `(?<name>…)` groups of a pattern, in order.
    static func captureNames(in pattern: String) -> [String] {
        guard let finder = try? NSRegularExpression(pattern: #"\(\?<([A-Za-z][A-Za-z0-9_]*)>"#) else { return [] }
        let range = NSRange(pattern.startIndex..., in: pattern)
        return finder.matches(in: pattern, range: range).compactMap { match in
            Range(match.range(at: 1), in: pattern).map { String(pattern[$0]) }
        }
    }
}


/// `${name}` substitution for trigger templates.
enum TemplateText {
    static func fields(in template: String) -> [String] {
        var fields: [String] = []
        var rest = template[...]
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            fields.append(String(rest[start.upperBound..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return fields
    }

    static func render(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        var rest = template[...]
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                out += rest[start.lowerBound...]
                return out
            }
            out += values[String(rest[start.upperBound..<end])] ?? ""
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
