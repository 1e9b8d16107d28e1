import SluiceSQLite

/// Recognises a write that failed because the database's volume is full, for those who answer
/// for it (the API's 507, the logs) without importing SQLite's types.
public enum StorageFull {
    /// `SQLITE_FULL …` or `ENOSPC …` when `error` is a full disk, nil for any other error.
    public static func cause(of error: any Error) -> String? {
        guard let error = error as? SQLiteError, error.isStorageFull else { return nil }
        return error.storageFullCause
    }
}
