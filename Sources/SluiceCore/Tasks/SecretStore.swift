import Foundation

/// Secrets that templates reference as `${secrets.NAME}`. They are resolved only inside the
/// executor, at the moment of the request or command: payloads, history, logs and API output
/// keep the `${secrets.NAME}` placeholder, and any echo of a value in a response, output or
/// error, in any encoding, is replaced by `[redacted]` before it is recorded (`Redactor`).
public struct SecretStore: Sendable {
    public let values: [String: String]

    public init(values: [String: String] = [:]) { self.values = values }

    /// The redactor for a task allowed the secrets `names` (`SecretScope`; `*` is every one):
    /// `Redactor.none`, at no cost, when it has none.
    func redactor(for names: Set<String>) -> Redactor {
        guard !names.isEmpty, !values.isEmpty else { return .none }
        if names.contains(SecretScope.everyName) { return Redactor(values: values.values) }
        return Redactor(values: names.compactMap { values[$0] })
    }

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String)
        case malformed(file: String, line: Int)

        public var description: String {
            switch self {
            case let .unreadable(file): return "\(file): cannot read the secrets file"
            case let .malformed(file, line): return "\(file):\(line): expected NAME=value"
            }
        }
    }

    /// A file of `NAME=value` lines (or a JSON object), plus environment variables named
    /// `SLUICE_SECRET_NAME`.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SecretStore {
        var values: [String: String] = [:]
        for (key, value) in environment where key.hasPrefix("SLUICE_SECRET_") { values[String(key.dropFirst(14))] = value }
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw LoadError.unreadable(file) }
            if let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
                for (key, value) in object { values[key] = value as? String ?? "\(value)" }
            } else {
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let trimmed = line.trimmingCharacters(in: .whitespaces)
                    if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                    guard let equals = trimmed.firstIndex(of: "=") else { throw LoadError.malformed(file: file, line: number + 1) }
                    values[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
                }
            }
        }
        return SecretStore(values: values)
    }

    public struct MissingSecret: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "no secret named \(name) (add it to the secrets file or set SLUICE_SECRET_\(name))" }
    }

    /// Replaces `${secrets.NAME}` in `text` for the names in `allowed` (the ones the job's own
    /// definition wrote, see `SecretScope`); any other `${secrets.…}` is data and stays as it is.
    public func resolve(_ text: String, allowing allowed: Set<String>) throws(MissingSecret) -> String {
        guard !allowed.isEmpty, Self.mayNameSecret(text.utf8) else { return text }
        var out = ""
        var copied = text.startIndex
        for (range, name) in Self.placeholders(in: text) where allowed.contains(name) || allowed.contains(SecretScope.everyName) {
            guard let value = values[name] else { throw MissingSecret(name: name) }
            out += text[copied..<range.lowerBound]
            out += value
            copied = range.upperBound
        }
        return out + text[copied...]
    }

    /// The names of the `${secrets.NAME}` placeholders in `text`, in order of appearance.
    static func referencedNames(in text: String) -> [String] {
        placeholders(in: text).map(\.name)
    }

    /// Each complete `${secrets.NAME}` in `text`: its range and NAME.
    static func placeholders(in text: String) -> [(range: Range<String.Index>, name: String)] {
        guard mayNameSecret(text.utf8) else { return [] }
        var found: [(range: Range<String.Index>, name: String)] = []
        var rest = text[...]
        while let start = rest.range(of: "${secrets."), let end = rest[start.upperBound...].firstIndex(of: "}") {
            found.append((start.lowerBound..<text.index(after: end), String(rest[start.upperBound..<end])))
            rest = rest[text.index(after: end)...]
        }
        return found
    }

    /// False when `text` has no `${`, so it cannot hold `${secrets.NAME}`: a byte loop, because
    /// Foundation's `contains` (through NSString) on every request was a visible cost.
    public static func mayNameSecret(_ text: some Sequence<UInt8>) -> Bool {
        var afterDollar = false
        for byte in text {
            if afterDollar && byte == UInt8(ascii: "{") { return true }
            afterDollar = byte == UInt8(ascii: "$")
        }
        return false
    }
}
