import Foundation

/// A JSON value as the States Language sees it: integers kept apart from doubles (AWS writes
/// them back differently), object keys in document order, equality by value with key order
/// ignored (as the conformance corpus compares).
///
/// Not `indirect`: arrays and objects hold their members in their own storage already, and a
/// boxed case cost an allocation for every scalar the parser made.
public enum JSON: Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public subscript(key: String) -> JSON? {
        if case let .object(pairs) = self { return pairs.last { $0.0 == key }?.1 }
        return nil
    }

    public var number: Double? {
        switch self {
        case let .int(value): return Double(value)
        case let .double(value): return value
        default: return nil
        }
    }

    public var isNumber: Bool { number != nil }

    /// Compact text, as AWS's JsonToString writes it.
    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Appends the compact text to `out`: one growing buffer for the whole value, where
    /// building each member's text and joining them would allocate per value (this runs on the
    /// completer for every program state and output).
    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(flag): out += flag ? "true" : "false"
        case let .int(value): out += String(value)
        case let .double(value):
            // JSON has no infinity or NaN: they are written as null, so the text always parses again.
            if !value.isFinite { out += "null" }
            else if value == value.rounded() && abs(value) < 1e15 { out += String(format: "%.1f", value) }
            else { out += "\(value)" }
        case let .string(text): JSON.writeQuoted(text, to: &out)
        case let .array(items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case let .object(pairs):
            out += "{"
            for (index, pair) in pairs.enumerated() {
                if index > 0 { out += "," }
                JSON.writeQuoted(pair.0, to: &out)
                out += ":"
                pair.1.write(to: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal for `text`.
    public static func quote(_ text: String) -> String {
        var out = ""
        writeQuoted(text, to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal; text with nothing to escape (the usual case)
    /// is appended whole.
    static func writeQuoted(_ text: String, to out: inout String) {
        out += "\""
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{c}": out += "\\f"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// Replaces or adds `key` (keeps the position of an existing key).
    public func setting(_ key: String, _ value: JSON) -> JSON {
        guard case var .object(pairs) = self else { return .object([(key, value)]) }
        if let index = pairs.firstIndex(where: { $0.0 == key }) { pairs[index].1 = value } else { pairs.append((key, value)) }
        return .object(pairs)
    }
}

extension JSON: Equatable {
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            for (key, value) in a { guard let other = rhs[key], other == value else { return false } }
            return true
        default:
            if let a = lhs.number, let b = rhs.number { return a == b }
            return false
        }
    }
}

/// JSON text → `JSON`, keeping key order and telling integers from doubles.
///
/// Reads the text's UTF-8 in place (no copy into an array) and makes a string from a slice
/// of it when it holds no escape, which is nearly every key and value: the completer parses
/// every execution's program state and every task output with this.
public struct JSONParser {
    public struct Failure: Error, CustomStringConvertible {
        public let offset: Int
        public let message: String
        /// The text nests deeper than the parse allowed (it may be valid JSON).
        public var isDepthLimit = false
        public var description: String { "invalid JSON at byte \(offset): \(message)" }

        init(offset: Int, message: String, isDepthLimit: Bool = false) {
            self.offset = offset
            self.message = message
            self.isDepthLimit = isDepthLimit
        }
    }

    /// The deepest nesting a parse accepts unless told otherwise: the parser recurses once per
    /// level, and so does every later walk over the value.
    public static let defaultMaxDepth = 511

    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var index = 0
    private var depth = 0

    /// `maxDepth`: most arrays and objects nested inside one another; deeper text fails with
    /// `isDepthLimit` (a State's data is bounded by `EvaluationLimits.maxDepth`, below this).
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(Failure) -> JSON {
        var text = text
        // A native string is contiguous UTF-8 already; a bridged one is copied once here.
        let result: Result<JSON, Failure> = text.withUTF8 { bytes in
            do throws(Failure) { return .success(try parse(bytes: bytes, maxDepth: maxDepth)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws(Failure) -> JSON {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw Failure(offset: parser.index, message: "unexpected text after the value") }
        return value
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private func tooDeep() -> Failure {
        Failure(offset: index, message: "nested more than \(maxDepth) levels deep", isDepthLimit: true)
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0a, 0x0d, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func value() throws(Failure) -> JSON {
        guard index < bytes.count else { throw Failure(offset: index, message: "unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw Failure(offset: index, message: "expected \(word)") }
        let expected = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw Failure(offset: index, message: "expected \(word)")
        }
        index += count
    }

    private mutating func object() throws(Failure) -> JSON {
        depth += 1
        defer { depth -= 1 }
        guard depth <= maxDepth else { throw tooDeep() }
        index += 1
        var pairs: [(String, JSON)] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(pairs) }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Failure(offset: index, message: "expected a key") }
            let key = try string()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Failure(offset: index, message: "expected :") }
            index += 1
            skipSpace()
            pairs.append((key, try value()))
            skipSpace()
            guard index < bytes.count else { throw Failure(offset: index, message: "unexpected end in object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(pairs) }
            throw Failure(offset: index, message: "expected , or }")
        }
    }

    private mutating func array() throws(Failure) -> JSON {
        depth += 1
        defer { depth -= 1 }
        guard depth <= maxDepth else { throw tooDeep() }
        index += 1
        var items: [JSON] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard index < bytes.count else { throw Failure(offset: index, message: "unexpected end in array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw Failure(offset: index, message: "expected , or ]")
        }
    }

    /// The text of `bytes[from..<to]` (invalid UTF-8 becomes U+FFFD).
    private func text(_ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[from..<to]), as: UTF8.self)
    }

    private mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        // The common case: no escape before the closing quote, one slice.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return text(start, index - 1)
            }
            if byte == UInt8(ascii: "\\") { break }
            index += 1
        }
        guard index < bytes.count else { throw Failure(offset: index, message: "unterminated string") }
        return try escapedString(from: start)
    }

    /// The rest of a string from its first escape: its UTF-8 collected, escapes decoded.
    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(index - start + 16)
        utf8.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        func append(_ scalar: Unicode.Scalar) {
            utf8.append(contentsOf: UTF8.encode(scalar)!)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: utf8, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "n"): utf8.append(0x0a)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "r"): utf8.append(0x0d)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0c)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        let next = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = next   // not a pair: the lone high surrogate becomes U+FFFD, the next escape is read on its own
                        }
                    }
                    append(Unicode.Scalar(code) ?? "\u{FFFD}")   // a lone surrogate is no scalar
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): append(Unicode.Scalar(escape))
                default:
                    // JSON has no other escapes; reading `\.` as `.` would let a key hide from a text search.
                    throw Failure(offset: index - 1, message: "bad escape \\\(Character(Unicode.Scalar(escape)))")
                }
                continue
            }
            utf8.append(byte)
            index += 1
        }
        throw Failure(offset: index, message: "unterminated string")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count, let code = UInt32(text(index, index + 4), radix: 16) else {
            throw Failure(offset: index, message: "bad \\u escape")
        }
        index += 4
        return code
    }

    private mutating func number() throws(Failure) -> JSON {
        let start = index
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var fractional = false
        // Digits accumulate as a negative value (Int64.min has no positive twin).
        var magnitude: Int64 = 0
        var overflow = false
        while index < bytes.count {
            let byte = bytes[index]
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                if !fractional && !overflow {
                    let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (next, o2) = times.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                    if o1 || o2 { overflow = true } else { magnitude = next }
                }
                index += 1
                continue
            }
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                fractional = true
                index += 1
                continue
            }
            break
        }
        let digits = index - start - (negative ? 1 : 0)
        if !fractional && !overflow && digits > 0 {
            if negative { return .int(magnitude) }
            if magnitude != Int64.min { return .int(-magnitude) }
        }
        let text = text(start, index)
        if !fractional, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), !text.isEmpty else { throw Failure(offset: start, message: "expected a value") }
        return .double(value)
    }
}
