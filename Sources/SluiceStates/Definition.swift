import Foundation

/// A definition problem, with the JSON pointer of the offending field.
public struct DefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let pointer: String
    public let message: String
    public var description: String { "\(pointer): \(message)" }
}

/// A parsed, validated state machine. The states this build runs: Pass, Choice, Wait, Succeed,
/// Fail, Parallel, Map (inline). Task is refused at validation until the engine runs it.
public struct StateMachine: Sendable {
    public let startAt: String
    let states: [String: State]
    /// The whole execution's limit (`TimeoutSeconds` at the top level).
    public let timeoutSeconds: Double?

    /// Every Task state's resource, for a caller that must check it can run them.
    public var resources: [(state: String, resource: String)] {
        var found: [(String, String)] = []
        for (name, state) in states {
            switch state.kind {
            case let .task(resource, _, _): found.append((name, resource))
            case let .parallel(branches): for branch in branches { found += branch.resources.map { ("\(name)/\($0.state)", $0.resource) } }
            case let .map(processor, _, _, _, _): found += processor.resources.map { ("\(name)/\($0.state)", $0.resource) }
            default: break
            }
        }
        return found
    }
    public let raw: JSON

    /// Every Task state with its resource and its `Parameters` as written, for a caller that
    /// checks what it can see before running (a static URL's scheme, say). Nested states are
    /// named `Outer/Inner`, as in `resources`.
    public var taskStates: [(state: String, resource: String, parameters: JSON?)] {
        var found: [(String, String, JSON?)] = []
        for (name, state) in states {
            switch state.kind {
            case let .task(resource, _, _): found.append((name, resource, raw["States"]?[name]?["Parameters"]))
            case let .parallel(branches): for branch in branches { found += branch.taskStates.map { ("\(name)/\($0.state)", $0.resource, $0.parameters) } }
            case let .map(processor, _, _, _, _): found += processor.taskStates.map { ("\(name)/\($0.state)", $0.resource, $0.parameters) }
            default: break
            }
        }
        return found
    }

    enum Kind: @unchecked Sendable {
        case pass(result: JSON?)
        case choice(rules: [(ChoiceRule, String)], defaultNext: String?)
        case wait(seconds: Double?, secondsPath: JSONPath?, timestamp: String?, timestampPath: JSONPath?)
        case succeed
        case fail(error: String?, errorPath: String?, cause: String?, causePath: String?)
        case task(resource: String, timeoutSeconds: Double?, heartbeatSeconds: Double?)
        case parallel(branches: [StateMachine])
        case map(processor: StateMachine, itemsPath: JSONPath?, itemSelector: PayloadTemplate?, maxConcurrency: Int?, maxConcurrencyPath: JSONPath?)
    }

    struct Retrier: @unchecked Sendable {
        let errors: [String]
        let maxAttempts: Int
        let intervalSeconds: Double
        let backoffRate: Double
        let maxDelaySeconds: Double?
        let fullJitter: Bool

        /// The wait before retry number `retry` (1-based).
        func delay(retry: Int) -> Double {
            // Never negative: the fields were checked when the machine was parsed.
            var delay = intervalSeconds * pow(backoffRate, Double(max(0, retry - 1)))
            if let maxDelaySeconds { delay = min(delay, maxDelaySeconds) }
            return fullJitter ? Double.random(in: 0...delay) : delay
        }
    }

    struct Catcher: @unchecked Sendable {
        let errors: [String]
        let next: String
        let resultPath: JSONPath??
    }

    struct State: @unchecked Sendable {
        let name: String
        let kind: Kind
        let next: String?
        let end: Bool
        let inputPath: JSONPath??       // nil: default "$"; .some(nil): JSON null
        let outputPath: JSONPath??
        let resultPath: JSONPath??
        let parameters: PayloadTemplate?
        let resultSelector: PayloadTemplate?
        let retry: [Retrier]
        let catchers: [Catcher]
    }

    static let common: Set<String> = ["Type", "Comment", "Next", "End", "InputPath", "OutputPath"]

    public init(parsing text: String) throws(DefinitionError) {
        let value: JSON
        do { value = try JSONParser.parse(text) } catch { throw DefinitionError(pointer: "", message: error.description) }
        try self.init(value)
    }

    public init(_ value: JSON) throws(DefinitionError) {
        raw = value
        guard case let .string(start)? = value["StartAt"] else { throw DefinitionError(pointer: "/StartAt", message: "required") }
        guard case let .object(pairs)? = value["States"], !pairs.isEmpty else { throw DefinitionError(pointer: "/States", message: "required: at least one state") }
        var states: [String: State] = [:]
        for (name, body) in pairs { states[name] = try Self.parseState(name, body) }
        guard states[start] != nil else { throw DefinitionError(pointer: "/StartAt", message: "names no state: \(start)") }
        for state in states.values {
            var targets = (state.next.map { [$0] } ?? []) + state.catchers.map(\.next)
            if case let .choice(rules, defaultNext) = state.kind { targets += rules.map(\.1) + (defaultNext.map { [$0] } ?? []) }
            for target in targets where states[target] == nil {
                throw DefinitionError(pointer: "/States/\(state.name)", message: "Next names no state: \(target)")
            }
        }
        startAt = start
        self.states = states
        timeoutSeconds = value["TimeoutSeconds"]?.number
    }

    private static func path(_ value: JSON?, _ pointer: String) throws(DefinitionError) -> JSONPath?? {
        guard let value else { return nil }
        if case .null = value { return .some(nil) }
        guard case let .string(text) = value else { throw DefinitionError(pointer: pointer, message: "expected a path or null") }
        do { return .some(try JSONPath(text)) } catch { throw DefinitionError(pointer: pointer, message: error.description) }
    }

    private static func parseState(_ name: String, _ body: JSON) throws(DefinitionError) -> State {
        let pointer = "/States/\(name)"
        guard case let .object(pairs) = body, case let .string(type)? = body["Type"] else {
            throw DefinitionError(pointer: "\(pointer)/Type", message: "required")
        }
        var allowed = common
        let kind: Kind
        switch type {
        case "Pass":
            allowed.formUnion(["Result", "ResultPath", "Parameters"])
            kind = .pass(result: body["Result"])
        case "Choice":
            allowed.formUnion(["Choices", "Default"])
            guard case let .array(items)? = body["Choices"], !items.isEmpty else { throw DefinitionError(pointer: "\(pointer)/Choices", message: "required") }
            var rules: [(ChoiceRule, String)] = []
            for (i, item) in items.enumerated() {
                guard case let .string(next)? = item["Next"] else { throw DefinitionError(pointer: "\(pointer)/Choices/\(i)/Next", message: "required") }
                rules.append((try ChoiceRule.parse(item, at: "\(pointer)/Choices/\(i)"), next))
            }
            var defaultNext: String?
            if case let .string(target)? = body["Default"] { defaultNext = target }
            kind = .choice(rules: rules, defaultNext: defaultNext)
        case "Wait":
            allowed.formUnion(["Seconds", "SecondsPath", "Timestamp", "TimestampPath"])
            var secondsPath: JSONPath?, timestampPath: JSONPath?, timestamp: String?
            if case let .string(text)? = body["SecondsPath"] { secondsPath = try path(.string(text), "\(pointer)/SecondsPath") ?? nil }
            if case let .string(text)? = body["TimestampPath"] { timestampPath = try path(.string(text), "\(pointer)/TimestampPath") ?? nil }
            if case let .string(text)? = body["Timestamp"] { timestamp = text }
            kind = .wait(seconds: body["Seconds"]?.number, secondsPath: secondsPath, timestamp: timestamp, timestampPath: timestampPath)
        case "Task":
            allowed.formUnion(["Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "TimeoutSeconds", "HeartbeatSeconds"])
            guard case let .string(resource)? = body["Resource"], !resource.isEmpty else {
                throw DefinitionError(pointer: "\(pointer)/Resource", message: "required")
            }
            kind = .task(resource: resource, timeoutSeconds: body["TimeoutSeconds"]?.number, heartbeatSeconds: body["HeartbeatSeconds"]?.number)
        case "Succeed":
            kind = .succeed
        case "Fail":
            allowed = ["Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath"]
            func text(_ key: String) -> String? { if case let .string(s)? = body[key] { return s } else { return nil } }
            kind = .fail(error: text("Error"), errorPath: text("ErrorPath"), cause: text("Cause"), causePath: text("CausePath"))
        case "Parallel":
            allowed.formUnion(["Branches", "ResultPath", "ResultSelector", "Parameters", "Retry", "Catch"])
            guard case let .array(items)? = body["Branches"], !items.isEmpty else { throw DefinitionError(pointer: "\(pointer)/Branches", message: "required") }
            var branches: [StateMachine] = []
            for (i, item) in items.enumerated() {
                do { branches.append(try StateMachine(item)) } catch {
                    throw DefinitionError(pointer: "\(pointer)/Branches/\(i)\(error.pointer)", message: error.message)
                }
            }
            kind = .parallel(branches: branches)
        case "Map":
            allowed.formUnion(["ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "Parameters", "MaxConcurrency", "MaxConcurrencyPath",
                               "ResultPath", "ResultSelector", "Retry", "Catch", "Label", "ToleratedFailurePercentage", "ToleratedFailureCount"])
            let key = body["ItemProcessor"] != nil ? "ItemProcessor" : "Iterator"
            guard var processorJSON = body[key] else { throw DefinitionError(pointer: "\(pointer)/ItemProcessor", message: "required") }
            // DISTRIBUTED runs the same way here when the items come from the input (no ItemReader).
            if case let .object(pairs) = processorJSON { processorJSON = .object(pairs.filter { $0.0 != "ProcessorConfig" }) }
            let processor: StateMachine
            do { processor = try StateMachine(processorJSON) } catch {
                throw DefinitionError(pointer: "\(pointer)/\(key)\(error.pointer)", message: error.message)
            }
            var itemsPath: JSONPath?
            if case let .string(text)? = body["ItemsPath"] { itemsPath = try path(.string(text), "\(pointer)/ItemsPath") ?? nil }
            var concurrencyPath: JSONPath?
            if case let .string(text)? = body["MaxConcurrencyPath"] { concurrencyPath = try path(.string(text), "\(pointer)/MaxConcurrencyPath") ?? nil }
            // Clamped, not converted as given: `Int(1e300)` trapped here, before `check()` could
            // refuse it. A new definition out of 0...1e9 is refused there; a stored one keeps running.
            let concurrency = body["MaxConcurrency"]?.number.map { $0.isFinite ? Int(min(max($0, -1e9), 1e9)) : 0 }
            kind = .map(processor: processor, itemsPath: itemsPath, itemSelector: (body["ItemSelector"] ?? body["Parameters"]).map(PayloadTemplate.init),
                        maxConcurrency: concurrency, maxConcurrencyPath: concurrencyPath)
        default:
            throw DefinitionError(pointer: "\(pointer)/Type", message: "state type '\(type)' is not supported by this build (Pass, Choice, Wait, Succeed, Fail, Parallel, Map)")
        }
        for (key, _) in pairs where !allowed.contains(key) {
            throw DefinitionError(pointer: "\(pointer)/\(key)", message: "unknown field for a \(type) state")
        }
        var next: String?
        if case let .string(target)? = body["Next"] { next = target }
        let end = body["End"] == .bool(true)
        if case .choice = kind {} else if case .succeed = kind {} else if case .fail = kind {} else if next == nil && !end {
            throw DefinitionError(pointer: pointer, message: "needs Next or End")
        }
        var retry: [Retrier] = []
        if case let .array(items)? = body["Retry"] {
            for (i, item) in items.enumerated() {
                guard case let .array(names)? = item["ErrorEquals"], !names.isEmpty else {
                    throw DefinitionError(pointer: "\(pointer)/Retry/\(i)/ErrorEquals", message: "required")
                }
                // Out of range, a delay would go negative (and a jittered one trap) at the first retry.
                let limits: [(String, Double)] = [("MaxAttempts", 0), ("IntervalSeconds", 0), ("BackoffRate", 1), ("MaxDelaySeconds", 0)]
                for (field, least) in limits {
                    guard let given = item[field] else { continue }
                    guard let number = given.number, number.isFinite, number >= least, number <= 1e9 else {
                        throw DefinitionError(pointer: "\(pointer)/Retry/\(i)/\(field)", message: "expected a number from \(Int(least)) to 1000000000")
                    }
                }
                retry.append(Retrier(errors: names.compactMap { if case let .string(s) = $0 { return s } else { return nil } },
                                     maxAttempts: Int(item["MaxAttempts"]?.number ?? 3), intervalSeconds: item["IntervalSeconds"]?.number ?? 1,
                                     backoffRate: item["BackoffRate"]?.number ?? 2, maxDelaySeconds: item["MaxDelaySeconds"]?.number,
                                     fullJitter: item["JitterStrategy"] == .string("FULL")))
            }
        }
        var catchers: [Catcher] = []
        if case let .array(items)? = body["Catch"] {
            for (i, item) in items.enumerated() {
                guard case let .array(names)? = item["ErrorEquals"], !names.isEmpty, case let .string(target)? = item["Next"] else {
                    throw DefinitionError(pointer: "\(pointer)/Catch/\(i)", message: "needs ErrorEquals and Next")
                }
                catchers.append(Catcher(errors: names.compactMap { if case let .string(s) = $0 { return s } else { return nil } }, next: target,
                                        resultPath: try path(item["ResultPath"], "\(pointer)/Catch/\(i)/ResultPath")))
            }
        }
        let isMapOrPass: Bool = {
            switch kind {
            case .map, .pass, .parallel, .task: return true
            default: return false
            }
        }()
        return State(name: name, kind: kind, next: next, end: end,
                     inputPath: try path(body["InputPath"], "\(pointer)/InputPath"),
                     outputPath: try path(body["OutputPath"], "\(pointer)/OutputPath"),
                     resultPath: try path(body["ResultPath"], "\(pointer)/ResultPath"),
                     parameters: { if case .map = kind { return nil }; return isMapOrPass ? body["Parameters"].map(PayloadTemplate.init) : nil }(),
                     resultSelector: body["ResultSelector"].map(PayloadTemplate.init), retry: retry, catchers: catchers)
    }
}

extension StateMachine {
    /// The longest Wait, timeout or heartbeat a definition may give: AWS's 99,999,999 seconds.
    public static let maxSeconds = 99_999_999.0

    /// What a new definition must pass besides what running one needs (parsing a stored
    /// definition does not repeat these, so a machine stored before a rule existed still runs):
    /// every state reachable from StartAt and a Succeed, Fail or `End: true` among them (AWS
    /// refuses unreachable states, and a machine with no end would never finish), exactly one
    /// of a Wait's four fields, Wait seconds from 0 and timeouts above 0 up to `maxSeconds`,
    /// MaxConcurrency a whole number from 0 (no limit).
    /// Branches and item processors are checked the same way; errors name the pointer.
    public func check() throws(DefinitionError) {
        var reached: Set<String> = [startAt]
        var pending = [startAt]
        var ends = false
        while let name = pending.popLast(), let state = states[name] {
            switch state.kind {
            case .succeed, .fail: ends = true
            default: if state.end { ends = true }
            }
            var targets = (state.next.map { [$0] } ?? []) + state.catchers.map(\.next)
            if case let .choice(rules, defaultNext) = state.kind { targets += rules.map(\.1) + (defaultNext.map { [$0] } ?? []) }
            for target in targets where reached.insert(target).inserted { pending.append(target) }
        }
        if let unreached = states.keys.sorted().first(where: { !reached.contains($0) }) {
            throw DefinitionError(pointer: "/States/\(unreached)", message: "state is not reachable from StartAt (\(startAt))")
        }
        if !ends {
            throw DefinitionError(pointer: "/States", message: "no end is reachable from StartAt: the machine needs a Succeed or Fail state or End: true")
        }
        try Self.checkSeconds(raw["TimeoutSeconds"], "/TimeoutSeconds", zeroAllowed: false)
        if case let .object(pairs) = raw, let unknown = pairs.map(\.0).first(where: { !Self.machineFields.contains($0) }) {
            throw DefinitionError(pointer: "/\(unknown)", message: "unknown field for a state machine (known: \(Self.machineFields.sorted().joined(separator: ", ")))")
        }
        if let language = raw["QueryLanguage"], language != .string("JSONPath") {
            throw DefinitionError(pointer: "/QueryLanguage", message: "only JSONPath is supported")
        }
        for name in states.keys.sorted() {
            guard let state = states[name] else { continue }
            let pointer = "/States/\(name)"
            let body = raw["States"]?[name]
            if name.isEmpty || name.count > Self.maxStateName {
                throw DefinitionError(pointer: pointer, message: "a state name has 1 to \(Self.maxStateName) characters")
            }
            if state.next != nil && body?["End"] == .bool(true) {
                throw DefinitionError(pointer: pointer, message: "a state has Next or End, not both")
            }
            for field in ["Parameters", "ResultSelector", "ItemSelector"] {
                if let template = body?[field] { try Self.checkExpressions(template, "\(pointer)/\(field)") }
            }
            switch state.kind {
            case .wait:
                let given = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"].filter { body?[$0] != nil }
                if given.count != 1 {
                    throw DefinitionError(pointer: pointer, message: "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
                }
                try Self.checkSeconds(body?["Seconds"], "\(pointer)/Seconds", zeroAllowed: true)
                if let given = body?["Timestamp"] {
                    guard case let .string(text) = given, ChoiceRule.timestamp(text) != nil else {
                        throw DefinitionError(pointer: "\(pointer)/Timestamp", message: "expected an RFC 3339 timestamp such as 2026-01-31T12:00:00Z")
                    }
                }
            case .fail:
                for field in ["ErrorPath", "CausePath"] {
                    guard let given = body?[field] else { continue }
                    guard case let .string(text) = given, Self.isExpression(text) else {
                        throw DefinitionError(pointer: "\(pointer)/\(field)", message: "expected a path ($.x) or an intrinsic call")
                    }
                }
            case .task:
                try Self.checkSeconds(body?["TimeoutSeconds"], "\(pointer)/TimeoutSeconds", zeroAllowed: false)
                try Self.checkSeconds(body?["HeartbeatSeconds"], "\(pointer)/HeartbeatSeconds", zeroAllowed: false)
            case let .parallel(branches):
                for (i, branch) in branches.enumerated() {
                    do { try branch.check() } catch { throw DefinitionError(pointer: "\(pointer)/Branches/\(i)\(error.pointer)", message: error.message) }
                }
            case let .map(processor, _, _, _, _):
                if let given = body?["MaxConcurrency"] {
                    guard let number = given.number, number.isFinite, number == number.rounded(), number >= 0, number <= 1e9 else {
                        throw DefinitionError(pointer: "\(pointer)/MaxConcurrency", message: "expected a whole number from 0 (no limit) to 1000000000")
                    }
                }
                let key = body?["ItemProcessor"] != nil ? "ItemProcessor" : "Iterator"
                do { try processor.check() } catch { throw DefinitionError(pointer: "\(pointer)/\(key)\(error.pointer)", message: error.message) }
            default:
                break
            }
        }
    }

    /// The fields a machine (or a Parallel branch, or a Map's processor) may have.
    static let machineFields: Set<String> = ["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage", "ProcessorConfig"]

    /// AWS's longest state name.
    public static let maxStateName = 80

    /// Whether a `.$` value (or an ErrorPath) is one the interpreter can read: a path, or an
    /// intrinsic call that parses (its nesting bounded by the parser).
    static func isExpression(_ text: String) -> Bool {
        if Intrinsics.isCall(text) { return (try? Intrinsics.parse(text)).map(namesKnownFunctions) ?? false }
        return (try? JSONPath(text)) != nil
    }

    /// The intrinsic functions `Intrinsics.call` runs (AWS's, JSONPath dialect).
    static let intrinsicNames: Set<String> = [
        "States.Array", "States.ArrayLength", "States.ArrayGetItem", "States.ArrayContains", "States.ArrayUnique",
        "States.ArrayPartition", "States.ArrayRange", "States.StringToJson", "States.JsonToString", "States.JsonMerge",
        "States.StringSplit", "States.MathAdd", "States.MathRandom", "States.Base64Encode", "States.Base64Decode",
        "States.Hash", "States.UUID", "States.Format",
    ]

    private static func namesKnownFunctions(_ argument: Intrinsics.Argument) -> Bool {
        guard case let .call(name, arguments) = argument else { return true }
        return intrinsicNames.contains(name) && arguments.allSatisfy(namesKnownFunctions)
    }

    /// Every `KEY.$` in a payload template holds a path or an intrinsic call, as AWS requires
    /// when a machine is created (the interpreter would otherwise fail on it at run time).
    static func checkExpressions(_ template: JSON, _ pointer: String) throws(DefinitionError) {
        switch template {
        case let .object(pairs):
            for (key, value) in pairs {
                let at = "\(pointer)/\(key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1"))"
                if key.hasSuffix(".$") {
                    guard case let .string(text) = value, isExpression(text) else {
                        throw DefinitionError(pointer: at, message: "expected a path ($.x, $$.x) or an intrinsic call such as States.Format(...)")
                    }
                } else {
                    try checkExpressions(value, at)
                }
            }
        case let .array(items):
            for (i, item) in items.enumerated() { try checkExpressions(item, "\(pointer)/\(i)") }
        default:
            break
        }
    }

    /// A number of seconds up to `maxSeconds`: from 0 for a Wait, above 0 for a timeout (AWS
    /// asks for whole seconds; fractions are kept, as the engine runs them).
    private static func checkSeconds(_ value: JSON?, _ pointer: String, zeroAllowed: Bool) throws(DefinitionError) {
        guard let value else { return }
        guard let number = value.number, number.isFinite, zeroAllowed ? number >= 0 : number > 0, number <= maxSeconds else {
            throw DefinitionError(pointer: pointer, message: "expected seconds \(zeroAllowed ? "from 0" : "above 0") up to \(Int(maxSeconds))")
        }
    }
}
