// libFuzzer entry point for the reliability suite (issue 21), compiled by reliability/fuzz.sh
// together with the sources of SluiceStates (JSON parser and writer, JSONPath, intrinsics,
// payload templates, the machine parser and the local interpreter), the task-list template
// scanner (SluiceCore/TaskList/Template.swift) and, for YAML, SluiceCore's document loader
// over Yams and libyaml — all with -sanitize=fuzzer,address, in one module.
//
// The target is chosen by SLUICE_FUZZ_TARGET: json, jsonpath, intrinsic, machine, template,
// yaml. A crash, a sanitizer report, a timeout or an out-of-memory is a finding; wrong but
// harmless results are not (the suite's other tests check those).
import Foundation

enum FuzzTarget: String {
    case json, jsonpath, intrinsic, machine, template, yaml

    static let current: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["SLUICE_FUZZ_TARGET"] ?? "json"
        guard let target = FuzzTarget(rawValue: name) else { fatalError("unknown SLUICE_FUZZ_TARGET \(name)") }
        return target
    }()
}

/// A document every path and intrinsic can reach into.
let sampleInput = try! JSONParser.parse(#"{"a":[1,2,{"b":"c","d":[true,null,3.5]}],"s":"text {} \\","n":-7,"o":{"k":{"k":{"k":1}}},"e":[],"x.y":1}"#)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    switch FuzzTarget.current {
    case .json: fuzzJSON(text)
    case .jsonpath: fuzzJSONPath(text)
    case .intrinsic: fuzzIntrinsic(text)
    case .machine: fuzzMachine(text)
    case .template: fuzzTemplate(text)
    case .yaml: fuzzYAML(text)
    }
    return 0
}

/// Parse; what parses must write back to text that parses to the same text again.
func fuzzJSON(_ text: String) {
    guard let value = try? JSONParser.parse(text) else { return }
    let written = value.description
    guard let again = try? JSONParser.parse(written) else { fatalError("the writer's output does not parse: \(written.prefix(200))") }
    if again.description != written { fatalError("writing is not stable: \(written.prefix(200)) vs \(again.description.prefix(200))") }
}

/// First line: a path; the rest (if it parses): the document. Evaluate and assign.
func fuzzJSONPath(_ text: String) {
    let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    guard let path = try? JSONPath(String(parts[0])) else { return }
    let document = parts.count > 1 ? ((try? JSONParser.parse(String(parts[1]))) ?? sampleInput) : sampleInput
    _ = path.evaluate(document)
    _ = path.assign(.string("v"), into: document)
}

/// The text as a `.$` expression of a Pass state, run by the interpreter with its bounds.
func fuzzIntrinsic(_ text: String) {
    let machine = JSON.object([("StartAt", .string("A")), ("States", .object([("A", .object([
        ("Type", .string("Pass")), ("Parameters", .object([("r.$", .string(text))])), ("End", .bool(true)),
    ]))]))])
    guard let parsed = try? StateMachine(machine) else { return }
    var runner = LocalRunner(machine: parsed)
    runner.maxTransitions = 50
    _ = runner.run(input: sampleInput)
}

/// The text as a whole machine; Task states echo their input.
func fuzzMachine(_ text: String) {
    guard let machine = try? StateMachine(parsing: text) else { return }
    var runner = LocalRunner(machine: machine) { _, input in .success(input) }
    runner.maxTransitions = 200
    _ = runner.run(input: sampleInput)
}

/// Mender templates: scan and render against inputs, results and an allowlisted environment.
func fuzzTemplate(_ text: String) {
    _ = Template.expressions(in: text)
    let context = TemplateContext(input: ["device_id": .string("d-1"), "n": .int(3), "o": sampleInput],
                                  environment: ["HOME": "/root"], results: ["first": sampleInput], optionalInputs: ["opt"])
    for encoding in ["plain", "url"] { _ = try? Template.render(text, context, inputEncoding: encoding) }
}

/// YAML through the loader every definition goes through (its limits first, then Yams).
func fuzzYAML(_ text: String) {
    _ = try? Document.parse(text, file: "fuzz", yaml: true)
}
