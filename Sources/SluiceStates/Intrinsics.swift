import Foundation

/// `States.*` intrinsic functions in `.$` values: parsing of the call syntax (string literals
/// with `\'` `\{` `\}` `\\` escapes, numbers, booleans, null, paths, nested calls) and the
/// functions themselves.
enum Intrinsics {
    indirect enum Argument {
        case literal(JSON)
        case path(JSONPath)
        case call(String, [Argument])
    }

    static func isCall(_ text: String) -> Bool { text.hasPrefix("States.") }

    /// How deeply calls may nest inside one another: the parser recurses once per level, and a
    /// definition of 100,000 nested `States.Array(` would otherwise exhaust the stack when loaded.
    static let maxNesting = 32

    static func parse(_ text: String, nesting: Int = 0) throws(StatesError) -> Argument {
        // The parser rescans each level's text, so a call 70,000 deep is refused by one byte scan first.
        guard nesting < maxNesting, nesting > 0 || nestingExceeds(maxNesting, text) == false else {
            throw StatesError("States.IntrinsicFailure", "intrinsic calls nested more than \(maxNesting) deep in \(text.prefix(80))")
        }
        var scanner = Scanner(chars: Array(text), nesting: nesting)
        let call = try scanner.call()
        scanner.skipSpace()
        guard scanner.atEnd else { throw StatesError("States.IntrinsicFailure", "unexpected text after the call in \(text)") }
        return call
    }

    /// Whether parentheses outside 'strings' nest deeper than `limit` in `text`.
    static func nestingExceeds(_ limit: Int, _ text: String) -> Bool {
        var depth = 0, quoted = false, escaped = false
        for byte in text.utf8 {
            if escaped { escaped = false; continue }
            switch byte {
            case UInt8(ascii: "\\"): escaped = quoted
            case UInt8(ascii: "'"): quoted.toggle()
            case UInt8(ascii: "(") where !quoted: depth += 1; if depth > limit { return true }
            case UInt8(ascii: ")") where !quoted: depth -= 1
            default: break
            }
        }
        return false
    }

    struct Scanner {
        let chars: [Character]
        let nesting: Int
        var index = 0
        var atEnd: Bool { index >= chars.count }

        mutating func skipSpace() { while !atEnd, chars[index] == " " { index += 1 } }

        mutating func call() throws(StatesError) -> Argument {
            var name = ""
            while !atEnd, chars[index] != "(" { name.append(chars[index]); index += 1 }
            guard !atEnd else { throw StatesError("States.IntrinsicFailure", "missing ( after \(name)") }
            index += 1
            var arguments: [Argument] = []
            skipSpace()
            if !atEnd, chars[index] == ")" { index += 1; return .call(name, arguments) }
            while true {
                skipSpace()
                arguments.append(try argument())
                skipSpace()
                guard !atEnd else { throw StatesError("States.IntrinsicFailure", "missing ) in \(name)") }
                if chars[index] == "," { index += 1; continue }
                if chars[index] == ")" { index += 1; return .call(name, arguments) }
                throw StatesError("States.IntrinsicFailure", "expected , or ) in \(name)")
            }
        }

        mutating func argument() throws(StatesError) -> Argument {
            guard !atEnd else { throw StatesError("States.IntrinsicFailure", "missing argument") }
            if chars[index] == "'" {
                index += 1
                var text = ""
                while !atEnd, chars[index] != "'" {
                    if chars[index] == "\\", index + 1 < chars.count { index += 1 }
                    text.append(chars[index])
                    index += 1
                }
                guard !atEnd else { throw StatesError("States.IntrinsicFailure", "unterminated string") }
                index += 1
                return .literal(.string(text))
            }
            var token = ""
            var depth = 0
            while !atEnd {
                let c = chars[index]
                if depth == 0 && (c == "," || c == ")") { break }
                if c == "(" { depth += 1 }
                if c == ")" { depth -= 1 }
                if c == "'" {
                    // A string inside a nested call: copy it whole.
                    token.append(c); index += 1
                    while !atEnd, chars[index] != "'" {
                        if chars[index] == "\\", index + 1 < chars.count { token.append(chars[index]); index += 1 }
                        token.append(chars[index]); index += 1
                    }
                }
                if !atEnd { token.append(chars[index]); index += 1 }
            }
            token = token.trimmingCharacters(in: .whitespaces)
            if token.hasPrefix("States.") { return try Intrinsics.parse(token, nesting: nesting + 1) }
            if token.hasPrefix("$") {
                do { return .path(try JSONPath(token)) } catch { throw StatesError("States.IntrinsicFailure", error.description) }
            }
            if token == "null" { return .literal(.null) }
            if token == "true" { return .literal(.bool(true)) }
            if token == "false" { return .literal(.bool(false)) }
            if let int = Int64(token) { return .literal(.int(int)) }
            if let double = Double(token) { return .literal(.double(double)) }
            throw StatesError("States.IntrinsicFailure", "cannot read argument '\(token)'")
        }
    }

    static func evaluate(_ argument: Argument, input: JSON, context: JSON) throws(StatesError) -> JSON {
        switch argument {
        case let .literal(value): return value
        case let .path(path):
            guard let value = path.evaluate(path.context ? context : input) else {
                throw StatesError("States.Runtime", "The JSONPath \(path.text) could not be found in the input")
            }
            return value
        case let .call(name, arguments):
            var values: [JSON] = []
            for argument in arguments { values.append(try evaluate(argument, input: input, context: context)) }
            guard let budget = EvaluationBudget.current else { return try call(name, values) }
            try budget.checkDeadline()
            let result = try call(name, values)
            // Arguments share storage, so a call's result can be far larger than its inputs
            // (States.Array($, $, …)); nothing walks it before it is known to be within bounds.
            try budget.limits.check(result, "the result of \(name)")
            return result
        }
    }

    /// How AWS's Java runtime prints a value inside States.Format: strings bare, objects as
    /// `{k=v, k2=v2}`, arrays as `[a, b]`.
    static func javaText(_ value: JSON) -> String {
        switch value {
        case let .string(text): return text
        case let .array(items): return "[" + items.map(javaText).joined(separator: ", ") + "]"
        case let .object(pairs): return "{" + pairs.map { "\($0.0)=\(javaText($0.1))" }.joined(separator: ", ") + "}"
        default: return value.description
        }
    }

    static func call(_ name: String, _ args: [JSON]) throws(StatesError) -> JSON {
        func fail(_ message: String) -> StatesError { StatesError("States.IntrinsicFailure", "\(name): \(message)") }
        func count(_ n: Int) throws(StatesError) { if args.count != n { throw fail("takes \(n) arguments, got \(args.count)") } }
        switch name {
        case "States.Array":
            return .array(args)
        case "States.ArrayLength":
            try count(1)
            guard case let .array(items) = args[0] else { throw fail("expects an array") }
            return .int(Int64(items.count))
        case "States.ArrayGetItem":
            try count(2)
            guard case let .array(items) = args[0], case let .int(index) = args[1], index >= 0, Int(index) < items.count else {
                throw fail("expects an array and an index within it")
            }
            return items[Int(index)]
        case "States.ArrayContains":
            try count(2)
            guard case let .array(items) = args[0] else { throw fail("expects an array") }
            return .bool(items.contains(args[1]))
        case "States.ArrayUnique":
            try count(1)
            guard case let .array(items) = args[0] else { throw fail("expects an array") }
            var unique: [JSON] = []
            let budget = EvaluationBudget.current
            for item in items where !unique.contains(item) {
                unique.append(item)
                if let budget, budget.overrun() { try budget.raiseIfFailed() }
            }
            return .array(unique)
        case "States.ArrayPartition":
            try count(2)
            guard case let .array(items) = args[0], let size = args[1].number, size > 0, size == size.rounded() else {
                throw fail("expects an array and a positive chunk size")
            }
            let chunk = size >= Double(Int32.max) ? Int(Int32.max) : Int(size)
            return .array(stride(from: 0, to: items.count, by: chunk).map { .array(Array(items[$0..<min($0 + chunk, items.count)])) })
        case "States.ArrayRange":
            try count(3)
            guard let first = args[0].number.flatMap(Int64.init(exactly:)), let last = args[1].number.flatMap(Int64.init(exactly:)),
                  let step = args[2].number.flatMap(Int64.init(exactly:)), step != 0 else {
                throw fail("expects integer start, end and a non-zero step")
            }
            // Estimated before anything is made: a range of 10^15 items is refused, not allocated.
            // The estimate stays a double (a span of 1.8e19 trapped `Int(_:)`), and the items are
            // stepped with overflow reported (`index * step` trapped at 2 * 2^62).
            guard (Double(last) - Double(first)) / Double(step) < 1000 else { throw fail("would produce more than 1000 items") }
            var items: [JSON] = []
            var value = first
            while step > 0 ? value <= last : value >= last {
                items.append(.int(value))
                guard items.count <= 1000 else { throw fail("would produce more than 1000 items") }
                let (next, overflow) = value.addingReportingOverflow(step)
                if overflow { break }
                value = next
            }
            return .array(items)
        case "States.StringToJson":
            try count(1)
            guard case let .string(text) = args[0] else { throw fail("expects a string") }
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .null }
            let maxDepth = EvaluationBudget.current?.limits.maxDepth ?? JSONParser.defaultMaxDepth
            do { return try JSONParser.parse(text, maxDepth: maxDepth) } catch {
                if error.isDepthLimit {
                    throw StatesError("States.DataLimitExceeded", "\(name): the JSON is nested more than \(maxDepth) levels deep (the maximum depth of a value)")
                }
                throw fail("not JSON: \(text)")
            }
        case "States.JsonToString":
            try count(1)
            return .string(args[0].description)
        case "States.JsonMerge":
            try count(3)
            guard case let .object(left) = args[0], case .object = args[1] else { throw fail("expects two objects") }
            guard case .bool(false) = args[2] else { throw fail("only shallow merges (false) are supported") }
            var merged = JSON.object(left)
            if case let .object(right) = args[1] { for (key, value) in right { merged = merged.setting(key, value) } }
            return merged
        case "States.StringSplit":
            try count(2)
            guard case let .string(text) = args[0], case let .string(separators) = args[1] else { throw fail("expects two strings") }
            let set = Set(separators)
            return .array(text.split(whereSeparator: { set.contains($0) }).map { .string(String($0)) })
        case "States.MathAdd":
            try count(2)
            guard let a = args[0].number, let b = args[1].number else { throw fail("expects two numbers") }
            // Each argument is rounded half up first (Java's Math.round), then added.
            guard let x = Int64(exactly: (a + 0.5).rounded(.down)), let y = Int64(exactly: (b + 0.5).rounded(.down)) else {
                throw fail("expects numbers within the range of a 64-bit integer")
            }
            let (sum, overflow) = x.addingReportingOverflow(y)
            guard !overflow else { throw fail("the sum is beyond the range of a 64-bit integer") }
            return .int(sum)
        case "States.MathRandom":
            guard args.count >= 2, let low = args[0].number.flatMap({ Int64(exactly: $0.rounded(.towardZero)) }),
                  let high = args[1].number.flatMap({ Int64(exactly: $0.rounded(.towardZero)) }), low < high else {
                throw fail("expects integers start < end within the range of a 64-bit integer")
            }
            return RandomValues.draw { .int(Int64.random(in: low..<high)) }
        case "States.Base64Encode":
            try count(1)
            guard case let .string(text) = args[0] else { throw fail("expects a string") }
            return .string(Data(text.utf8).base64EncodedString())
        case "States.Base64Decode":
            try count(1)
            guard case let .string(text) = args[0], let data = Data(base64Encoded: text) else { throw fail("expects base64 text") }
            return .string(String(decoding: data, as: UTF8.self))
        case "States.Hash":
            try count(2)
            guard case let .string(text) = args[0], case let .string(algorithm) = args[1] else { throw fail("expects data and an algorithm name") }
            let bytes = Array(text.utf8)
            switch algorithm {
            case "MD5": return .string(Digests.hex(Digests.md5(bytes)))
            case "SHA-1": return .string(Digests.hex(Digests.sha1(bytes)))
            case "SHA-256": return .string(Digests.hex(Digests.sha256(bytes)))
            case "SHA-384": return .string(Digests.hex(Digests.sha512(bytes, variant384: true)))
            case "SHA-512": return .string(Digests.hex(Digests.sha512(bytes)))
            default: throw fail("unknown algorithm \(algorithm) (MD5, SHA-1, SHA-256, SHA-384, SHA-512)")
            }
        case "States.UUID":
            return RandomValues.draw { .string(UUID().uuidString.lowercased()) }
        case "States.Format":
            guard case let .string(template)? = args.first else { throw fail("expects a template string") }
            var out = ""
            let maxBytes = EvaluationBudget.current?.limits.maxPayloadBytes ?? Int.max
            var values = args.dropFirst().makeIterator()
            var chars = Array(template)[...]
            while let c = chars.first {
                if c == "\\", chars.count > 1 { out.append(chars[chars.startIndex + 1]); chars = chars.dropFirst(2); continue }
                if c == "{", chars.count > 1, chars[chars.startIndex + 1] == "}" {
                    guard let value = values.next() else { throw fail("more {} than arguments") }
                    out += javaText(value)
                    if out.utf8.count > maxBytes {
                        throw StatesError("States.DataLimitExceeded", "\(name): the text is larger than \(maxBytes) bytes (the payload size limit)")
                    }
                    chars = chars.dropFirst(2)
                    continue
                }
                out.append(c)
                chars = chars.dropFirst()
            }
            return .string(out)
        default:
            throw StatesError("States.IntrinsicFailure", "unknown intrinsic function \(name)")
        }
    }
}

/// Random intrinsic values (States.UUID, States.MathRandom) pass through here: the values drawn
/// are recorded, and a replay hands the recorded ones back in order so it gives the same
/// result. The source is per thread: the interpreter runs a step on one thread.
public final class RandomValues: @unchecked Sendable {
    public private(set) var drawn: [JSON] = []
    private var replay: [JSON]

    public init(replaying values: [JSON] = []) { replay = values }

    /// The source current on this thread (`ThreadCurrent`): the completer asks once or twice
    /// per task outcome.
    private static let thread = ThreadCurrent<RandomValues>("the random source")

    /// The source `around` made current on this thread, or nil.
    public static var current: RandomValues? { thread.value }

    /// Runs `body` with this source current on the calling thread.
    public func around<T>(_ body: () throws -> T) rethrows -> T {
        try Self.thread.with(self, body)
    }

    static func draw(_ fresh: () -> JSON) -> JSON {
        guard let source = current else { return fresh() }
        let value = source.replay.isEmpty ? fresh() : source.replay.removeFirst()
        source.drawn.append(value)
        return value
    }
}
