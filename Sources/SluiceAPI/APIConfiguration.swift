/// Where the API listens and what it lets in.
public struct APIConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests); `APIServer.onListening` reports it.
    public var port: Int
    /// Required on every request when set; required to listen anywhere but loopback.
    public var token: String?
    /// Request bodies above this are refused with 413.
    public var maxBodyBytes: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, maxBodyBytes: Int = 1 << 20) {
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
    }

    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The safety rule: no token, no listening beyond this host.
    public func validate() throws(APIConfigurationError) {
        if !isLoopback && (token ?? "").isEmpty { throw .tokenRequired(host: host) }
    }
}

public enum APIConfigurationError: Error, CustomStringConvertible {
    case tokenRequired(host: String)

    public var description: String {
        switch self {
        case let .tokenRequired(host):
            return "listening on \(host) needs a bearer token (--token or SLUICE_TOKEN); without one Sluice listens on 127.0.0.1 only"
        }
    }
}
