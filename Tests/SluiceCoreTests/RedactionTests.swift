import Foundation
import Testing
import SluiceStates
@testable import SluiceCore

/// Secrets never leave the process (issue 21): whatever a task records — output, error, cause,
/// history, headers, bodies, command output — holds no secret value in any encoding.
@Suite struct RedactionTests {
    /// Every secret below holds `Zq9Xv`, which no encoding changes (letters and digits are never
    /// escaped): if any form of a secret reached a record, this core did too.
    static let core = "Zq9Xv"
    static let secret = #"Zq9Xv-"quote"\back\é/ end"#

    /// Every string the execution left behind: its record and each history line.
    static func recorded(_ harness: TaskListTests.Harness, _ record: ExecutionRecord) throws -> [String] {
        var texts = [record.input, record.output ?? "", record.error ?? "", record.cause ?? ""]
        for event in try harness.store.history(uid: record.uid) { texts += [event.type, event.step ?? "", event.details ?? ""] }
        return texts
    }

    static func machine(_ parameters: String, resource: String = "http") -> String {
        #"{"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "\#(resource)", "Parameters": \#(parameters), "End": true}}}"#
    }

    @Test func anEchoedSecretIsRedactedInEveryEncoding() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness(Self.machine("""
            {"url": "\(server.baseURL)/reflect", "method": "POST", "headers": {"X-Value": "${secrets.KEY}"}, "body": "${secrets.KEY}"}
            """), secrets: ["KEY": Self.secret], name: "reflect")
        let record = try harness.finish(try harness.start("reflect", "{}"))
        #expect(record.status == .succeeded)
        // The server did get the secret and handed it back, header and body, in four encodings.
        #expect(server.requests.first?.headers["x-value"] == Self.secret)
        #expect(server.requests.first?.body == Self.secret)
        let texts = try Self.recorded(harness, record)
        #expect(texts.contains { $0.contains("[redacted]") })
        #expect(texts.contains { $0.contains(#""x-reflected":"[redacted]""#) })
        #expect(!texts.contains { $0.contains(Self.core) }, "\(texts.filter { $0.contains(Self.core) })")
    }

    @Test func aFailedStatusCauseQuotesTheBodyRedacted() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness(Self.machine("""
            {"url": "\(server.baseURL)/reflect?status=400", "method": "POST", "body": "${secrets.KEY}"}
            """), secrets: ["KEY": Self.secret], name: "refused")
        let record = try harness.finish(try harness.start("refused", "{}"))
        #expect(record.status == .failed)
        #expect(record.cause?.contains("[redacted]") == true)
        let texts = try Self.recorded(harness, record)
        #expect(!texts.contains { $0.contains(Self.core) }, "\(texts.filter { $0.contains(Self.core) })")
    }

    /// A body cut at `maxBodyBytes` inside the echoed secret keeps none of its first bytes.
    @Test func aBodyCutInsideASecretKeepsNoneOfIt() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let harness = try TaskListTests.Harness(Self.machine("""
            {"url": "\(server.baseURL)/reflect", "method": "POST", "body": "${secrets.KEY}", "maxBodyBytes": 12}
            """), secrets: ["KEY": Self.secret], name: "cut")
        let record = try harness.finish(try harness.start("cut", "{}"))
        #expect(record.status == .succeeded)
        let texts = try Self.recorded(harness, record)
        #expect(texts.contains { $0.contains(#""truncated":true"#) })
        #expect(!texts.contains { $0.contains("Zq9X") }, "\(texts.filter { $0.contains("Zq9X") })")
    }

    /// curl names the host it could not resolve: "Could not resolve host: <secret>.invalid".
    @Test func aHostBuiltFromASecretIsRedactedInTheCause() throws {
        let harness = try TaskListTests.Harness(Self.machine("""
            {"url": "http://${secrets.HOST}.invalid/x", "method": "GET", "connectTimeoutMs": 5000}
            """), secrets: ["HOST": "zq9xv-\(Self.core)-host"], name: "unresolvable")
        let record = try harness.finish(try harness.start("unresolvable", "{}"), timeout: 30)
        #expect(record.status == .failed)
        #expect(record.error == "Sluice.Http.NoResponse")
        let texts = try Self.recorded(harness, record)
        #expect(!texts.contains { $0.contains(Self.core) }, "\(texts.filter { $0.contains(Self.core) })")
    }

    /// `file://` would have curl read a local file and name it in the error; ftp resolves a host.
    /// (A literal `file://` is refused when the definition loads; a secret can still supply one.)
    @Test(arguments: ["file:///nonexistent/k-\(core)-k", "ftp://k-\(core)-k.invalid/x", "FILE:///etc/hostname#k-\(core)-k"])
    func aURLOfAnotherSchemeIsRefusedWithoutTheSecret(url: String) throws {
        let harness = try TaskListTests.Harness(Self.machine(#"{"url": "${secrets.URL}", "method": "GET"}"#),
                                                secrets: ["URL": url], name: "scheme")
        let record = try harness.finish(try harness.start("scheme", "{}"))
        #expect(record.status == .failed)
        #expect(record.error == "Sluice.Http.InvalidRequest")
        #expect(record.cause?.contains("only http:// and https://") == true)
        let texts = try Self.recorded(harness, record)
        #expect(!texts.contains { $0.contains(Self.core) }, "\(texts.filter { $0.contains(Self.core) })")
    }

    @Test func aCommandsOutputAndErrorsAreRedacted() throws {
        // The child writes the secret JSON-escaped on stdout and raw on stderr, then fails.
        let script = #"printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; printf '%s' "$1" >&2; exit 3"#
        let parameters = JSON.object([("command", .array([.string("sh"), .string("-c"), .string(script), .string("sh"), .string("${secrets.KEY}")]))])
        let harness = try TaskListTests.Harness(Self.machine(parameters.description, resource: "command"), allowCommands: true,
                                                secrets: ["KEY": Self.secret], name: "shell")
        let record = try harness.finish(try harness.start("shell", "{}"))
        #expect(record.status == .failed)
        #expect(record.cause?.contains("[redacted]") == true)
        let texts = try Self.recorded(harness, record)
        #expect(!texts.contains { $0.contains(Self.core) }, "\(texts.filter { $0.contains(Self.core) })")
    }

    /// A program that cannot start is named in the error: a secret path is redacted there too.
    @Test func aCommandThatCannotStartDoesNotNameTheSecret() throws {
        let parameters = #"{"command": ["/nonexistent/${secrets.KEY}"]}"#
        let harness = try TaskListTests.Harness(Self.machine(parameters, resource: "command"), allowCommands: true,
                                                secrets: ["KEY": "k-\(Self.core)-k"], name: "missing")
        let record = try harness.finish(try harness.start("missing", "{}"))
        #expect(record.status == .failed)
        let texts = try Self.recorded(harness, record)
        #expect(!texts.contains { $0.contains(Self.core) }, "\(texts.filter { $0.contains(Self.core) })")
    }

    @Test func everyEncodingIsFound() {
        let redactor = Redactor(values: ["a\"b\\c/é d-e"])
        for form in [#"a"b\c/é d-e"#, #"a\"b\\c/é d-e"#, #"a\"b\\c\/é d-e"#, #"a\"b\\c/\u00e9 d-e"#, #"a\"b\\c\/\u00E9 d-e"#,
                     #"\u0061\"b\\c/é d-e"#, "a%22b%5Cc%2F%C3%A9%20d-e", "a%22b%5cc%2f%c3%a9+d%2De", "a%22b%5Cc/%C3%A9%20d-e",
                     #"a\\\"b\\\\c/é d-e"#, #"a\\\"b\\\\c\\/\\u00e9 d-e"#, "a%5C%22b%5C%5Cc/é d-e"] {
            #expect(redactor.redact("<\(form)>") == "<[redacted]>", "\(form)")
        }
        #expect(redactor.redact(Array("x a\"b\\c/é d-e y".utf8)) == Array("x [redacted] y".utf8))
        #expect(redactor.redact("no secret \\u00e9 %41 here") == "no secret \\u00e9 %41 here")
        // An emoji's surrogate pair, and two secrets that overlap.
        #expect(Redactor(values: ["k😀key"]).redact(#"[k\ud83d\ude00key]"#) == "[[redacted]]")
        #expect(Redactor(values: ["abcdef", "cdefgh"]).redact("xabcdefghx") == "x[redacted]x")
        #expect(Redactor(values: ["abc"]).isEmpty)   // too short to be a secret
        // A body cut by a size cap inside a secret: its first bytes at the end go too.
        let cut = Redactor(values: ["Zq9Xv-secret"])
        #expect(cut.redact(Array("body ends Zq9Xv-se".utf8), truncated: true) == Array("body ends [redacted]".utf8))
        #expect(cut.redact(Array("body ends Zq9Xv-se".utf8), truncated: false) == Array("body ends Zq9Xv-se".utf8))
        #expect(cut.redact("ends Zq9", truncated: true) == "ends Zq9")   // three bytes say nothing
        #expect(SecretStore(values: ["K": "value-1"]).redactor(for: []).isEmpty)
        #expect(SecretStore(values: ["K": "value-1"]).redactor(for: ["*"]).redact("a value-1 b") == "a [redacted] b")
        #expect(SecretStore(values: ["K": "value-1", "L": "other-2"]).redactor(for: ["L"]).redact("value-1 other-2") == "value-1 [redacted]")
    }
}
