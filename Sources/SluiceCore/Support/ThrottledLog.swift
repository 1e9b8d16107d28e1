import Foundation
import SluiceSQLite

/// A line on standard error at most once per interval for each kind of trouble, with the count
/// of repeats held back since the last one.
///
/// A failure that lasts (a full disk) is hit by every completer cycle and every client retry:
/// printed each time, the log grew by 112 lines a second and filled what space was left.
/// Callers name the kind (`"storage-full"`) so distinct troubles still show at once.
public final class ThrottledLog: @unchecked Sendable {
    public static let standard = ThrottledLog()

    public let intervalSeconds: Double
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()
    private var kinds: [String: (lastWritten: Double, suppressed: Int)] = [:]

    public init(intervalSeconds: Double = 10, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.intervalSeconds = intervalSeconds
        self.write = write
    }

    /// The kind of `error` for throttling: `storage-full` for a full disk wherever it is hit
    /// (the completer and the API report it as one), else the SQLite code or the error's type.
    public static func kind(of error: any Error) -> String {
        guard let error = error as? SQLiteError else { return String(describing: type(of: error)) }
        return error.isStorageFull ? "storage-full" : "sqlite-\(error.extendedCode)"
    }

    /// Writes `message` (one line) unless a line of this `kind` was written less than an
    /// interval ago; returns whether it was written.
    @discardableResult
    public func report(_ kind: String, _ message: @autoclosure () -> String, now: Double = Date().timeIntervalSince1970) -> Bool {
        lock.lock()
        let previous = kinds[kind]
        if let previous, now - previous.lastWritten < intervalSeconds {
            kinds[kind] = (previous.lastWritten, previous.suppressed + 1)
            lock.unlock()
            return false
        }
        kinds[kind] = (now, 0)
        lock.unlock()
        let repeats = previous.map { $0.suppressed > 0 ? " (\($0.suppressed) more like it in the last \(Int(now - $0.lastWritten)) s)" : "" } ?? ""
        write("sluice: \(message())\(repeats)\n")
        return true
    }
}
