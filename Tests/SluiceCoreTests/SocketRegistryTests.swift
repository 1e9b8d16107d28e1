import Foundation
import Testing
@testable import SluiceHTTP
import CCurl
import CurlShim
#if canImport(Glibc)
import Glibc
#endif

/// The epoll bookkeeping behind the curl client, on a real epoll set and real sockets.
@Suite struct SocketRegistryTests {
    /// Events epoll reports for `socket` within 100 ms.
    func ready(_ poller: Poller, _ socket: Int32) -> Bool {
        var events = [epoll_event](repeating: epoll_event(), count: 8)
        let count = events.withUnsafeMutableBufferPointer { poller.wait($0.baseAddress!, capacity: 8, timeoutMilliseconds: 100) }
        return events.prefix(count).contains { $0.data.fd == socket }
    }

    func socketPair() -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    /// A socket curl opened itself (its threaded resolver's socketpair) and closed without our
    /// close callback: a new socket with the same number must still be watched.
    @Test func aSocketWeDidNotOpenIsNotParkedBehindAStaleEntry() {
        let poller = Poller()
        let registry = SocketRegistry(poller: poller)
        let (first, firstPeer) = socketPair()
        registry.curlWants(first, CURL_POLL_IN)
        registry.curlWants(first, CURL_POLL_REMOVE)
        // curl closes its socket without our callback and the kernel gives the number to a new
        // socket. dup2 does both at once: with close-then-open, a test running beside this one
        // could take the number in between (it did, in CI).
        let (fresh, secondPeer) = socketPair()
        #expect(dup2(fresh, first) == first)
        close(fresh)
        close(firstPeer)
        let second = first
        defer { close(second); close(secondPeer) }
        registry.curlWants(second, CURL_POLL_IN)
        _ = write(secondPeer, "x", 1)
        #expect(ready(poller, second))
    }

    /// A socket opened through our callback stays in the set between keep-alive requests and
    /// is reported again when curl wants it back.
    @Test func anOwnedSocketIsParkedAndComesBack() {
        let poller = Poller()
        let registry = SocketRegistry(poller: poller)
        let (socket, peer) = socketPair()
        defer { close(socket); close(peer) }
        registry.opened(socket)
        registry.curlWants(socket, CURL_POLL_IN)
        registry.curlWants(socket, CURL_POLL_REMOVE)   // parked
        registry.curlWants(socket, CURL_POLL_IN)       // wanted again, no epoll_ctl needed
        _ = write(peer, "x", 1)
        #expect(ready(poller, socket))
        #expect(registry.shouldDeliver(socket))
    }
}
