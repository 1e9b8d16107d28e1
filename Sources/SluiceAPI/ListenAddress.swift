#if canImport(Glibc)
import Glibc
#endif

/// The host of `--listen`, resolved before anything is decided about it.
///
/// A name is not an address: `127.attacker.test` looks like loopback to a prefix test, and a
/// name's addresses can change after the check. So the host is resolved once (getaddrinfo),
/// it counts as loopback only if every address it resolves to is in 127.0.0.0/8 or is ::1,
/// and the server binds the numeric address that was checked, never the name again.
public struct ListenAddress: Sendable, Equatable {
    /// The host as given.
    public let host: String
    /// Every address it resolved to, numeric, in the resolver's order, without repeats.
    public let addresses: [String]

    /// The address bound: the first IPv4 one if there is any (so `localhost` serves the
    /// clients' default `http://127.0.0.1:…`), else the first.
    public var bindAddress: String { addresses.first { !$0.contains(":") } ?? addresses[0] }

    public var isLoopback: Bool { addresses.allSatisfy(Self.isLoopback) }

    /// The bound address as a URL host (an IPv6 address in brackets).
    public var urlHost: String { bindAddress.contains(":") ? "[\(bindAddress)]" : bindAddress }

    public init(host: String, addresses: [String]) {
        self.host = host
        self.addresses = addresses
    }

    /// Resolves `host` (a name, or a numeric IPv4 or IPv6 address without brackets).
    public static func resolve(_ host: String) throws(APIConfigurationError) -> ListenAddress {
        guard !host.isEmpty else { throw .unresolvable(host: host, reason: "the host is empty; give 127.0.0.1, a name or an address") }
        guard !host.utf8.contains(0) else { throw .unresolvable(host: host, reason: "the host contains a NUL character") }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw .unresolvable(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr, let text = numeric(address, length: current.pointee.ai_addrlen),
               !addresses.contains(text) {
                addresses.append(text)
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw .unresolvable(host: host, reason: "no IPv4 or IPv6 address") }
        return ListenAddress(host: host, addresses: addresses)
    }

    /// 127.0.0.0/8 or ::1, read from the numeric text `resolve` produced.
    static func isLoopback(_ address: String) -> Bool {
        if address.contains(":") {
            var bytes = in6_addr()
            return inet_pton(AF_INET6, address, &bytes) == 1
                && withUnsafeBytes(of: &bytes) { $0.elementsEqual([UInt8](repeating: 0, count: 15) + [1]) }
        }
        var bytes = in_addr()
        return inet_pton(AF_INET, address, &bytes) == 1 && withUnsafeBytes(of: &bytes) { $0[0] == 127 }
    }

    private static func numeric(_ address: UnsafeMutablePointer<sockaddr>, length: socklen_t) -> String? {
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(cString: text)
    }
}
