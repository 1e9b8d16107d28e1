import CCurl
import Foundation

/// One HTTP request as a task makes it.
public struct HTTPRequest: Sendable {
    public var url: String
    public var method: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    public var connectTimeoutMilliseconds: Int
    /// The whole exchange, connect included.
    public var totalTimeoutMilliseconds: Int
    /// Bytes of the response body kept; the rest is read and dropped (the connection stays usable).
    public var maxResponseBodyBytes: Int

    public init(url: String, method: String = "GET", headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                connectTimeoutMilliseconds: Int = 10_000, totalTimeoutMilliseconds: Int = 30_000, maxResponseBodyBytes: Int = 1 << 20) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.totalTimeoutMilliseconds = totalTimeoutMilliseconds
        self.maxResponseBodyBytes = maxResponseBodyBytes
    }
}

/// A response: status, the final response's headers, the body (capped) and timing.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var bodyTruncated: Bool
    public var durationSeconds: Double

    public func header(_ name: String) -> String? {
        headers.last { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// `Retry-After` in seconds, from delta-seconds or an HTTP date.
    public var retryAfterSeconds: Double? {
        guard let value = header("Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }
}


/// Why a request got no response.
public enum HTTPTransportError: Error, Sendable, CustomStringConvertible {
    case connectionFailed(String)
    case timedOut(String)
    case resolveFailed(String)
    case connectionReset(String)
    case invalidRequest(String)
    case shutdown
    case other(code: Int, message: String)

    public var description: String {
        switch self {
        case let .connectionFailed(message): return "connection failed: \(message)"
        case let .timedOut(message): return "timed out: \(message)"
        case let .resolveFailed(message): return "cannot resolve host: \(message)"
        case let .connectionReset(message): return "connection reset: \(message)"
        case let .invalidRequest(message): return "invalid request: \(message)"
        case .shutdown: return "client shut down"
        case let .other(code, message): return "curl error \(code): \(message)"
        }
    }

    public var isTimeout: Bool { if case .timedOut = self { return true } else { return false } }

    /// The request could not be sent as it stands: the same every time, not worth a retry.
    public var isInvalidRequest: Bool { if case .invalidRequest = self { return true } else { return false } }
}


extension HTTPTransportError {
    /// Classifies a failed transfer's curl result.
    init(code: CURLcode, message: String) {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: self = .timedOut(message)
        case CURLE_COULDNT_CONNECT: self = .connectionFailed(message)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: self = .resolveFailed(message)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: self = .connectionReset(message)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: self = .invalidRequest(message)
        default: self = .other(code: Int(code.rawValue), message: message)
        }
    }
}
