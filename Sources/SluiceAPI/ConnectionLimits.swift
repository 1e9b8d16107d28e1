#if canImport(Glibc)
import Glibc
#endif

/// How long the API waits on a client and how many clients it holds at once. Without these a
/// client that opens sockets and sends nothing (or half a request line, or a body that never
/// ends) keeps a descriptor forever; a few scripts then exhaust the process's descriptors and
/// every later client hangs, the engine's own files included.
public struct ConnectionLimits: Sendable, Equatable {
    /// Seconds a connection may sit with no request in progress (keep-alive) before it is closed.
    public var idleSeconds: Double
    /// Seconds from the first byte of a request to the end of its head; past it the client gets a
    /// 408 and the connection is closed (slow-header clients, "slowloris").
    public var headerSeconds: Double
    /// Seconds from the end of a request's head by which its whole body must have arrived; past
    /// it the connection is closed. A total, not a stall: a client sending a byte every 29 s
    /// would otherwise hold its socket for as long as it likes.
    public var bodySeconds: Double
    /// Seconds a connection may stay unwritable (the client reads nothing of its response while
    /// the socket buffers are full) before it is closed. Long polls and event streams the
    /// client reads never stay unwritable, so they are not cut.
    public var writeSeconds: Double
    /// Connections served at once. One more is answered 503 (JSON error, `Connection: close`)
    /// and closed; past `hardCap` the server stops accepting until some close.
    public var maxConnections: Int

    public init(idleSeconds: Double = 60, headerSeconds: Double = 10, bodySeconds: Double = 30, writeSeconds: Double = 60,
                maxConnections: Int = ConnectionLimits.defaultMaxConnections()) {
        self.idleSeconds = idleSeconds
        self.headerSeconds = headerSeconds
        self.bodySeconds = bodySeconds
        self.writeSeconds = writeSeconds
        self.maxConnections = maxConnections
    }

    /// Connections counted towards the cap, the ones being answered 503 included, beyond which
    /// the listening socket is not read at all (they wait in the kernel's backlog): the 503s
    /// themselves must not be able to use up the descriptors. A quarter of the cap more, at least 16.
    public var hardCap: Int { maxConnections + max(16, maxConnections / 4) }

    /// `min(4096, (RLIMIT_NOFILE - reserved) / 2)`, at least 16: half of what the engine leaves
    /// free goes to clients, so the 503 answers, the hard cap's margin, SQLite, curl and command
    /// tasks always have descriptors. `reserved` is what the engine may hold itself (curl's
    /// connection cap plus a margin for SQLite, inotify and pipes).
    public static func defaultMaxConnections(reserved: Int = 512 + 64) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let available = Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is the largest value: clamped
        return max(16, min(4096, (available - reserved) / 2))
    }

    /// Refuses a limit that would switch a defence off or overflow a timer, naming it and its value.
    public func validate() throws(APIConfigurationError) {
        for (name, value) in [("idle timeout", idleSeconds), ("header timeout", headerSeconds), ("body timeout", bodySeconds),
                            ("write timeout", writeSeconds)]
        where !(value > 0 && value <= 86_400) {
            throw .badLimit("the \(name) must be more than 0 and at most 86400 seconds, got \(value)")
        }
        if maxConnections < 1 { throw .badLimit("connection cap must be at least 1, got \(maxConnections)") }
    }
}
