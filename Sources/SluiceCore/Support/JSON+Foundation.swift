import Foundation
import SluiceStates

/// The engine has one JSON value type, `SluiceStates.JSON` (key order kept, integers told from
/// doubles); these are the conversions and lookups the engine's other parts need of it.
extension SluiceStates.JSON {
    /// From JSONSerialization / Yams values (keys sorted: their order is lost already).
    /// Booleans are told from 0 and 1 by their type code, which Linux's NSNumber keeps.
    public init(foundation value: Any) {
        switch value {
        case is NSNull: self = .null
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { self = .bool(number.boolValue) }
            else if number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 9e15, !"fd".contains(String(cString: number.objCType)) {
                self = .int(number.int64Value)
            } else { self = .double(number.doubleValue) }
        case let flag as Bool: self = .bool(flag)
        case let int as Int: self = .int(Int64(int))
        case let double as Double: self = .double(double)
        case let text as String: self = .string(text)
        case let array as [Any]: self = .array(array.map { SluiceStates.JSON(foundation: $0) })
        case let object as [String: Any]: self = .object(object.keys.sorted().map { ($0, SluiceStates.JSON(foundation: object[$0]!)) })
        default: self = .string("\(value)")
        }
    }

    /// Parses JSON text (any value, not only objects); nil when it is not JSON.
    public init?(parsing text: String) {
        guard let value = try? JSONParser.parse(text) else { return nil }
        self = value
    }

    /// A dotted path as task-list templates write it: `a.b.0.c` (numbers index arrays).
    public func lookup(path: String) -> SluiceStates.JSON? {
        var current: SluiceStates.JSON? = self
        for part in path.split(separator: ".") {
            switch current {
            case let .object(pairs)?: current = pairs.last { $0.0 == part }?.1
            case let .array(items)?: current = Int(part).flatMap { $0 >= 0 && $0 < items.count ? items[$0] : nil }
            default: return nil
            }
        }
        return current
    }

    /// How a value reads inside a string: strings bare, everything else as JSON.
    public var plainText: String {
        if case let .string(string) = self { return string }
        return description
    }

    /// The object's pairs, or nil for any other value.
    public var objectPairs: [(String, SluiceStates.JSON)]? {
        if case let .object(pairs) = self { return pairs }
        return nil
    }
}
