import Foundation
import SluiceStates

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

        /// Bytes this value takes, roughly: to size the buffer once.
        var estimatedBytes: Int {
            switch self {
            case let .string(text): return text.utf8.count + 2
            case let .raw(text): return text.utf8.count
            case .time: return 18
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
        case .number: out.append(contentsOf: render(value).utf8)
        }
    }

    /// A JSON string literal; text needing escapes goes through `SluiceStates.JSON.quote`.
    private static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        var text = text
        let plain = text.withUTF8 { bytes in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return true
        }
        if !plain { out.append(contentsOf: SluiceStates.JSON.quote(text).utf8) }
    }

    private static func appendInteger(_ number: Int, to out: inout [UInt8]) {
        if number < 0 {
            guard number != .min else { return out.append(contentsOf: String(number).utf8) }
            out.append(UInt8(ascii: "-"))
        }
        var magnitude = number.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
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

    public static func render(_ value: Value) -> String {
        switch value {
        case let .string(s): return quote(s)
        case let .number(d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)) : "null"
        case let .int(i): return String(i)
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        case let .raw(text): return text
        case let .time(seconds): return time(seconds)
        }
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
        // Fast path for the common case; escaping is SluiceStates.JSON's.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + s + "\""
        }
        return SluiceStates.JSON.quote(s)
    }

}
