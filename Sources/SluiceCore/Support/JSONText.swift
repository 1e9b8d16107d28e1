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
            guard seconds.isFinite, seconds >= 0 else { return "null" }
            let micros = Int64((seconds * 1_000_000).rounded())
            let fraction = String(micros % 1_000_000)
            return String(micros / 1_000_000) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction
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
