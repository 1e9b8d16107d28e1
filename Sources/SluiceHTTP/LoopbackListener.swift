#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket on 127.0.0.1 at a port the kernel picks (port 0): what the
/// benchmark's delay server and the tests' HTTP server start from, so neither needs a fixed
/// port that another run may hold.
public struct LoopbackListener: Sendable {
    /// Why no socket could be set up: the call that failed and its errno.
    public struct Failure: Error, CustomStringConvertible {
        public let call: String
        public let code: Int32
        public var description: String { "\(call) on 127.0.0.1 failed: errno \(code)" }
    }

    public let descriptor: Int32
    public let port: Int

    public init(backlog: Int32 = 4096) throws(Failure) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { let code = errno; Glibc.close(fd); throw Failure(call: "bind", code: code) }
        guard listen(fd, backlog) == 0 else { let code = errno; Glibc.close(fd); throw Failure(call: "listen", code: code) }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        descriptor = fd
        port = Int(UInt16(bigEndian: local.sin_port))
    }

    /// Wakes a thread blocked in `accept` (it gets an error) and closes the socket.
    public func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}
