import Foundation
import SluiceHTTP

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
public struct HTTPExecutor: TaskExecutor {
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
    }

    public func execute(_ job: ClaimedJob, completion: @escaping @Sendable (TaskOutcome) -> Void) {
        let started = Date().timeIntervalSince1970
        let payload: Payload
        do {
            payload = try Self.decode(job.payload, idempotencyKey: "\(job.executionUID)/\(job.step)", maxBodyBytes: maxBodyBytes)
        } catch {
            completion(TaskOutcome(job: job, result: .failed(error: "States.Runtime", cause: "\(error)", retryable: false, retryAfter: nil),
                                   startedAt: started, finishedAt: started))
            return
        }
        // Secrets go into the request sent, never into what is recorded (`payload.request` keeps the placeholders).
        var sent = payload.request
        do {
            sent.url = try secrets.resolve(sent.url)
            sent.headers = try sent.headers.map { ($0.name, try secrets.resolve($0.value)) }
            if let body = sent.body, let text = String(bytes: body, encoding: .utf8), text.contains("${secrets.") {
                sent.body = Array(try secrets.resolve(text).utf8)
            }
        } catch {
            completion(TaskOutcome(job: job, result: .failed(error: "Sluice.MissingSecret", cause: "\(error)", retryable: false, retryAfter: nil),
                                   startedAt: started, finishedAt: Date().timeIntervalSince1970))
            return
        }
        let metrics = metrics
        let store = secrets
        client.perform(sent) { result in
            let finished = Date().timeIntervalSince1970
            switch result {
            case var .success(response):
                metrics?.recordHTTP(statusClass: "\(response.status / 100)xx")
                if !store.values.isEmpty { response.body = Array(store.scrub(String(decoding: response.body, as: UTF8.self)).utf8) }
                let record = Self.record(payload.request, response: response)
                let ok = payload.success.map { $0.contains(response.status) } ?? (200..<300).contains(response.status)
                if ok {
                    completion(TaskOutcome(job: job, result: .succeeded(output: Self.output(response)), startedAt: started,
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
                let name = error.isTimeout ? "States.Timeout" : "Sluice.Http.NoResponse"
                let record = JSONText.object(["request": .raw(Self.describe(payload.request)), "error": .string(error.description),
                                              "durationMs": .int(Int((finished - started) * 1000))])
                completion(TaskOutcome(job: job, result: .failed(error: name, cause: "\(payload.request.method) \(payload.request.url): \(error)",
                                                                 retryable: true, retryAfter: nil),
                                       startedAt: started, finishedAt: finished, record: record))
            }
        }
    }

    struct PayloadError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func decode(_ text: String, idempotencyKey: String, maxBodyBytes: Int) throws -> Payload {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw PayloadError(message: "http task parameters are not a JSON object")
        }
        guard let url = object["url"] as? String, !url.isEmpty else { throw PayloadError(message: "http task needs a url") }
        var request = HTTPRequest(url: url, method: (object["method"] as? String ?? "GET").uppercased())
        var headers: [(name: String, value: String)] = []
        for (name, value) in (object["headers"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            headers.append((name, value as? String ?? "\(value)"))
        }
        if let body = object["body"] as? String {
            request.body = Array(body.utf8)
        } else if let json = object["json"], !(json is NSNull) {
            request.body = Array(try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed, .withoutEscapingSlashes]))
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) { headers.append(("Content-Type", "application/json")) }
        } else if let form = object["form"] as? [String: Any] {
            var components = URLComponents()
            components.queryItems = form.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value as? String ?? "\($0.value)") }
            request.body = Array((components.percentEncodedQuery ?? "").utf8)
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
                headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            }
        }
        if !headers.contains(where: { $0.name.lowercased() == "idempotency-key" }) { headers.append(("Idempotency-Key", idempotencyKey)) }
        request.headers = headers
        if let connect = (object["connectTimeoutMs"] as? NSNumber)?.intValue { request.connectTimeoutMilliseconds = connect }
        if let total = (object["timeoutMs"] as? NSNumber)?.intValue { request.totalTimeoutMilliseconds = total }
        request.maxResponseBodyBytes = (object["maxBodyBytes"] as? NSNumber)?.intValue ?? maxBodyBytes
        let success = (object["statusCodes"] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue }
        let retry = (object["retryStatusCodes"] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? []
        return Payload(request: request, success: success.map(Set.init), retryStatuses: Set(retry))
    }

    /// The task's output: status, headers, and the body as JSON when it parses (`json`) and as text.
    static func output(_ response: HTTPResponse) -> String {
        let text = String(decoding: response.body, as: UTF8.self)
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])) != nil ? text : "null"
        return JSONText.object(["status": .int(response.status), "headers": .raw(headerObject(response.headers)),
                                "json": .raw(response.body.isEmpty ? "null" : json), "body": .string(text),
                                "truncated": .bool(response.bodyTruncated)])
    }

    /// What history keeps: the request, the status, headers, body (capped, with a flag) and duration.
    static func record(_ request: HTTPRequest, response: HTTPResponse) -> String {
        JSONText.object(["request": .raw(describe(request)), "status": .int(response.status),
                         "headers": .raw(headerObject(response.headers)),
                         "body": .string(String(decoding: response.body.prefix(16 * 1024), as: UTF8.self)),
                         "truncated": .bool(response.bodyTruncated || response.body.count > 16 * 1024),
                         "durationMs": .int(Int(response.durationSeconds * 1000))])
    }

    static func describe(_ request: HTTPRequest) -> String {
        // Authorization-like headers are not written to history.
        let headers = request.headers.map { header -> (String, String) in
            let lower = header.name.lowercased()
            return (header.name, lower == "authorization" || lower.contains("token") || lower.contains("secret") ? "[redacted]" : header.value)
        }
        return JSONText.object(["method": .string(request.method), "url": .string(request.url),
                                "headers": .raw(headerObject(headers)), "bodyBytes": .int(request.body?.count ?? 0)])
    }

    static func headerObject(_ headers: [(name: String, value: String)]) -> String {
        "{" + headers.map { JSONText.quote($0.name.lowercased()) + ":" + JSONText.quote($0.value) }.joined(separator: ",") + "}"
    }
}
