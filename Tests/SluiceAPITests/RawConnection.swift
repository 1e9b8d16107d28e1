import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a test server, for what URLSession cannot send: half a request
/// line, HTTP/1.0, a body shorter than its Content-Length, TRACE, many idle sockets.
/// Calls block (with a receive timeout), so tests run them through `RawConnection.offPool`,
/// never on the cooperative threads the server's own tasks need.
final class RawConnection: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let fd: Int32

    /// Connects to `host` (numeric IPv4 or IPv6) at `port`; reads give up after `receiveTimeout`.
    init(host: String = "127.0.0.1", port: Int, receiveTimeout: Double = 15) throws {
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - receiveTimeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        if v6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            result = Self.connect(fd, to: &address)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            result = Self.connect(fd, to: &address)
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure(description: "connect to \(host):\(port): errno \(code)")
        }
    }

    deinit { Glibc.close(fd) }

    private static func connect<Address>(_ fd: Int32, to address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
    }

    /// Half-closes: the server reads end-of-file, this side can still read its answer.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Everything the server sends until it closes, and whether it did close (false: the
    /// receive timeout passed with the connection still open).
    func readToEnd() -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        while true {
            switch readChunk() {
            case let .bytes(chunk): received += chunk
            case .end: return (String(decoding: received, as: UTF8.self), true)
            case .timedOut: return (String(decoding: received, as: UTF8.self), false)
            }
        }
    }

    /// One response with a Content-Length body, leaving the connection open; nil if the server
    /// closed or went quiet first.
    func readResponse() -> String? {
        var received: [UInt8] = []
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = received.firstRange(of: separator)?.upperBound {
                let head = String(decoding: received[..<end], as: UTF8.self)
                let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                if received.count - end >= length { return String(decoding: received[..<(end + length)], as: UTF8.self) }
            }
            guard case let .bytes(chunk) = readChunk() else { return nil }
            received += chunk
        }
    }

    private enum Chunk { case bytes([UInt8]), end, timedOut }

    private func readChunk() -> Chunk {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { return .bytes(Array(buffer[..<n])) }
        if n == 0 { return .end }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .end
    }

    /// Runs blocking socket work on a thread of its own.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}
