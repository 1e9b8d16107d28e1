/// Substring tests on a String's UTF-8 bytes, for hot paths (a header name per request, a
/// payload per stored job). Neither Foundation's `contains` (through NSString) nor
/// `firstRange(of:)` (generic, it was 4% of a bench run) is cheap enough there.
enum ByteSearch {
    /// Whether `text` holds `part` (short ASCII) anywhere.
    static func contains(_ text: String, _ part: StaticString) -> Bool {
        let needle = UnsafeBufferPointer(start: part.utf8Start, count: part.utf8CodeUnitCount)
        guard let first = needle.first else { return true }
        var text = text
        return text.withUTF8 { haystack in
            guard haystack.count >= needle.count else { return false }
            var start = 0
            while start <= haystack.count - needle.count {
                if haystack[start] == first, (1..<needle.count).allSatisfy({ haystack[start + $0] == needle[$0] }) { return true }
                start += 1
            }
            return false
        }
    }
}
