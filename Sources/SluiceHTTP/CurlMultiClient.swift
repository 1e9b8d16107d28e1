import CCurl
import CurlShim
import Foundation

/// An HTTP client on libcurl's multi interface driven by one I/O thread: any number of
/// requests in flight share that thread, and connections are kept alive and reused through
/// the multi handle's connection cache. `perform` may be called from any thread.
public final class CurlMultiClient: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<HTTPResponse, HTTPTransportError>) -> Void

    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    // Guarded by `lock`.
    private var pending: [Transfer] = []
    private var stopping = false
    // Owned by the I/O thread.
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(maxTotalConnections: Int = 512, maxConnectionsPerHost: Int = 0) {
        _ = Self.globalInit
        multi = curl_multi_init()!
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxTotalConnections)
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(64, maxTotalConnections))
        let thread = Thread { [self] in loop() }
        thread.name = "sluice-http"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Starts a request; `completion` runs once, on the I/O thread (keep it short).
    public func perform(_ request: HTTPRequest, completion: @escaping Completion) {
        let transfer = Transfer(request: request, completion: completion)
        lock.lock()
        if stopping {
            lock.unlock()
            completion(.failure(.shutdown))
            return
        }
        pending.append(transfer)
        lock.unlock()
        curl_multi_wakeup(multi)
    }

    public func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, HTTPTransportError> {
        await withCheckedContinuation { continuation in
            perform(request) { continuation.resume(returning: $0) }
        }
    }

    /// Aborts what is in flight (each gets `.shutdown`) and stops the I/O thread.
    public func shutdown() {
        lock.lock()
        let first = !stopping
        stopping = true
        lock.unlock()
        guard first else { return }
        curl_multi_wakeup(multi)
        finished.wait()
    }

    // MARK: The I/O thread

    private func loop() {
        var running: Int32 = 0
        while true {
            lock.lock()
            let incoming = pending
            pending.removeAll(keepingCapacity: true)
            let stop = stopping
            lock.unlock()
            if stop {
                for transfer in incoming { transfer.completion(.failure(.shutdown)) }
                for (handle, transfer) in active {
                    curl_multi_remove_handle(multi, handle)
                    curl_easy_cleanup(handle)
                    transfer.completion(.failure(.shutdown))
                }
                active.removeAll()
                for handle in idleHandles { curl_easy_cleanup(handle) }
                idleHandles.removeAll()
                finished.signal()
                return
            }
            for transfer in incoming { start(transfer) }
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard sluice_curl_msg_is_done(message) != 0, let handle = message.pointee.easy_handle else { continue }
                let result = sluice_curl_msg_result(message)
                curl_multi_remove_handle(multi, handle)
                if let transfer = active.removeValue(forKey: handle) { complete(transfer, handle: handle, code: result) }
                curl_easy_reset(handle)
                idleHandles.append(handle)
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func start(_ transfer: Transfer) {
        let handle = idleHandles.popLast() ?? curl_easy_init()!
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        let request = transfer.request
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            idleHandles.append(handle)
            transfer.completion(.failure(.invalidRequest("only http and https URLs are supported: \(request.url)")))
            return
        }
        sluice_curl_setopt_pointer(handle, CURLOPT_URL, request.url)
        sluice_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        sluice_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        sluice_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.totalTimeoutMilliseconds)
        sluice_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        sluice_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer)
        sluice_curl_setopt_pointer(handle, CURLOPT_PRIVATE, context)
        sluice_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            transfer.append(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        sluice_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        sluice_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        sluice_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        let method = request.method.uppercased()
        switch method {
        case "GET": sluice_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": sluice_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        case "POST": sluice_curl_setopt_long(handle, CURLOPT_POST, 1)
        default: sluice_curl_setopt_pointer(handle, CURLOPT_CUSTOMREQUEST, method)
        }
        if let body = request.body {
            sluice_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { raw in _ = sluice_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)) }
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            sluice_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0)
            sluice_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, "")
        }
        // No "Expect: 100-continue" round trip for bodies.
        var headers = request.headers.map { "\($0.name): \($0.value)" } + ["Expect:"]
        if request.body != nil && !request.headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append("Content-Type: application/octet-stream")
        }
        for line in headers { transfer.headerList = curl_slist_append(transfer.headerList, line) }
        sluice_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, transfer.headerList)
        transfer.startedAt = DispatchTime.now().uptimeNanoseconds
        active[handle] = transfer
        curl_multi_add_handle(multi, handle)
    }

    private func complete(_ transfer: Transfer, handle: UnsafeMutableRawPointer, code: CURLcode) {
        let duration = Double(DispatchTime.now().uptimeNanoseconds - transfer.startedAt) / 1e9
        guard code == CURLE_OK else {
            let message = transfer.errorMessage(code)
            let error: HTTPTransportError
            switch code {
            case CURLE_OPERATION_TIMEDOUT: error = .timedOut(message)
            case CURLE_COULDNT_CONNECT: error = .connectionFailed(message)
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: error = .resolveFailed(message)
            case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: error = .connectionReset(message)
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: error = .invalidRequest(message)
            default: error = .other(code: Int(code.rawValue), message: message)
            }
            transfer.completion(.failure(error))
            return
        }
        var status = 0
        sluice_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        transfer.completion(.success(HTTPResponse(status: status, headers: transfer.headers, body: transfer.body,
                                                  bodyTruncated: transfer.truncated, durationSeconds: duration)))
    }
}

/// One request in flight: its buffers, touched only by the I/O thread.
final class Transfer {
    let request: HTTPRequest
    let completion: CurlMultiClient.Completion
    var body: [UInt8] = []
    var truncated = false
    var headers: [(name: String, value: String)] = []
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var startedAt: UInt64 = 0

    init(request: HTTPRequest, completion: @escaping CurlMultiClient.Completion) {
        self.request = request
        self.completion = completion
        errorBuffer.initialize(to: 0)
    }

    deinit {
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        let room = request.maxResponseBodyBytes - body.count
        if room >= bytes.count {
            body.append(contentsOf: bytes)
        } else {
            if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
            truncated = true
        }
    }

    /// Header lines arrive one by one; a status line starts a new response (after 100-continue).
    func header(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
        } else if let colon = line.firstIndex(of: ":") {
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
    }

    func errorMessage(_ code: CURLcode) -> String {
        let buffered = String(cString: errorBuffer)
        return buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered
    }
}
