import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Runs every case of `Tests/Corpus/malformed/` (written by `reliability/make-corpus.py`)
/// against a real server on 127.0.0.1, over a raw socket so broken framing and truncated bodies
/// reach the server as sent. Each case must get the outcome its file allows — a 4xx with a JSON
/// error body, never a 5xx, never a hang — the server must answer a health check after it,
/// and a definition and an execution stored before the corpus must still be there and run after.
@Suite struct MalformedCorpusTests {
    @Test func everyMalformedRequestGetsA4xxAndNothingStoredIsLost() async throws {
        let cases = try CorpusCase.loadAll()
        #expect(cases.count >= 200, "the corpus holds \(cases.count) cases")
        let server = try await APITestServer.start()
        let port = try #require(server.baseURL.port)

        // Stored before the corpus: a definition and a finished execution of it.
        let machine = #"{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"kept":true},"End":true}}}"#
        let stored = try await server.request("POST", "/v1/definitions?name=corpus_keeper", body: machine)
        #expect(stored.status == 201)
        let before = try await Self.runToEnd(server, definition: "corpus_keeper")
        #expect(before.status == "succeeded")
        let descriptorsBefore = Self.openDescriptors()
        let residentBefore = Self.residentKiB()

        // The sockets block, so the corpus runs on a thread of its own, never on the cooperative
        // threads the server's tasks need.
        let (failures, tally) = await RawHTTP.detached { Self.run(cases, port: port) }
        let descriptorsAfter = Self.openDescriptors()
        let residentAfter = Self.residentKiB()
        print("CORPUS cases=\(cases.count) failed=\(failures.count) 4xx=\(tally.fourXX) 2xx=\(tally.twoXX) 5xx=\(tally.fiveXX) "
              + "closed=\(tally.closed) hangs=\(tally.hangs) fds=\(descriptorsBefore)->\(descriptorsAfter) rss_kb=\(residentBefore)->\(residentAfter)")
        for failure in failures { Issue.record(Comment(rawValue: failure)) }

        // Nothing stored before is lost, and the stored definition still runs.
        let record = try await server.request("GET", "/v1/executions/\(before.id)")
        #expect(record.json["status"] as? String == "succeeded")
        #expect(try await server.request("GET", "/v1/definitions/corpus_keeper").status == 200)
        let after = try await Self.runToEnd(server, definition: "corpus_keeper")
        #expect(after.status == "succeeded")
        await server.stop()
    }

    struct Tally: Sendable {
        var fourXX = 0, twoXX = 0, fiveXX = 0, closed = 0, hangs = 0
    }

    /// Sends every case, each followed by a health check; the failures, and what came back.
    static func run(_ cases: [CorpusCase], port: Int) -> ([String], Tally) {
        var failures: [String] = []
        var tally = Tally()
        for item in cases {
            let outcome = RawHTTP.exchange(port: port, bytes: item.requestBytes(), halfClose: item.halfClose, timeout: 15)
            switch outcome {
            case let .response(status, _, _) where (500...599).contains(status): tally.fiveXX += 1
            case let .response(status, _, _) where (400...499).contains(status): tally.fourXX += 1
            case .response: tally.twoXX += 1
            case .closed: tally.closed += 1
            case .timedOut: tally.hangs += 1
            }
            if let problem = item.judge(outcome) { failures.append("\(item.id) (\(item.description)): \(problem)") }
            guard case let .response(health, _, _) = RawHTTP.exchange(port: port, bytes: RawHTTP.get("/v1/health"), halfClose: false, timeout: 15),
                  health == 200 else {
                failures.append("\(item.id): the server no longer answers GET /v1/health")
                break
            }
        }
        return (failures, tally)
    }

    /// Submits `definition` and polls until its execution ends (or 10 s pass).
    static func runToEnd(_ server: APITestServer, definition: String) async throws -> (id: String, status: String) {
        let created = try await server.request("POST", "/v1/executions", body: #"{"definition":"\#(definition)"}"#)
        let id = try #require(created.json["id"] as? String, "submit answered \(created.status)")
        var status = ""
        for _ in 0..<1000 where !["succeeded", "failed", "cancelled", "timed_out"].contains(status) {
            status = try await server.request("GET", "/v1/executions/\(id)").json["status"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(10))
        }
        return (id, status)
    }

    /// This process's resident set (the server runs in it), from /proc.
    static func residentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
}

/// One file of the corpus: the request to send and the outcomes it may get.
struct CorpusCase: @unchecked Sendable {
    let id: String
    let description: String
    let object: [String: Any]
    let expect: Set<String>
    let status: Int?
    let jsonError: Bool
    var halfClose: Bool { object["half_close"] as? Bool ?? false }

    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Corpus/malformed")
    }

    static func loadAll() throws -> [CorpusCase] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map { file in
            guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any],
                  let id = object["id"] as? String, let expect = object["expect"] as? [String] else {
                throw CorpusError(file: file.lastPathComponent)
            }
            return CorpusCase(id: id, description: object["description"] as? String ?? "", object: object, expect: Set(expect),
                              status: object["status"] as? Int, jsonError: object["json_error"] as? Bool ?? true)
        }
    }

    struct CorpusError: Error, CustomStringConvertible {
        let file: String
        var description: String { "corpus file \(file) lacks id or expect" }
    }

    private static func segments(_ list: Any?, key: String, decode: (String) -> [UInt8]) -> [UInt8]? {
        guard let list = list as? [[String: Any]] else { return nil }
        var bytes: [UInt8] = []
        for segment in list {
            let piece = decode(segment[key] as? String ?? "")
            for _ in 0..<(segment["repeat"] as? Int ?? 1) { bytes += piece }
        }
        return bytes
    }

    /// The exact bytes to write: raw parts as given, or a request built from method, path,
    /// headers and body, with `Connection: close` and a `Content-Length`.
    func requestBytes() -> [UInt8] {
        if let raw = Self.segments(object["raw_parts"], key: "base64", decode: { [UInt8](Data(base64Encoded: $0) ?? Data()) }) {
            return raw
        }
        var body: [UInt8] = []
        if let text = object["body"] as? String {
            body = Array(text.utf8)
        } else if let encoded = object["body_base64"] as? String {
            body = [UInt8](Data(base64Encoded: encoded) ?? Data())
        } else if let parts = Self.segments(object["body_parts"], key: "text", decode: { Array($0.utf8) }) {
            body = parts
        }
        let method = object["method"] as? String ?? "GET"
        let path = object["path"] as? String ?? "/"
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in (object["headers"] as? [String: String] ?? [:]).sorted(by: { $0.key < $1.key }) {
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// nil when the outcome is one the case allows; else what was wrong.
    func judge(_ outcome: RawHTTP.Outcome) -> String? {
        switch outcome {
        case .timedOut:
            return "no answer within 15 s (a hang)"
        case .closed:
            return expect.contains("close") ? nil : "the connection closed without an answer"
        case let .response(status, _, body):
            let text = String(decoding: body.prefix(300), as: UTF8.self)
            if (500...599).contains(status) { return "got \(status) (a 5xx): \(text)" }
            let classOK = ((400...499).contains(status) && expect.contains("4xx")) || ((200...299).contains(status) && expect.contains("2xx"))
            if !classOK { return "got \(status), expected \(expect.sorted().joined(separator: " or ")): \(text)" }
            if let wanted = self.status, status != wanted { return "got \(status), expected exactly \(wanted): \(text)" }
            if jsonError && (400...499).contains(status) {
                let parsed = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
                if parsed?["error"] == nil { return "got \(status) without a JSON error body: \(text.isEmpty ? "(empty)" : text)" }
            }
            return nil
        }
    }
}

/// A blocking HTTP/1.1 exchange over a plain socket: writes the bytes as given (stopping if
/// the server closes early), reads one response (Content-Length, chunked, or to the close).
enum RawHTTP {
    enum Outcome {
        case response(status: Int, headers: [String: String], body: [UInt8])
        case closed
        case timedOut
    }

    /// Runs blocking work on a thread of its own.
    static func detached<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }

    static func get(_ path: String) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    }

    static func exchange(port: Int, bytes: [UInt8], halfClose: Bool, timeout: Int) -> Outcome {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .closed }
        defer { close(fd) }
        var interval = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return .closed }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .timedOut }
                break  // the server stopped reading (it may have answered already)
            }
            sent += n
        }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let started = Date()
        while true {
            if let complete = parse(received) { return complete }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += buffer[0..<n]
                if Date().timeIntervalSince(started) > Double(timeout) { return .timedOut }
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .timedOut }
            // Closed (or reset): whatever arrived is the answer.
            return parse(received, closed: true) ?? .closed
        }
    }

    /// A complete response in `data`, or nil if more is needed. With `closed`, a body without
    /// a length ends here.
    static func parse(_ data: [UInt8], closed: Bool = false) -> Outcome? {
        guard let end = find([13, 10, 13, 10], in: data) else { return nil }
        let head = String(decoding: data[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let words = head.first?.split(separator: " ") ?? []
        guard words.count >= 2, let status = Int(words[1]) else { return closed ? .closed : nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = Array(data[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init) {
            if body.count >= length { return .response(status: status, headers: headers, body: Array(body.prefix(length))) }
            return closed ? .response(status: status, headers: headers, body: body) : nil
        }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            if let decoded = dechunk(body) { return .response(status: status, headers: headers, body: decoded) }
            return closed ? .response(status: status, headers: headers, body: body) : nil
        }
        if status == 204 || status == 304 || (100...199).contains(status) { return .response(status: status, headers: headers, body: []) }
        return closed ? .response(status: status, headers: headers, body: body) : nil
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = find([13, 10], in: Array(data[index...])) else { return nil }
            let sizeText = String(decoding: data[index..<(index + lineEnd)], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            index += lineEnd + 2
            if size == 0 { return output }
            guard data.count >= index + size + 2 else { return nil }
            output += data[index..<(index + size)]
            index += size + 2
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start }
        }
        return nil
    }
}
