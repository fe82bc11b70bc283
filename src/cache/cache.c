/* The cache interface: key derivation, backend dispatch, degradation to a miss. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include <samplemind/alloc.h>
#include <samplemind/cache.h>
#include <samplemind/log.h>

#include "cache/cache_int.h"
#include "util/hash.h"

/* The near tier: a direct-mapped table of recent hits, a lock per stripe of slots.
 * An entry is good while its epoch is the current one (a flush bumps the epoch) and
 * its expiry has not passed. A fill races with changes seen meanwhile: it records
 * the epoch and the drop sequence before asking the backend, and is not kept when
 * either moved, so a value read just before a change is never served after it. */
#define NEAR_LOCKS 64
#define NEAR_MAX_VALUE 16384

struct near_slot {
    uint64_t epoch;
    int64_t expires_ms; /* wall clock */
    char *value;        /* NUL-terminated copy, len bytes */
    size_t len;
    char key[SM_CACHE_KEY_SIZE];
};

struct sm__near {
    struct near_slot *slots;
    size_t n;
    _Atomic uint64_t epoch; /* starts at 1: a zeroed slot is never current */
    _Atomic uint64_t drops; /* sm__near_drop calls so far */
    pthread_mutex_t locks[NEAR_LOCKS];
};

struct sm_cache {
    const struct sm__cache_backend *be;
    void *impl;
    sm_cache_opts o;
    struct sm__near near; /* slots NULL: no near tier */
    pthread_mutex_t lock; /* guards the counters below */
    uint64_t hits, misses, errors;
    uint64_t unreported_errors; /* errors not yet added to the shared counter */
    double last_warning_ms;
};

static size_t near_index(const struct sm__near *n, const char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % n->n);
}

static int near_init(struct sm__near *n, long entries)
{
    memset(n, 0, sizeof(*n));
    atomic_init(&n->epoch, 1);
    atomic_init(&n->drops, 0);
    if (entries < 0)
        return 0;
    n->n = entries ? (size_t)entries : 2048;
    n->slots = sm_calloc(n->n, sizeof(*n->slots));
    if (!n->slots)
        return -1;
    for (size_t i = 0; i < NEAR_LOCKS; i++)
        pthread_mutex_init(&n->locks[i], NULL);
    return 0;
}

static void near_free(struct sm__near *n)
{
    if (!n->slots)
        return;
    for (size_t i = 0; i < n->n; i++)
        sm_free(n->slots[i].value);
    for (size_t i = 0; i < NEAR_LOCKS; i++)
        pthread_mutex_destroy(&n->locks[i]);
    sm_free(n->slots);
    n->slots = NULL;
}

void sm__near_flush(struct sm__near *n)
{
    atomic_fetch_add(&n->epoch, 1);
}

void sm__near_drop(struct sm__near *n, const char *key)
{
    if (!n->slots)
        return;
    atomic_fetch_add(&n->drops, 1); /* before the slot: a racing fill sees it */
    size_t i = near_index(n, key);
    pthread_mutex_lock(&n->locks[i % NEAR_LOCKS]);
    struct near_slot *s = &n->slots[i];
    if (s->value && !strcmp(s->key, key)) {
        sm_free(s->value);
        s->value = NULL;
    }
    pthread_mutex_unlock(&n->locks[i % NEAR_LOCKS]);
}

/* A copy of the entry for key when it is good; true on a hit. */
static bool near_get(struct sm__near *n, const char *key, char **value, size_t *len)
{
    size_t i = near_index(n, key);
    bool hit = false;
    pthread_mutex_lock(&n->locks[i % NEAR_LOCKS]);
    struct near_slot *s = &n->slots[i];
    if (s->value && s->epoch == atomic_load(&n->epoch) && !strcmp(s->key, key) &&
        s->expires_ms > sm__cache_wall_ms()) {
        char *v = sm_malloc(s->len + 1);
        if (v) {
            memcpy(v, s->value, s->len + 1);
            *value = v;
            *len = s->len;
            hit = true;
        }
    }
    pthread_mutex_unlock(&n->locks[i % NEAR_LOCKS]);
    return hit;
}

/* Keeps a value the backend gave, unless a flush or drop came since (epoch, drops). */
static void near_put(struct sm__near *n, const char *key, const char *value, size_t len,
                     int64_t expires_ms, uint64_t epoch, uint64_t drops)
{
    if (len > NEAR_MAX_VALUE || expires_ms <= 0 || strlen(key) >= SM_CACHE_KEY_SIZE)
        return;
    char *v = sm_malloc(len + 1);
    if (!v)
        return;
    memcpy(v, value, len);
    v[len] = '\0';
    size_t i = near_index(n, key);
    pthread_mutex_lock(&n->locks[i % NEAR_LOCKS]);
    if (atomic_load(&n->epoch) == epoch && atomic_load(&n->drops) == drops) {
        struct near_slot *s = &n->slots[i];
        sm_free(s->value);
        s->value = v;
        v = NULL;
        s->len = len;
        s->epoch = epoch;
        s->expires_ms = expires_ms;
        snprintf(s->key, sizeof(s->key), "%s", key);
    }
    pthread_mutex_unlock(&n->locks[i % NEAR_LOCKS]);
    sm_free(v);
}

double sm__cache_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int64_t sm__cache_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sm_cache *sm_cache_open(const char *url, const sm_cache_opts *opts, sm_error *err)
{
    if (!url || !url[0]) {
        sm_error_set(err, SM_EINVAL, "cache: an empty URL");
        return NULL;
    }
    if (sm__crypto_init() != 0) {
        sm_error_set(err, SM_EINTERNAL, "libsodium failed to initialise");
        return NULL;
    }
    sm_cache *c = sm_calloc(1, sizeof(*c));
    if (!c) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        return NULL;
    }
    if (opts)
        c->o = *opts;
    if (c->o.ttl_s <= 0)
        c->o.ttl_s = SM_CACHE_DEFAULT_TTL;
    if (c->o.op_timeout_ms <= 0)
        c->o.op_timeout_ms = 250;
    if (c->o.reconnect_ms <= 0)
        c->o.reconnect_ms = 1000;
    if (near_init(&c->near, c->o.near_entries) != 0) {
        sm_free(c);
        sm_error_set(err, SM_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    if (!strncmp(url, "redis://", 8)) {
        c->be = &sm__cache_redis;
        c->impl = sm__cache_redis_open(url, &c->o, &c->near, err);
    } else if (strstr(url, "://") && strncmp(url, "sqlite://", 9)) {
        sm_error_set(err, SM_EINVAL, "cache: unknown URL scheme (use sqlite:// or redis://)");
    } else {
        const char *path = url;
        if (!strncmp(url, "sqlite://", 9))
            path = url + 9;
        c->be = &sm__cache_sqlite;
        c->impl = sm__cache_sqlite_open(path, &c->o, &c->near, err);
    }
    if (!c->impl) {
        near_free(&c->near);
        pthread_mutex_destroy(&c->lock);
        sm_free(c);
        return NULL;
    }
    return c;
}

void sm_cache_close(sm_cache *c)
{
    if (!c)
        return;
    if (c->unreported_errors)
        c->be->add_errors(c->impl, c->unreported_errors);
    c->be->close(c->impl);
    near_free(&c->near);
    pthread_mutex_destroy(&c->lock);
    sm_free(c);
}

void sm_cache_key(const char *provider, const void *request, size_t len,
                  char out[SM_CACHE_KEY_SIZE])
{
    size_t n = provider ? strlen(provider) : 0;
    if (n > SM_CACHE_PROVIDER_MAX)
        n = SM_CACHE_PROVIDER_MAX;
    if (n)
        memcpy(out, provider, n);
    out[n] = ':';
    unsigned char d[32];
    crypto_generichash(d, sizeof(d), request, (unsigned long long)len, NULL, 0);
    sodium_bin2hex(out + n + 1, 65, d, sizeof(d));
}

/* Counts an error and warns, at most once a second so a dead cache does not flood. */
static void failed(sm_cache *c, const char *op, const char *why)
{
    pthread_mutex_lock(&c->lock);
    c->errors++;
    c->unreported_errors++;
    double t = sm__cache_now_ms();
    bool warn = t - c->last_warning_ms >= 1000.0;
    if (warn)
        c->last_warning_ms = t;
    pthread_mutex_unlock(&c->lock);
    if (warn)
        SM_LOG(SM_LOG_WARN, "cache (%s) %s failed, treated as a miss: %s", c->be->name, op, why);
}

static void report_errors(sm_cache *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t n = c->unreported_errors;
    c->unreported_errors = 0;
    pthread_mutex_unlock(&c->lock);
    if (n && c->be->add_errors(c->impl, n) != 0) {
        /* Still unreachable: keep them for the next time. */
        pthread_mutex_lock(&c->lock);
        c->unreported_errors += n;
        pthread_mutex_unlock(&c->lock);
    }
}

enum sm_cache_result sm_cache_get(sm_cache *c, const char *key, char **value, size_t *len)
{
    *value = NULL;
    if (len)
        *len = 0;
    if (!c || !key)
        return SM_CACHE_MISS;
    size_t n = 0;
    bool near = c->near.slots && c->be->near_ok && c->be->near_ok(c->impl);
    if (near && near_get(&c->near, key, value, &n)) {
        c->be->near_hit(c->impl);
        pthread_mutex_lock(&c->lock);
        c->hits++;
        pthread_mutex_unlock(&c->lock);
        if (len)
            *len = n;
        return SM_CACHE_HIT;
    }
    uint64_t epoch = atomic_load(&c->near.epoch);
    uint64_t drops = atomic_load(&c->near.drops);
    char why[256] = "";
    int64_t expires = 0;
    int r = c->be->get(c->impl, key, value, &n, &expires, why, sizeof(why));
    if (r < 0) {
        failed(c, "get", why);
        return SM_CACHE_MISS;
    }
    if (r > 0 && near)
        near_put(&c->near, key, *value, n, expires, epoch, drops);
    pthread_mutex_lock(&c->lock);
    if (r > 0)
        c->hits++;
    else
        c->misses++;
    bool backlog = c->unreported_errors > 0;
    pthread_mutex_unlock(&c->lock);
    if (backlog)
        report_errors(c);
    if (len)
        *len = n;
    return r > 0 ? SM_CACHE_HIT : SM_CACHE_MISS;
}

bool sm_cache_put(sm_cache *c, const char *key, const char *value, size_t len, long ttl_s)
{
    if (!c || !key || !value)
        return false;
    char provider[SM_CACHE_PROVIDER_MAX + 1];
    size_t p = strcspn(key, ":");
    if (p > SM_CACHE_PROVIDER_MAX)
        p = SM_CACHE_PROVIDER_MAX;
    memcpy(provider, key, p);
    provider[p] = '\0';
    long ttl = ttl_s > 0 ? ttl_s : c->o.ttl_s;
    char why[256] = "";
    int r = c->be->put(c->impl, key, provider, value, len, ttl * 1000L, why, sizeof(why));
    /* After the write: a look-up that read the old value before it cannot keep it. */
    sm__near_drop(&c->near, key);
    if (r < 0) {
        failed(c, "put", why);
        return false;
    }
    return true;
}

sm_status sm_cache_clear(sm_cache *c, const char *provider, uint64_t *removed, sm_error *err)
{
    if (removed)
        *removed = 0;
    if (!c)
        return sm_error_set(err, SM_EINVAL, "cache: no cache");
    if (provider && (!provider[0] || strchr(provider, ':') || strchr(provider, '*') ||
                     strchr(provider, '?') || strchr(provider, '[')))
        return sm_error_set(err, SM_EINVAL, "cache: bad provider name '%s'", provider);
    char why[256] = "";
    int r = c->be->clear(c->impl, provider, removed, why, sizeof(why));
    sm__near_flush(&c->near); /* after the clear, as for put */
    if (r < 0)
        return sm_error_set(err, SM_EUNAVAILABLE, "cache (%s) clear failed: %s", c->be->name,
                            why);
    if (!provider) {
        pthread_mutex_lock(&c->lock);
        c->hits = 0;
        c->misses = 0;
        c->errors = 0;
        c->unreported_errors = 0;
        pthread_mutex_unlock(&c->lock);
    }
    return SM_OK;
}

void sm_cache_stats_get(sm_cache *c, sm_cache_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!c)
        return;
    report_errors(c);
    snprintf(out->backend, sizeof(out->backend), "%s", c->be->name);
    out->up = c->be->stats(c->impl, out) == 0;
    pthread_mutex_lock(&c->lock);
    out->local_hits = c->hits;
    out->local_misses = c->misses;
    out->local_errors = c->errors;
    if (!out->up) {
        /* Shared counters unreachable: show what this process saw. */
        out->hits = c->hits;
        out->misses = c->misses;
        out->errors = c->errors;
    }
    pthread_mutex_unlock(&c->lock);
}

void sm_cache_process_counters(sm_cache *c, uint64_t out[3])
{
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    out[0] = c->hits;
    out[1] = c->misses;
    out[2] = c->errors;
    pthread_mutex_unlock(&c->lock);
}

char *sm_cache_stats_json(const sm_cache_stats *s)
{
    uint64_t total = s->hits + s->misses;
    json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:f, s:{s:I, s:I, s:I}}",
                          "backend", s->backend, "location", s->location, "up", s->up,
                          "hits", (json_int_t)s->hits, "misses", (json_int_t)s->misses,
                          "errors", (json_int_t)s->errors, "entries", (json_int_t)s->entries,
                          "hit_rate", total ? (double)s->hits / (double)total : 0.0, "process",
                          "hits", (json_int_t)s->local_hits, "misses",
                          (json_int_t)s->local_misses, "errors", (json_int_t)s->local_errors);
    if (!o)
        return NULL;
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!txt)
        return NULL;
    char *out = sm_strdup(txt);
    free(txt);
    return out;
}
