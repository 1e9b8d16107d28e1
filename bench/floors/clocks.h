/* The two clocks both floor programs read: process CPU time and wall time, in seconds. */
#ifndef SLUICE_FLOORS_CLOCKS_H
#define SLUICE_FLOORS_CLOCKS_H
#include <time.h>

static inline double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static inline double wall_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
#endif
