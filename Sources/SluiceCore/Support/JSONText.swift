import Foundation

/// Small JSON writer for the engine's own records (history details, task results), so hot
/// paths do not pay for JSONSerialization. Keys keep the order given.
public enum JSONText {
    public enum Value {
        case string(String)
        case number(Double)
        case int(Int)
        case bool(Bool)
        case null
        case raw(String)
        /// Unix seconds written with microsecond precision, cheaply.
        case time(Double)
        /// Bytes written as a JSON string (a response body): no String is made when they are
        /// ASCII; other bytes are read as UTF-8 with invalid sequences replaced, as a String would.
        case utf8(ArraySlice<UInt8>)

        /// Bytes this value takes, roughly: to size the buffer once.
        var estimatedBytes: Int {
            switch self {
            case let .string(text): return text.utf8.count + 2
            case let .raw(text): return text.utf8.count
            case .time: return 18
            case let .utf8(bytes): return bytes.count + 2
            default: return 20
            }
        }
    }

    /// Written as bytes into one buffer sized up front, made a String once: task results and
    /// history details are built per job on the I/O thread and the writer thread, and the
    /// String-concatenating version cost a String per key, quote and value.
    public static func object(_ pairs: KeyValuePairs<String, Value>) -> String {
        var capacity = 2
        for (key, value) in pairs { capacity += key.utf8.count + 4 + value.estimatedBytes }
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in pairs {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendQuoted(key, to: &out)
            out.append(UInt8(ascii: ":"))
            append(value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private static func append(_ value: Value, to out: inout [UInt8]) {
        switch value {
        case let .string(text): appendQuoted(text, to: &out)
        case let .int(number): appendInteger(number, to: &out)
        case let .bool(flag): out.append(contentsOf: flag ? "true".utf8 : "false".utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case var .raw(text): text.withUTF8 { out.append(contentsOf: $0) }
        case let .time(seconds): appendTime(seconds, to: &out)
        case let .utf8(bytes):
            if bytes.allSatisfy({ $0 < 0x80 }) {
                bytes.withUnsafeBufferPointer { appendQuoted(utf8: $0, to: &out) }
            } else {
                appendQuoted(String(decoding: bytes, as: UTF8.self), to: &out)
            }
        case let .number(number):
            let text = number.isFinite ? (number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)) : "null"
            out.append(contentsOf: text.utf8)
        }
    }

    private static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendQuoted(utf8: $0, to: &out) }
    }

    /// `bytes` (valid UTF-8) as a JSON string literal, escaped byte by byte: no String is made,
    /// and text with nothing to escape (the usual case) is copied whole. Response bodies end in
    /// a newline and ETags carry quotes, so the escaping path is a hot one too.
    static func appendQuoted(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
            runStart = index + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
            }
        }
        if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Digits written into a stack buffer, last first: integers go into every task result.
    private static func appendInteger(_ number: Int, to out: inout [UInt8]) {
        if number < 0 {
            guard number != .min else { return out.append(contentsOf: String(number).utf8) }
            out.append(UInt8(ascii: "-"))
        }
        var magnitude = number.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes: room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    /// One value as JSON text, through the same writer as `object`.
    public static func render(_ value: Value) -> String {
        var out: [UInt8] = []
        append(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Unix seconds as `S.ffffff`, digits written straight into the buffer: every task
    /// outcome's history line carries two of these, written on the one writer thread.
    public static func time(_ seconds: Double) -> String {
        var out: [UInt8] = []
        appendTime(seconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendTime(_ seconds: Double, to out: inout [UInt8]) {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return out.append(contentsOf: "null".utf8) }
        let micros = UInt64((seconds * 1_000_000).rounded())
        appendInteger(Int(micros / 1_000_000), to: &out)
        out.append(UInt8(ascii: "."))
        // Six fraction digits, leading zeros kept.
        var divisor: UInt64 = 100_000
        let fraction = micros % 1_000_000
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8((fraction / divisor) % 10))
            divisor /= 10
        }
    }

    public static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
