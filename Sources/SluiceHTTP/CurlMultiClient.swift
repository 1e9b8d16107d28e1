import CCurl
import CurlShim
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP client on libcurl's multi interface driven by one I/O thread: any number of
/// requests in flight share that thread, and connections are kept alive and reused through
/// the multi handle's connection cache. `perform` may be called from any thread.
///
/// The thread sleeps in `epoll_wait` on curl's sockets (see `Poller`) and tells curl only
/// about the sockets that became ready, so a wake-up costs in proportion to what happened,
/// not to how many requests are in flight.
public final class CurlMultiClient: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<HTTPResponse, HTTPTransportError>) -> Void

    private let multi: UnsafeMutableRawPointer
    private let poller: Poller
    private let sockets: SocketRegistry
    private let inbox = Inbox()

    // Owned by the I/O thread.
    private var handles: [EasyHandle] = []
    private var idle: [EasyHandle] = []
    /// When curl wants `CURL_SOCKET_TIMEOUT` driven (its timer callback sets it), monotonic ns.
    private var timerDeadline: UInt64?
    /// The I/O thread's `pthread_self()` (0 until it runs): read from any thread, hence atomic.
    private let ioThread = Atomic<UInt>(0)
    private let finished = DispatchSemaphore(value: 0)

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(maxTotalConnections: Int = 512, maxConnectionsPerHost: Int = 0) {
        _ = Self.globalInit
        poller = Poller()
        sockets = SocketRegistry(poller: poller)
        multi = curl_multi_init()!
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxTotalConnections)
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(64, maxTotalConnections))
        let context = Unmanaged.passUnretained(self).toOpaque()
        sluice_curl_multi_setopt_socket_callback(multi) { _, socket, what, context, _ in
            Unmanaged<CurlMultiClient>.fromOpaque(context!).takeUnretainedValue().sockets.curlWants(socket, what)
            return 0
        }
        sluice_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
        sluice_curl_multi_setopt_timer_callback(multi) { _, timeoutMilliseconds, context in
            let client = Unmanaged<CurlMultiClient>.fromOpaque(context!).takeUnretainedValue()
            // 0 ("act now", e.g. after adding a handle) is due in this same loop pass, without reading the clock.
            switch timeoutMilliseconds {
            case ..<0: client.timerDeadline = nil
            case 0: client.timerDeadline = 0
            default: client.timerDeadline = MonotonicClock.nanoseconds() + UInt64(timeoutMilliseconds) * 1_000_000
            }
            return 0
        }
        sluice_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)
        let thread = Thread { [self] in
            ThreadNames.nameCurrentThread(ThreadNames.http)
            loop()
        }
        thread.name = ThreadNames.http
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
        poller.close()
    }

    /// Starts a request; `completion` runs once, on the I/O thread (keep it short), and never
    /// before `perform` returns (so a caller may start the next request from a completion).
    public func perform(_ request: HTTPRequest, completion: @escaping Completion) {
        switch inbox.add(request, completion, fromIOThread: isIOThread) {
        case .refused: DispatchQueue.global().async { completion(.failure(.shutdown)) }
        case .queued(let wake): if wake { poller.wake() }
        }
    }

    public func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, HTTPTransportError> {
        await withCheckedContinuation { continuation in
            perform(request) { continuation.resume(returning: $0) }
        }
    }

    /// Aborts what is in flight (each gets `.shutdown`) and stops the I/O thread.
    public func shutdown() {
        guard inbox.stop() else { return }
        poller.wake()
        finished.wait()
    }

    private var isIOThread: Bool {
        let thread = ioThread.load(ordering: .acquiring)
        return thread != 0 && pthread_equal(pthread_t(thread), pthread_self()) != 0
    }

    // MARK: The I/O thread

    private func loop() {
        ioThread.store(UInt(pthread_self()), ordering: .releasing)
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var running: Int32 = 0
        var timeout: Int32 = 0
        while true {
            let count = poller.wait(events, capacity: capacity, timeoutMilliseconds: timeout)
            for index in 0..<count {
                let event = events[index]
                let socket = event.data.fd
                if socket == poller.wakeDescriptor {
                    poller.consumeWake()
                    continue
                }
                guard sockets.shouldDeliver(socket) else { continue }
                var flags: Int32 = 0
                if event.events & EPOLLIN.rawValue != 0 { flags |= CURL_CSELECT_IN }
                if event.events & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
                if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= CURL_CSELECT_ERR }
                curl_multi_socket_action(multi, socket, flags, &running)
            }
            // After consuming the wake-up, so a request added from now on wakes the next wait.
            let taken = inbox.take()
            if taken.stopping {
                abandonAll(taken.requests)
                finished.signal()
                return
            }
            var now = MonotonicClock.nanoseconds()
            for (request, completion) in taken.requests { start(request, completion, now: now) }
            if let deadline = timerDeadline, deadline <= now {
                timerDeadline = nil
                curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
                now = MonotonicClock.nanoseconds()
            }
            var curl: UnsafeMutableRawPointer?
            var code = CURLE_OK
            while sluice_curl_multi_next_done(multi, &curl, &code) != 0, let curl {
                curl_multi_remove_handle(multi, curl)
                let handle = EasyHandle.from(curl)
                let completion = handle.completion
                let result = handle.finish(code, now: now)
                idle.append(handle)
                completion?(result)
            }
            // Completions run here may have queued requests without waking us (see `Inbox.add`).
            if inbox.hasPending {
                timeout = 0
            } else if let deadline = timerDeadline {
                let now = MonotonicClock.nanoseconds()
                timeout = deadline <= now ? 0 : Int32(min(60_000, (deadline - now + 999_999) / 1_000_000))
            } else {
                timeout = -1
            }
        }
    }

    private func start(_ request: HTTPRequest, _ completion: @escaping Completion, now: UInt64) {
        let handle = idle.popLast() ?? makeHandle()
        if let error = handle.prepare(request, completion: completion, now: now) {
            idle.append(handle)
            completion(.failure(error))
            return
        }
        curl_multi_add_handle(multi, handle.curl)
    }

    private func makeHandle() -> EasyHandle {
        let handle = EasyHandle(sockets: sockets)
        handles.append(handle)
        return handle
    }

    private func abandonAll(_ queued: [(HTTPRequest, Completion)]) {
        for (_, completion) in queued { completion(.failure(.shutdown)) }
        for handle in handles {
            guard let completion = handle.abandon() else { continue }
            curl_multi_remove_handle(multi, handle.curl)
            completion(.failure(.shutdown))
        }
        handles.removeAll()
        idle.removeAll()
    }
}

/// Requests handed to the I/O thread, and whether it must be woken to see them.
///
/// Only the first request after the thread last looked writes to the eventfd; later ones
/// find the wake-up already on its way. Requests made on the I/O thread itself (from a
/// completion) never write it: the thread checks the inbox before it waits.
final class Inbox: @unchecked Sendable {
    enum Admission { case refused, queued(wake: Bool) }

    private let lock = NSLock()
    private var requests: [(HTTPRequest, CurlMultiClient.Completion)] = []
    private var wakeSent = false
    private var stopping = false

    func add(_ request: HTTPRequest, _ completion: @escaping CurlMultiClient.Completion, fromIOThread: Bool) -> Admission {
        lock.lock()
        defer { lock.unlock() }
        if stopping { return .refused }
        requests.append((request, completion))
        if fromIOThread || wakeSent { return .queued(wake: false) }
        wakeSent = true
        return .queued(wake: true)
    }

    func take() -> (requests: [(HTTPRequest, CurlMultiClient.Completion)], stopping: Bool) {
        lock.lock()
        defer { lock.unlock() }
        let taken = requests
        requests.removeAll(keepingCapacity: true)
        wakeSent = false
        return (taken, stopping)
    }

    var hasPending: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !requests.isEmpty || stopping
    }

    /// True the first time: the caller then wakes the thread and waits for it.
    func stop() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if stopping { return false }
        stopping = true
        return true
    }
}
