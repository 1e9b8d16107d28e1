import Foundation

/// A definition problem, with the JSON pointer of the offending field.
public struct DefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let pointer: String
    public let message: String
    public var description: String { "\(pointer): \(message)" }
}

/// A parsed, validated state machine. The states this build runs: Pass, Choice, Wait, Succeed,
/// Fail. Task, Parallel and Map are refused at validation until they are implemented.
public struct StateMachine: Sendable {
    public let startAt: String
    let states: [String: State]
    public let raw: JSON

    enum Kind: @unchecked Sendable {
        case pass(result: JSON?)
        case choice(rules: [(ChoiceRule, String)], defaultNext: String?)
        case wait(seconds: Double?, secondsPath: JSONPath?, timestamp: String?, timestampPath: JSONPath?)
        case succeed
        case fail(error: String?, errorPath: String?, cause: String?, causePath: String?)
    }

    struct State: @unchecked Sendable {
        let name: String
        let kind: Kind
        let next: String?
        let end: Bool
        let inputPath: JSONPath??       // nil: default "$"; .some(nil): JSON null
        let outputPath: JSONPath??
        let resultPath: JSONPath??
        let parameters: JSON?
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
            var targets = state.next.map { [$0] } ?? []
            if case let .choice(rules, defaultNext) = state.kind { targets += rules.map(\.1) + (defaultNext.map { [$0] } ?? []) }
            for target in targets where states[target] == nil {
                throw DefinitionError(pointer: "/States/\(state.name)", message: "Next names no state: \(target)")
            }
        }
        startAt = start
        self.states = states
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
        case "Succeed":
            kind = .succeed
        case "Fail":
            allowed = ["Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath"]
            func text(_ key: String) -> String? { if case let .string(s)? = body[key] { return s } else { return nil } }
            kind = .fail(error: text("Error"), errorPath: text("ErrorPath"), cause: text("Cause"), causePath: text("CausePath"))
        default:
            throw DefinitionError(pointer: "\(pointer)/Type", message: "state type '\(type)' is not supported by this build (Pass, Choice, Wait, Succeed, Fail)")
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
        return State(name: name, kind: kind, next: next, end: end,
                     inputPath: try path(body["InputPath"], "\(pointer)/InputPath"),
                     outputPath: try path(body["OutputPath"], "\(pointer)/OutputPath"),
                     resultPath: try path(body["ResultPath"], "\(pointer)/ResultPath"),
                     parameters: body["Parameters"])
    }
}
