import Foundation

/// The most a definition document may hold before it is turned into values. A YAML alias
/// repeats a node without repeating its text, so 363 bytes can stand for a billion nodes
/// ("billion laughs"), and every parser here recurses once per nesting level: the limits are
/// checked on the text or on the parser's events, before anything is built, and an error
/// names the limit it hit and its value.
public struct DocumentLimits: Sendable, Equatable {
    /// Bytes of text. AWS caps a state machine definition at 1 MiB, as does the API's default
    /// body cap; a task list that size costs tens of megabytes once parsed.
    public var maxBytes: Int
    /// Nesting levels of arrays and objects (counted through aliases). The parsers recurse per level.
    public var maxDepth: Int
    /// Aliases (`*name`) in one YAML document.
    public var maxAliases: Int
    /// Nodes of a YAML document counted as they expand: an alias counts every node it repeats.
    public var maxExpandedNodes: Int
    /// Tasks in one task list.
    public var maxTasks: Int

    public init(maxBytes: Int = 1_048_576, maxDepth: Int = 128, maxAliases: Int = 1_000,
                maxExpandedNodes: Int = 250_000, maxTasks: Int = 1_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxAliases = maxAliases
        self.maxExpandedNodes = maxExpandedNodes
        self.maxTasks = maxTasks
    }

    /// The limits every definition, trigger and schedule is read with.
    public static let standard = DocumentLimits()

    /// The words every over-limit error ends with: the limit's name and value.
    static func named(_ name: String, _ value: Int) -> String { "(limit \(name) = \(value))" }

    /// Refuses text longer than `maxBytes`.
    func checkSize(_ byteCount: Int, file: String) throws(Document.LoadError) {
        if byteCount > maxBytes {
            throw Document.LoadError(file: file, location: "", message: "document of \(byteCount) bytes is too large \(Self.named("maxBytes", maxBytes))")
        }
    }

    /// Refuses JSON text nested deeper than `maxDepth`, from its bytes (strings skipped), so
    /// no recursive parser meets it.
    func checkJSONDepth(_ text: String, file: String) throws(Document.LoadError) {
        var depth = 0, inString = false, escaped = false, offset = 0
        for byte in text.utf8 {
            defer { offset += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth {
                    throw Document.LoadError(file: file, location: Document.lineAndColumn(of: offset, in: text),
                                             message: "nested more than \(maxDepth) levels deep \(Self.named("maxDepth", maxDepth))")
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
    }
}
