import Foundation
import SluiceHTTP
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small real HTTP/1.1 server on 127.0.0.1 (port chosen by the OS) for tests: a thread per
/// connection, keep-alive, and every request recorded. Routes:
/// `/ok`, `/echo` (JSON of method, path, headers, body), `/json` (a fixed JSON body),
/// `/delay?ms=N`, `/status/N`, `/retry-after` (429, Retry-After: 1), `/reset` (RST, no answer),
/// `/big?bytes=N`, `/flaky?fail=N` (503 for the first N requests to it, then 200),
/// `/reflect?status=N` (the request's `X-Value` header and body handed back, in several encodings).
final class TestHTTPServer: @unchecked Sendable {
    struct Request: Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: String
    }

    let port: Int
    private let listener: Int32
    private let state = Mutex((requests: [Request](), open: 0, maxOpen: 0, flaky: [String: Int]()))

    var requests: [Request] { state.withLock { $0.requests } }
    var maxConcurrentConnections: Int { state.withLock { $0.maxOpen } }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init() throws {
        let socket = try LoopbackListener()
        listener = socket.descriptor
        port = socket.port
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ fd: Int32) {
        state.withLock { $0.open += 1; $0.maxOpen = max($0.maxOpen, $0.open) }
        defer { state.withLock { $0.open -= 1 } }
        var buffer = [UInt8]()
        while true {
            guard let request = readRequest(fd, &buffer) else { close(fd); return }
            state.withLock { $0.requests.append(request) }
            if !respond(fd, request) { return }
        }
    }

    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Request? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = buffer.firstRange(of: [13, 10, 13, 10]) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
                let first = head[0].split(separator: " ")
                guard first.count >= 2 else { return nil }
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                while buffer.count < end.upperBound + length {
                    let n = read(fd, &chunk, chunk.count)
                    if n <= 0 { return nil }
                    buffer.append(contentsOf: chunk[..<n])
                }
                let body = String(decoding: buffer[end.upperBound..<(end.upperBound + length)], as: UTF8.self)
                buffer.removeFirst(end.upperBound + length)
                return Request(method: String(first[0]), path: String(first[1]), headers: headers, body: body)
            }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    /// Writes the answer; false when the connection was closed on purpose.
    private func respond(_ fd: Int32, _ request: Request) -> Bool {
        let url = URLComponents(string: request.path)
        let path = url?.path ?? request.path
        let query = Dictionary((url?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        switch path {
        case "/ok":
            send(fd, 200, "ok")
        case "/json":
            send(fd, 200, #"{"id":42,"name":"widget","tags":["a","b"],"nested":{"ok":true}}"#, type: "application/json")
        case "/echo":
            let object: [String: Any] = ["method": request.method, "path": request.path, "headers": request.headers, "body": request.body]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            send(fd, 200, String(decoding: data, as: UTF8.self), type: "application/json")
        case "/reflect":
            // Hands a value back in every form a careless server might: the request's `X-Value`
            // header as a response header, and its body as it is, JSON-escaped (`\"`, `\\`, `\/`,
            // `\u00e9`) and percent-encoded (`+` for space) in the response body.
            let value = request.headers["x-value"] ?? ""
            let escaped = String(decoding: try! JSONSerialization.data(withJSONObject: [request.body]), as: UTF8.self)
            let ascii = escaped.unicodeScalars.map { $0.isASCII ? String($0) : String(format: "\\u%04x", $0.value) }.joined()
            var form = CharacterSet.alphanumerics
            form.insert(" ")
            let encoded = (request.body.addingPercentEncoding(withAllowedCharacters: form) ?? "").replacingOccurrences(of: " ", with: "+")
            let body = "raw=\(request.body)\njson=\(escaped)\nascii=\(ascii)\nurl=\(encoded)\n"
            let status = Int(query["status"] ?? "200") ?? 200
            send(fd, status, body, extra: "X-Reflected: \(value)\r\n")
        case "/delay":
            usleep(UInt32((Int(query["ms"] ?? "0") ?? 0) * 1000))
            send(fd, 200, "late")
        case "/once":
            // {"flag":"yes"} the first time a path is asked, {"flag":""} after.
            let seen = state.withLock { state -> Int in
                state.flaky[request.path, default: 0] += 1
                return state.flaky[request.path]!
            }
            send(fd, 200, seen == 1 ? #"{"flag":"yes"}"# : #"{"flag":""}"#, type: "application/json")
        case "/surrogate":
            // Grammatical JSON with a lone high surrogate: hostile input for every parser downstream.
            send(fd, 200, #"{"name":"\ud800\u0041","big":1e300}"#, type: "application/json")
        case "/retry-after":
            send(fd, 429, "slow down", extra: "Retry-After: 1\r\n")
        case "/reset":
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            close(fd)
            return false
        case "/big":
            let size = Int(query["bytes"] ?? "0") ?? 0
            let header = "HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\nContent-Type: application/octet-stream\r\n\r\n"
            writeAll(fd, Array(header.utf8))
            let block = [UInt8](repeating: 0x61, count: 65536)
            var left = size
            while left > 0 {
                writeAll(fd, Array(block.prefix(min(left, block.count))))
                left -= min(left, block.count)
            }
        case "/flaky":
            let failures = Int(query["fail"] ?? "1") ?? 1
            let seen = state.withLock { state -> Int in
                state.flaky[request.path, default: 0] += 1
                return state.flaky[request.path]!
            }
            if seen <= failures { send(fd, 503, "unavailable") } else { send(fd, 200, #"{"attempt":\#(seen)}"#, type: "application/json") }
        default:
            if path.hasPrefix("/status/"), let code = Int(path.dropFirst(8)) {
                send(fd, code, "status \(code)")
            } else {
                send(fd, 404, "not found")
            }
        }
        return true
    }

    private func send(_ fd: Int32, _ status: Int, _ body: String, type: String = "text/plain", extra: String = "") {
        let bytes = Array(body.utf8)
        let head = "HTTP/1.1 \(status) X\r\nContent-Length: \(bytes.count)\r\nContent-Type: \(type)\r\n\(extra)\r\n"
        writeAll(fd, Array(head.utf8) + bytes)
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + sent, bytes.count - sent) }
            if n <= 0 { return }
            sent += n
        }
    }
}
