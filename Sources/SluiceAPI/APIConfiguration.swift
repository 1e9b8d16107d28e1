/// Where the API listens and what it lets in.
public struct APIConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests); `APIServer.onListening` reports it.
    public var port: Int
    /// Required on every request when set; required to listen anywhere but loopback.
    public var token: String?
    /// Request bodies above this are refused with 413.
    public var maxBodyBytes: Int
    /// Timeouts and the connection cap.
    public var limits: ConnectionLimits

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, maxBodyBytes: Int = 1 << 20,
                limits: ConnectionLimits = ConnectionLimits()) {
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.limits = limits
    }

    /// The safety rule: no token, no listening beyond this host. The host is resolved first and
    /// is loopback only if all its addresses are (`ListenAddress`); the server binds the address
    /// returned here.
    @discardableResult
    public func validate() throws(APIConfigurationError) -> ListenAddress {
        try limits.validate()
        let address = try ListenAddress.resolve(host)
        if !address.isLoopback && (token ?? "").isEmpty {
            throw .tokenRequired(host: host == address.addresses.joined(separator: ", ") ? host : "\(host) (\(address.addresses.joined(separator: ", ")))")
        }
        return address
    }
}

public enum APIConfigurationError: Error, CustomStringConvertible {
    case tokenRequired(host: String)
    /// The listen host has no address (the resolver's reason).
    case unresolvable(host: String, reason: String)
    /// A timeout or the connection cap out of range.
    case badLimit(String)

    public var description: String {
        switch self {
        case let .tokenRequired(host):
            return "listening on \(host) needs a bearer token (--token or SLUICE_TOKEN); without one Sluice listens on loopback (127.0.0.0/8, ::1) only"
        case let .unresolvable(host, reason):
            return "cannot listen on \(host.isEmpty ? "an empty host" : host): it does not resolve (\(reason))"
        case let .badLimit(message):
            return message
        }
    }
}
