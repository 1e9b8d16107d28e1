import Foundation

/// What one scan of one trigger found: the groups ready to start, the ones still waiting and
/// why, and the files that matched nothing. Pure: the same files and clock give the same plan.
public struct TriggerPlan: Sendable {
    public struct Group: Sendable {
        public let groupKey: String
        public let captures: [String: String]
        public let files: [ScannedFile]
        public let markerKey: String
        public let fingerprint: String
        public let window: String?
        /// Template values: the captures plus `group` and `window`.
        let values: [String: String]

        /// The execution's input (JSON text), rendered only for groups that will start: a
        /// re-scan of a large tree skips it for every group already marked.
        public func input(for trigger: TriggerDefinition) -> String {
            TriggerPlanner.renderInput(trigger.input, values: values, files: files.map(\.path))
        }
    }

    public struct Waiting: Sendable {
        public let groupKey: String
        public let reason: String
    }

    public let trigger: String
    public var ready: [Group] = []
    public var waiting: [Waiting] = []
    public var scanned = 0
    public var unmatched = 0
    public var errors: [String] = []
}

public enum TriggerPlanner {
    /// Scans the trigger's directory now.
    public static func scan(_ trigger: TriggerDefinition, now: Double = Date().timeIntervalSince1970) -> TriggerPlan {
        scan(trigger, now: now, limits: .standard, isCancelled: { false })
    }

    /// A walk that stopped early (a bound, a shutdown) plans nothing: a partial listing could
    /// start a group without all its files. The plan carries the reason as an error.
    static func scan(_ trigger: TriggerDefinition, now: Double, limits: FileWalker.Limits, isCancelled: @escaping () -> Bool) -> TriggerPlan {
        let listing = FileWalker.list(trigger.directory, limits: limits, isCancelled: isCancelled)
        if let stop = listing.stop {
            var plan = TriggerPlan(trigger: trigger.name)
            plan.scanned = listing.files.count
            plan.errors = listing.errors + ["\(trigger.directory): \(stop)"]
            return plan
        }
        var plan = plan(trigger, files: listing.files, now: now)
        plan.errors += listing.errors
        return plan
    }

    public static func plan(_ trigger: TriggerDefinition, files: [ScannedFile], now: Double) -> TriggerPlan {
        var plan = TriggerPlan(trigger: trigger.name)
        plan.scanned = files.count
        struct Bucket {
            var captures: [String: String]
            var files: [ScannedFile] = []
            var parts: Set<String> = []
            var window: Double?
        }
        var buckets: [String: Bucket] = [:]
        var newestClosedWindow: Double?
        for file in files {
            let range = NSRange(file.path.startIndex..., in: file.path)
            guard let match = trigger.regex.firstMatch(in: file.path, range: range) else {
                plan.unmatched += 1
                continue
            }
            var captures: [String: String] = [:]
            for name in trigger.captureNames {
                let captured = match.range(withName: name)
                if captured.location != NSNotFound, let swiftRange = Range(captured, in: file.path) {
                    captures[name] = String(file.path[swiftRange])
                }
            }
            var windowStart: Double?
            switch trigger.window {
            case .none:
                break
            case let .lookback(seconds):
                if file.modified < now - seconds { continue }
            case let .fixed(seconds, grace, _):
                let start = (file.modified / seconds).rounded(.down) * seconds
                windowStart = start
                if now >= start + seconds + grace { newestClosedWindow = max(newestClosedWindow ?? start, start) }
            }
            var key = trigger.groupBy.map { captures[$0] ?? "" }.joined(separator: "/")
            if let windowStart { key += "@" + Self.iso(windowStart) }
            var bucket = buckets[key] ?? Bucket(captures: captures.filter { trigger.groupBy.contains($0.key) }, window: windowStart)
            bucket.files.append(file)
            if case let .all(field, _) = trigger.completeness, let part = captures[field] { bucket.parts.insert(part) }
            buckets[key] = bucket
        }
        for key in buckets.keys.sorted() {
            let bucket = buckets[key]!
            if case let .fixed(seconds, grace, catchUp) = trigger.window, let start = bucket.window {
                if now < start + seconds + grace {
                    plan.waiting.append(.init(groupKey: key, reason: "window \(iso(start)) closes at \(iso(start + seconds + grace))"))
                    continue
                }
                if !catchUp, let newest = newestClosedWindow, start < newest {
                    plan.waiting.append(.init(groupKey: key, reason: "older window skipped (catch_up: false)"))
                    continue
                }
            }
            if case let .all(_, values) = trigger.completeness {
                let missing = values.filter { !bucket.parts.contains($0) }
                if !missing.isEmpty {
                    plan.waiting.append(.init(groupKey: key, reason: "incomplete: missing \(missing.joined(separator: ", "))"))
                    continue
                }
            }
            let files = bucket.files.sorted { $0.path < $1.path }
            let fingerprint = Checksum.fnv1a64Hex(files.map { "\($0.path)|\($0.size)|\($0.modified)" }.joined(separator: "\n"))
            var values = bucket.captures
            values["group"] = key
            values["window"] = bucket.window.map(Self.iso) ?? ""
            var markerKey = TemplateText.render(trigger.marker, values)
            if trigger.redo == .onChange { markerKey += "#" + fingerprint }
            plan.ready.append(.init(groupKey: key, captures: bucket.captures, files: files, markerKey: markerKey,
                                    fingerprint: fingerprint, window: bucket.window.map(Self.iso), values: values))
        }
        return plan
    }

    /// Fills the input template: a string that is exactly `${files}` becomes the list of files;
    /// other strings have their `${…}` replaced; objects and arrays are filled recursively.
    static func renderInput(_ template: [String: Any], values: [String: String], files: [String]) -> String {
        func fill(_ value: Any) -> Any {
            if let text = value as? String {
                return text == "${files}" ? files : TemplateText.render(text, values)
            }
            if let object = value as? [String: Any] { return object.mapValues(fill) }
            if let array = value as? [Any] { return array.map(fill) }
            return value
        }
        let filled = template.mapValues(fill)
        let data = (try? JSONSerialization.data(withJSONObject: filled, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func iso(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }
}
