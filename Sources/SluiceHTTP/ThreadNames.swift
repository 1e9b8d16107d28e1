#if canImport(Glibc)
import Glibc
#endif

/// Names of the process's long-lived threads as `top -H`, perf and `/proc/PID/task/*/comm` show
/// them (Linux keeps 15 bytes). Foundation's `Thread.name` does not reach the OS thread on
/// Linux, so each loop names itself when it starts; the benchmarks add CPU up by these names.
public enum ThreadNames {
    /// The engine's single writer (the completer's loop).
    public static let writer = "sluice-writer"
    /// The curl multi client's I/O thread.
    public static let http = "sluice-http"

    /// Names the calling OS thread, through `/proc/thread-self/comm` (`pthread_setname_np`
    /// needs `_GNU_SOURCE`, which Swift's Glibc module does not see). Best effort.
    public static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        let descriptor = open("/proc/thread-self/comm", O_WRONLY)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        #endif
    }
}
