import Foundation
// Yams' own C module (libyaml), visible to its dependents; its event API is what lets a
// document be measured before Yams builds it. Yams is pinned (6.2.2), so this is stable.
internal import CYaml

/// Walks a YAML text's parser events, before Yams composes it, and refuses a document whose
/// aliases would expand past the limits. Yams resolves an alias to the node it names, so
/// composing is cheap, but hashing a mapping key and turning the tree into values both walk
/// every repetition: the nodes are counted here as they would expand (an alias adds the
/// whole count of its anchor's node), with the depth they reach, and the walk stops at the
/// first event over a limit. It also refuses a list or map used as a mapping key, on which
/// Yams' constructor traps. A syntax error ends the walk quietly: Yams reports it, and it
/// stops at the same place.
enum YAMLBudget {
    /// A collection being read: its expanded node count and height so far (a scalar's height
    /// is 0, so the height is the collection levels a node adds).
    private struct Open {
        var anchor: String?
        var isMapping: Bool
        var nodes = 1
        var height = 1
        /// Children finished so far: in a mapping, an even count means a key comes next.
        var children = 0
    }

    static func check(_ text: String, file: String, limits: DocumentLimits) throws(Document.LoadError) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        let problem: Document.LoadError? = bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            do throws(Document.LoadError) { try walk(&parser, file: file, limits: limits) } catch { return error }
            return nil
        }
        if let problem { throw problem }
    }

    private static func walk(_ parser: inout yaml_parser_t, file: String, limits: DocumentLimits) throws(Document.LoadError) {
        // Each anchor's expanded size and height, set when its node ends (as Yams registers it).
        var anchors: [String: (nodes: Int, height: Int)] = [:]
        var stack: [Open] = []
        var total = 0, aliases = 0
        var event = yaml_event_t()
        func fail(_ message: String) -> Document.LoadError {
            let mark = event.start_mark
            return Document.LoadError(file: file, location: "\(mark.line + 1):\(mark.column + 1)", message: message)
        }
        /// Adds a finished node (or an alias's copy) to its parent and to the document's total.
        func add(nodes: Int, height: Int) throws(Document.LoadError) {
            total += nodes
            if total > limits.maxExpandedNodes {
                throw fail("aliases expand the document past \(limits.maxExpandedNodes) nodes \(DocumentLimits.named("maxExpandedNodes", limits.maxExpandedNodes))")
            }
            if stack.count + height > limits.maxDepth {
                throw fail("nested more than \(limits.maxDepth) levels deep \(DocumentLimits.named("maxDepth", limits.maxDepth))")
            }
            if !stack.isEmpty {
                stack[stack.count - 1].children += 1
                stack[stack.count - 1].nodes += nodes
                stack[stack.count - 1].height = max(stack[stack.count - 1].height, height + 1)
            }
        }
        /// Yams turns every mapping key into a string and traps on one that is a list or a map.
        func refuseCollectionKey() throws(Document.LoadError) {
            if let parent = stack.last, parent.isMapping, parent.children % 2 == 0 {
                throw fail("a mapping key must be text or a number, not a list or a map")
            }
        }
        func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else { return }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_SCALAR_EVENT:
                if let anchor = string(event.data.scalar.anchor) { anchors[anchor] = (1, 0) }
                try add(nodes: 1, height: 0)
            case YAML_ALIAS_EVENT:
                aliases += 1
                if aliases > limits.maxAliases {
                    throw fail("more than \(limits.maxAliases) aliases \(DocumentLimits.named("maxAliases", limits.maxAliases))")
                }
                // An unknown anchor is Yams' error to report; count it as one node.
                let target = string(event.data.alias.anchor).flatMap { anchors[$0] } ?? (1, 0)
                if target.height > 0 { try refuseCollectionKey() }
                try add(nodes: target.nodes, height: target.height)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let anchor = event.type == YAML_SEQUENCE_START_EVENT ? string(event.data.sequence_start.anchor) : string(event.data.mapping_start.anchor)
                try refuseCollectionKey()
                stack.append(Open(anchor: anchor, isMapping: event.type == YAML_MAPPING_START_EVENT))
                if stack.count > limits.maxDepth {
                    throw fail("nested more than \(limits.maxDepth) levels deep \(DocumentLimits.named("maxDepth", limits.maxDepth))")
                }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let node = stack.popLast() else { return }
                if let anchor = node.anchor { anchors[anchor] = (node.nodes, node.height) }
                // The node's children are in the total already; the node itself is one more.
                total -= node.nodes - 1
                try add(nodes: node.nodes, height: node.height)
            default:
                break
            }
        }
    }
}
