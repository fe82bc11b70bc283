/* The Redis cache backend (hiredis): a small pool of connections with operation
 * timeouts; a broken connection is dropped and made again on a later call, at most
 * once per reconnect interval. Keys live under "sm:ai:", counters in the hash
 * "sm:stats:ai" (shared by every process using the server).
 *
 * A lookup is a plain GET. Hits and misses are counted in the process and added to
 * the shared hash with HINCRBY pipelined behind a later GET (one round trip, at most
 * every FLUSH_MS), and at stats and close: the cluster-wide counters lag by at most
 * FLUSH_MS while requests flow.
 *
 * Near tier (cache.c): a tracker thread, started by the first look-up, holds one
 * more connection on which Redis pushes the names of changed "sm:ai:" keys
 * (CLIENT TRACKING ON REDIRECT <itself> BCAST PREFIX sm:ai:, then SUBSCRIBE
 * __redis__:invalidate; Redis >= 6). Every SET, UNLINK, expiry or eviction of a key
 * by any client drops it from the tier; a flush of the database flushes the tier.
 * The tier answers only while that connection is up: when it breaks the tier is
 * flushed and skipped until the tracker is back. The tracker also shares the hits
 * the tier answered (every FLUSH_MS). */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <samplemind/alloc.h>
#include <samplemind/log.h>

#include "cache/cache_int.h"

#define POOL 4
#define FLUSH_MS 100.0
#define NS "sm:ai:"
#define STATS_KEY "sm:stats:ai"

struct conn {
    pthread_mutex_t lock;
    redisContext *ctx;
    double last_attempt_ms;
};

struct redis_cache {
    char host[64];
    int port;
    int db;
    char password[128];
    long timeout_ms;
    long reconnect_ms;
    struct conn pool[POOL];
    unsigned next; /* round-robin start */
    pthread_mutex_t next_lock; /* next and the pending counters */
    uint64_t p_hits, p_misses; /* counted here, not yet in the shared hash */
    double last_flush_ms;
    struct sm__near *near;
    pthread_t tracker;
    bool tracker_started;     /* under next_lock */
    int wake[2];              /* a pipe: rd_close stops the tracker through it */
    _Atomic bool tracking;    /* invalidations flow: the near tier may answer */
    _Atomic bool stopping;
};

static struct timeval tv_ms(long ms)
{
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static void drop(struct conn *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    c->ctx = NULL;
}

/* A new connection, authenticated and on the configured db; NULL with why. */
static redisContext *dial(struct redis_cache *r, char *why, size_t whylen)
{
    redisContext *ctx = redisConnectWithTimeout(r->host, r->port, tv_ms(r->timeout_ms));
    if (!ctx || ctx->err) {
        snprintf(why, whylen, "cannot connect to redis %s:%d: %s", r->host, r->port,
                 ctx ? ctx->errstr : "out of memory");
        if (ctx)
            redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, tv_ms(r->timeout_ms));
    redisEnableKeepAlive(ctx);
    redisReply *rep;
    if (r->password[0]) {
        rep = redisCommand(ctx, "AUTH %s", r->password);
        bool ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (rep)
            freeReplyObject(rep);
        if (!ok) {
            /* Never echo the password: name only the host. */
            snprintf(why, whylen, "redis %s:%d refused the password", r->host, r->port);
            redisFree(ctx);
            return NULL;
        }
    }
    if (r->db) {
        rep = redisCommand(ctx, "SELECT %d", r->db);
        bool ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (rep)
            freeReplyObject(rep);
        if (!ok) {
            snprintf(why, whylen, "redis %s:%d: cannot select db %d", r->host, r->port, r->db);
            redisFree(ctx);
            return NULL;
        }
    }
    return ctx;
}

/* Connects c if needed and allowed; 0 when usable. */
static int ensure(struct redis_cache *r, struct conn *c, char *why, size_t whylen)
{
    if (c->ctx)
        return 0;
    double t = sm__cache_now_ms();
    if (c->last_attempt_ms > 0.0 && t - c->last_attempt_ms < (double)r->reconnect_ms) {
        snprintf(why, whylen, "redis %s:%d is down (next reconnect attempt soon)", r->host,
                 r->port);
        return -1;
    }
    c->last_attempt_ms = t;
    c->ctx = dial(r, why, whylen);
    if (!c->ctx)
        return -1;
    SM_LOG(SM_LOG_INFO, "cache: connected to redis %s:%d/%d", r->host, r->port, r->db);
    return 0;
}

/* Takes a connection: a free one if any, else waits for the round-robin one. */
static struct conn *take(struct redis_cache *r)
{
    pthread_mutex_lock(&r->next_lock);
    unsigned start = r->next++;
    pthread_mutex_unlock(&r->next_lock);
    for (unsigned i = 0; i < POOL; i++) {
        struct conn *c = &r->pool[(start + i) % POOL];
        if (pthread_mutex_trylock(&c->lock) == 0)
            return c;
    }
    struct conn *c = &r->pool[start % POOL];
    pthread_mutex_lock(&c->lock);
    return c;
}

static void give(struct conn *c)
{
    pthread_mutex_unlock(&c->lock);
}

/* A reply of NULL means the connection broke (I/O error or timeout). */
static int broken(struct redis_cache *r, struct conn *c, char *why, size_t whylen)
{
    snprintf(why, whylen, "redis %s:%d: %s", r->host, r->port,
             c->ctx && c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
    drop(c);
    c->last_attempt_ms = 0.0; /* the next call may try to reconnect at once */
    return -1;
}

/* Takes the pending counters when a flush is due (or \p force); 0 when none. */
static int take_pending(struct redis_cache *r, bool force, uint64_t *h, uint64_t *m)
{
    double t = sm__cache_now_ms();
    pthread_mutex_lock(&r->next_lock);
    *h = 0;
    *m = 0;
    if ((r->p_hits || r->p_misses) && (force || t - r->last_flush_ms >= FLUSH_MS)) {
        *h = r->p_hits;
        *m = r->p_misses;
        r->p_hits = 0;
        r->p_misses = 0;
        r->last_flush_ms = t;
    }
    pthread_mutex_unlock(&r->next_lock);
    return *h || *m;
}

static void put_back(struct redis_cache *r, uint64_t h, uint64_t m)
{
    pthread_mutex_lock(&r->next_lock);
    r->p_hits += h;
    r->p_misses += m;
    pthread_mutex_unlock(&r->next_lock);
}

/* Queues the HINCRBYs of h and m on c (pipelined); returns how many replies follow. */
static int append_counts(struct conn *c, uint64_t h, uint64_t m)
{
    int n = 0;
    if (h && redisAppendCommand(c->ctx, "HINCRBY %s hits %llu", STATS_KEY,
                                (unsigned long long)h) == REDIS_OK)
        n++;
    if (m && redisAppendCommand(c->ctx, "HINCRBY %s misses %llu", STATS_KEY,
                                (unsigned long long)m) == REDIS_OK)
        n++;
    return n;
}

/* Reads n pipelined replies; 0 when all came. */
static int drain(struct conn *c, int n)
{
    for (int i = 0; i < n; i++) {
        void *rep = NULL;
        if (redisGetReply(c->ctx, &rep) != REDIS_OK || !rep)
            return -1;
        freeReplyObject(rep);
    }
    return 0;
}

/* Adds the pending counters to the shared hash now (stats, close). */
static void flush_counts(struct redis_cache *r, struct conn *c)
{
    uint64_t h;
    uint64_t m;
    if (!c->ctx || !take_pending(r, true, &h, &m))
        return;
    int n = append_counts(c, h, m);
    if (drain(c, n) != 0) {
        char why[256];
        broken(r, c, why, sizeof(why));
        put_back(r, h, m);
    }
}

static int rd_get(void *impl, const char *key, char **value, size_t *len, int64_t *expires_ms,
                  char *why, size_t whylen)
{
    struct redis_cache *r = impl;
    struct conn *c = take(r);
    int result = -1;
    if (ensure(r, c, why, whylen) == 0) {
        char full[SM_CACHE_KEY_SIZE + 8];
        snprintf(full, sizeof(full), NS "%s", key);
        redisReply *rep = NULL;
        redisReply *ttl = NULL;
        uint64_t h = 0;
        uint64_t m = 0;
        int extra = 0;
        /* GET and PTTL in one round trip: the expiry bounds the near tier's copy. */
        if (redisAppendCommand(c->ctx, "GET %s", full) == REDIS_OK &&
            redisAppendCommand(c->ctx, "PTTL %s", full) == REDIS_OK) {
            if (take_pending(r, false, &h, &m))
                extra = append_counts(c, h, m);
            void *v = NULL;
            if (redisGetReply(c->ctx, &v) == REDIS_OK) {
                rep = v;
                v = NULL;
                if (redisGetReply(c->ctx, &v) == REDIS_OK)
                    ttl = v;
            }
        }
        if (!rep || !ttl || drain(c, extra) != 0) {
            if (rep)
                freeReplyObject(rep);
            rep = NULL;
            broken(r, c, why, whylen);
            put_back(r, h, m);
        } else if (rep->type == REDIS_REPLY_STRING) {
            char *v = sm_malloc(rep->len + 1);
            if (v) {
                memcpy(v, rep->str, rep->len);
                v[rep->len] = '\0';
                *value = v;
                *len = rep->len;
                if (ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 0)
                    *expires_ms = sm__cache_wall_ms() + ttl->integer;
                result = 1;
            } else {
                snprintf(why, whylen, "out of memory");
            }
        } else if (rep->type == REDIS_REPLY_NIL) {
            result = 0;
        } else {
            snprintf(why, whylen, "redis: %s",
                     rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        }
        if (rep)
            freeReplyObject(rep);
        if (ttl)
            freeReplyObject(ttl);
    }
    give(c);
    if (result >= 0)
        put_back(r, result == 1 ? 1 : 0, result == 0 ? 1 : 0);
    return result;
}

/* --------------------------------------------------------------- tracker --- */

/* The tracking connection: invalidations for NS keys are pushed to it. NULL with
 * why; *unsupported when the server refused CLIENT TRACKING (Redis < 6). */
static redisContext *track_dial(struct redis_cache *r, bool *unsupported, char *why,
                                size_t whylen)
{
    *unsupported = false;
    redisContext *ctx = dial(r, why, whylen);
    if (!ctx)
        return NULL;
    redisReply *id = redisCommand(ctx, "CLIENT ID");
    redisReply *on = NULL;
    redisReply *sub = NULL;
    if (id && id->type == REDIS_REPLY_INTEGER)
        on = redisCommand(ctx, "CLIENT TRACKING on REDIRECT %lld BCAST PREFIX " NS,
                          (long long)id->integer);
    if (on && on->type == REDIS_REPLY_STATUS)
        sub = redisCommand(ctx, "SUBSCRIBE __redis__:invalidate");
    bool ok = sub && sub->type == REDIS_REPLY_ARRAY;
    if (!ok) {
        *unsupported =
            (id && id->type == REDIS_REPLY_ERROR) || (on && on->type == REDIS_REPLY_ERROR);
        snprintf(why, whylen, "redis %s:%d: %s", r->host, r->port,
                 *unsupported ? "no CLIENT TRACKING (Redis >= 6 needed)"
                              : (ctx->errstr[0] ? ctx->errstr : "tracking set-up failed"));
    }
    if (id)
        freeReplyObject(id);
    if (on)
        freeReplyObject(on);
    if (sub)
        freeReplyObject(sub);
    if (!ok) {
        redisFree(ctx);
        return NULL;
    }
    return ctx;
}

/* One pushed message: ["message", "__redis__:invalidate", [keys] | nil]. */
static void track_message(struct redis_cache *r, const redisReply *m)
{
    if (m->type != REDIS_REPLY_ARRAY || m->elements != 3 ||
        m->element[0]->type != REDIS_REPLY_STRING || strcmp(m->element[0]->str, "message"))
        return;
    const redisReply *keys = m->element[2];
    if (keys->type != REDIS_REPLY_ARRAY) {
        sm__near_flush(r->near); /* nil: the database was flushed */
        return;
    }
    const size_t ns = sizeof(NS) - 1;
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        if (k->type == REDIS_REPLY_STRING && k->len > ns && k->len < ns + SM_CACHE_KEY_SIZE &&
            !memcmp(k->str, NS, ns))
            sm__near_drop(r->near, k->str + ns);
    }
}

/* Waits up to ms for the tracking connection (or the stop pipe); false to stop. */
static bool track_wait(struct redis_cache *r, int fd, int ms)
{
    struct pollfd p[2] = {{r->wake[0], POLLIN, 0}, {fd, POLLIN, 0}};
    poll(p, fd >= 0 ? 2 : 1, ms);
    return !atomic_load(&r->stopping);
}

static void share_hits(struct redis_cache *r)
{
    pthread_mutex_lock(&r->next_lock);
    bool due = (r->p_hits || r->p_misses) && sm__cache_now_ms() - r->last_flush_ms >= FLUSH_MS;
    pthread_mutex_unlock(&r->next_lock);
    if (!due)
        return;
    struct conn *c = take(r);
    char why[256];
    if (ensure(r, c, why, sizeof(why)) == 0)
        flush_counts(r, c);
    give(c);
}

static void *track_main(void *arg)
{
    struct redis_cache *r = arg;
    bool warned = false;
    while (!atomic_load(&r->stopping)) {
        char why[256];
        bool unsupported = false;
        redisContext *ctx = track_dial(r, &unsupported, why, sizeof(why));
        if (!ctx) {
            if (!warned || unsupported)
                SM_LOG(SM_LOG_INFO, "cache: near tier off: %s", why);
            warned = true;
            if (unsupported)
                break;
            if (!track_wait(r, -1, (int)r->reconnect_ms))
                break;
            continue;
        }
        warned = false;
        sm__near_flush(r->near); /* changes made while it was down are unknown */
        atomic_store(&r->tracking, true);
        while (track_wait(r, ctx->fd, (int)FLUSH_MS)) {
            struct pollfd p = {ctx->fd, POLLIN, 0};
            if (poll(&p, 1, 0) > 0) {
                if (redisBufferRead(ctx) != REDIS_OK)
                    break;
                bool bad = false;
                for (;;) {
                    void *m = NULL;
                    if (redisGetReplyFromReader(ctx, &m) != REDIS_OK) {
                        bad = true;
                        break;
                    }
                    if (!m)
                        break;
                    track_message(r, m);
                    freeReplyObject(m);
                }
                if (bad)
                    break;
            }
            share_hits(r);
        }
        atomic_store(&r->tracking, false);
        sm__near_flush(r->near);
        redisFree(ctx);
        if (!atomic_load(&r->stopping))
            SM_LOG(SM_LOG_INFO, "cache: redis %s:%d: tracking connection lost; near tier off "
                                "until it is back", r->host, r->port);
    }
    return NULL;
}

static bool rd_near_ok(void *impl)
{
    struct redis_cache *r = impl;
    if (atomic_load(&r->tracking))
        return true;
    pthread_mutex_lock(&r->next_lock);
    if (!r->tracker_started && r->wake[0] >= 0)
        r->tracker_started = pthread_create(&r->tracker, NULL, track_main, r) == 0;
    pthread_mutex_unlock(&r->next_lock);
    return false;
}

static void rd_near_hit(void *impl)
{
    put_back(impl, 1, 0);
}

static int rd_put(void *impl, const char *key, const char *provider, const char *value,
                  size_t len, long ttl_ms, char *why, size_t whylen)
{
    (void)provider;
    struct redis_cache *r = impl;
    struct conn *c = take(r);
    int result = -1;
    if (ensure(r, c, why, whylen) == 0) {
        char full[SM_CACHE_KEY_SIZE + 8];
        snprintf(full, sizeof(full), NS "%s", key);
        redisReply *rep = redisCommand(c->ctx, "SET %s %b PX %ld", full, value, len, ttl_ms);
        if (!rep)
            broken(r, c, why, whylen);
        else if (rep->type == REDIS_REPLY_ERROR)
            snprintf(why, whylen, "redis: %s", rep->str);
        else
            result = 0;
        if (rep)
            freeReplyObject(rep);
    }
    give(c);
    return result;
}

static int rd_clear(void *impl, const char *provider, uint64_t *removed, char *why,
                    size_t whylen)
{
    struct redis_cache *r = impl;
    struct conn *c = take(r);
    int result = -1;
    uint64_t n = 0;
    if (ensure(r, c, why, whylen) == 0) {
        char pattern[SM_CACHE_PROVIDER_MAX + 16];
        if (provider)
            snprintf(pattern, sizeof(pattern), NS "%s:*", provider);
        else
            snprintf(pattern, sizeof(pattern), NS "*");
        char cursor[32] = "0";
        result = 0;
        do {
            redisReply *rep =
                redisCommand(c->ctx, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
            if (!rep) {
                result = broken(r, c, why, whylen);
                break;
            }
            if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
                rep->element[0]->type != REDIS_REPLY_STRING) {
                snprintf(why, whylen, "redis: unexpected SCAN reply");
                freeReplyObject(rep);
                result = -1;
                break;
            }
            snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
            redisReply *keys = rep->element[1];
            for (size_t i = 0; i < keys->elements; i++) {
                redisReply *d = redisCommand(c->ctx, "UNLINK %b", keys->element[i]->str,
                                             keys->element[i]->len);
                if (d && d->type == REDIS_REPLY_INTEGER)
                    n += (uint64_t)d->integer;
                if (d)
                    freeReplyObject(d);
            }
            freeReplyObject(rep);
        } while (strcmp(cursor, "0"));
        if (result == 0 && !provider) {
            pthread_mutex_lock(&r->next_lock);
            r->p_hits = 0;
            r->p_misses = 0;
            pthread_mutex_unlock(&r->next_lock);
            redisReply *d = redisCommand(c->ctx, "DEL %s", STATS_KEY);
            if (d)
                freeReplyObject(d);
        }
    }
    give(c);
    if (removed)
        *removed = n;
    return result;
}

static int rd_add_errors(void *impl, uint64_t errors)
{
    struct redis_cache *r = impl;
    struct conn *c = take(r);
    char why[256];
    int result = -1;
    if (ensure(r, c, why, sizeof(why)) == 0) {
        redisReply *rep = redisCommand(c->ctx, "HINCRBY %s errors %llu", STATS_KEY,
                                       (unsigned long long)errors);
        if (!rep) {
            broken(r, c, why, sizeof(why));
        } else {
            result = 0;
            freeReplyObject(rep);
        }
    }
    give(c);
    return result;
}

static uint64_t field(redisReply *rep, const char *name)
{
    for (size_t i = 0; i + 1 < rep->elements; i += 2)
        if (rep->element[i]->type == REDIS_REPLY_STRING && !strcmp(rep->element[i]->str, name))
            return (uint64_t)strtoull(rep->element[i + 1]->str, NULL, 10);
    return 0;
}

static int rd_stats(void *impl, sm_cache_stats *out)
{
    struct redis_cache *r = impl;
    snprintf(out->location, sizeof(out->location), "%s:%d/%d", r->host, r->port, r->db);
    struct conn *c = take(r);
    int result = -1;
    char why[256];
    if (ensure(r, c, why, sizeof(why)) == 0) {
        flush_counts(r, c);
        redisReply *rep = c->ctx ? redisCommand(c->ctx, "HGETALL %s", STATS_KEY) : NULL;
        if (!rep) {
            broken(r, c, why, sizeof(why));
        } else {
            if (rep->type == REDIS_REPLY_ARRAY) {
                out->hits = field(rep, "hits");
                out->misses = field(rep, "misses");
                out->errors = field(rep, "errors");
                result = 0;
            }
            freeReplyObject(rep);
        }
        /* Count live entries (a SCAN; fine for stats, not for a hot path). */
        char cursor[32] = "0";
        uint64_t n = 0;
        for (int guard = 0; result == 0 && guard < 100000; guard++) {
            rep = redisCommand(c->ctx, "SCAN %s MATCH " NS "* COUNT 1000", cursor);
            if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
                if (rep)
                    freeReplyObject(rep);
                else
                    broken(r, c, why, sizeof(why));
                break;
            }
            snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
            n += rep->element[1]->elements;
            freeReplyObject(rep);
            if (!strcmp(cursor, "0"))
                break;
        }
        out->entries = n;
    }
    give(c);
    return result;
}

static void rd_close(void *impl)
{
    struct redis_cache *r = impl;
    if (!r)
        return;
    atomic_store(&r->stopping, true);
    if (r->tracker_started) {
        ssize_t w = write(r->wake[1], "x", 1);
        (void)w;
        pthread_join(r->tracker, NULL);
    }
    if (r->wake[0] >= 0) {
        close(r->wake[0]);
        close(r->wake[1]);
    }
    /* The counts not yet shared, on a connection that is still up. */
    for (int i = 0; i < POOL && (r->p_hits || r->p_misses); i++)
        if (r->pool[i].ctx)
            flush_counts(r, &r->pool[i]);
    for (int i = 0; i < POOL; i++) {
        drop(&r->pool[i]);
        pthread_mutex_destroy(&r->pool[i].lock);
    }
    pthread_mutex_destroy(&r->next_lock);
    sm_free(r);
}

void *sm__cache_redis_open(const char *url, const sm_cache_opts *o, struct sm__near *near,
                           sm_error *err)
{
    struct redis_cache *r = sm_calloc(1, sizeof(*r));
    if (!r) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        return NULL;
    }
    r->near = near;
    atomic_init(&r->tracking, false);
    atomic_init(&r->stopping, false);
    if (pipe(r->wake) != 0) {
        r->wake[0] = -1; /* no near tier, the rest works */
        r->wake[1] = -1;
    } else {
        for (int i = 0; i < 2; i++)
            fcntl(r->wake[i], F_SETFD, FD_CLOEXEC);
    }
    pthread_mutex_init(&r->next_lock, NULL);
    for (int i = 0; i < POOL; i++)
        pthread_mutex_init(&r->pool[i].lock, NULL);
    r->timeout_ms = o->op_timeout_ms;
    r->reconnect_ms = o->reconnect_ms;
    r->port = 6379;
    /* redis://[[user]:password@]host[:port][/db] */
    const char *p = url + 8;
    const char *at = strchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        size_t n = (size_t)(at - pw);
        if (n >= sizeof(r->password))
            goto bad;
        memcpy(r->password, pw, n);
        r->password[n] = '\0';
        p = at + 1;
    }
    size_t hn = strcspn(p, ":/");
    if (hn == 0 || hn >= sizeof(r->host))
        goto bad;
    memcpy(r->host, p, hn);
    r->host[hn] = '\0';
    p += hn;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port <= 0 || port > 65535)
            goto bad;
        r->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        long db = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end || db < 0 || db > 1000)
            goto bad;
        r->db = (int)db;
    } else if (*p && strcmp(p, "/")) {
        goto bad;
    }
    /* Connect one now so a wrong host shows early in the log; down is not fatal. */
    char why[256];
    if (ensure(r, &r->pool[0], why, sizeof(why)) != 0)
        SM_LOG(SM_LOG_WARN, "cache: %s; answers will not be cached until it is back", why);
    return r;
bad:
    sm_error_set(err, SM_EINVAL, "cache: cannot parse the redis URL (redis://host[:port][/db])");
    rd_close(r);
    return NULL;
}

const struct sm__cache_backend sm__cache_redis = {
    "redis", rd_get, rd_put, rd_clear, rd_add_errors, rd_stats, rd_close, rd_near_ok, rd_near_hit,
};
