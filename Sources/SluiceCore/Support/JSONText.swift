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
    }

    public static func object(_ pairs: KeyValuePairs<String, Value>) -> String {
        var out = "{"
        var first = true
        for (key, value) in pairs {
            if !first { out += "," }
            first = false
            out += quote(key)
            out += ":"
            out += render(value)
        }
        return out + "}"
    }

    public static func render(_ value: Value) -> String {
        switch value {
        case let .string(s): return quote(s)
        case let .number(d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)) : "null"
        case let .int(i): return String(i)
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        case let .raw(text): return text
        case let .time(seconds):
            return time(seconds)
        }
    }

    /// Unix seconds as `S.ffffff`, digits written into one small buffer: every task outcome's
    /// history line carries two of these, written on the completer (the one writer) thread.
    public static func time(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return "null" }
        let micros = UInt64((seconds * 1_000_000).rounded())
        let whole = micros / 1_000_000
        var wholeDigits = 1
        var rest = whole
        while rest >= 10 { rest /= 10; wholeDigits += 1 }
        let count = wholeDigits + 7   // the point and six fraction digits
        return String(unsafeUninitializedCapacity: count) { buffer in
            // Written from the last digit back.
            var index = count - 1
            var fraction = micros % 1_000_000
            for _ in 0..<6 {
                buffer[index] = UInt8(ascii: "0") + UInt8(fraction % 10)
                fraction /= 10
                index -= 1
            }
            buffer[index] = UInt8(ascii: ".")
            var value = whole
            while index > 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            return count
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
