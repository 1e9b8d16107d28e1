/// Whether bytes are exactly one JSON value (RFC 8259; any value at the top level, whitespace
/// around it allowed), without building anything.
///
/// The HTTP executor embeds a response body verbatim in the task output when it is JSON, so
/// the check must be strict (a body like `01` or `[1,]` would corrupt the output), and it runs
/// on every response, so it must be cheap: one pass, no allocation beyond the nesting stack.
enum JSONValidator {
    static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            return scanner.document()
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// Open containers, innermost last: `{` or `[`.
        var open: [UInt8] = []

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func document() -> Bool {
            skipSpace()
            while true {
                // A value starts here.
                guard let byte = current else { return false }
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard open.count < Self.maxDepth else { return false }
                    index += 1
                    skipSpace()
                    if current == (byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        index += 1   // empty
                    } else {
                        open.append(byte)
                        if byte == UInt8(ascii: "{") { guard member() else { return false } }
                        continue
                    }
                case UInt8(ascii: "\""): guard string() else { return false }
                case UInt8(ascii: "t"): guard literal("true") else { return false }
                case UInt8(ascii: "f"): guard literal("false") else { return false }
                case UInt8(ascii: "n"): guard literal("null") else { return false }
                default: guard number() else { return false }
                }
                // A value ended: close containers until one continues with a comma.
                while true {
                    skipSpace()
                    guard let container = open.last else { return index == bytes.count }
                    guard let next = current else { return false }
                    index += 1
                    if next == UInt8(ascii: ",") {
                        skipSpace()
                        if container == UInt8(ascii: "{") { guard member() else { return false } }
                        break
                    }
                    guard (container == UInt8(ascii: "{") && next == UInt8(ascii: "}"))
                        || (container == UInt8(ascii: "[") && next == UInt8(ascii: "]")) else { return false }
                    open.removeLast()
                }
                skipSpace()
            }
        }

        /// `"key" :` — the value follows.
        mutating func member() -> Bool {
            guard current == UInt8(ascii: "\""), string() else { return false }
            skipSpace()
            guard current == UInt8(ascii: ":") else { return false }
            index += 1
            skipSpace()
            return true
        }

        mutating func string() -> Bool {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    guard let escape = current else { return false }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard let hex = current, Self.isHex(hex) else { return false }
                            index += 1
                        }
                    default: return false
                    }
                case 0..<0x20: return false
                default: continue
                }
            }
            return false
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let text = word.utf8Start
            for offset in 0..<count where bytes[index + offset] != text[offset] { return false }
            index += count
            return true
        }

        /// Deeper than this `JSONParser` refuses the text, so neither may accept it here.
        static let maxDepth = 511

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, and finite: `1e400` is
        /// grammatical but has no double, and would come back as a value JSON cannot write.
        mutating func number() -> Bool {
            let start = index
            guard grammaticalNumber() else { return false }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return Double(text)?.isFinite ?? false
        }

        mutating func grammaticalNumber() -> Bool {
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, Self.isDigit(first) else { return false }
            index += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if current == UInt8(ascii: ".") {
                index += 1
                guard digits() else { return false }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard digits() else { return false }
            }
            return true
        }

        /// One or more digits.
        mutating func digits() -> Bool {
            guard let byte = current, Self.isDigit(byte) else { return false }
            skipDigits()
            return true
        }

        mutating func skipDigits() {
            while let byte = current, Self.isDigit(byte) { index += 1 }
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        static func isHex(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
        }
    }
}
