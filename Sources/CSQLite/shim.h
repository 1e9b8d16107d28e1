#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }

/// Turns off SQLite's memory statistics for the whole process. With them on (the library's
/// default) every sqlite3_malloc and free takes one global mutex shared by all connections;
/// Sluice reads no statistic. Takes effect only before the library initialises (the first
/// open), so the Swift wrapper calls it once before any connection exists. sqlite3_config is
/// variadic, which Swift cannot call.
static inline int csqlite_disable_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
