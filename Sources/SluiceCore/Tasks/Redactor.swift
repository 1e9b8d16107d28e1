/// Replaces every secret value a task may have sent with `[redacted]`, in every form a recorded
/// string can carry it: as it is, JSON-escaped (a server that echoes a header into a JSON body
/// writes `\"`, `\\`, `\/`, maybe `\u00e9` or even `\u0041`), escaped twice (that body written
/// into the task's record), and URL-encoded (`%XX` in either case, for any byte an encoder
/// chose, `+` for a space), and percent-encoded JSON.
///
/// Matching only the raw value let an echoed secret holding `"`, `\` or a non-ASCII letter into
/// history. Enumerating encodings cannot keep up with encoders (one escapes `-`, another `/`),
/// so a text is searched in a few decoded *views* instead — JSON-unescaped once and twice,
/// percent-decoded, percent-decoded then unescaped — each remembering which bytes of the text
/// every decoded byte came from; a secret found in any view redacts those bytes of the text.
/// A view is made only when the text holds the bytes that start its escapes (`\`, `%`, `+`),
/// so most texts are searched once, as they are.
///
/// A task's redactor holds the values of the secrets its scope allows (`SecretStore.redactor`);
/// a task without secrets (the common case) gets `none`, which costs one test per outcome.
/// Values shorter than four bytes are not redacted: replacing every `ab` in a body would
/// destroy it, and such a value is no secret.
public struct Redactor: Sendable {
    public static let replacement = "[redacted]"
    static let none = Redactor(values: [])

    /// The secret values' UTF-8 bytes, longest first, so a longer value wins over one it contains.
    private let values: [[UInt8]]
    /// Bit `b` set when some value starts with byte `b`: most bytes of a text are skipped with one test.
    private let firstBytes: (UInt64, UInt64, UInt64, UInt64)

    init(values: some Sequence<String>) {
        var unique: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        for value in values where value.utf8.count >= 4 && seen.insert(Array(value.utf8)).inserted { unique.append(Array(value.utf8)) }
        self.values = unique.sorted { $0.count > $1.count }
        var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for value in unique { Self.set(value[0], in: &bits) }
        firstBytes = bits
    }

    public var isEmpty: Bool { values.isEmpty }

    // MARK: Applying

    public func redact(_ text: String) -> String {
        guard !values.isEmpty else { return text }
        var text = text
        guard let replaced = text.withUTF8({ redacted($0) }) else { return text }
        return String(decoding: replaced, as: UTF8.self)
    }

    public func redact(_ bytes: [UInt8]) -> [UInt8] {
        guard !values.isEmpty else { return bytes }
        return bytes.withUnsafeBufferPointer { redacted($0) } ?? bytes
    }

    public func redact(_ text: String?) -> String? { text.map { redact($0) } }

    /// `bytes` cut at a size cap (a response body, a command's output): besides every whole
    /// secret, a secret's first bytes left at the very end by the cut are redacted too (four
    /// bytes or more, the shortest value redacted at all).
    public func redact(_ bytes: [UInt8], truncated: Bool) -> [UInt8] {
        guard !values.isEmpty else { return bytes }
        var bytes = redact(bytes)
        guard truncated else { return bytes }
        for value in values {
            for length in stride(from: min(value.count - 1, bytes.count), through: 4, by: -1)
            where bytes[(bytes.count - length)...].elementsEqual(value[..<length]) {
                bytes.replaceSubrange((bytes.count - length)..., with: Self.replacementBytes)
                return bytes
            }
        }
        return bytes
    }

    public func redact(_ text: String, truncated: Bool) -> String {
        guard !values.isEmpty, truncated else { return redact(text) }
        return String(decoding: redact(Array(text.utf8), truncated: true), as: UTF8.self)
    }

    /// Every string of an outcome: output, error name, cause and record.
    func redact(_ outcome: TaskOutcome) -> TaskOutcome {
        guard !values.isEmpty else { return outcome }
        let result: TaskOutcome.Result
        switch outcome.result {
        case let .succeeded(output): result = .succeeded(output: redact(output))
        case let .failed(error, cause, retryable, retryAfter):
            result = .failed(error: redact(error), cause: redact(cause), retryable: retryable, retryAfter: retryAfter)
        }
        return TaskOutcome(job: outcome.job, result: result, startedAt: outcome.startedAt, finishedAt: outcome.finishedAt,
                           record: redact(outcome.record), leaseOwner: outcome.leaseOwner)
    }

    /// `completion`, redacting the outcome it is handed (`completion` itself when there is nothing to redact).
    func wrapping(_ completion: @escaping @Sendable (TaskOutcome) -> Void) -> @Sendable (TaskOutcome) -> Void {
        guard !values.isEmpty else { return completion }
        let redactor = self
        return { (outcome: TaskOutcome) in completion(redactor.redact(outcome)) }
    }

    /// The text with every secret replaced, or nil when none occurs (then nothing is copied).
    private func redacted(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var found: [Range<Int>] = []
        search(text, origin: nil, into: &found)
        var backslash = false, percent = false
        for byte in text {
            if byte == UInt8(ascii: "\\") { backslash = true } else if byte == UInt8(ascii: "%") || byte == UInt8(ascii: "+") { percent = true }
        }
        if backslash {
            let once = View.jsonUnescaped(text, parent: nil)
            search(once, into: &found)
            if once.bytes.contains(UInt8(ascii: "\\")) { search(once.bytes.withUnsafeBufferPointer { View.jsonUnescaped($0, parent: once) }, into: &found) }
        }
        if percent {
            let decoded = View.percentDecoded(text)
            search(decoded, into: &found)
            if decoded.bytes.contains(UInt8(ascii: "\\")) {
                search(decoded.bytes.withUnsafeBufferPointer { View.jsonUnescaped($0, parent: decoded) }, into: &found)
            }
        }
        guard !found.isEmpty else { return nil }
        found.sort { $0.lowerBound < $1.lowerBound }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var copied = 0
        for range in found {
            if range.lowerBound >= copied {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied..<range.lowerBound]))
                out.append(contentsOf: Self.replacementBytes)
            }
            copied = max(copied, range.upperBound)   // overlapping finds merge into one replacement
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied...]))
        return out
    }

    private static let replacementBytes = Array(replacement.utf8)

    private func search(_ view: View, into found: inout [Range<Int>]) {
        view.bytes.withUnsafeBufferPointer { search($0, origin: view, into: &found) }
    }

    /// Appends the text's ranges (mapped through `origin` when the bytes are a decoded view) of each secret in `bytes`.
    private func search(_ bytes: UnsafeBufferPointer<UInt8>, origin: View?, into found: inout [Range<Int>]) {
        var index = 0
        scan: while index < bytes.count {
            guard Self.isSet(bytes[index], in: firstBytes) else { index += 1; continue }
            for value in values where value.count <= bytes.count - index && Self.matches(value, bytes, at: index) {
                let last = index + value.count - 1
                found.append(origin.map { Int($0.start[index])..<Int($0.end[last]) } ?? index..<(last + 1))
                // On by one, not past the match: a secret may begin inside another (merged when replaced).
                index += 1
                continue scan
            }
            index += 1
        }
    }

    private static func matches(_ value: [UInt8], _ text: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        for offset in 0..<value.count where text[index + offset] != value[offset] { return false }
        return true
    }

    private static func set(_ byte: UInt8, in bits: inout (UInt64, UInt64, UInt64, UInt64)) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: bits.0 |= bit
        case 1: bits.1 |= bit
        case 2: bits.2 |= bit
        default: bits.3 |= bit
        }
    }

    private static func isSet(_ byte: UInt8, in bits: (UInt64, UInt64, UInt64, UInt64)) -> Bool {
        let word: UInt64
        switch byte >> 6 {
        case 0: word = bits.0
        case 1: word = bits.1
        case 2: word = bits.2
        default: word = bits.3
        }
        return word & (UInt64(1) << UInt64(byte & 63)) != 0
    }

    // MARK: Decoded views

    /// A text decoded once more, with each decoded byte's span in the original text
    /// (`start[i]..<end[i]`), so a secret found here redacts the escapes that spelled it.
    struct View {
        var bytes: [UInt8] = []
        var start: [Int32] = []
        var end: [Int32] = []

        init(capacity: Int) {
            bytes.reserveCapacity(capacity)
            start.reserveCapacity(capacity)
            end.reserveCapacity(capacity)
        }

        /// Appends `decoded`, made from `lower..<upper` of the input, mapped through `parent`.
        private mutating func emit(_ decoded: some Sequence<UInt8>, _ lower: Int, _ upper: Int, parent: View?) {
            let from = parent.map { $0.start[lower] } ?? Int32(lower)
            let to = parent.map { $0.end[upper - 1] } ?? Int32(upper)
            for byte in decoded {
                bytes.append(byte)
                start.append(from)
                end.append(to)
            }
        }

        /// JSON string escapes decoded wherever they appear (`\"` `\\` `\/` `\b` `\f` `\n` `\r`
        /// `\t`, `\uXXXX` in either case, surrogate pairs joined); anything else is kept.
        static func jsonUnescaped(_ text: UnsafeBufferPointer<UInt8>, parent: View?) -> View {
            var view = View(capacity: text.count)
            var index = 0
            while index < text.count {
                let byte = text[index]
                guard byte == UInt8(ascii: "\\"), index + 1 < text.count else {
                    view.emit(CollectionOfOne(byte), index, index + 1, parent: parent)
                    index += 1
                    continue
                }
                let short: UInt8?
                switch text[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): short = text[index + 1]
                case UInt8(ascii: "b"): short = 0x08
                case UInt8(ascii: "f"): short = 0x0C
                case UInt8(ascii: "n"): short = 0x0A
                case UInt8(ascii: "r"): short = 0x0D
                case UInt8(ascii: "t"): short = 0x09
                default: short = nil
                }
                if let short {
                    view.emit(CollectionOfOne(short), index, index + 2, parent: parent)
                    index += 2
                } else if let unit = hex4(text, at: index) {
                    var scalar = Unicode.Scalar(unit)
                    var length = 6
                    if (0xD800..<0xDC00).contains(unit), let low = hex4(text, at: index + 6), (0xDC00..<0xE000).contains(low) {
                        scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                        length = 12
                    }
                    if let scalar {
                        view.emit(String(scalar).utf8, index, index + length, parent: parent)
                    } else {
                        view.emit(UnsafeBufferPointer(rebasing: text[index..<(index + 6)]), index, index + 6, parent: parent)
                        length = 6
                    }
                    index += length
                } else {
                    view.emit(CollectionOfOne(byte), index, index + 1, parent: parent)
                    index += 1
                }
            }
            return view
        }

        /// `%XX` (either case) decoded to its byte and `+` to a space; anything else is kept.
        static func percentDecoded(_ text: UnsafeBufferPointer<UInt8>) -> View {
            var view = View(capacity: text.count)
            var index = 0
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: "%"), index + 2 < text.count, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) {
                    view.emit(CollectionOfOne(high << 4 | low), index, index + 3, parent: nil)
                    index += 3
                } else {
                    view.emit(CollectionOfOne(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte), index, index + 1, parent: nil)
                    index += 1
                }
            }
            return view
        }

        /// The code unit of a `\uXXXX` at `index`, if one is there.
        private static func hex4(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt16? {
            guard index + 5 < text.count, text[index] == UInt8(ascii: "\\"), text[index + 1] == UInt8(ascii: "u") else { return nil }
            var value: UInt16 = 0
            for offset in 2..<6 {
                guard let digit = hexValue(text[index + offset]) else { return nil }
                value = value << 4 | UInt16(digit)
            }
            return value
        }

        private static func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
    }
}
