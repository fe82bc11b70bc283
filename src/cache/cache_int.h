/* The cache's backend interface (internal): sqlite.c and redis.c implement it. */
#ifndef SM_CACHE_INT_H
#define SM_CACHE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <samplemind/cache.h>

/* The near tier (cache.c): recent hits kept in process memory, in front of the
 * backend. A backend that can tell when another process changed its entries
 * offers it (near_ok) and calls these when entries change behind its back. */
struct sm__near;
/* Forgets every entry (cheap: bumps an epoch). */
void sm__near_flush(struct sm__near *n);
/* Forgets one entry (a backend key, without the backend's namespace). */
void sm__near_drop(struct sm__near *n, const char *key);

struct sm__cache_backend {
    const char *name;
    /* 1 hit (value is new), 0 miss, -1 backend error (logged by the caller). The
     * backend counts hits and misses in its shared counters itself. On a hit,
     * *expires_ms is the entry's expiry (wall clock ms), or 0 when unknown. */
    int (*get)(void *impl, const char *key, char **value, size_t *len, int64_t *expires_ms,
               char *why, size_t whylen);
    /* 0 stored, -1 error. */
    int (*put)(void *impl, const char *key, const char *provider, const char *value, size_t len,
               long ttl_ms, char *why, size_t whylen);
    /* 0 or -1; prefix NULL clears everything and the shared counters. */
    int (*clear)(void *impl, const char *provider, uint64_t *removed, char *why, size_t whylen);
    /* Adds \p errors to the shared error counter (errors seen while it was down);
     * 0, or -1 when the backend is still unreachable. */
    int (*add_errors)(void *impl, uint64_t errors);
    /* Fills the shared counters, entries and location; 0 when the backend answered. */
    int (*stats)(void *impl, sm_cache_stats *out);
    void (*close)(void *impl);
    /* May the near tier answer now? Called before each near look-up; flushes the
     * tier first when the backend saw changes from elsewhere. NULL: never. */
    bool (*near_ok)(void *impl);
    /* Counts a hit the near tier answered in the shared counters. */
    void (*near_hit)(void *impl);
};

/* Backend constructors: return the impl or NULL with err filled. */
void *sm__cache_sqlite_open(const char *path, const sm_cache_opts *o, struct sm__near *near,
                            sm_error *err);
void *sm__cache_redis_open(const char *url, const sm_cache_opts *o, struct sm__near *near,
                           sm_error *err);
extern const struct sm__cache_backend sm__cache_sqlite;
extern const struct sm__cache_backend sm__cache_redis;

/* Milliseconds on the monotonic and the wall clock. */
double sm__cache_now_ms(void);
int64_t sm__cache_wall_ms(void);

#endif
