/// Parameters, ResultSelector or ItemSelector as the definition writes them, with each `.$`
/// value parsed once when the machine is loaded instead of every time the state runs (a
/// JSONPath parse cost more than the rest of a Pass state).
///
/// Filling gives exactly what filling the raw JSON did: keys ending in `.$` are evaluated and
/// lose the suffix, everything else is copied. An expression that does not parse is kept as
/// text and fails when evaluated, with the error it always had.
indirect enum PayloadTemplate: Sendable {
    /// A subtree with no `.$` key inside: copied as it is.
    case value(JSON)
    case object([(String, PayloadTemplate)])
    case array([PayloadTemplate])
    /// A `.$` value that is a path (`$.x`, `$$.x`).
    case path(JSONPath)
    /// A `.$` value that is an intrinsic call.
    case intrinsic(Intrinsics.Argument)
    /// A `.$` value that does not parse: evaluated (and so failing) as text when reached.
    case expression(String)

    init(_ template: JSON) {
        switch template {
        case let .object(pairs):
            var out: [(String, PayloadTemplate)] = []
            var copied = true
            for (key, value) in pairs {
                if key.hasSuffix(".$"), case let .string(expression) = value {
                    out.append((String(key.dropLast(2)), Self.compile(expression)))
                    copied = false
                } else {
                    let inner = PayloadTemplate(value)
                    if case .value = inner {} else { copied = false }
                    out.append((key, inner))
                }
            }
            self = copied ? .value(template) : .object(out)
        case let .array(items):
            let inner = items.map(PayloadTemplate.init)
            self = inner.allSatisfy({ if case .value = $0 { return true } else { return false } }) ? .value(template) : .array(inner)
        default:
            self = .value(template)
        }
    }

    private static func compile(_ expression: String) -> PayloadTemplate {
        if Intrinsics.isCall(expression) {
            guard let call = try? Intrinsics.parse(expression) else { return .expression(expression) }
            return .intrinsic(call)
        }
        guard let path = try? JSONPath(expression) else { return .expression(expression) }
        return .path(path)
    }

    /// The template filled from the state's `input` and the context object.
    func fill(input: JSON, context: JSON) throws(StatesError) -> JSON {
        switch self {
        case let .value(value):
            return value
        case let .object(pairs):
            var out: [(String, JSON)] = []
            out.reserveCapacity(pairs.count)
            for (key, value) in pairs { out.append((key, try value.fill(input: input, context: context))) }
            return .object(out)
        case let .array(items):
            var out: [JSON] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try item.fill(input: input, context: context)) }
            return .array(out)
        case let .path(path):
            guard let value = path.evaluate(path.context ? context : input) else {
                try EvaluationBudget.current?.raiseIfFailed()
                throw StatesError("States.Runtime", "The JSONPath \(path.text) could not be found in the input")
            }
            return value
        case let .intrinsic(call):
            return try Intrinsics.evaluate(call, input: input, context: context)
        case let .expression(text):
            return try Processing.evaluateExpression(text, input: input, context: context)
        }
    }
}
