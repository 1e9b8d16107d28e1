/// How durable a commit is. `full` (the default) fsyncs the WAL on every commit, so an
/// acknowledged submit or result survives a power cut; group commit pays for the fsync.
/// `normal` may lose the last commits on a power cut (never on a process crash) and is faster.
public enum SyncMode: String, Sendable, CaseIterable {
    case full
    case normal

    var pragma: String { self == .full ? "FULL" : "NORMAL" }
}

/// Where the database lives and how connections to it behave.
public struct StoreConfiguration: Sendable {
    public var path: String
    public var sync: SyncMode
    /// How long a connection waits for another process's write lock before failing.
    public var busyTimeoutMilliseconds: Int32
    public var readerCount: Int

    public init(path: String, sync: SyncMode = .full, busyTimeoutMilliseconds: Int32 = 10_000, readerCount: Int = 2) {
        self.path = path
        self.sync = sync
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.readerCount = readerCount
    }
}
