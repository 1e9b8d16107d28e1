import CCurl
import CurlShim
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the epoll set in step with what curl wants to hear about, with as few `epoll_ctl`
/// calls as it can (I/O thread only).
///
/// curl asks to stop watching a keep-alive connection's socket when a transfer ends and to
/// watch it again when the next transfer reuses it: taken literally that is an `epoll_ctl`
/// DEL and ADD per request. Instead a socket curl lets go of stays in the set ("parked"); if
/// it reports an event while parked (the server closed it, say) it is taken out then. Because
/// every socket curl uses is opened and closed through `opened`/`closed` (curl's open/close
/// socket callbacks), a socket number reused for a new connection never inherits a stale entry.
final class SocketRegistry {
    private let poller: Poller
    /// Per socket number: the events registered with epoll (`readable`, `writable`), `inUse`,
    /// and `owned` (opened through our callback, so its close is seen).
    private var states: [UInt8] = []
    private static let readable: UInt8 = 1
    private static let writable: UInt8 = 2
    private static let inUse: UInt8 = 4
    private static let owned: UInt8 = 8

    init(poller: Poller) { self.poller = poller }

    /// A socket curl just opened: no epoll entry yet.
    func opened(_ socket: Int32) { set(socket, Self.owned) }

    /// A socket curl is done with; closing removes it from the epoll set too.
    func closed(_ socket: Int32) { set(socket, 0) }

    /// curl's socket callback: `what` is `CURL_POLL_IN`, `_OUT`, `_INOUT` or `_REMOVE`.
    func curlWants(_ socket: Int32, _ what: Int32) {
        let current = state(socket)
        let registered = current & (Self.readable | Self.writable)
        let owned = current & Self.owned
        if what == CURL_POLL_REMOVE {
            if owned != 0 {
                set(socket, registered | owned)   // parked: still in the epoll set, its close will be seen
            } else {
                // Not opened through our callback (the threaded resolver's socketpair, say): curl
                // may close it without telling us, and a reused number must not find a stale entry.
                if registered != 0 { poller.unwatch(socket) }
                set(socket, 0)
            }
            return
        }
        let wanted = (what & CURL_POLL_IN != 0 ? Self.readable : 0) | (what & CURL_POLL_OUT != 0 ? Self.writable : 0)
        // A socket we did not open is told to epoll every time: its number may be a new socket
        // behind an old entry (`watch` falls back from MOD to ADD).
        if wanted != registered || owned == 0 {
            poller.watch(socket, readable: wanted & Self.readable != 0, writable: wanted & Self.writable != 0, known: registered != 0)
        }
        set(socket, wanted | Self.inUse | owned)
    }

    /// An epoll event: true when curl wants it; a parked socket is taken out of the set instead.
    func shouldDeliver(_ socket: Int32) -> Bool {
        let current = state(socket)
        if current & Self.inUse != 0 { return true }
        poller.unwatch(socket)
        set(socket, current & Self.owned)
        return false
    }

    private func state(_ socket: Int32) -> UInt8 {
        Int(socket) < states.count && socket >= 0 ? states[Int(socket)] : 0
    }

    private func set(_ socket: Int32, _ value: UInt8) {
        guard socket >= 0 else { return }
        let index = Int(socket)
        if index >= states.count { states.append(contentsOf: repeatElement(0, count: max(index + 1 - states.count, states.count))) }
        states[index] = value
    }

    /// The callbacks installed on every easy handle; `context` is an unretained `SocketRegistry`.
    static let openSocket: sluice_curl_open_socket_callback = { context, _, address in
        guard let context, let address else { return CURL_SOCKET_BAD }
        // Close-on-exec: a command task's child must not inherit curl's connections.
        let fd = socket(address.pointee.family, address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.protocol)
        if fd >= 0 { Unmanaged<SocketRegistry>.fromOpaque(context).takeUnretainedValue().opened(fd) }
        return fd
    }

    static let closeSocket: sluice_curl_close_socket_callback = { context, fd in
        if let context { Unmanaged<SocketRegistry>.fromOpaque(context).takeUnretainedValue().closed(fd) }
        return close(fd)
    }
}
