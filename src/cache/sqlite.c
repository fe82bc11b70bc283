/* The embedded cache backend: one SQLite file (WAL), shared by the processes using it.
 * A small pool of connections, each with its own prepared statements and lock, so
 * request threads read in parallel (WAL readers do not block each other); a caller
 * takes a free connection, else waits for one. Hit and miss counters are kept in
 * memory and added to a stats table on stats and close, so the file holds the
 * totals of every run.
 *
 * Near tier (cache.c): another process may clear or overwrite entries. A watch
 * connection asks `PRAGMA data_version` (it changes when any other connection
 * commits) whenever the WAL file changed lately (util/dbwatch.h: one stat() per
 * look-up otherwise), and flushes the tier when it moved. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include <samplemind/alloc.h>

#include "cache/cache_int.h"
#include "util/dbwatch.h"

#define POOL 4

struct sq_conn {
    pthread_mutex_t lock;
    sqlite3 *db;
    sqlite3_stmt *get;
    sqlite3_stmt *put;
    sqlite3_stmt *del;
};

struct sqlite_cache {
    struct sq_conn pool[POOL];
    int n;                /* connections open (1 for ":memory:", a database each) */
    unsigned next;        /* round-robin start */
    pthread_mutex_t lock; /* the counters and next */
    uint64_t hits, misses, errors; /* not yet added to the stats table */
    char path[256];
    struct sm__near *near;
    pthread_mutex_t watch_lock; /* the four below */
    sqlite3 *watch_db;          /* NULL for ":memory:" (one process) */
    sqlite3_stmt *version;      /* PRAGMA data_version on watch_db */
    int64_t data_version;
    struct sm_dbwatch watch;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS ai_cache(key TEXT PRIMARY KEY, provider TEXT NOT NULL,"
    " value BLOB NOT NULL, expires_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS ai_cache_provider ON ai_cache(provider);"
    "CREATE TABLE IF NOT EXISTS ai_cache_stats(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO ai_cache_stats VALUES('hits',0),('misses',0),('errors',0);";

static void set_why(sqlite3 *db, char *why, size_t whylen)
{
    snprintf(why, whylen, "%s", db ? sqlite3_errmsg(db) : "no database");
}

static const char fold_sql[] = "UPDATE ai_cache_stats SET value = value + CASE name"
                               " WHEN 'hits' THEN ?1 WHEN 'misses' THEN ?2 ELSE ?3 END";

static void conn_close(struct sq_conn *c)
{
    sqlite3_finalize(c->get);
    sqlite3_finalize(c->put);
    sqlite3_finalize(c->del);
    sqlite3_close(c->db);
    c->get = NULL;
    c->put = NULL;
    c->del = NULL;
    c->db = NULL;
}

static void sq_close(void *impl)
{
    struct sqlite_cache *s = impl;
    if (!s)
        return;
    sqlite3 *db = s->pool[0].db;
    if (db && (s->hits || s->misses || s->errors)) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, fold_sql, -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)s->hits);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)s->misses);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)s->errors);
            sqlite3_step(st);
        }
        sqlite3_finalize(st);
    }
    for (int i = 0; i < POOL; i++) {
        conn_close(&s->pool[i]);
        pthread_mutex_destroy(&s->pool[i].lock);
    }
    sqlite3_finalize(s->version);
    sqlite3_close(s->watch_db);
    sm__dbwatch_close(&s->watch);
    pthread_mutex_destroy(&s->watch_lock);
    pthread_mutex_destroy(&s->lock);
    sm_free(s);
}

/* Opens connection c; the first one also makes the schema. */
static int conn_open(struct sq_conn *c, const char *path, bool first, sm_error *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        sm_error_set(err, SM_EIO, "cache: cannot open %s: %s", path,
                     c->db ? sqlite3_errmsg(c->db) : "out of memory");
        return -1;
    }
    sqlite3_busy_timeout(c->db, 2000);
    char *msg = NULL;
    if (sqlite3_exec(c->db, first ? schema : "PRAGMA synchronous=NORMAL;", NULL, NULL, &msg) !=
        SQLITE_OK) {
        sm_error_set(err, SM_EIO, "cache: %s is not a usable cache: %s", path,
                     msg ? msg : "unknown error");
        sqlite3_free(msg);
        return -1;
    }
    if (sqlite3_prepare_v2(c->db, "SELECT value, expires_ms FROM ai_cache WHERE key = ?1", -1,
                           &c->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO ai_cache(key, provider, value, expires_ms)"
                           " VALUES(?1, ?2, ?3, ?4)",
                           -1, &c->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "DELETE FROM ai_cache WHERE key = ?1 AND expires_ms <= ?2",
                           -1, &c->del, NULL) != SQLITE_OK) {
        sm_error_set(err, SM_EIO, "cache: %s: %s", path, sqlite3_errmsg(c->db));
        return -1;
    }
    return 0;
}

void *sm__cache_sqlite_open(const char *path, const sm_cache_opts *o, struct sm__near *near,
                            sm_error *err)
{
    (void)o;
    struct sqlite_cache *s = sm_calloc(1, sizeof(*s));
    if (!s) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        return NULL;
    }
    s->near = near;
    bool memory = !path[0] || !strcmp(path, ":memory:") || !strncmp(path, "file::memory:", 13);
    sm__dbwatch_init(&s->watch, memory ? NULL : path);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->watch_lock, NULL);
    for (int i = 0; i < POOL; i++)
        pthread_mutex_init(&s->pool[i].lock, NULL);
    snprintf(s->path, sizeof(s->path), "%s", path);
    /* Every connection to ":memory:" is a database of its own: one connection. */
    s->n = memory ? 1 : POOL;
    for (int i = 0; i < s->n; i++)
        if (conn_open(&s->pool[i], path, i == 0, err) != 0)
            goto fail;
    if (!memory) {
        if (sqlite3_open_v2(path, &s->watch_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                            NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(s->watch_db, "PRAGMA data_version", -1, &s->version, NULL) !=
                SQLITE_OK) {
            sm_error_set(err, SM_EIO, "cache: %s: %s", path,
                         s->watch_db ? sqlite3_errmsg(s->watch_db) : "out of memory");
            goto fail;
        }
        sqlite3_busy_timeout(s->watch_db, 2000);
        s->data_version = -1;
    }
    return s;
fail:
    sq_close(s);
    return NULL;
}

/* Takes a free connection if any, else waits for the round-robin one. */
static struct sq_conn *take(struct sqlite_cache *s)
{
    pthread_mutex_lock(&s->lock);
    unsigned start = s->next++;
    pthread_mutex_unlock(&s->lock);
    unsigned n = (unsigned)s->n;
    for (unsigned i = 0; i < n; i++) {
        struct sq_conn *c = &s->pool[(start + i) % n];
        if (pthread_mutex_trylock(&c->lock) == 0)
            return c;
    }
    struct sq_conn *c = &s->pool[start % n];
    pthread_mutex_lock(&c->lock);
    return c;
}

static void give(struct sq_conn *c)
{
    pthread_mutex_unlock(&c->lock);
}

static bool sq_near_ok(void *impl)
{
    struct sqlite_cache *s = impl;
    if (!s->watch_db)
        return true; /* ":memory:": no other process can see it */
    bool ok = true;
    pthread_mutex_lock(&s->watch_lock);
    if (sm__dbwatch_due(&s->watch)) {
        if (sqlite3_step(s->version) == SQLITE_ROW) {
            int64_t v = sqlite3_column_int64(s->version, 0);
            if (v != s->data_version) {
                sm__near_flush(s->near);
                s->data_version = v;
            }
        } else {
            sm__near_flush(s->near);
            ok = false;
        }
        sqlite3_reset(s->version);
    }
    pthread_mutex_unlock(&s->watch_lock);
    return ok;
}

static void sq_near_hit(void *impl)
{
    struct sqlite_cache *s = impl;
    pthread_mutex_lock(&s->lock);
    s->hits++;
    pthread_mutex_unlock(&s->lock);
}

static int sq_get(void *impl, const char *key, char **value, size_t *len, int64_t *expires_ms,
                  char *why, size_t whylen)
{
    struct sqlite_cache *s = impl;
    int result = 0;
    int64_t now = sm__cache_wall_ms();
    struct sq_conn *c = take(s);
    sqlite3_bind_text(c->get, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(c->get);
    if (rc == SQLITE_ROW) {
        int64_t exp = sqlite3_column_int64(c->get, 1);
        if (exp > now) {
            int n = sqlite3_column_bytes(c->get, 0);
            const void *p = sqlite3_column_blob(c->get, 0);
            char *v = sm_malloc((size_t)n + 1);
            if (v) {
                if (n)
                    memcpy(v, p, (size_t)n);
                v[n] = '\0';
                *value = v;
                *len = (size_t)n;
                *expires_ms = exp;
                result = 1;
            }
        }
    } else if (rc != SQLITE_DONE) {
        set_why(c->db, why, whylen);
        result = -1;
    }
    sqlite3_reset(c->get);
    sqlite3_clear_bindings(c->get);
    if (result == 0 && rc == SQLITE_ROW) {
        /* Expired: drop it now rather than wait for an overwrite. */
        sqlite3_bind_text(c->del, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(c->del, 2, now);
        sqlite3_step(c->del);
        sqlite3_reset(c->del);
        sqlite3_clear_bindings(c->del);
    }
    give(c);
    if (result >= 0) {
        pthread_mutex_lock(&s->lock);
        if (result == 1)
            s->hits++;
        else
            s->misses++;
        pthread_mutex_unlock(&s->lock);
    }
    return result;
}

static int sq_put(void *impl, const char *key, const char *provider, const char *value,
                  size_t len, long ttl_ms, char *why, size_t whylen)
{
    struct sqlite_cache *s = impl;
    struct sq_conn *c = take(s);
    sqlite3_bind_text(c->put, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->put, 2, provider, -1, SQLITE_STATIC);
    sqlite3_bind_blob(c->put, 3, value, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(c->put, 4, sm__cache_wall_ms() + ttl_ms);
    int rc = sqlite3_step(c->put);
    if (rc != SQLITE_DONE)
        set_why(c->db, why, whylen);
    sqlite3_reset(c->put);
    sqlite3_clear_bindings(c->put);
    give(c);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_clear(void *impl, const char *provider, uint64_t *removed, char *why,
                    size_t whylen)
{
    struct sqlite_cache *s = impl;
    int result = 0;
    struct sq_conn *c = take(s);
    sqlite3_stmt *st = NULL;
    const char *sql = provider ? "DELETE FROM ai_cache WHERE provider = ?1" : "DELETE FROM ai_cache";
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        set_why(c->db, why, whylen);
        result = -1;
    } else {
        if (provider)
            sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            set_why(c->db, why, whylen);
            result = -1;
        } else if (removed) {
            *removed = (uint64_t)sqlite3_changes(c->db);
        }
    }
    sqlite3_finalize(st);
    if (result == 0 && !provider) {
        sqlite3_exec(c->db, "UPDATE ai_cache_stats SET value = 0", NULL, NULL, NULL);
        pthread_mutex_lock(&s->lock);
        s->hits = 0;
        s->misses = 0;
        s->errors = 0;
        pthread_mutex_unlock(&s->lock);
    }
    give(c);
    return result;
}

static int sq_add_errors(void *impl, uint64_t errors)
{
    struct sqlite_cache *s = impl;
    pthread_mutex_lock(&s->lock);
    s->errors += errors;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int sq_stats(void *impl, sm_cache_stats *out)
{
    struct sqlite_cache *s = impl;
    int result = 0;
    snprintf(out->location, sizeof(out->location), "%s", s->path);
    struct sq_conn *c = take(s);
    sqlite3 *db = c->db;
    pthread_mutex_lock(&s->lock);
    uint64_t h = s->hits;
    uint64_t m = s->misses;
    uint64_t e = s->errors;
    s->hits = 0;
    s->misses = 0;
    s->errors = 0;
    pthread_mutex_unlock(&s->lock);
    sqlite3_stmt *st = NULL;
    /* Fold this process's counts into the file, then read the totals. */
    bool folded = false;
    if (sqlite3_prepare_v2(db, fold_sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)h);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)m);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)e);
        folded = sqlite3_step(st) == SQLITE_DONE;
    }
    if (!folded) {
        pthread_mutex_lock(&s->lock);
        s->hits += h;
        s->misses += m;
        s->errors += e;
        pthread_mutex_unlock(&s->lock);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name, value FROM ai_cache_stats", -1, &st, NULL) ==
        SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            uint64_t v = (uint64_t)sqlite3_column_int64(st, 1);
            if (!name)
                continue;
            if (!strcmp(name, "hits"))
                out->hits = v;
            else if (!strcmp(name, "misses"))
                out->misses = v;
            else if (!strcmp(name, "errors"))
                out->errors = v;
        }
    } else {
        result = -1;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM ai_cache WHERE expires_ms > ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, sm__cache_wall_ms());
        if (sqlite3_step(st) == SQLITE_ROW)
            out->entries = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    give(c);
    return result;
}

const struct sm__cache_backend sm__cache_sqlite = {
    "sqlite", sq_get, sq_put, sq_clear, sq_add_errors, sq_stats, sq_close, sq_near_ok, sq_near_hit,
};
