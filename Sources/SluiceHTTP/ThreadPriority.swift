#if canImport(Glibc)
import Glibc
#endif

/// Scheduling priority of one OS thread (the engine lowers its writer's on request, see
/// `EngineConfiguration.writerNice`). Threads a thread creates inherit its nice value.
public enum ThreadPriority {
    /// Sets the calling OS thread's nice value (Linux keeps it per thread: `setpriority` with
    /// the thread's id). Raising it needs no privilege; returns false if it could not be set.
    @discardableResult
    public static func setCurrentThreadNice(_ nice: Int32) -> Bool {
        #if os(Linux)
        // /proc/thread-self links to "PID/task/TID"; Swift's Glibc module has no gettid().
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0, let tid = String(cString: buffer).split(separator: "/").last.flatMap({ id_t($0) }) else { return false }
        return setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, nice) == 0
        #else
        return false
        #endif
    }
}
