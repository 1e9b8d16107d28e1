/*
 * The SQLite floor of a durable HTTP job: the statements Sluice's writer runs for one
 * one-task execution, issued straight through the C API with no Sluice code around them.
 * Compare its cpu_us_per_job with `sluice bench http`'s cpu_us_writer: the difference is
 * what the engine adds over SQLite itself.
 *
 *   full     what the writer stores per job today: the claim (UPDATE ... RETURNING over
 *            jobs_ready), the read of the execution, the job's finish, its TaskSucceeded
 *            line with the task's record, the execution's end.
 *   minimal  only the history line and the execution's end: the least any design that keeps
 *            each task's outcome durable could write (no queue row changes at all).
 *
 * The schema is the real one: every .sql file of migrations/ applied in order.
 * Usage: sqlite_writes MIGRATIONS_DIR [full|minimal] [jobs] [jobs_per_commit] [record_bytes] [FULL|NORMAL|OFF]
 */
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clocks.h"

static void run(sqlite3 *db, const char *sql) {
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
        fprintf(stderr, "sqlite_writes: %s\n  in: %.200s\n", error, sql);
        exit(1);
    }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *statement;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_writes: %s\n  in: %.200s\n", sqlite3_errmsg(db), sql);
        exit(1);
    }
    return statement;
}

static void step_done(sqlite3 *db, sqlite3_stmt *statement) {
    if (sqlite3_step(statement) != SQLITE_DONE) {
        fprintf(stderr, "sqlite_writes: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_reset(statement);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int is_sql(const struct dirent *entry) {
    size_t length = strlen(entry->d_name);
    return length > 4 && strcmp(entry->d_name + length - 4, ".sql") == 0;
}

/* Applies every .sql file of `directory` in name order, as the migrator does. */
static void migrate(sqlite3 *db, const char *directory) {
    struct dirent **entries;
    int count = scandir(directory, &entries, is_sql, by_name);
    if (count <= 0) {
        fprintf(stderr, "sqlite_writes: no .sql files in %s\n", directory);
        exit(1);
    }
    for (int i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", directory, entries[i]->d_name);
        FILE *file = fopen(path, "r");
        if (!file) { perror(path); exit(1); }
        fseek(file, 0, SEEK_END);
        long size = ftell(file);
        rewind(file);
        char *text = malloc(size + 1);
        text[fread(text, 1, size, file)] = 0;
        fclose(file);
        run(db, text);
        free(text);
        free(entries[i]);
    }
    free(entries);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MIGRATIONS_DIR [full|minimal] [jobs] [jobs_per_commit] [record_bytes] [FULL|NORMAL|OFF]\n", argv[0]);
        return 2;
    }
    const char *migrations = argv[1];
    int full = argc > 2 ? strcmp(argv[2], "minimal") != 0 : 1;
    int jobs = argc > 3 ? atoi(argv[3]) : 30000;
    int batch = argc > 4 ? atoi(argv[4]) : 20;
    int record_bytes = argc > 5 ? atoi(argv[5]) : 700;
    const char *sync = argc > 6 ? argv[6] : "FULL";
    if (jobs <= 0 || batch <= 0 || batch > 4096 || record_bytes < 2) {
        fprintf(stderr, "sqlite_writes: jobs > 0, 0 < jobs_per_commit <= 4096, record_bytes >= 2\n");
        return 2;
    }

    char path[] = "/tmp/sluice-floor-XXXXXX";
    if (!mkdtemp(path)) { perror("mkdtemp"); return 1; }
    char file[sizeof path + 16];
    snprintf(file, sizeof file, "%s/f.sqlite", path);
    sqlite3 *db;
    if (sqlite3_open(file, &db) != SQLITE_OK) { fprintf(stderr, "cannot open %s\n", file); return 1; }
    char pragmas[256];
    /* The pragmas Sluice's Database sets. */
    snprintf(pragmas, sizeof pragmas, "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA temp_store = MEMORY; "
             "PRAGMA cache_size = -8000; PRAGMA wal_autocheckpoint = 4000;", sync);
    run(db, pragmas);
    migrate(db, migrations);

    /* The queue as `sluice bench http` leaves it before the engine starts: N pending executions, N ready jobs. */
    run(db, "INSERT INTO definitions (name, version, dialect, source, compiled, checksum, created_at) VALUES ('floor', 1, 'builtin', '{}', '{}', '-', 0)");
    const char *payload = "{\"url\":\"http://127.0.0.1:18080/ok\",\"method\":\"GET\",\"timeoutMs\":30000}";
    sqlite3_stmt *add_execution = prepare(db, "INSERT INTO executions (uid, definition_id, status, queue, input, state, created_at, updated_at) "
                                              "VALUES (?, 1, 'pending', 'default', ?, '{\"step\":0}', 1, 1)");
    sqlite3_stmt *add_job = prepare(db, "INSERT INTO jobs (execution_id, execution_uid, kind, queue, run_at, state, step, task_type, payload, max_attempts, created_at) "
                                        "VALUES (?, ?, 'task', 'default', 1, 'ready', 'get', 'http', ?, 1, 1)");
    run(db, "BEGIN");
    for (int i = 0; i < jobs; i++) {
        char uid[40];
        snprintf(uid, sizeof uid, "0190aaaa-bbbb-7ccc-8ddd-%012d", i);
        sqlite3_bind_text(add_execution, 1, uid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(add_execution, 2, payload, -1, SQLITE_STATIC);
        step_done(db, add_execution);
        sqlite3_bind_int64(add_job, 1, sqlite3_last_insert_rowid(db));
        sqlite3_bind_text(add_job, 2, uid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(add_job, 3, payload, -1, SQLITE_STATIC);
        step_done(db, add_job);
    }
    run(db, "COMMIT");
    run(db, "PRAGMA wal_checkpoint(TRUNCATE)");

    /* The writer's statements, as TransactionWriter words them. */
    sqlite3_stmt *claim = prepare(db,
        "UPDATE jobs SET state = 'running', lease_owner = 'host:1:token', lease_expires_at = ?, attempt = attempt + 1 "
        "WHERE id IN (SELECT id FROM jobs WHERE state = 'ready' AND queue = 'default' ORDER BY priority DESC, id LIMIT ?) AND state = 'ready' "
        "RETURNING id, execution_id, execution_uid, step, task_type, payload, attempt, max_attempts, created_at, priority");
    sqlite3_stmt *load = prepare(db, "SELECT definition_id, state, status, queue, namespace, parent_id IS NOT NULL FROM executions WHERE id = ?");
    sqlite3_stmt *finish = prepare(db,
        "UPDATE jobs SET state = 'done', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL "
        "WHERE id = ? AND state = 'running' AND lease_owner = 'host:1:token'");
    sqlite3_stmt *line = prepare(db, "INSERT INTO history (execution_id, at, type, step, attempt, details) VALUES (?, ?, 'TaskSucceeded', 'get', 1, ?)");
    sqlite3_stmt *end = prepare(db,
        "UPDATE executions SET state = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ?, "
        "status = COALESCE(?, 'running'), output = ?, error = NULL, cause = NULL, finished_at = ? "
        "WHERE id = ? AND status IN ('pending', 'running')");

    char *record = malloc(record_bytes + 1);
    memset(record, 'r', record_bytes);
    record[0] = '{';
    record[record_bytes - 1] = '}';
    record[record_bytes] = 0;
    const char *output = "{\"status\":200,\"body\":\"ok\"}";

    static sqlite3_int64 job_ids[4096], execution_ids[4096];
    double cpu_start = cpu_seconds(), wall_start = wall_seconds();
    int done = 0;
    while (done < jobs) {
        run(db, "BEGIN IMMEDIATE");
        int count = 0;
        if (full) {
            sqlite3_bind_double(claim, 1, 2e9);
            sqlite3_bind_int(claim, 2, batch);
            while (sqlite3_step(claim) == SQLITE_ROW) {
                job_ids[count] = sqlite3_column_int64(claim, 0);
                execution_ids[count] = sqlite3_column_int64(claim, 1);
                (void)sqlite3_column_text(claim, 2);
                (void)sqlite3_column_text(claim, 5);
                count++;
            }
            sqlite3_reset(claim);
        } else {
            count = jobs - done < batch ? jobs - done : batch;
            for (int i = 0; i < count; i++) execution_ids[i] = done + i + 1;
        }
        for (int i = 0; i < count; i++) {
            if (full) {
                sqlite3_bind_int64(load, 1, execution_ids[i]);
                if (sqlite3_step(load) == SQLITE_ROW) (void)sqlite3_column_text(load, 1);
                sqlite3_reset(load);
                sqlite3_bind_double(finish, 1, 3.0);
                sqlite3_bind_int64(finish, 2, job_ids[i]);
                step_done(db, finish);
            }
            sqlite3_bind_int64(line, 1, execution_ids[i]);
            sqlite3_bind_double(line, 2, 3.0);
            sqlite3_bind_text(line, 3, record, record_bytes, SQLITE_STATIC);
            step_done(db, line);
            sqlite3_bind_text(end, 1, "{\"step\":1}", -1, SQLITE_STATIC);
            sqlite3_bind_double(end, 2, 2.0);
            sqlite3_bind_double(end, 3, 3.0);
            sqlite3_bind_text(end, 4, "succeeded", -1, SQLITE_STATIC);
            sqlite3_bind_text(end, 5, output, -1, SQLITE_STATIC);
            sqlite3_bind_double(end, 6, 3.0);
            sqlite3_bind_int64(end, 7, execution_ids[i]);
            step_done(db, end);
        }
        run(db, "COMMIT");
        if (count == 0) break;
        done += count;
    }
    double cpu = cpu_seconds() - cpu_start, wall = wall_seconds() - wall_start;
    printf("mode=%s jobs=%d jobs_per_commit=%d record_bytes=%d sync=%s sqlite=%s jobs_per_s=%.0f cpu_us_per_job=%.1f\n",
           full ? "full" : "minimal", done, batch, record_bytes, sync, sqlite3_libversion(), done / wall, cpu / done * 1e6);
    sqlite3_close(db);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char name[sizeof file + 8];
        snprintf(name, sizeof name, "%s%s", file, suffixes[i]);
        unlink(name);
    }
    return rmdir(path) == 0 ? 0 : 1;
}
