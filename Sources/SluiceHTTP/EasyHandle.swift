import CCurl
import CurlShim

/// One curl easy handle and the buffers of the request it carries, reused request after
/// request (touched only by the I/O thread).
///
/// Reuse is the point: `curl_easy_init`, `curl_easy_reset` and setting every option again
/// cost more than a keep-alive GET itself. The options every request shares (callbacks, error
/// buffer, no signals, no redirects) are set once. A plain GET leaves the handle in that state;
/// a request that sets a method or a body marks the handle `customized`, and only then is it
/// reset before its next use.
final class EasyHandle {
    let curl: UnsafeMutableRawPointer
    private let sockets: SocketRegistry
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var customized = false

    // The request in flight (nil completion: the handle is idle).
    private(set) var completion: CurlMultiClient.Completion?
    private var maxBodyBytes = 0
    private var body: [UInt8] = []
    private var truncated = false
    private var headers: [(name: String, value: String)] = []
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var startedAt: UInt64 = 0
    /// Scratch for one `Name: value` line, NUL-terminated for `curl_slist_append` (which copies it).
    private var line: [CChar] = []

    init(sockets: SocketRegistry) {
        self.sockets = sockets
        curl = curl_easy_init()!
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        applySharedOptions()
    }

    deinit {
        curl_easy_cleanup(curl)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    static func from(_ curl: UnsafeMutableRawPointer) -> EasyHandle {
        var context: UnsafeMutableRawPointer?
        sluice_curl_getinfo_pointer(curl, CURLINFO_PRIVATE, &context)
        return Unmanaged<EasyHandle>.fromOpaque(context!).takeUnretainedValue()
    }

    private func applySharedOptions() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sluice_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        sluice_curl_setopt_long(curl, CURLOPT_FOLLOWLOCATION, 0)
        sluice_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer)
        sluice_curl_setopt_pointer(curl, CURLOPT_PRIVATE, context)
        sluice_curl_setopt_callback(curl, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            Unmanaged<EasyHandle>.fromOpaque(context).takeUnretainedValue().appendBody(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        sluice_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, context)
        sluice_curl_setopt_callback(curl, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            Unmanaged<EasyHandle>.fromOpaque(context).takeUnretainedValue().headerLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        sluice_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, context)
        let registry = Unmanaged.passUnretained(sockets).toOpaque()
        sluice_curl_setopt_open_socket(curl, SocketRegistry.openSocket, registry)
        sluice_curl_setopt_close_socket(curl, SocketRegistry.closeSocket, registry)
    }

    /// Sets the handle up for `request`; returns an error instead when it cannot be sent.
    func prepare(_ request: HTTPRequest, completion: @escaping CurlMultiClient.Completion, now: UInt64) -> HTTPTransportError? {
        guard Self.isHTTP(request.url) else {
            return .invalidRequest("only http and https URLs are supported: \(request.url)")
        }
        // A method is a token (RFC 9110): curl sends a custom one as given, so a space or line break would rewrite the request line.
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(Self.isTokenByte) else {
            return .invalidRequest("method \(request.method.debugDescription) is not an HTTP method token")
        }
        // A CR or LF would end the header line and let a value (an input, say) add headers of its own.
        for header in request.headers where Self.breaksLine(header.name) || Self.breaksLine(header.value) || header.name.isEmpty {
            return .invalidRequest("header \(header.name.debugDescription): a name must not be empty, and neither name nor value may hold CR, LF or NUL")
        }
        if customized {
            curl_easy_reset(curl)
            applySharedOptions()
            customized = false
        }
        errorBuffer[0] = 0
        sluice_curl_setopt_pointer(curl, CURLOPT_URL, request.url)
        sluice_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        sluice_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, request.totalTimeoutMilliseconds)
        let plainGET = request.body == nil && (request.method == "GET" || request.method.uppercased() == "GET")
        if !plainGET { applyMethodAndBody(request) }

        // The previous request's list stays allocated until now: curl reads it during the transfer.
        curl_slist_free_all(headerList)
        headerList = nil
        for header in request.headers { appendHeader(header.name, header.value) }
        if !plainGET {
            // No "Expect: 100-continue" round trip for bodies.
            appendHeader("Expect", nil)
            if request.body != nil && !request.headers.contains(where: { Self.equalsIgnoringCase($0.name, "content-type") }) {
                appendHeader("Content-Type", "application/octet-stream")
            }
        }
        sluice_curl_setopt_pointer(curl, CURLOPT_HTTPHEADER, headerList)

        self.completion = completion
        maxBodyBytes = request.maxResponseBodyBytes
        body = []
        truncated = false
        headers = []
        startedAt = now
        return nil
    }

    private func applyMethodAndBody(_ request: HTTPRequest) {
        customized = true
        let method = request.method.uppercased()
        switch method {
        case "GET": sluice_curl_setopt_long(curl, CURLOPT_HTTPGET, 1)
        case "HEAD": sluice_curl_setopt_long(curl, CURLOPT_NOBODY, 1)
        case "POST": sluice_curl_setopt_long(curl, CURLOPT_POST, 1)
        default: sluice_curl_setopt_pointer(curl, CURLOPT_CUSTOMREQUEST, method)
        }
        if let body = request.body {
            sluice_curl_setopt_off(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { raw in _ = sluice_curl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)) }
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            sluice_curl_setopt_off(curl, CURLOPT_POSTFIELDSIZE_LARGE, 0)
            sluice_curl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, "")
        }
    }

    /// Adds `Name: value` to the header list; a nil value (`Name:`) removes a header curl would add.
    private func appendHeader(_ name: String, _ value: String?) {
        line.removeAll(keepingCapacity: true)
        for byte in name.utf8 { line.append(CChar(bitPattern: byte)) }
        line.append(CChar(bitPattern: UInt8(ascii: ":")))
        if let value {
            line.append(CChar(bitPattern: UInt8(ascii: " ")))
            for byte in value.utf8 { line.append(CChar(bitPattern: byte)) }
        }
        line.append(0)
        headerList = line.withUnsafeBufferPointer { curl_slist_append(headerList, $0.baseAddress) }
    }

    /// The response (or transport error) of the transfer that just ended; the handle is idle after.
    func finish(_ code: CURLcode, now: UInt64) -> Result<HTTPResponse, HTTPTransportError> {
        completion = nil
        guard code == CURLE_OK else {
            let buffered = String(cString: errorBuffer)
            return .failure(HTTPTransportError(code: code, message: buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered))
        }
        var status = 0
        sluice_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        let response = HTTPResponse(status: status, headers: headers, body: body, bodyTruncated: truncated,
                                    durationSeconds: Double(now &- startedAt) / 1e9)
        headers = []
        body = []
        return .success(response)
    }

    /// Hands the in-flight request's completion back (for `.shutdown`), leaving the handle idle.
    func abandon() -> CurlMultiClient.Completion? {
        defer { completion = nil }
        return completion
    }

    // MARK: Callbacks

    private func appendBody(_ bytes: UnsafeRawBufferPointer) {
        let room = maxBodyBytes - body.count
        if room >= bytes.count {
            body.append(contentsOf: bytes)
        } else {
            if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
            truncated = true
        }
    }

    /// Header lines arrive one by one; a status line starts a new response (after 100-continue).
    private func headerLine(_ bytes: UnsafeRawBufferPointer) {
        switch HeaderLine(bytes) {
        case .status: headers.removeAll(keepingCapacity: true)
        case let .field(name, value): headers.append((name, value))
        case .other: break
        }
    }

    // MARK: Byte-level helpers (no Foundation on the per-request path)

    private static func isHTTP(_ url: String) -> Bool {
        var utf8 = url.utf8.makeIterator()
        for expected in "http".utf8 {
            guard let byte = utf8.next(), byte | 0x20 == expected else { return false }
        }
        var next = utf8.next()
        if next.map({ $0 | 0x20 }) == UInt8(ascii: "s") { next = utf8.next() }
        return next == UInt8(ascii: ":") && utf8.next() == UInt8(ascii: "/") && utf8.next() == UInt8(ascii: "/")
    }

    /// RFC 9110's `tchar`: letters, digits and ``!#$%&'*+-.^_`|~``.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// True when `text` holds a CR, LF or NUL byte.
    static func breaksLine(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    /// ASCII case-insensitive equality; `lowercase` must already be lower case.
    static func equalsIgnoringCase(_ text: String, _ lowercase: String) -> Bool {
        text.utf8.count == lowercase.utf8.count && zip(text.utf8, lowercase.utf8).allSatisfy { a, b in
            (a >= 0x41 && a <= 0x5A ? a | 0x20 : a) == b
        }
    }
}

/// One raw header line as curl delivers it (CRLF included), classified without Foundation.
enum HeaderLine: Equatable {
    /// `HTTP/1.1 200 OK`: a response starts (there may be several, e.g. after 100-continue).
    case status
    /// `Name: value`, surrounding spaces and tabs trimmed.
    case field(name: String, value: String)
    /// The blank line ending the block, or anything without a colon.
    case other

    init(_ bytes: UnsafeRawBufferPointer) {
        var start = 0
        var end = bytes.count
        while start < end, Self.isSpace(bytes[start]) { start += 1 }
        while end > start, Self.isSpace(bytes[end - 1]) { end -= 1 }
        if end - start >= 5, bytes[start] == UInt8(ascii: "H"), bytes[start + 1] == UInt8(ascii: "T"), bytes[start + 2] == UInt8(ascii: "T"),
           bytes[start + 3] == UInt8(ascii: "P"), bytes[start + 4] == UInt8(ascii: "/") {
            self = .status
            return
        }
        guard let colon = bytes[start..<end].firstIndex(of: UInt8(ascii: ":")) else {
            self = .other
            return
        }
        var valueStart = colon + 1
        while valueStart < end, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
        self = .field(name: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<colon]), as: UTF8.self),
                      value: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<end]), as: UTF8.self))
    }

    /// Space, tab, CR, LF (the whitespace a header line can carry around its text).
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }
}
