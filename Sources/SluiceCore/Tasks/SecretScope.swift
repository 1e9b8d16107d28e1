import SluiceStates

/// Which `${secrets.NAME}` placeholders a job may resolve: only those its definition wrote.
///
/// A job's payload mixes the definition's text with data: inputs, earlier tasks' results,
/// values a JSONPath selected. Data can hold the text `${secrets.NAME}` as well, and resolving
/// it would let whoever submits an input (or answers an earlier request) have any secret sent
/// to a target. So a program names the secrets each Task state's own static parameters mention
/// (`names(inParameters:)`, once, when the definition loads), the store seals that list into
/// the job's payload under `sluice.secrets` when it inserts the job (`seal`, which drops any
/// such key the data brought along), and the executors resolve those names only; any other
/// placeholder goes out as the text it is.
enum SecretScope {
    static let key = "sluice.secrets"
    private static let keyText: StaticString = "sluice.secrets"   // `key`, for `ByteSearch`

    /// The secret names in the static strings of a Task state's Parameters: keys ending in
    /// `.$` are JSONPaths or intrinsics over data, not text of the definition, and are skipped.
    static func names(inParameters value: JSON) -> [String] {
        var names: [String] = []
        func walk(_ value: JSON) {
            switch value {
            case let .string(text): names.append(contentsOf: SecretStore.referencedNames(in: text))
            case let .array(items): items.forEach(walk)
            case let .object(pairs): for (key, item) in pairs where !key.hasSuffix(".$") { walk(item) }
            default: break
            }
        }
        walk(value)
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// `payload` with `names` as its `sluice.secrets` list, and without any list it had.
    /// With no names, the payload is parsed only when its text could spell the key: as it is,
    /// or through any escape (JSON allows only `\u` for its letters and dot, but a lenient
    /// reader is one bug away, so any backslash counts).
    static func seal(_ payload: String, names: [String]) -> String {
        // Runs for every job stored: byte scans, not Foundation's `contains`.
        guard !names.isEmpty || ByteSearch.contains(payload, keyText) || payload.utf8.contains(UInt8(ascii: "\\")) else { return payload }
        guard case let .object(pairs)? = JSON(parsing: payload) else { return payload }
        var kept = pairs.filter { $0.0 != key }
        if kept.count == pairs.count && names.isEmpty { return payload }
        if !names.isEmpty { kept.append((key, .array(names.map(JSON.string)))) }
        return JSON.object(kept).description
    }

    /// The names a sealed payload allows. `*`, every name, is what migration 5 gave the jobs
    /// queued before scopes existed (a payload's data cannot carry it: `seal` drops the key).
    static func allowed(in payload: JSON) -> Set<String> {
        guard case let .array(items)? = payload[key] else { return [] }
        return Set(items.compactMap { if case let .string(name) = $0 { return name } else { return nil } })
    }

    /// The `*` grant of jobs queued before scopes.
    static let everyName = "*"
}
