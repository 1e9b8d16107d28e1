import Foundation

/// The rules for the names and numbers a client gives the engine: definition names, queue
/// names, priorities. Each check returns the problem in words (nil when the value is fine), so
/// the API, the store and the definition loaders refuse the same values with the same message.
public enum Names {
    /// Definition names are path segments of the API (`/v1/definitions/NAME`) and appear in
    /// logs, so no separator, no control character (CR/LF would forge a log line, NUL would
    /// cut the name in C strings) and no `.`/`..`. Spaces are allowed (a name arrives
    /// percent-encoded in a URL).
    public static let maxDefinitionName = 128

    public static func definitionProblem(_ name: String) -> String? {
        if name.isEmpty { return "a definition name may not be empty" }
        if name.unicodeScalars.count > maxDefinitionName { return "a definition name has at most \(maxDefinitionName) characters" }
        if name.unicodeScalars.contains(where: isControl) { return "a definition name may not contain control characters (line breaks, tabs, NUL)" }
        if name.contains("/") || name.contains("\\") { return "a definition name may not contain / or \\" }
        if name == "." || name == ".." { return "a definition name may not be . or .." }
        if name.first?.isWhitespace == true || name.last?.isWhitespace == true { return "a definition name may not begin or end with a space" }
        if BuiltinDefinitions.names.contains(name) { return "'\(name)' is a built-in definition's name" }
        return nil
    }

    /// A queue is claimed by the pools configured for its exact name (`--queues default:8`),
    /// so a name no pool can be given (empty, a line break) would leave its executions pending
    /// forever. Activity queues (`activity:NAME`) are made by the engine from a Task's
    /// Resource and never pass through here.
    public static let maxQueueName = 128

    public static func queueProblem(_ name: String) -> String? {
        if name.isEmpty || name.utf8.count > maxQueueName { return "a queue name has 1 to \(maxQueueName) characters" }
        if !name.utf8.allSatisfy(isQueueByte) { return "a queue name may hold only letters, digits and . _ : -" }
        return nil
    }

    /// Priorities are stored as SQLite integers and compared; a client's number is taken only
    /// if it is a whole number in this range (`1e300` would otherwise become Int.min).
    public static let priorities = -1_000_000_000...1_000_000_000

    public static let priorityRule = "a priority is a whole number from \(priorities.lowerBound) to \(priorities.upperBound)"

    public static func priorityProblem(_ value: Int) -> String? {
        priorities.contains(value) ? nil : priorityRule
    }

    /// A JSON number as a priority: nil unless it is whole and in range.
    public static func priority(fromJSON number: Double) -> Int? {
        guard number.isFinite, number == number.rounded(), Double(priorities.lowerBound) <= number, number <= Double(priorities.upperBound) else {
            return nil
        }
        return Int(number)
    }

    /// The problem with a submission's queue or priority, naming the field; nil if both are fine.
    public static func submissionProblem(_ submission: Submission) -> String? {
        if let problem = queueProblem(submission.queue) { return "/queue: \(problem)" }
        if let problem = priorityProblem(submission.priority) { return "/priority: \(problem)" }
        return nil
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    private static func isQueueByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"): return true
        default: return false
        }
    }
}
