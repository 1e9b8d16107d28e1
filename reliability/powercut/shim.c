/*
 * Power-cut recorder: an LD_PRELOAD shim that logs, in order, every change a process makes to
 * the files under one directory — writes with their bytes and offsets, fsync/fdatasync,
 * truncations, creations, unlinks and renames — so a harness can rebuild those files as a
 * power loss at any point would leave them: what was synced, plus any subset of what was not.
 *
 *   POWERCUT_DIR=/abs/dir/ POWERCUT_LOG=/abs/ops.log LD_PRELOAD=./powercut.so sluice serve --db /abs/dir/x.sqlite
 *
 * Files ending in -shm are not logged: SQLite rebuilds its shared-memory index after a crash.
 * The log is appended under one lock, after the real call succeeded, so its order is the order
 * in which the kernel saw the calls, and a sync record means the sync had returned.
 *
 * Record: u8 op, u32 path length, i64 offset, i64 length, path bytes, then `length` bytes of
 * data for a write ('W') or the new path for a rename ('R'). Ops: 'O' open-create, 'W' write,
 * 'S' sync, 'T' truncate (offset = new size), 'U' unlink, 'R' rename.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 65536

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char watch[PATH_MAX];
static size_t watch_length;
static int log_fd = -1;
static char *paths[MAX_FDS];

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);

__attribute__((constructor)) static void setup(void) {
    real_open = dlsym(RTLD_NEXT, "open");
    real_open64 = dlsym(RTLD_NEXT, "open64");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_openat64 = dlsym(RTLD_NEXT, "openat64");
    real_close = dlsym(RTLD_NEXT, "close");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_pwritev = dlsym(RTLD_NEXT, "pwritev");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
    real_unlinkat = dlsym(RTLD_NEXT, "unlinkat");
    real_rename = dlsym(RTLD_NEXT, "rename");
    const char *dir = getenv("POWERCUT_DIR");
    const char *log = getenv("POWERCUT_LOG");
    if (!dir || !log || strlen(dir) >= sizeof watch) return;
    strcpy(watch, dir);
    watch_length = strlen(watch);
    log_fd = real_open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static int watched(const char *path) {
    if (log_fd < 0 || !path || strncmp(path, watch, watch_length) != 0) return 0;
    size_t length = strlen(path);
    return !(length >= 4 && strcmp(path + length - 4, "-shm") == 0);
}

static void write_fully(const void *data, size_t length) {
    const char *bytes = data;
    while (length > 0) {
        ssize_t n = real_write(log_fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) abort(); /* a log that silently misses a record would make every figure wrong */
        bytes += n;
        length -= (size_t)n;
    }
}

/* Caller holds the lock. */
static void record(char op, const char *path, int64_t offset, const void *data, int64_t length) {
    uint32_t path_length = (uint32_t)strlen(path);
    char head[1 + 4 + 8 + 8];
    head[0] = op;
    memcpy(head + 1, &path_length, 4);
    memcpy(head + 5, &offset, 8);
    memcpy(head + 13, &length, 8);
    write_fully(head, sizeof head);
    write_fully(path, path_length);
    if (data && length > 0) write_fully(data, (size_t)length);
}

static const char *path_of(int fd) { return (fd >= 0 && fd < MAX_FDS) ? paths[fd] : NULL; }

static void remember(int fd, const char *path, int flags) {
    if (fd < 0 || fd >= MAX_FDS || !watched(path)) return;
    pthread_mutex_lock(&lock);
    free(paths[fd]);
    paths[fd] = strdup(path);
    if (flags & O_CREAT) record('O', path, 0, NULL, 0);
    if (flags & O_TRUNC) record('T', path, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
}

static int open_common(int (*real)(const char *, int, ...), const char *path, int flags, mode_t mode) {
    int fd = real(path, flags, mode);
    remember(fd, path, flags);
    return fd;
}

int open(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    return open_common(real_open, path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    return open_common(real_open64 ? real_open64 : real_open, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    int fd = real_openat(dirfd, path, flags, mode);
    if (path[0] == '/') remember(fd, path, flags);
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    int fd = (real_openat64 ? real_openat64 : real_openat)(dirfd, path, flags, mode);
    if (path[0] == '/') remember(fd, path, flags);
    return fd;
}

int close(int fd) {
    if (fd >= 0 && fd < MAX_FDS && paths[fd]) {
        pthread_mutex_lock(&lock);
        free(paths[fd]);
        paths[fd] = NULL;
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset) {
    const char *path = path_of(fd);
    if (!path) return real_pwrite(fd, buffer, count, offset);
    pthread_mutex_lock(&lock);
    ssize_t n = real_pwrite(fd, buffer, count, offset);
    if (n > 0) record('W', path, offset, buffer, n);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t pwrite64(int fd, const void *buffer, size_t count, off_t offset) {
    const char *path = path_of(fd);
    ssize_t (*real)(int, const void *, size_t, off_t) = real_pwrite64 ? real_pwrite64 : real_pwrite;
    if (!path) return real(fd, buffer, count, offset);
    pthread_mutex_lock(&lock);
    ssize_t n = real(fd, buffer, count, offset);
    if (n > 0) record('W', path, offset, buffer, n);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t write(int fd, const void *buffer, size_t count) {
    const char *path = path_of(fd);
    if (!path) return real_write(fd, buffer, count);
    pthread_mutex_lock(&lock);
    off_t offset = lseek(fd, 0, SEEK_CUR);
    if (fcntl(fd, F_GETFL) & O_APPEND) { struct stat info; if (fstat(fd, &info) == 0) offset = info.st_size; }
    ssize_t n = real_write(fd, buffer, count);
    if (n > 0) record('W', path, offset, buffer, n);
    pthread_mutex_unlock(&lock);
    return n;
}

static ssize_t vector_write(int fd, const struct iovec *vector, int count, off_t offset, int positioned) {
    const char *path = path_of(fd);
    if (!path) return positioned ? real_pwritev(fd, vector, count, offset) : real_writev(fd, vector, count);
    pthread_mutex_lock(&lock);
    if (!positioned) offset = lseek(fd, 0, SEEK_CUR);
    ssize_t n = positioned ? real_pwritev(fd, vector, count, offset) : real_writev(fd, vector, count);
    ssize_t left = n;
    for (int i = 0; i < count && left > 0; i++) {
        ssize_t part = (ssize_t)vector[i].iov_len < left ? (ssize_t)vector[i].iov_len : left;
        record('W', path, offset, vector[i].iov_base, part);
        offset += part;
        left -= part;
    }
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t writev(int fd, const struct iovec *vector, int count) { return vector_write(fd, vector, count, 0, 0); }
ssize_t pwritev(int fd, const struct iovec *vector, int count, off_t offset) { return vector_write(fd, vector, count, offset, 1); }

static int synced(int fd, int (*real)(int)) {
    const char *path = path_of(fd);
    if (!path) return real(fd);
    /* The lock is held across the sync so no write can slip between its return and the record. */
    pthread_mutex_lock(&lock);
    int result = real(fd);
    if (result == 0) record('S', path, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
    return result;
}

int fsync(int fd) { return synced(fd, real_fsync); }
int fdatasync(int fd) { return synced(fd, real_fdatasync); }

static int truncated(int fd, off_t size, int (*real)(int, off_t)) {
    const char *path = path_of(fd);
    if (!path) return real(fd, size);
    pthread_mutex_lock(&lock);
    int result = real(fd, size);
    if (result == 0) record('T', path, size, NULL, 0);
    pthread_mutex_unlock(&lock);
    return result;
}

int ftruncate(int fd, off_t size) { return truncated(fd, size, real_ftruncate); }
int ftruncate64(int fd, off_t size) { return truncated(fd, size, real_ftruncate64 ? real_ftruncate64 : real_ftruncate); }

int unlink(const char *path) {
    if (!watched(path)) return real_unlink(path);
    pthread_mutex_lock(&lock);
    int result = real_unlink(path);
    if (result == 0) record('U', path, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
    return result;
}

int unlinkat(int dirfd, const char *path, int flags) {
    if (path[0] != '/' || !watched(path)) return real_unlinkat(dirfd, path, flags);
    pthread_mutex_lock(&lock);
    int result = real_unlinkat(dirfd, path, flags);
    if (result == 0) record('U', path, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
    return result;
}

int rename(const char *from, const char *to) {
    if (!watched(from) && !watched(to)) return real_rename(from, to);
    pthread_mutex_lock(&lock);
    int result = real_rename(from, to);
    if (result == 0) record('R', from, 0, to, (int64_t)strlen(to));
    pthread_mutex_unlock(&lock);
    return result;
}
