import Foundation

/// An object made current on the calling thread for the length of a call (`with`), read from
/// anywhere below it (`value`): how the interpreter hands its step's random source and
/// evaluation budget to the intrinsics and JSONPath without every signature carrying them.
/// A pthread key: Foundation's `threadDictionary` cost more than the rest of a task-succeeded
/// step (an NSMutableDictionary, boxing on every read and write).
final class ThreadCurrent<Value: AnyObject>: @unchecked Sendable {
    private let key: pthread_key_t

    init(_ what: String) {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no pthread key for \(what)")
        self.key = key
    }

    /// The object `with` made current on this thread, or nil.
    var value: Value? {
        pthread_getspecific(key).map { Unmanaged<Value>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Runs `body` with `value` current on the calling thread, then restores the one before.
    /// Kept unretained: `value` (and any outer one restored after) lives across the call.
    func with<T>(_ value: Value, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(value).toOpaque())
        defer { pthread_setspecific(key, previous) }
        return try withExtendedLifetime(value) { try body() }
    }
}
