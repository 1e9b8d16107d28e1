import Foundation

/// A Choice rule: a comparison of `Variable` with a literal or another path, or `And`/`Or`/
/// `Not` of rules. Comparing values of the wrong type is false, not an error, as on AWS.
indirect enum ChoiceRule {
    case and([ChoiceRule])
    case or([ChoiceRule])
    case not(ChoiceRule)
    case compare(variable: JSONPath, operator: String, operand: Operand)

    enum Operand {
        case literal(JSON)
        case path(JSONPath)
    }

    static let operators: Set<String> = [
        "StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals", "StringGreaterThanEquals", "StringMatches",
        "NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals", "NumericGreaterThanEquals",
        "BooleanEquals", "TimestampEquals", "TimestampLessThan", "TimestampGreaterThan", "TimestampLessThanEquals",
        "TimestampGreaterThanEquals", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp",
    ]

    static func parse(_ value: JSON, at pointer: String) throws(DefinitionError) -> ChoiceRule {
        guard case let .object(pairs) = value else { throw DefinitionError(pointer: pointer, message: "a choice rule must be an object") }
        if let list = value["And"] ?? value["Or"] {
            guard case let .array(items) = list, !items.isEmpty else { throw DefinitionError(pointer: pointer, message: "And/Or needs a non-empty list") }
            var rules: [ChoiceRule] = []
            let key = value["And"] != nil ? "And" : "Or"
            for (i, item) in items.enumerated() { rules.append(try parse(item, at: "\(pointer)/\(key)/\(i)")) }
            return key == "And" ? .and(rules) : .or(rules)
        }
        if let inner = value["Not"] { return .not(try parse(inner, at: "\(pointer)/Not")) }
        guard case let .string(variable)? = value["Variable"] else { throw DefinitionError(pointer: "\(pointer)/Variable", message: "required") }
        let path: JSONPath
        do { path = try JSONPath(variable) } catch { throw DefinitionError(pointer: "\(pointer)/Variable", message: error.description) }
        for (key, operand) in pairs where key != "Variable" && key != "Next" && key != "Comment" {
            if key.hasSuffix("Path"), operators.contains(String(key.dropLast(4))) {
                guard case let .string(text) = operand else { throw DefinitionError(pointer: "\(pointer)/\(key)", message: "expected a path") }
                do { return .compare(variable: path, operator: String(key.dropLast(4)), operand: .path(try JSONPath(text))) } catch {
                    throw DefinitionError(pointer: "\(pointer)/\(key)", message: error.description)
                }
            }
            if operators.contains(key) { return .compare(variable: path, operator: key, operand: .literal(operand)) }
            throw DefinitionError(pointer: "\(pointer)/\(key)", message: "unknown comparison operator")
        }
        throw DefinitionError(pointer: pointer, message: "no comparison operator")
    }

    func matches(_ input: JSON, context: JSON) -> Bool {
        switch self {
        case let .and(rules): return rules.allSatisfy { $0.matches(input, context: context) }
        case let .or(rules): return rules.contains { $0.matches(input, context: context) }
        case let .not(rule): return !rule.matches(input, context: context)
        case let .compare(variable, op, operand):
            let value = variable.evaluate(variable.context ? context : input)
            if op == "IsPresent" { return (value != nil) == (operand.literal == .bool(true)) }
            guard let value else { return false }
            let other: JSON
            switch operand {
            case let .literal(literal): other = literal
            case let .path(path):
                guard let resolved = path.evaluate(path.context ? context : input) else { return false }
                other = resolved
            }
            return Self.compare(value, op, other)
        }
    }

    static func compare(_ value: JSON, _ op: String, _ other: JSON) -> Bool {
        switch op {
        case "IsNull": return (value == .null) == (other == .bool(true))
        case "IsNumeric": return value.isNumber == (other == .bool(true))
        case "IsString": return { if case .string = value { return true } else { return false } }() == (other == .bool(true))
        case "IsBoolean": return { if case .bool = value { return true } else { return false } }() == (other == .bool(true))
        case "IsTimestamp": return { if case let .string(s) = value { return timestamp(s) != nil } else { return false } }() == (other == .bool(true))
        case "BooleanEquals":
            if case let .bool(a) = value, case let .bool(b) = other { return a == b }
            return false
        case "StringMatches":
            guard case let .string(text) = value, case let .string(pattern) = other else { return false }
            return wildcard(text, pattern)
        default: break
        }
        if op.hasPrefix("Numeric") {
            guard let a = value.number, let b = other.number else { return false }
            return order(a, b, String(op.dropFirst(7)))
        }
        if op.hasPrefix("String") {
            guard case let .string(a) = value, case let .string(b) = other else { return false }
            return order(Array(a.unicodeScalars.map(\.value)), Array(b.unicodeScalars.map(\.value)), String(op.dropFirst(6)))
        }
        if op.hasPrefix("Timestamp") {
            guard case let .string(a) = value, case let .string(b) = other, let x = timestamp(a), let y = timestamp(b) else { return false }
            return order(x, y, String(op.dropFirst(9)))
        }
        return false
    }

    static func order<T: Comparable>(_ a: T, _ b: T, _ relation: String) -> Bool {
        switch relation {
        case "Equals": return a == b
        case "LessThan": return a < b
        case "GreaterThan": return a > b
        case "LessThanEquals": return a <= b
        case "GreaterThanEquals": return a >= b
        default: return false
        }
    }

    static func order(_ a: [UInt32], _ b: [UInt32], _ relation: String) -> Bool {
        let less = a.lexicographicallyPrecedes(b)
        let equal = a == b
        switch relation {
        case "Equals": return equal
        case "LessThan": return less
        case "GreaterThan": return !less && !equal
        case "LessThanEquals": return less || equal
        case "GreaterThanEquals": return !less
        default: return false
        }
    }

    /// RFC 3339 with an explicit offset and an uppercase T, as AWS requires.
    static func timestamp(_ text: String) -> Double? {
        guard text.contains("T"), !text.contains("t"), text.hasSuffix("Z") || text.range(of: #"[+-]\d\d:\d\d$"#, options: .regularExpression) != nil else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date.timeIntervalSince1970 }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)?.timeIntervalSince1970
    }

    /// `*` matches any run of characters; `\*` and `\\` are literal.
    static func wildcard(_ text: String, _ pattern: String) -> Bool {
        var tokens: [Character?] = []  // nil = wildcard
        var chars = Array(pattern)[...]
        while let c = chars.first {
            if c == "\\", chars.count > 1 { tokens.append(chars[chars.startIndex + 1]); chars = chars.dropFirst(2); continue }
            tokens.append(c == "*" ? nil : c)
            chars = chars.dropFirst()
        }
        // Greedy, backing up to the last `*` on a mismatch: no recursion and no memo. The
        // recursive matcher went one frame per character (100,000 characters ended the process
        // with SIGSEGV) and kept a memo of text x pattern entries. The backing up is what can
        // take long (text x pattern steps), so it spends the step's time budget.
        let text = Array(text)
        let budget = EvaluationBudget.current
        var i = 0, j = 0
        var star: Int?, resume = 0
        while i < text.count {
            if let budget, budget.overrun() { return false }
            if j < tokens.count, let token = tokens[j], token == text[i] {
                i += 1
                j += 1
            } else if j < tokens.count, tokens[j] == nil {
                star = j
                resume = i
                j += 1
            } else if let star {
                resume += 1
                i = resume
                j = star + 1
            } else {
                return false
            }
        }
        while j < tokens.count, tokens[j] == nil { j += 1 }
        return j == tokens.count
    }
}

extension ChoiceRule.Operand {
    var literal: JSON? { if case let .literal(value) = self { return value } else { return nil } }
}
