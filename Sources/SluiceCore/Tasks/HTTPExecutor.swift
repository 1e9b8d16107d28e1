import Foundation
import SluiceHTTP
import SluiceStates

/// Performs `http` tasks through the shared curl multi client: no thread waits on a request.
///
/// Payload (JSON, templates already rendered):
/// `{"url", "method", "headers": {…}, "body": "text" | "json": value | "form": {…},
///   "statusCodes": [200, …], "retryStatusCodes": […], "connectTimeoutMs", "timeoutMs", "maxBodyBytes"}`
///
/// Success is a status in `statusCodes` (any 2xx when absent). Other statuses fail with
/// `States.Http.StatusCode.NNN`; 5xx and 429 (and `retryStatusCodes`) are retryable, other 4xx
/// are not. No response at all — refused, reset, timed out — is retryable too. Every request
/// carries an `Idempotency-Key` stable across retries (`execution/step`), so a target can make
/// the effect exactly once.
public struct HTTPExecutor: TaskExecutor, StartsWithoutBlocking {
    public let client: CurlMultiClient
    public let metrics: EngineMetrics?
    public let secrets: SecretStore
    /// Response bytes kept in the output and history.
    public let maxBodyBytes: Int

    public init(client: CurlMultiClient, metrics: EngineMetrics? = nil, secrets: SecretStore = SecretStore(), maxBodyBytes: Int = 256 * 1024) {
        self.client = client
        self.metrics = metrics
        self.secrets = secrets
        self.maxBodyBytes = maxBodyBytes
    }

    struct Payload {
        var request: HTTPRequest
        var success: Set<Int>?
        var retryStatuses: Set<Int>
        /// The secrets this task may resolve (`SecretScope`): those its definition wrote.
        var secretNames: Set<String> = []
    }

    public func execute(_ job: ClaimedJob, completion: @escaping @Sendable (TaskOutcome) -> Void) {
        let started = Date().timeIntervalSince1970
        // `StartsWithoutBlocking`: an outcome known before any request is reported from another thread.
        let completeLater: @Sendable (TaskOutcome) -> Void = { outcome in DispatchQueue.global().async { completion(outcome) } }
        let payload: Payload
        do {
            payload = try Self.decode(job.payload, idempotencyKey: "\(job.executionUID)/\(job.step)", maxBodyBytes: maxBodyBytes)
        } catch {
            completeLater(TaskOutcome(job: job, result: .failed(error: "States.Runtime", cause: "\(error)", retryable: false, retryAfter: nil),
                                   startedAt: started, finishedAt: started))
            return
        }
        // Secrets go into the request sent, never into what is recorded (`payload.request` keeps the placeholders).
        var sent = payload.request
        do {
            let allowed = payload.secretNames
            sent.url = try secrets.resolve(sent.url, allowing: allowed)
            if !allowed.isEmpty, sent.headers.contains(where: { SecretStore.mayNameSecret($0.value.utf8) }) {
                sent.headers = try sent.headers.map { ($0.name, try secrets.resolve($0.value, allowing: allowed)) }
            }
            if !allowed.isEmpty, let body = sent.body, SecretStore.mayNameSecret(body), let text = String(bytes: body, encoding: .utf8) {
                sent.body = Array(try secrets.resolve(text, allowing: allowed).utf8)
            }
        } catch {
            completeLater(TaskOutcome(job: job, result: .failed(error: "Sluice.MissingSecret", cause: "\(error)", retryable: false, retryAfter: nil),
                                   startedAt: started, finishedAt: Date().timeIntervalSince1970))
            return
        }
        // curl would also read `file://` and speak ftp, gopher … : only the web's schemes go out.
        // Checked on the URL as sent (a secret or an input may have supplied the scheme); the
        // cause names the URL as written, placeholders and all.
        guard Self.hasWebScheme(sent.url) else {
            let cause = "\(payload.request.method) \(payload.request.url): only http:// and https:// URLs are sent"
            completeLater(TaskOutcome(job: job, result: .failed(error: "Sluice.Http.InvalidRequest", cause: cause, retryable: false, retryAfter: nil),
                                      startedAt: started, finishedAt: Date().timeIntervalSince1970))
            return
        }
        let metrics = metrics
        // Whatever comes back may echo a secret sent (a header, a body, curl's "Could not resolve
        // host: …"): every string recorded or returned passes the task's redactor, the body and
        // headers before they are cut or embedded, the whole outcome at the end.
        let redactor = secrets.redactor(for: payload.secretNames)
        let completion = redactor.wrapping(completion)
        client.perform(sent) { result in
            let finished = Date().timeIntervalSince1970
            switch result {
            case var .success(response):
                metrics?.recordHTTP(statusClass: HTTPExecutor.statusClass(response.status))
                if !redactor.isEmpty {
                    response.body = redactor.redact(response.body, truncated: response.bodyTruncated)
                    response.headers = response.headers.map { ($0.name, redactor.redact($0.value)) }
                }
                let headers = Self.headerObject(response.headers)
                let record = Self.record(payload.request, response: response, headers: headers)
                let ok = payload.success.map { $0.contains(response.status) } ?? (200..<300).contains(response.status)
                if ok {
                    completion(TaskOutcome(job: job, result: .succeeded(output: Self.output(response, headers: headers)), startedAt: started,
                                           finishedAt: finished, record: record))
                } else {
                    let retryable = response.status >= 500 || response.status == 429 || payload.retryStatuses.contains(response.status)
                    let cause = "HTTP \(response.status) from \(payload.request.method) \(payload.request.url): "
                        + String(decoding: response.body.prefix(512), as: UTF8.self)
                    completion(TaskOutcome(job: job, result: .failed(error: "States.Http.StatusCode.\(response.status)", cause: cause,
                                                                     retryable: retryable, retryAfter: response.retryAfterSeconds),
                                           startedAt: started, finishedAt: finished, record: record))
                }
            case let .failure(error):
                metrics?.recordHTTP(statusClass: "error")
                // A request that cannot be sent as it stands (a bad URL, a header with a line break) fails the same way every time.
                let invalid = error.isInvalidRequest
                let name = error.isTimeout ? "States.Timeout" : invalid ? "Sluice.Http.InvalidRequest" : "Sluice.Http.NoResponse"
                let record = JSONText.object(["request": .raw(Self.describe(payload.request)), "error": .string(error.description),
                                              "durationMs": .int(Int((finished - started) * 1000))])
                completion(TaskOutcome(job: job, result: .failed(error: name, cause: "\(payload.request.method) \(payload.request.url): \(error)",
                                                                 retryable: !invalid, retryAfter: nil),
                                       startedAt: started, finishedAt: finished, record: record))
            }
        }
    }

    /// Whether `url` starts with `http://` or `https://`, in any case: a byte test per request.
    static func hasWebScheme(_ url: String) -> Bool {
        var index = 0
        for byte in url.utf8 {
            let lower = byte | 0x20
            switch index {
            case 0: guard lower == UInt8(ascii: "h") else { return false }
            case 1, 2: guard lower == UInt8(ascii: "t") else { return false }
            case 3: guard lower == UInt8(ascii: "p") else { return false }
            case 4: if lower == UInt8(ascii: "s") { index = 5; continue }; guard byte == UInt8(ascii: ":") else { return false }; index = 6; continue
            case 5: guard byte == UInt8(ascii: ":") else { return false }
            case 6, 7: guard byte == UInt8(ascii: "/") else { return false }
            default: return true
            }
            index += 1
        }
        return index >= 8
    }

    /// `2xx` … for the metrics label, without formatting a String per response.
    static func statusClass(_ status: Int) -> String {
        switch status / 100 {
        case 1: return "1xx"
        case 2: return "2xx"
        case 3: return "3xx"
        case 4: return "4xx"
        case 5: return "5xx"
        default: return "\(status / 100)xx"
        }
    }

    struct PayloadError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func decode(_ text: String, idempotencyKey: String, maxBodyBytes: Int) throws -> Payload {
        // SluiceStates' parser, not JSONSerialization: no bridging to Foundation objects per job.
        guard let parsed = try? JSONParser.parse(text), case let .object(fields) = parsed else {
            throw PayloadError(message: "http task parameters are not a JSON object")
        }
        var object: [String: JSON] = [:]
        for (key, value) in fields { object[key] = value }   // the last of duplicate keys wins, as before
        guard case let .string(url)? = object["url"], !url.isEmpty else { throw PayloadError(message: "http task needs a url") }
        var method = "GET"
        if case let .string(given)? = object["method"] { method = given == "GET" ? given : given.uppercased() }
        var request = HTTPRequest(url: url, method: method)
        var headers = Self.textPairs(object["headers"])
        if case let .string(body)? = object["body"] {
            request.body = Array(body.utf8)
        } else if let json = object["json"], json != .null {
            request.body = Array(json.description.utf8)
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) { headers.append(("Content-Type", "application/json")) }
        } else if let form = object["form"], case .object = form {
            request.body = Array(Self.formEncoded(Self.textPairs(form)).utf8)
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
                headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            }
        }
        if !headers.contains(where: { $0.name.lowercased() == "idempotency-key" }) { headers.append(("Idempotency-Key", idempotencyKey)) }
        request.headers = headers
        if let connect = Self.integer(object["connectTimeoutMs"]) { request.connectTimeoutMilliseconds = connect }
        if let total = Self.integer(object["timeoutMs"]) { request.totalTimeoutMilliseconds = total }
        // A task may lower the executor's cap, never raise it: the body is held in memory whole,
        // and a definition asking for 1e12 bytes could make one response exhaust the process.
        request.maxResponseBodyBytes = min(Self.integer(object["maxBodyBytes"]) ?? maxBodyBytes, maxBodyBytes)
        let success = Self.integers(object["statusCodes"])
        let retry = Self.integers(object["retryStatusCodes"]) ?? []
        return Payload(request: request, success: success.map(Set.init), retryStatuses: Set(retry),
                       secretNames: SecretScope.allowed(in: parsed))
    }

    /// An object's members as text, sorted by name (strings as they are, other values as JSON).
    private static func textPairs(_ value: JSON?) -> [(name: String, value: String)] {
        guard case let .object(pairs)? = value else { return [] }
        var latest: [String: String] = [:]
        for (name, value) in pairs {
            if case let .string(text) = value { latest[name] = text } else { latest[name] = value.description }
        }
        return latest.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    /// `application/x-www-form-urlencoded` as HTML forms send it: `*-._` and ASCII letters and
    /// digits as they are, space as `+`, every other byte `%XX`. (URLComponents leaves a `+` as it
    /// is, and the server reads it as a space.)
    static func formEncoded(_ pairs: [(name: String, value: String)]) -> String {
        func encode(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                    out.unicodeScalars.append(UnicodeScalar(byte))
                case UInt8(ascii: " "): out += "+"
                default: out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
                }
            }
            return out
        }
        return pairs.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
    }

    /// A JSON number as an Int (fractions truncated), nil for anything else.
    private static func integer(_ value: JSON?) -> Int? {
        switch value {
        case let .int(number)?: return Int(exactly: number)
        case let .double(number)?: return number.isFinite && abs(number) < 1e18 ? Int(number) : nil
        default: return nil
        }
    }

    private static func integers(_ value: JSON?) -> [Int]? {
        guard case let .array(items)? = value else { return nil }
        return items.compactMap { integer($0) }
    }

    /// The task's output: status, headers, and the body as JSON when it parses (`json`) and as text.
    /// `headers` is `headerObject(response.headers)`, made once for the output and the record.
    static func output(_ response: HTTPResponse, headers: String) -> String {
        let json = !response.body.isEmpty && JSONValidator.isValid(response.body) ? String(decoding: response.body, as: UTF8.self) : "null"
        return JSONText.object(["status": .int(response.status), "headers": .raw(headers),
                                "json": .raw(json), "body": .utf8(response.body[...]),
                                "truncated": .bool(response.bodyTruncated)])
    }

    /// What history keeps: the request, the status, headers, body (capped, with a flag) and duration.
    static func record(_ request: HTTPRequest, response: HTTPResponse, headers: String) -> String {
        JSONText.object(["request": .raw(describe(request)), "status": .int(response.status),
                         "headers": .raw(headers),
                         "body": .utf8(response.body.prefix(16 * 1024)),
                         "truncated": .bool(response.bodyTruncated || response.body.count > 16 * 1024),
                         "durationMs": .int(Int(response.durationSeconds * 1000))])
    }

    static func describe(_ request: HTTPRequest) -> String {
        // Authorization-like headers are not written to history.
        let headers = request.headers.map { header -> (name: String, value: String) in
            let lower = header.name.lowercased()
            return (header.name, lower == "authorization" || ByteSearch.contains(lower, "token") || ByteSearch.contains(lower, "secret") ? "[redacted]" : header.value)
        }
        // The body as sent (secrets still placeholders), capped as a response body is.
        guard let body = request.body else {
            return JSONText.object(["method": .string(request.method), "url": .string(request.url),
                                    "headers": .raw(headerObject(headers)), "bodyBytes": .int(0)])
        }
        return JSONText.object(["method": .string(request.method), "url": .string(request.url),
                                "headers": .raw(headerObject(headers)), "bodyBytes": .int(body.count),
                                "body": .utf8(body.prefix(16 * 1024)), "bodyTruncated": .bool(body.count > 16 * 1024)])
    }

    /// `{"name": "value", …}` with names lower-cased (ASCII), written as bytes into one buffer:
    /// it runs twice per response, and a String per quoted part showed up in profiles.
    static func headerObject(_ headers: [(name: String, value: String)]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64 + headers.count * 48)
        out.append(UInt8(ascii: "{"))
        for (index, header) in headers.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendQuoted(header.name, lowercasingASCII: true, to: &out)
            out.append(UInt8(ascii: ":"))
            appendQuoted(header.value, lowercasingASCII: false, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON string literal, escaped byte by byte; names lower-cased (ASCII: header names are
    /// tokens) in the buffer after escaping, which leaves the escapes as they are.
    private static func appendQuoted(_ text: String, lowercasingASCII: Bool, to out: inout [UInt8]) {
        var text = text
        let start = out.count
        text.withUTF8 { JSONText.appendQuoted(utf8: $0, to: &out) }
        if lowercasingASCII {
            for index in start..<out.count where out[index] >= 0x41 && out[index] <= 0x5A { out[index] |= 0x20 }
        }
    }
}
