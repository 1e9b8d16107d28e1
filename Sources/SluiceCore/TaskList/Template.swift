import Foundation
import SluiceStates

/// Mender-style templates: `${workflow.input.KEY}`, `${env.NAME}` (allowlisted names only),
/// `${TASK.json.PATH}` (a dotted path into an earlier task's JSON body or stdout), with an
/// optional fallback `${…|fallback}` and flags `${encoding=url;…}` (`url`, `html`, `plain`).
///
/// `${secrets.NAME}` is left in place: executors resolve it when they act (see `SecretStore`).
///
/// Substitution is one pass over the template text: a value that itself contains `${…}` is
/// inserted as is, never expanded again, so an input cannot inject templates.
public struct TemplateContext: Sendable {
    public var input: [String: JSON]
    public var environment: [String: String]
    /// Earlier tasks' parsed JSON output (HTTP body or stdout), by task name.
    public var results: [String: JSON]
    /// Inputs the definition declares optional: missing, they render as "" (Mender's way)
    /// instead of failing the task as any other missing value does.
    public var optionalInputs: Set<String>

    public init(input: [String: JSON], environment: [String: String] = [:], results: [String: JSON] = [:], optionalInputs: Set<String> = []) {
        self.input = input
        self.environment = environment
        self.results = results
        self.optionalInputs = optionalInputs
    }
}

public struct TemplateError: Error, CustomStringConvertible, Equatable {
    public let expression: String
    public let message: String
    public var description: String { "${\(expression)}: \(message)" }
}

public enum Template {
    /// The expressions a template names, for validation.
    public static func expressions(in text: String) -> [String] {
        var found: [String] = []
        scan(text) { found.append($0) }
        return found
    }

    /// Renders `text`; a missing value without fallback is an error naming the expression.
    /// `inputEncoding`: how an input's value is inserted when the expression names no encoding
    /// (`url` in an HTTP task's `uri`, as Mender does, so an input cannot change the URL's shape).
    public static func render(_ text: String, _ context: TemplateContext, inputEncoding: String = "plain") throws(TemplateError) -> String {
        var out = ""
        var rest = text[...]
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                out += rest[start.lowerBound...]
                return out
            }
            let expression = String(rest[start.upperBound..<end])
            out += try evaluate(expression, context, inputEncoding: inputEncoding).text
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    /// A whole-string template (`"${workflow.input.count}"`) keeps the value's JSON type.
    public static func renderValue(_ text: String, _ context: TemplateContext) throws(TemplateError) -> JSON {
        if text.hasPrefix("${"), text.hasSuffix("}"), text.dropFirst(2).firstIndex(of: "}") == text.index(before: text.endIndex) {
            let (value, _) = try evaluate(String(text.dropFirst(2).dropLast()), context)
            return value
        }
        return .string(try render(text, context))
    }

    /// Renders every string inside a JSON value (keys left as they are).
    public static func renderJSON(_ value: JSON, _ context: TemplateContext) throws(TemplateError) -> JSON {
        switch value {
        case let .string(text): return try renderValue(text, context)
        case let .array(items):
            var rendered: [JSON] = []
            for item in items { rendered.append(try renderJSON(item, context)) }
            return .array(rendered)
        case let .object(pairs):
            var rendered: [(String, JSON)] = []
            for (key, item) in pairs { rendered.append((key, try renderJSON(item, context))) }
            return .object(rendered)
        default: return value
        }
    }

    private static func scan(_ text: String, _ visit: (String) -> Void) {
        var rest = text[...]
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            visit(String(rest[start.upperBound..<end]))
            rest = rest[rest.index(after: end)...]
        }
    }

    /// Splits `flags;identifier|fallback`.
    /// `encoding` is nil when the expression sets none.
    static func parse(_ expression: String) -> (encoding: String?, identifier: String, fallback: String?) {
        var body = Substring(expression)
        var encoding: String?
        if let semicolon = body.firstIndex(of: ";"), body[..<semicolon].contains("=") {
            for flag in body[..<semicolon].split(separator: ",") {
                let parts = flag.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == "encoding" { encoding = String(parts[1]) }
            }
            body = body[body.index(after: semicolon)...]
        }
        var fallback: String?
        if let bar = body.firstIndex(of: "|") {
            fallback = String(body[body.index(after: bar)...])
            body = body[..<bar]
        }
        return (encoding, String(body), fallback)
    }

    private static func evaluate(_ expression: String, _ context: TemplateContext, inputEncoding: String = "plain") throws(TemplateError) -> (value: JSON, text: String) {
        let (flag, identifier, fallback) = parse(expression)
        // An input's value takes `inputEncoding` unless the expression says otherwise; a fallback,
        // an environment variable or an earlier result is inserted plain (as Mender does).
        var encoding = flag ?? "plain"
        if identifier.hasPrefix("secrets.") {
            // Left for the executor to resolve at the last moment, so no value is ever stored.
            return (.string("${\(identifier)}"), "${\(identifier)}")
        }
        var value: JSON?
        if identifier.hasPrefix("workflow.input.") {
            let key = String(identifier.dropFirst("workflow.input.".count))
            value = context.input[key]
            if flag == nil, let found = value, found != .null, found != .string("") { encoding = inputEncoding }
            if value == nil || value == .null || value == .string(""), fallback == nil, context.optionalInputs.contains(key) { return (.string(""), "") }
        } else if identifier.hasPrefix("env.") {
            value = context.environment[String(identifier.dropFirst(4))].map(JSON.string)
        } else if let range = identifier.range(of: ".json.") {
            let task = String(identifier[..<range.lowerBound])
            value = context.results[task]?.lookup(path: String(identifier[range.upperBound...]))
        } else if identifier.hasSuffix(".json"), let whole = context.results[String(identifier.dropLast(5))] {
            value = whole
        } else {
            throw TemplateError(expression: expression, message: "unknown reference (use workflow.input.KEY, env.NAME or TASK.json.PATH)")
        }
        if value == nil || value == .null || value == .string("") {
            guard let fallback else {
                throw TemplateError(expression: expression, message: "no value (add |fallback to allow a missing one)")
            }
            value = .string(fallback)
        }
        let text = value!.plainText
        switch encoding {
        case "url":
            return (.string(encode(text, url: true)), encode(text, url: true))
        case "html":
            let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
            return (.string(escaped), escaped)
        case "plain":
            return (value!, text)
        default:
            throw TemplateError(expression: expression, message: "unknown encoding '\(encoding)' (url, html or plain)")
        }
    }

    /// Percent-encodes every byte but ASCII letters, digits and `-._~` (RFC 3986's unreserved
    /// set), so the value is one path segment or query value whatever it holds.
    private static func encode(_ text: String, url: Bool) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
