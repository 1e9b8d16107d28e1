import Foundation

/// A thread that calls `tick` and sleeps until the time it returns, until stopped. The scanner
/// and the scheduler are both this: do what is due, then wait for the next due time — or
/// for `stop()`, which wakes the sleep at once and waits for the tick in progress to end.
final class TimedLoop: @unchecked Sendable {
    private let name: String
    private let condition = NSCondition()
    private var stopping = false
    private var stopped = false
    private var thread: Thread?

    init(name: String) { self.name = name }

    /// Holds the tick closure, which only the loop's thread ever calls (hence unchecked).
    private final class Tick: @unchecked Sendable {
        let run: () -> Double
        init(_ run: @escaping () -> Double) { self.run = run }
    }

    /// `tick` returns when to run next (Unix seconds). It runs on the loop's thread only, so it
    /// may keep its own mutable state.
    func start(_ tick: @escaping () -> Double) {
        let tick = Tick(tick)
        let thread = Thread { [self] in
            while true {
                let wake = tick.run()
                condition.lock()
                if !stopping { condition.wait(until: Date(timeIntervalSince1970: wake)) }
                if stopping {
                    stopped = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                condition.unlock()
            }
        }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while thread != nil && !stopped { condition.wait() }
        condition.unlock()
    }
}
