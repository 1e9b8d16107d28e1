import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Notices writes to the database file by other processes within a millisecond, without
/// polling: inotify on the file's directory reports every write to its `-wal` file. The
/// completer then confirms with `PRAGMA data_version` (which ignores its own commits).
/// Where inotify is unavailable the completer falls back to checking `data_version` on a timer.
///
/// The watch is armed only while the completer sleeps: a watch makes every write to the
/// directory — the completer's own WAL writes included — queue an event and wake this thread,
/// which cost a quarter of the completer's time under load. A busy completer checks
/// `data_version` every cycle instead.
final class ChangeWatcher: @unchecked Sendable {
    private let fd: Int32
    private let directory: String
    private var watch: Int32 = -1
    private let walName: String
    private let onChange: @Sendable () -> Void
    private var thread: Thread?
    private let stopPipe: [Int32]

    /// nil when inotify cannot watch the directory.
    init?(databasePath: String, onChange: @escaping @Sendable () -> Void) {
        #if os(Linux)
        let url = URL(fileURLWithPath: databasePath).standardizedFileURL
        directory = url.deletingLastPathComponent().path
        walName = url.lastPathComponent + "-wal"
        self.onChange = onChange
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        // Check once that the directory can be watched at all.
        let probe = inotify_add_watch(fd, directory, UInt32(IN_MODIFY))
        guard probe >= 0 else {
            close(fd)
            return nil
        }
        inotify_rm_watch(fd, probe)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(fd)
            return nil
        }
        stopPipe = fds
        #else
        return nil
        #endif
    }

    /// Starts watching (from the completer thread, before it sleeps). False if inotify refused.
    @discardableResult
    func arm() -> Bool {
        #if os(Linux)
        guard watch < 0 else { return true }
        watch = inotify_add_watch(fd, directory, UInt32(IN_MODIFY) | UInt32(IN_CREATE) | UInt32(IN_MOVED_TO))
        return watch >= 0
        #else
        return false
        #endif
    }

    /// Stops watching (from the completer thread, when it has work).
    func disarm() {
        #if os(Linux)
        guard watch >= 0 else { return }
        inotify_rm_watch(fd, watch)
        watch = -1
        #endif
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "sluice-watcher"
        self.thread = thread
        thread.start()
    }

    func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe[1], &byte, 1)
    }

    private func run() {
        #if os(Linux)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopPipe[0], events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 { if errno == EINTR { continue } else { break } }
            if fds[1].revents != 0 { break }
            var relevant = false
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let (length, name) = buffer.withUnsafeBytes { raw -> (Int, String) in
                        let event = raw.load(fromByteOffset: offset, as: inotify_event.self)
                        let nameStart = offset + MemoryLayout<inotify_event>.size
                        let nameBytes = raw[nameStart..<(nameStart + Int(event.len))].prefix { $0 != 0 }
                        return (Int(event.len), String(decoding: nameBytes, as: UTF8.self))
                    }
                    if name == walName { relevant = true }
                    offset += MemoryLayout<inotify_event>.size + length
                }
            }
            if relevant { onChange() }
        }
        close(fd)
        close(stopPipe[0])
        close(stopPipe[1])
        #endif
    }
}
