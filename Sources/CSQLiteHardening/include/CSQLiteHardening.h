#ifndef CSQLITEHARDENING_H
#define CSQLITEHARDENING_H

#include <sqlite3.h>

/// Turns on SQLITE_DBCONFIG_DEFENSIVE for `db` (a file from elsewhere cannot corrupt or rewrite
/// its own schema through this connection); answers what SQLite reports back (1 when on).
/// sqlite3_db_config() is variadic, which Swift cannot call: this wrapper is why the target exists.
static inline int margin_sqlite_enable_defensive(sqlite3 *db) {
#ifdef SQLITE_DBCONFIG_DEFENSIVE
    int enabled = 0;
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &enabled) != SQLITE_OK) return 0;
    return enabled;
#else
    return 0;
#endif
}

#endif
