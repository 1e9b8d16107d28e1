import CurlShim
#if canImport(Glibc)
import Glibc
#endif

/// The I/O thread's readiness source: an epoll set holding curl's sockets plus an eventfd that
/// other threads write to wake the thread. Level-triggered, so an event curl does not consume
/// in one pass is reported again in the next.
///
/// We drive curl with `curl_multi_socket_action` on the sockets epoll reports, rather than
/// `curl_multi_perform` + `curl_multi_poll`, because the latter walks every transfer on every
/// wake-up: with hundreds in flight that walk, not the network, became the cost per request.
struct Poller {
    let epoll: Int32
    let wakeDescriptor: Int32

    init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeDescriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(epoll >= 0 && wakeDescriptor >= 0, "cannot create epoll/eventfd: errno \(errno)")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeDescriptor
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeDescriptor, &event)
    }

    func close() {
        _ = Glibc.close(wakeDescriptor)
        _ = Glibc.close(epoll)
    }

    /// Watches `socket` for curl's `CURL_POLL_*` interest; `known` says whether it is already in the set.
    func watch(_ socket: Int32, readable: Bool, writable: Bool, known: Bool) {
        var event = epoll_event()
        event.events = (readable ? EPOLLIN.rawValue : 0) | (writable ? EPOLLOUT.rawValue : 0)
        event.data.fd = socket
        if epoll_ctl(epoll, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event) != 0 {
            // curl may hand back a socket number it closed and reopened before telling us; fix the set up.
            epoll_ctl(epoll, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event)
        }
    }

    func unwatch(_ socket: Int32) {
        var event = epoll_event()
        epoll_ctl(epoll, EPOLL_CTL_DEL, socket, &event)   // fails harmlessly when curl already closed it
    }

    /// Makes a `wait` on the I/O thread return (now, or at once if it is not waiting).
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    /// Clears the wake-up count, so the next `wait` blocks again.
    func consumeWake() {
        var count: UInt64 = 0
        _ = read(wakeDescriptor, &count, 8)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever); returns how many events landed in `events`.
    func wait(_ events: UnsafeMutablePointer<epoll_event>, capacity: Int, timeoutMilliseconds: Int32) -> Int {
        let count = epoll_wait(epoll, events, Int32(capacity), timeoutMilliseconds)
        return max(0, Int(count))   // EINTR counts as "nothing happened"
    }
}

/// Monotonic nanoseconds, for deadlines and durations.
enum MonotonicClock {
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
