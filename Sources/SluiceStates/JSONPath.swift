/// The JSONPath subset the States Language uses: `$` (input) or `$$` (context object), then
/// `.name`, `['name']`, `[n]` (negative counts from the end), `[*]` / `.*`, `[a:b]` slices
/// and `..name` descent. A path with no wildcard, slice or descent is definite: it names one
/// value or nothing; any other path yields the list of what it matched.
public struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    enum Segment: Sendable, Equatable {
        case key(String)
        case index(Int)
        case wildcard
        case slice(Int?, Int?)
        case descent(String)
        /// `[?(@.field OP literal)]`
        case filter(field: [String], op: String, literal: JSON)
    }

    public let text: String
    public let context: Bool
    let segments: [Segment]

    public var description: String { text }

    public var isDefinite: Bool {
        !segments.contains { if case .key = $0 { return false }; if case .index = $0 { return false }; return true }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "invalid JSONPath '\(path)': \(message)" }
    }

    public init(_ text: String) throws(ParseError) {
        self.text = text
        var chars = Array(text)
        guard chars.first == "$" else { throw ParseError(path: text, message: "must start with $") }
        var i = 1
        var context = false
        if i < chars.count, chars[i] == "$" { context = true; i += 1 }
        self.context = context
        var segments: [Segment] = []
        func name(from start: Int) -> (String, Int) {
            var j = start
            while j < chars.count, chars[j] != ".", chars[j] != "[" { j += 1 }
            return (String(chars[start..<j]), j)
        }
        while i < chars.count {
            if chars[i] == "." {
                if i + 1 < chars.count, chars[i + 1] == "." {
                    let (key, next) = name(from: i + 2)
                    guard !key.isEmpty else { throw ParseError(path: text, message: "empty name after ..") }
                    segments.append(.descent(key))
                    i = next
                    continue
                }
                let (key, next) = name(from: i + 1)
                guard !key.isEmpty else { throw ParseError(path: text, message: "empty name after .") }
                segments.append(key == "*" ? .wildcard : .key(key))
                i = next
            } else if chars[i] == "[" {
                guard let close = chars[(i + 1)...].firstIndex(of: "]") else { throw ParseError(path: text, message: "missing ]") }
                var inner = String(chars[(i + 1)..<close]).trimmingCharacters(in: .whitespaces)
                if inner.hasPrefix("?(") && inner.hasSuffix(")") {
                    segments.append(try Self.filter(String(inner.dropFirst(2).dropLast()), path: text))
                    i = close + 1
                    continue
                }
                if (inner.hasPrefix("'") && inner.hasSuffix("'") || inner.hasPrefix("\"") && inner.hasSuffix("\"")) && inner.count >= 2 {
                    inner = String(inner.dropFirst().dropLast())
                    segments.append(.key(inner))
                } else if inner == "*" {
                    segments.append(.wildcard)
                } else if inner.contains(":") {
                    let parts = inner.split(separator: ":", omittingEmptySubsequences: false)
                    guard parts.count <= 3 else { throw ParseError(path: text, message: "bad slice [\(inner)]") }
                    let low = parts[0].isEmpty ? nil : Int(parts[0])
                    let high = parts[1].isEmpty ? nil : Int(parts[1])
                    if (!parts[0].isEmpty && low == nil) || (!parts[1].isEmpty && high == nil) {
                        throw ParseError(path: text, message: "bad slice [\(inner)]")
                    }
                    segments.append(.slice(low, high))
                } else if let number = Int(inner) {
                    segments.append(.index(number))
                } else {
                    throw ParseError(path: text, message: "unsupported selector [\(inner)]")
                }
                i = close + 1
            } else {
                throw ParseError(path: text, message: "unexpected '\(chars[i])'")
            }
        }
        self.segments = segments
        chars.removeAll()
    }

    static func filter(_ expression: String, path: String) throws(ParseError) -> Segment {
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            guard let range = expression.range(of: op) else { continue }
            let left = expression[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let right = expression[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard left.hasPrefix("@.") else { break }
            let literal: JSON
            if right.hasPrefix("'") && right.hasSuffix("'") && right.count >= 2 { literal = .string(String(right.dropFirst().dropLast())) }
            else if let parsed = try? JSONParser.parse(right) { literal = parsed }
            else { throw ParseError(path: path, message: "unsupported filter value \(right)") }
            return .filter(field: left.dropFirst(2).split(separator: ".").map(String.init), op: op, literal: literal)
        }
        throw ParseError(path: path, message: "unsupported filter ?(\(expression))")
    }

    static func passes(_ value: JSON, field: [String], op: String, literal: JSON) -> Bool {
        var current: JSON? = value
        for key in field { current = current?[key] }
        guard let current else { return false }
        switch op {
        case "==": return current == literal
        case "!=": return current != literal
        default:
            if let a = current.number, let b = literal.number {
                switch op { case "<": return a < b; case "<=": return a <= b; case ">": return a > b; default: return a >= b }
            }
            if case let .string(a) = current, case let .string(b) = literal {
                switch op { case "<": return a < b; case "<=": return a <= b; case ">": return a > b; default: return a >= b }
            }
            return false
        }
    }

    /// What the path names in `root`: for a definite path the value or nil; otherwise an array
    /// of every match (possibly empty).
    ///
    /// A path with a wildcard, slice, filter or descent can take long or match much (`$..a..a..a`
    /// over deep data): under an `EvaluationBudget` it stops at the step's deadline or once it
    /// has matched more values than a payload can hold, records why on the budget and gives nil.
    public func evaluate(_ root: JSON) -> JSON? {
        let budget = isDefinite ? nil : EvaluationBudget.current
        let maxMatches = budget.map { $0.limits.maxPayloadBytes / 2 } ?? Int.max
        var current: [JSON] = [root]
        for segment in segments {
            var next: [JSON] = []
            for value in current {
                if let budget, budget.overrun() { return nil }
                switch segment {
                case let .key(key):
                    if let child = value[key] { next.append(child) }
                case let .index(index):
                    if case let .array(items) = value {
                        let position = index < 0 ? items.count + index : index
                        if position >= 0 && position < items.count { next.append(items[position]) }
                    }
                case .wildcard:
                    if case let .array(items) = value { next.append(contentsOf: items) }
                    if case let .object(pairs) = value { next.append(contentsOf: pairs.map(\.1)) }
                case let .slice(low, high):
                    if case let .array(items) = value {
                        func clamp(_ bound: Int?, _ fallback: Int) -> Int {
                            guard let bound else { return fallback }
                            return max(0, min(items.count, bound < 0 ? items.count + bound : bound))
                        }
                        let from = clamp(low, 0), to = clamp(high, items.count)
                        if from < to { next.append(contentsOf: items[from..<to]) }
                    }
                case let .descent(key):
                    guard Self.descend(value, key, into: &next, budget: budget, maxMatches: maxMatches) else { return nil }
                case let .filter(field, op, literal):
                    if case let .array(items) = value { next.append(contentsOf: items.filter { Self.passes($0, field: field, op: op, literal: literal) }) }
                }
                if next.count > maxMatches {
                    budget?.fail(StatesError("States.DataLimitExceeded", "the JSONPath \(text) matched more than \(maxMatches) values "
                                             + "(more than a payload of \(maxMatches * 2) bytes can hold)"))
                    return nil
                }
            }
            current = next
        }
        if isDefinite { return current.first }
        return .array(current)
    }

    /// False when the step's deadline stopped it; past `maxMatches` it stops early and the
    /// caller reports the count.
    private static func descend(_ value: JSON, _ key: String, into found: inout [JSON], budget: EvaluationBudget?, maxMatches: Int) -> Bool {
        if let budget {
            if budget.overrun() { return false }
            if found.count > maxMatches { return true }
        }
        switch value {
        case let .object(pairs):
            for (name, child) in pairs {
                if name == key { found.append(child) }
                guard descend(child, key, into: &found, budget: budget, maxMatches: maxMatches) else { return false }
            }
        case let .array(items):
            for item in items { guard descend(item, key, into: &found, budget: budget, maxMatches: maxMatches) else { return false } }
        default: break
        }
        return true
    }

    /// Writes `value` at this (definite, `$.a.b` only) path inside `root`, creating objects on
    /// the way: how ResultPath places a result.
    public func assign(_ value: JSON, into root: JSON) -> JSON? {
        guard !context else { return nil }
        func set(_ target: JSON, _ rest: ArraySlice<Segment>) -> JSON? {
            guard let first = rest.first else { return value }
            switch first {
            case let .key(key):
                var base = target
                if case .object = base {} else {
                    guard case .null = base else { return nil }
                    base = .object([])
                }
                guard let child = set(base[key] ?? .object([]), rest.dropFirst()) else { return nil }
                return base.setting(key, child)
            case let .index(index):
                guard case var .array(items) = target, index >= 0, index < items.count,
                      let child = set(items[index], rest.dropFirst()) else { return nil }
                items[index] = child
                return .array(items)
            default:
                return nil
            }
        }
        return set(root, segments[...])
    }
}
