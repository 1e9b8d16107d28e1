import Foundation
import SluiceStates
import Yams

/// A JSON or YAML file read into plain values (`[String: Any]`, `[Any]`, `String`, numbers,
/// `Bool`, `NSNull`), with errors that name the file and where in it.
public enum Document {
    public struct LoadError: Error, CustomStringConvertible, Equatable {
        public let file: String
        /// A JSON pointer (`/tasks/0/type`) or a line:column for syntax errors.
        public let location: String
        public let message: String

        public init(file: String, location: String, message: String) {
            self.file = file
            self.location = location
            self.message = message
        }

        public var description: String { "\(file): \(location.isEmpty ? "" : "\(location): ")\(message)" }
    }

    public static func load(path: String, limits: DocumentLimits = .standard) throws(LoadError) -> Any {
        let text = try read(path: path, limits: limits)
        return try parse(text, file: path, yaml: path.hasSuffix(".yaml") || path.hasSuffix(".yml"), limits: limits)
    }

    /// A file's text, read through its symlinks: only a regular file, and at most
    /// `limits.maxBytes + 1` bytes of it, so neither a large file nor a link to `/dev/zero` or
    /// a FIFO is read without end.
    public static func read(path: String, limits: DocumentLimits = .standard) throws(LoadError) -> String {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: target) else {
            throw LoadError(file: path, location: "", message: "cannot read: no such file")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw LoadError(file: path, location: "", message: "cannot read: not a regular file")
        }
        if let size = attributes[.size] as? NSNumber { try limits.checkSize(size.intValue, file: path) }
        guard let handle = FileHandle(forReadingAtPath: target) else {
            throw LoadError(file: path, location: "", message: "cannot read: permission denied or unreadable")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: limits.maxBytes + 1) ?? Data() } catch {
            throw LoadError(file: path, location: "", message: "cannot read: \(error.localizedDescription)")
        }
        // The file may have grown since its size was read.
        try limits.checkSize(data.count, file: path)
        return try text(utf8: data, file: path)
    }

    /// A request body as text; bytes that are not UTF-8 are refused, since decoding would put
    /// U+FFFD in their place and store a name or value the client never sent.
    public static func text(utf8 bytes: some Sequence<UInt8>, file: String) throws(LoadError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LoadError(file: file, location: "", message: "the document is not valid UTF-8")
        }
        return text
    }

    /// Checks `limits` on the text (size, nesting, YAML aliases) before any parser builds it.
    public static func parse(_ text: String, file: String, yaml: Bool, limits: DocumentLimits = .standard) throws(LoadError) -> Any {
        try limits.checkSize(text.utf8.count, file: file)
        if yaml {
            try YAMLBudget.check(text, file: file, limits: limits)
            do {
                guard let value = try Yams.load(yaml: text) else { throw LoadError(file: file, location: "", message: "empty document") }
                return normalize(value)
            } catch let error as LoadError {
                throw error
            } catch {
                let (location, message) = yamlProblem(error)
                throw LoadError(file: file, location: location, message: "invalid YAML: \(message)")
            }
        }
        try limits.checkJSONDepth(text, file: file)
        do {
            return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            let nsError = error as NSError
            let detail = (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
            throw LoadError(file: file, location: jsonProblemLocation(text), message: "invalid JSON: \(detail)")
        }
    }

    /// A key as one JSON pointer token (RFC 6901): `~` is `~0` and `/` is `~1`, so a key like
    /// `a/b` is not read as two levels.
    public static func pointerToken(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// `line:column` (1-based) of the first byte SluiceStates' parser cannot read, which is
    /// where JSONSerialization stopped too; "" if that parser accepts the text.
    static func jsonProblemLocation(_ text: String) -> String {
        do {
            _ = try JSONParser.parse(text)
            return ""
        } catch {
            return lineAndColumn(of: error.offset, in: text)
        }
    }

    static func lineAndColumn(of offset: Int, in text: String) -> String {
        var line = 1, column = 1
        for byte in text.utf8.prefix(offset) {
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        return "\(line):\(column)"
    }

    /// Yams writes a problem as `LINE:COLUMN: error: …` followed by the offending lines: the
    /// position becomes the location, the first line the message.
    static func yamlProblem(_ error: any Error) -> (location: String, message: String) {
        let text = "\(error)"
        let first = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? text
        let parts = first.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, let line = Int(parts[0]), let column = Int(parts[1]) {
            var message = parts[2].trimmingCharacters(in: .whitespaces)
            if message.hasPrefix("error: ") { message.removeFirst("error: ".count) }
            return ("\(line):\(column)", message)
        }
        return ("", first)
    }

    /// YAML gives `[AnyHashable: Any]` maps and native numbers; make them look like JSON's.
    static func normalize(_ value: Any) -> Any {
        if let map = value as? [AnyHashable: Any] {
            var object: [String: Any] = [:]
            for (key, child) in map { object["\(key.base)"] = normalize(child) }
            return object
        }
        if let map = value as? [String: Any] { return map.mapValues(normalize) }
        if let array = value as? [Any] { return array.map(normalize) }
        return value
    }
}

/// Typed reads of a decoded object, with errors naming the JSON pointer.
public struct ObjectReader {
    public let object: [String: Any]
    public let file: String
    public let pointer: String

    public init(_ value: Any, file: String, pointer: String = "") throws(Document.LoadError) {
        guard let object = value as? [String: Any] else {
            throw Document.LoadError(file: file, location: pointer.isEmpty ? "/" : pointer, message: "expected an object")
        }
        self.object = object
        self.file = file
        self.pointer = pointer
    }

    public func error(_ key: String?, _ message: String) -> Document.LoadError {
        Document.LoadError(file: file, location: key.map { "\(pointer)/\($0)" } ?? (pointer.isEmpty ? "/" : pointer), message: message)
    }

    /// Refuses fields this object does not know, naming the first.
    public func allowOnly(_ keys: Set<String>) throws(Document.LoadError) {
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw error(Document.pointerToken(unknown), "unknown field (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    public func string(_ key: String) throws(Document.LoadError) -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw error(key, "expected a string") }
        return text
    }

    public func requiredString(_ key: String) throws(Document.LoadError) -> String {
        guard let text = try string(key), !text.isEmpty else { throw error(key, "required") }
        return text
    }

    public func int(_ key: String) throws(Document.LoadError) -> Int? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        if let number = value as? Int { return number }
        if let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded() { return number.intValue }
        throw error(key, "expected an integer")
    }

    public func double(_ key: String) throws(Document.LoadError) -> Double? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        if let number = value as? NSNumber { return number.doubleValue }
        if let number = value as? Double { return number }
        throw error(key, "expected a number")
    }

    public func bool(_ key: String) throws(Document.LoadError) -> Bool? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        if let flag = value as? Bool { return flag }
        throw error(key, "expected true or false")
    }

    public func strings(_ key: String) throws(Document.LoadError) -> [String]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let array = value as? [Any] else { throw error(key, "expected a list of strings") }
        var result: [String] = []
        for (index, item) in array.enumerated() {
            guard let text = item as? String else { throw error("\(key)/\(index)", "expected a string") }
            result.append(text)
        }
        return result
    }

    public func child(_ key: String) throws(Document.LoadError) -> ObjectReader? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        return try ObjectReader(value, file: file, pointer: "\(pointer)/\(Document.pointerToken(key))")
    }

    /// Durations as `90`, `"90s"`, `"15m"`, `"2h"`, `"1d"`, `"500ms"`: seconds.
    public func duration(_ key: String) throws(Document.LoadError) -> Double? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        if let number = value as? NSNumber, !(value is String) { return number.doubleValue }
        guard let text = value as? String, let seconds = Duration.parseSeconds(text) else {
            throw error(key, "expected a duration such as 30s, 15m, 2h, 1d")
        }
        return seconds
    }
}

extension Duration {
    /// `"500ms"`, `"30s"`, `"15m"`, `"2h"`, `"1d"` or a plain number of seconds.
    public static func parseSeconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            if let value = Double(trimmed.dropLast(suffix.count)), value >= 0 { return value * factor }
        }
        return Double(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }
}
