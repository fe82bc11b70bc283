/** \file
 * The AI answer cache: one interface, two backends. The embedded default is a
 * SQLite file in the data dir ("sqlite:///abs/cache.db", "sqlite://rel.db", a plain
 * path or ":memory:"); the scale-out backend is Redis ("redis://host:port/db",
 * shared by every server, counters cluster-wide).
 *
 *     sm_error err = SM_ERROR_INIT;
 *     sm_cache *c = sm_cache_open("redis://127.0.0.1:6379/0", NULL, &err);
 *     char key[SM_CACHE_KEY_SIZE];
 *     sm_cache_key("openai", canonical_request, len, key);
 *     char *v = NULL; size_t n = 0;
 *     if (sm_cache_get(c, key, &v, &n) == SM_CACHE_HIT) use(v), sm_free(v);
 *     sm_cache_close(c);
 *
 * Keys are "<provider>:<64 hex BLAKE2b-256 of the canonical request>", so one
 * provider's entries can be cleared alone. Entries live ttl seconds (7 days by
 * default).
 *
 * Invariants: a cache that is down, slow (beyond op_timeout_ms) or broken never
 * fails a caller: get reports a miss (and counts an error), put is dropped, each
 * with a logged warning, and the backend reconnects by itself on a later call
 * (at most one attempt per reconnect_ms). Every function is thread-safe.
 *
 * Near tier: recent hits are also kept in process memory (near_entries slots,
 * answers up to 16 KB), so a hot answer costs no backend round trip. It stays
 * exact: puts and clears through this cache update it at once; for SQLite,
 * commits by other processes are seen through the file's WAL and `PRAGMA
 * data_version` before the next look-up; for Redis, the server pushes the names
 * of changed keys (CLIENT TRACKING, broadcast mode, Redis >= 6) and while that
 * channel is down the tier is not used.
 */
#ifndef SAMPLEMIND_CACHE_H
#define SAMPLEMIND_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <samplemind/common.h>
#include <samplemind/error.h>

/** Longest provider prefix, and the key buffer size ("prefix:" + 64 hex + NUL). */
#define SM_CACHE_PROVIDER_MAX 32
#define SM_CACHE_KEY_SIZE (SM_CACHE_PROVIDER_MAX + 1 + 64 + 1)
#define SM_CACHE_DEFAULT_TTL (7 * 24 * 3600)

typedef struct sm_cache sm_cache;

typedef struct sm_cache_opts {
    long ttl_s;          /**< [7 days] lifetime of an entry */
    long op_timeout_ms;  /**< [250] Redis: a slower operation counts as a miss */
    long reconnect_ms;   /**< [1000] least time between reconnection attempts */
    long near_entries;   /**< [2048] near-tier slots; negative: no near tier */
} sm_cache_opts;

enum sm_cache_result { SM_CACHE_MISS = 0, SM_CACHE_HIT = 1 };

/** Counters: hits, misses and errors are cluster-wide for Redis (all processes
 * sharing it) and persistent for SQLite (all runs sharing the file). */
typedef struct sm_cache_stats {
    char backend[16];         /**< "sqlite" or "redis" */
    char location[256];       /**< the file or host:port/db (no password) */
    bool up;                  /**< the backend answered the last operation */
    uint64_t hits, misses, errors;
    uint64_t entries;         /**< live entries (0 when unknown) */
    uint64_t local_hits, local_misses, local_errors; /**< this process only */
} sm_cache_stats;

/**
 * Open the cache named by \p url. Redis that is down at open is not an error (the
 * cache starts "down" and reconnects); a URL that cannot be parsed, or a SQLite
 * file that cannot be created, is.
 * \return new cache (sm_cache_close), or NULL with \p err filled.
 */
SM_API sm_cache *sm_cache_open(const char *url, const sm_cache_opts *opts, sm_error *err);
/** Flush the counters and close. NULL is fine. */
SM_API void sm_cache_close(sm_cache *c);

/** Write the key for \p provider ("openai") and the canonical request bytes into
 * \p out. A provider name longer than SM_CACHE_PROVIDER_MAX is cut. */
SM_API void sm_cache_key(const char *provider, const void *request, size_t len,
                         char out[SM_CACHE_KEY_SIZE]);

/**
 * Look \p key up. On a hit, \p value receives a new NUL-terminated copy (sm_free it)
 * and \p len its length. \return SM_CACHE_HIT or SM_CACHE_MISS (also when the
 * backend failed; the error is counted and logged).
 */
SM_API enum sm_cache_result sm_cache_get(sm_cache *c, const char *key, char **value,
                                         size_t *len);

/** Store \p value under \p key for \p ttl_s seconds (0: the cache's TTL). Failures are
 * counted and logged, never returned: \return true when stored. */
SM_API bool sm_cache_put(sm_cache *c, const char *key, const char *value, size_t len,
                         long ttl_s);

/**
 * Remove every entry, or only \p provider's when it is not NULL; reset the counters
 * when everything is cleared. \p removed (may be NULL) receives the count.
 * \return SM_OK, or SM_EUNAVAILABLE when the backend is down (this one is the user's request).
 */
SM_API sm_status sm_cache_clear(sm_cache *c, const char *provider, uint64_t *removed,
                                sm_error *err);

/** Fill \p out. Never fails: an unreachable backend shows up as up = false. */
SM_API void sm_cache_stats_get(sm_cache *c, sm_cache_stats *out);

/** This process's hits, misses and errors in \p out[0..2], without asking the backend
 * (cheap enough for every metrics scrape). */
SM_API void sm_cache_process_counters(sm_cache *c, uint64_t out[3]);

/** \return the stats as a new JSON object text (sm_free), or NULL when out of memory. */
SM_API char *sm_cache_stats_json(const sm_cache_stats *s);

#endif
