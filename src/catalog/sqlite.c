/* The SQLite catalog backend: every SQL statement of the catalog lives here.
 *
 * One file, WAL journal, synchronous=NORMAL (a crash of the process never loses a
 * committed batch; a power cut may lose the last one but never corrupts), foreign
 * keys on, a busy timeout for other processes' locks. The schema version is
 * PRAGMA user_version and the file is marked with PRAGMA application_id, so a
 * foreign SQLite file is recognised and left alone. docs/catalog.md has the schema. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>
#include <samplemind/similarity.h>
#include <samplemind/version.h>

#include "catalog/catalog_int.h"
#include "catalog/sqlite_int.h"
#include "util/dbwatch.h"

/* 'SMCD' */
#define APP_ID 0x534D4344
#define DEFAULT_BUSY_MS 5000

/* Forward migrations: migrations[v] takes a catalog from version v to v + 1. */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE roots("
    "  path TEXT PRIMARY KEY,"
    "  added_at INTEGER NOT NULL);"
    "CREATE TABLE samples("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  root TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  analyzer_version INTEGER NOT NULL,"
    "  scanned_at INTEGER NOT NULL,"
    "  duration REAL, sample_rate INTEGER, channels INTEGER, format TEXT,"
    "  bpm REAL, key_tonic INTEGER, key_mode INTEGER, camelot TEXT, note_midi INTEGER,"
    "  loop INTEGER NOT NULL, category INTEGER NOT NULL,"
    "  lufs REAL, true_peak REAL,"
    "  brightness REAL, warmth REAL, hardness REAL, depth REAL, roughness REAL,"
    "  boominess REAL,"
    "  embedding_version INTEGER,"
    "  missing INTEGER NOT NULL DEFAULT 0);"
    /* The bulky parts live apart so that filtering and sorting read narrow rows. */
    "CREATE TABLE sample_data("
    "  id INTEGER PRIMARY KEY REFERENCES samples(id) ON DELETE CASCADE,"
    "  analysis TEXT NOT NULL,"
    "  embedding BLOB,"
    "  waveform BLOB);"
    "CREATE INDEX samples_hash ON samples(hash);"
    "CREATE INDEX samples_bpm ON samples(bpm);"
    "CREATE INDEX samples_category ON samples(category, bpm);"
    "CREATE INDEX samples_key ON samples(key_tonic, key_mode);"
    "CREATE INDEX samples_duration ON samples(duration);"
    "CREATE INDEX samples_lufs ON samples(lufs);"
    "CREATE INDEX samples_name ON samples(name COLLATE NOCASE);"
    "CREATE INDEX samples_missing ON samples(missing) WHERE missing <> 0;"
    "CREATE TABLE tags("
    "  sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,"
    "  tag TEXT NOT NULL,"
    "  PRIMARY KEY(sample_id, tag)) WITHOUT ROWID;"
    "CREATE INDEX tags_tag ON tags(tag);"
    "CREATE TABLE errors("
    "  path TEXT PRIMARY KEY,"
    "  root TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  analyzer_version INTEGER NOT NULL,"
    "  code TEXT NOT NULL,"
    "  message TEXT NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE VIRTUAL TABLE samples_fts USING fts5(words, tags, description,"
    "  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');",
    /* 1 -> 2: AI answers, one per (sample, task); text is what search matches. */
    "CREATE TABLE ai_answers("
    "  sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,"
    "  task TEXT NOT NULL,"
    "  provider TEXT NOT NULL,"
    "  model TEXT NOT NULL,"
    "  answer TEXT NOT NULL,"
    "  text TEXT,"
    "  latency_ms REAL NOT NULL,"
    "  tokens_in INTEGER NOT NULL,"
    "  tokens_out INTEGER NOT NULL,"
    "  tokens_estimated INTEGER NOT NULL,"
    "  cost_usd REAL NOT NULL,"
    "  cached INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY(sample_id, task)) WITHOUT ROWID;",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The columns written by put, in bind order (path first). */
static const char *const put_cols[] = {
    "path", "name", "root", "size", "mtime_ns", "hash", "analyzer_version", "scanned_at",
    "duration", "sample_rate", "channels", "format", "bpm", "key_tonic", "key_mode", "camelot",
    "note_midi", "loop", "category", "lufs", "true_peak", "brightness", "warmth", "hardness",
    "depth", "roughness", "boominess", "embedding_version", "missing",
};
#define N_PUT_COLS ((int)(sizeof(put_cols) / sizeof(put_cols[0])))

#define ROW_COLS                                                                    \
    "s.id, s.path, s.root, s.hash, s.size, s.mtime_ns, s.analyzer_version, s.missing, " \
    "s.duration, s.sample_rate, s.channels, s.format, s.bpm, s.key_tonic, s.key_mode, " \
    "s.note_midi, s.loop, s.category, s.lufs, s.true_peak, s.brightness, s.warmth, "   \
    "s.hardness, s.depth, s.roughness, s.boominess, "                                  \
    "(SELECT group_concat(tag, ' ') FROM (SELECT tag FROM tags WHERE sample_id = s.id " \
    "ORDER BY tag))"
#define ROW_N 27

enum stmt_id {
    ST_UPSERT,
    ST_REPLACE,
    ST_DELETE_OTHER,
    ST_FTS_DELETE,
    ST_FTS_INSERT,
    ST_FORGET_ERROR,
    ST_PUT_ERROR,
    ST_SET_MISSING,
    ST_GET_ID,
    ST_GET_PATH,
    ST_FIND_HASH,
    ST_TAG_ADD,
    ST_TAG_DEL,
    ST_FTS_TAGS,
    ST_PUT_DATA,
    ST_COUNT
};

struct db {
    sqlite3 *h;
    char *path;
    bool memory;
    bool readonly;
    int busy_ms;
    int schema;
    bool in_tx;
    bool reading;
    bool has_bm25;     /* sm_bm25 registered (the filter index ranks words with it) */
    int lock_fd;
    sqlite3_stmt *st[ST_COUNT];
    struct sm_dbwatch watch; /* when data_version is worth asking */
    int64_t data_version;
};

static int register_bm25(sqlite3 *h);

/* ------------------------------------------------------------------ errors --- */

static sm_status fail(struct db *d, sm_error *err, const char *what)
{
    int rc = d->h ? sqlite3_extended_errcode(d->h) : SQLITE_ERROR;
    const char *msg = d->h ? sqlite3_errmsg(d->h) : "no database";
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return sm_error_set(err, SM_EBUSY,
                                "catalog %s is locked by another process (waited %.1f s) "
                                "while %s",
                                d->path, (double)d->busy_ms / 1000.0, what);
        case SQLITE_FULL:
            return sm_error_set(err, SM_ENOSPC,
                                "catalog %s: disk full (or size limit reached) while %s; "
                                "the batch was rolled back",
                                d->path, what);
        case SQLITE_CORRUPT:
            return sm_error_set(err, SM_EBADDB,
                                "catalog %s is corrupt (%s) while %s; restore it from a "
                                "backup or move it away to start a new one",
                                d->path, msg, what);
        case SQLITE_NOTADB:
            return sm_error_set(err, SM_EBADDB,
                                "catalog %s is not a SampleMind catalog (not an SQLite "
                                "database); it was left untouched",
                                d->path);
        case SQLITE_READONLY:
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
        case SQLITE_AUTH:
            return sm_error_set(err, SM_EACCES, "catalog %s: cannot write or open (%s) while %s",
                                d->path, msg, what);
        case SQLITE_NOMEM:
            return sm_error_set(err, SM_ENOMEM, "catalog %s: out of memory while %s", d->path,
                                what);
        case SQLITE_IOERR:
            if (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC) {
                /* ENOSPC from write(2) arrives as a write error. */
                int e = 0;
                sqlite3_file_control(d->h, "main", SQLITE_FCNTL_LAST_ERRNO, &e);
                if (e == ENOSPC || e == EDQUOT)
                    return sm_error_set(err, SM_ENOSPC,
                                        "catalog %s: disk full while %s; the batch was rolled "
                                        "back",
                                        d->path, what);
            }
            return sm_error_set(err, SM_EIO, "catalog %s: I/O error (%s) while %s", d->path, msg,
                                what);
        default:
            return sm_error_set(err, SM_EIO, "catalog %s: %s while %s", d->path, msg, what);
    }
}

/* ------------------------------------------------------------- statements --- */

static sqlite3_stmt *prep(struct db *d, const char *sql, sm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK) {
        fail(d, err, "preparing a statement");
        return NULL;
    }
    return st;
}

static char *build_put_sql(bool replace)
{
    size_t cap = 4096;
    char *s = sm_malloc(cap);
    if (!s)
        return NULL;
    size_t n = 0;
    if (replace) {
        n += (size_t)snprintf(s + n, cap - n, "UPDATE samples SET ");
        for (int i = 0; i < N_PUT_COLS; i++)
            n += (size_t)snprintf(s + n, cap - n, "%s%s = ?%d", i ? ", " : "", put_cols[i],
                                  i + 1);
        n += (size_t)snprintf(s + n, cap - n, " WHERE id = ?%d RETURNING id", N_PUT_COLS + 1);
    } else {
        n += (size_t)snprintf(s + n, cap - n, "INSERT INTO samples(");
        for (int i = 0; i < N_PUT_COLS; i++)
            n += (size_t)snprintf(s + n, cap - n, "%s%s", i ? ", " : "", put_cols[i]);
        n += (size_t)snprintf(s + n, cap - n, ") VALUES(");
        for (int i = 0; i < N_PUT_COLS; i++)
            n += (size_t)snprintf(s + n, cap - n, "%s?%d", i ? ", " : "", i + 1);
        n += (size_t)snprintf(s + n, cap - n, ") ON CONFLICT(path) DO UPDATE SET ");
        for (int i = 1; i < N_PUT_COLS; i++)
            n += (size_t)snprintf(s + n, cap - n, "%s%s = excluded.%s", i > 1 ? ", " : "",
                                  put_cols[i], put_cols[i]);
        n += (size_t)snprintf(s + n, cap - n, " RETURNING id");
    }
    return s;
}

static sqlite3_stmt *stmt(struct db *d, enum stmt_id id, sm_error *err)
{
    if (d->st[id]) {
        sqlite3_reset(d->st[id]);
        sqlite3_clear_bindings(d->st[id]);
        return d->st[id];
    }
    const char *sql = NULL;
    char *built = NULL;
    switch (id) {
        case ST_UPSERT:
        case ST_REPLACE:
            built = build_put_sql(id == ST_REPLACE);
            if (!built) {
                sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                return NULL;
            }
            sql = built;
            break;
        case ST_DELETE_OTHER:
            sql = "DELETE FROM samples WHERE path = ?1 AND id <> ?2 RETURNING id";
            break;
        case ST_FTS_DELETE:
            sql = "DELETE FROM samples_fts WHERE rowid = ?1";
            break;
        case ST_FTS_INSERT:
            sql = "INSERT INTO samples_fts(rowid, words, tags, description) VALUES(?1, ?2, "
                  "(SELECT coalesce(group_concat(tag, ' '), '') FROM tags WHERE sample_id = ?1),"
                  " (SELECT coalesce(group_concat(text, ' '), '') FROM ai_answers"
                  " WHERE sample_id = ?1 AND text IS NOT NULL))";
            break;
        case ST_FORGET_ERROR:
            sql = "DELETE FROM errors WHERE path = ?1";
            break;
        case ST_PUT_ERROR:
            sql = "INSERT OR REPLACE INTO errors(path, root, size, mtime_ns, analyzer_version,"
                  " code, message, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
            break;
        case ST_SET_MISSING:
            sql = "UPDATE samples SET missing = ?2 WHERE id = ?1";
            break;
        case ST_GET_ID:
            sql = "SELECT " ROW_COLS " FROM samples s WHERE s.id = ?1";
            break;
        case ST_GET_PATH:
            sql = "SELECT " ROW_COLS " FROM samples s WHERE s.path = ?1";
            break;
        case ST_FIND_HASH:
            sql = "SELECT " ROW_COLS " FROM samples s WHERE s.hash = ?1 ORDER BY s.id";
            break;
        case ST_TAG_ADD:
            sql = "INSERT OR IGNORE INTO tags(sample_id, tag) VALUES(?1, ?2)";
            break;
        case ST_TAG_DEL:
            sql = "DELETE FROM tags WHERE sample_id = ?1 AND tag = ?2";
            break;
        case ST_FTS_TAGS:
            sql = "UPDATE samples_fts SET tags = (SELECT coalesce(group_concat(tag, ' '), '') "
                  "FROM tags WHERE sample_id = ?1) WHERE rowid = ?1";
            break;
        case ST_PUT_DATA:
            sql = "INSERT OR REPLACE INTO sample_data(id, analysis, embedding, waveform) "
                  "VALUES(?1, ?2, ?3, ?4)";
            break;
        case ST_COUNT:
            break;
    }
    sqlite3_stmt *st = NULL;
    if (sql && sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
                   SQLITE_OK) {
        fail(d, err, "preparing a statement");
        st = NULL;
    }
    sm_free(built);
    d->st[id] = st;
    return st;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int bind_num(sqlite3_stmt *st, int i, double v)
{
    if (!isfinite(v))
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_double(st, i, v);
}

static double col_num(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    int n = sqlite3_column_bytes(st, i);
    char *s = sm_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    if (t && n > 0)
        memcpy(s, t, (size_t)n);
    s[n] = '\0';
    return s;
}

static int read_row(sqlite3_stmt *st, sm_sample *s)
{
    s->id = sqlite3_column_int64(st, 0);
    s->path = col_dup(st, 1);
    s->root = col_dup(st, 2);
    const unsigned char *h = sqlite3_column_text(st, 3);
    snprintf(s->hash, sizeof(s->hash), "%s", h ? (const char *)h : "");
    s->size = sqlite3_column_int64(st, 4);
    s->mtime_ns = sqlite3_column_int64(st, 5);
    s->analyzer_version = sqlite3_column_int(st, 6);
    s->missing = sqlite3_column_int(st, 7) != 0;
    s->duration = col_num(st, 8);
    s->sample_rate = sqlite3_column_int(st, 9);
    s->channels = sqlite3_column_int(st, 10);
    const unsigned char *fmt = sqlite3_column_text(st, 11);
    snprintf(s->format, sizeof(s->format), "%s", fmt ? (const char *)fmt : "");
    s->bpm = col_num(st, 12);
    s->has_tempo = isfinite(s->bpm);
    s->has_key = sqlite3_column_type(st, 13) != SQLITE_NULL;
    s->key_tonic = s->has_key ? sqlite3_column_int(st, 13) : -1;
    s->key_mode = s->has_key ? sqlite3_column_int(st, 14) : -1;
    s->has_note = sqlite3_column_type(st, 15) != SQLITE_NULL;
    s->note_midi = s->has_note ? sqlite3_column_int(st, 15) : -1;
    s->loop = sqlite3_column_int(st, 16) != 0;
    s->category = sqlite3_column_int(st, 17);
    s->lufs = col_num(st, 18);
    s->true_peak = col_num(st, 19);
    for (int i = 0; i < SM_TIMBRE_COUNT; i++)
        s->timbre[i] = col_num(st, 20 + i);
    s->tags = col_dup(st, 26);
    if (!s->path || !s->root || !s->tags)
        return -1;
    return 0;
}

/* --------------------------------------------- for the backend's other files --- */

sqlite3 *sm__sqlite_handle(void *impl)
{
    return ((struct db *)impl)->h;
}

sm_status sm__sqlite_fail(void *impl, sm_error *err, const char *what)
{
    return fail(impl, err, what);
}

/* ---------------------------------------------------------------- opening --- */

static void db_close(void *impl)
{
    struct db *d = impl;
    if (!d)
        return;
    if (d->in_tx && d->h)
        sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(d->st[i]);
    if (d->h)
        sqlite3_close_v2(d->h);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    sm__dbwatch_close(&d->watch);
    sm_free(d->path);
    sm_free(d);
}


static int query_int(struct db *d, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(d->h, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Other connections' commits, cheaply: the WAL-index header first (dbwatch.h). */
static sm_status db_data_version(void *impl, uint64_t *version, sm_error *err)
{
    struct db *d = impl;
    if (d->memory || sm__dbwatch_due(&d->watch)) {
        long long v = 0;
        if (query_int(d, "PRAGMA data_version", &v) != SQLITE_OK)
            return fail(d, err, "reading the data version");
        d->data_version = v;
    }
    *version = (uint64_t)d->data_version;
    return SM_OK;
}

static sm_status migrate(struct db *d, sm_error *err)
{
    if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail(d, err, "starting the schema migration");
    long long v = 0;
    /* Read again under the write lock: another process may have migrated. */
    if (query_int(d, "PRAGMA user_version", &v) != SQLITE_OK)
        goto fail;
    for (int i = (int)v; i < N_MIGRATIONS; i++)
        if (sqlite3_exec(d->h, migrations[i], NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
    char sql[96];
    snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d", APP_ID,
             N_MIGRATIONS);
    if (sqlite3_exec(d->h, sql, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    d->schema = N_MIGRATIONS;
    return SM_OK;
fail:;
    sm_status rc = fail(d, err, "migrating the schema");
    sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void *db_open(const struct sm__catalog_url *u, const sm_catalog_opts *opts, sm_error *err)
{
    struct db *d = sm_calloc(1, sizeof(*d));
    if (!d) {
        sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
        return NULL;
    }
    d->lock_fd = -1;
    sm__dbwatch_init(&d->watch, NULL);
    d->path = sm_strdup(u->location);
    if (!d->path) {
        sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
        goto fail;
    }
    d->memory = !strcmp(u->location, ":memory:");
    if (!d->memory)
        sm__dbwatch_init(&d->watch, d->path);
    d->readonly = (opts->flags & SM_CATALOG_READONLY) != 0;
    d->busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms
                 : u->busy_timeout_ms >= 0 ? u->busy_timeout_ms
                                           : DEFAULT_BUSY_MS;
    bool exists = false;
    if (!d->memory) {
        struct stat sb;
        exists = stat(d->path, &sb) == 0;
        if (exists && S_ISDIR(sb.st_mode)) {
            sm_error_set(err, SM_EISDIR, "catalog %s is a directory, not a catalog file",
                         d->path);
            goto fail;
        }
        if (!exists && (d->readonly || (opts->flags & SM_CATALOG_NO_CREATE))) {
            sm_error_set(err, SM_ENOENT, "catalog %s does not exist (run 'samplemind scan' "
                                         "first)", d->path);
            goto fail;
        }
    }
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    flags |= d->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(d->path, &d->h, flags, NULL) != SQLITE_OK) {
        if (!d->h) {
            sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
            goto fail;
        }
        fail(d, err, "opening");
        goto fail;
    }
    sqlite3_busy_timeout(d->h, d->busy_ms);
    /* Read first: a file that is not ours is recognised before anything is written. */
    long long n_tables = 0;
    if (query_int(d, "SELECT count(*) FROM sqlite_schema", &n_tables) != SQLITE_OK) {
        fail(d, err, "reading the schema");
        goto fail;
    }
    long long app = 0;
    long long version = 0;
    if (query_int(d, "PRAGMA application_id", &app) != SQLITE_OK ||
        query_int(d, "PRAGMA user_version", &version) != SQLITE_OK) {
        fail(d, err, "reading the schema version");
        goto fail;
    }
    if (n_tables > 0 && app != APP_ID) {
        sm_error_set(err, SM_EBADDB,
                     "catalog %s is an SQLite database but not a SampleMind catalog; it was "
                     "left untouched",
                     d->path);
        goto fail;
    }
    if (version > N_MIGRATIONS) {
        sm_error_set(err, SM_EBADDB,
                     "catalog %s has schema version %lld, newer than this samplemind "
                     "understands (%d); upgrade samplemind",
                     d->path, version, N_MIGRATIONS);
        goto fail;
    }
    d->schema = (int)version;
    if (u->max_pages > 0) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", u->max_pages);
        sqlite3_exec(d->h, sql, NULL, NULL, NULL);
    }
    if (!d->readonly) {
        long long dummy = 0;
        if (!d->memory && query_int(d, "PRAGMA journal_mode = WAL", &dummy) != SQLITE_OK) {
            fail(d, err, "switching to WAL");
            goto fail;
        }
        sqlite3_exec(d->h, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    }
    /* The ranking function of the filter index; a missing FTS5 API only makes
     * that index fall back to SQL. */
    d->has_bm25 = register_bm25(d->h) == 0;
    if (sqlite3_exec(d->h, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
        fail(d, err, "enabling foreign keys");
        goto fail;
    }
    if (d->schema < N_MIGRATIONS) {
        if (d->readonly) {
            sm_error_set(err, SM_EIO,
                         "catalog %s has schema version %d and needs migrating to %d; open it "
                         "writable once",
                         d->path, d->schema, N_MIGRATIONS);
            goto fail;
        }
        if (migrate(d, err) != SM_OK)
            goto fail;
    }
    return d;
fail:
    db_close(d);
    return NULL;
}

static int db_schema_version(void *impl)
{
    return ((struct db *)impl)->schema;
}

/* ----------------------------------------------------------- transactions --- */

static sm_status db_begin(void *impl, sm_error *err)
{
    struct db *d = impl;
    if (d->in_tx)
        return sm_error_set(err, SM_EINVAL, "catalog: a batch is already open");
    if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail(d, err, "starting a batch");
    d->in_tx = true;
    return SM_OK;
}

static void db_rollback(void *impl)
{
    struct db *d = impl;
    if (!d->in_tx)
        return;
    if (sqlite3_get_autocommit(d->h) == 0)
        sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
    d->in_tx = false;
}

static sm_status db_commit(void *impl, sm_error *err)
{
    struct db *d = impl;
    if (!d->in_tx)
        return sm_error_set(err, SM_EINVAL, "catalog: no batch is open");
    if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sm_status rc = fail(d, err, "committing a batch");
        db_rollback(d);
        return rc;
    }
    d->in_tx = false;
    return SM_OK;
}

/* Run one statement-level write: inside a batch it joins it, otherwise it is
 * wrapped so that its several statements are still one transaction. */
static sm_status auto_begin(struct db *d, bool *own, sm_error *err)
{
    *own = false;
    if (d->in_tx)
        return SM_OK;
    sm_status rc = db_begin(d, err);
    if (rc == SM_OK)
        *own = true;
    return rc;
}

static sm_status auto_end(struct db *d, bool own, sm_status rc, sm_error *err)
{
    if (!own)
        return rc;
    if (rc != SM_OK) {
        db_rollback(d);
        return rc;
    }
    return db_commit(d, err);
}

sm_status sm__sqlite_write_begin(void *impl, bool *own, sm_error *err)
{
    return auto_begin(impl, own, err);
}

sm_status sm__sqlite_write_end(void *impl, bool own, sm_status rc, sm_error *err)
{
    return auto_end(impl, own, rc, err);
}

static sm_status db_lock_scan(void *impl, bool wait, sm_error *err)
{
    struct db *d = impl;
    if (d->memory || d->lock_fd >= 0)
        return SM_OK;
    size_t n = strlen(d->path) + 16;
    char *lp = sm_malloc(n);
    if (!lp)
        return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    snprintf(lp, n, "%s-scan.lock", d->path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        sm_status rc = sm_error_set(err, SM_EACCES, "catalog: cannot open the scan lock %s: %s",
                                    lp, strerror(errno));
        sm_free(lp);
        return rc;
    }
    int r;
    do {
        r = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        sm_status rc;
        if (errno == EWOULDBLOCK) {
            char pid[32] = "";
            ssize_t got = pread(fd, pid, sizeof(pid) - 1, 0);
            pid[got > 0 ? got : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            rc = sm_error_set(err, SM_EBUSY,
                              "another scan (pid %s) is writing to catalog %s; wait for it "
                              "to finish or use --wait",
                              *pid ? pid : "?", d->path);
        } else {
            rc = sm_error_set(err, SM_EIO, "catalog: cannot lock %s: %s", lp, strerror(errno));
        }
        close(fd);
        sm_free(lp);
        return rc;
    }
    char pid[32];
    int pl = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)pl, 0) < 0)
        pid[0] = '\0';
    sm_free(lp);
    d->lock_fd = fd;
    return SM_OK;
}

/* ------------------------------------------------------------------ writes --- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static sm_status fts_refresh(struct db *d, int64_t id, const char *path, const char *root,
                             sm_error *err)
{
    sqlite3_stmt *st = stmt(d, ST_FTS_DELETE, err);
    if (!st)
        return err ? err->code : SM_EIO;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(d, err, "updating the search index");
    char *words = sm__catalog_path_words(path, root);
    if (!words)
        return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    st = stmt(d, ST_FTS_INSERT, err);
    if (!st) {
        sm_free(words);
        return err ? err->code : SM_EIO;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, words, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sm_free(words);
    if (rc != SQLITE_DONE)
        return fail(d, err, "updating the search index");
    return SM_OK;
}

static sm_status put_body(struct db *d, const sm_catalog_file *f, const sm_analysis *a,
                          int64_t replace_id, int64_t *id_out, sm_error *err)
{
    char *json = sm_analysis_to_json(a, 0);
    if (!json)
        return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    sqlite3_stmt *st = NULL;
    if (replace_id > 0) {
        /* Another row already at the new path (an older copy) gives way. */
        st = stmt(d, ST_DELETE_OTHER, err);
        if (!st)
            goto fail_code;
        bind_text(st, 1, f->path);
        sqlite3_bind_int64(st, 2, replace_id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t gone = sqlite3_column_int64(st, 0);
            char sql[80];
            snprintf(sql, sizeof(sql), "DELETE FROM samples_fts WHERE rowid = %lld",
                     (long long)gone);
            if (sqlite3_exec(d->h, sql, NULL, NULL, NULL) != SQLITE_OK)
                goto fail_db;
        }
        if (rc != SQLITE_DONE)
            goto fail_db;
        sqlite3_reset(st);
        st = stmt(d, ST_REPLACE, err);
    } else {
        st = stmt(d, ST_UPSERT, err);
    }
    if (!st)
        goto fail_code;
    char camelot[8] = "";
    if (a->has_key)
        sm_key_camelot(a->key_tonic, a->key_mode, camelot, sizeof(camelot));
    double lufs = isfinite(a->integrated_lufs) ? a->integrated_lufs : a->momentary_max_lufs;
    int i = 1;
    bind_text(st, i++, f->path);
    bind_text(st, i++, base_name(f->path));
    bind_text(st, i++, f->root);
    sqlite3_bind_int64(st, i++, f->size);
    sqlite3_bind_int64(st, i++, f->mtime_ns);
    bind_text(st, i++, a->hash);
    sqlite3_bind_int(st, i++, a->analyzer_version);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)time(NULL));
    bind_num(st, i++, a->duration);
    sqlite3_bind_int(st, i++, a->sample_rate);
    sqlite3_bind_int(st, i++, a->channels);
    bind_text(st, i++, a->format);
    bind_num(st, i++, a->has_tempo ? a->bpm : (double)NAN);
    if (a->has_key) {
        sqlite3_bind_int(st, i++, a->key_tonic);
        sqlite3_bind_int(st, i++, a->key_mode);
        bind_text(st, i++, camelot);
    } else {
        sqlite3_bind_null(st, i++);
        sqlite3_bind_null(st, i++);
        sqlite3_bind_null(st, i++);
    }
    if (a->has_note)
        sqlite3_bind_int(st, i++, a->note_midi);
    else
        sqlite3_bind_null(st, i++);
    sqlite3_bind_int(st, i++, a->loop ? 1 : 0);
    sqlite3_bind_int(st, i++, a->category);
    bind_num(st, i++, lufs);
    bind_num(st, i++, a->true_peak_dbtp);
    bind_num(st, i++, a->brightness);
    bind_num(st, i++, a->warmth);
    bind_num(st, i++, a->hardness);
    bind_num(st, i++, a->depth);
    bind_num(st, i++, a->roughness);
    bind_num(st, i++, a->boominess);
    if (a->embedding && a->embedding_dim > 0)
        sqlite3_bind_int(st, i++, a->embedding_version);
    else
        sqlite3_bind_null(st, i++);
    sqlite3_bind_int(st, i++, 0);
    if (replace_id > 0)
        sqlite3_bind_int64(st, i++, replace_id);
    int rc = sqlite3_step(st);
    int64_t id = 0;
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto fail_db;
    if (id == 0) {
        /* The row to replace is gone: store by path instead. */
        sm_free(json);
        return put_body(d, f, a, 0, id_out, err);
    }
    st = stmt(d, ST_PUT_DATA, err);
    if (!st)
        goto fail_code;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
    if (a->embedding && a->embedding_dim > 0)
        sqlite3_bind_blob(st, 3, a->embedding, (int)(a->embedding_dim * sizeof(float)),
                          SQLITE_STATIC);
    if (a->peaks && a->n_peaks > 0)
        sqlite3_bind_blob(st, 4, a->peaks, (int)(a->n_peaks * 2 * sizeof(float)), SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto fail_db;
    sm_free(json);
    json = NULL;
    sm_status s = fts_refresh(d, id, f->path, f->root, err);
    if (s != SM_OK)
        return s;
    st = stmt(d, ST_FORGET_ERROR, err);
    if (!st)
        return err ? err->code : SM_EIO;
    bind_text(st, 1, f->path);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(d, err, "clearing an error record");
    if (id_out)
        *id_out = id;
    return SM_OK;
fail_db:;
    sm_status code = fail(d, err, "storing an analysis");
    sm_free(json);
    return code;
fail_code:
    sm_free(json);
    return err ? err->code : SM_EIO;
}

static sm_status db_put(void *impl, const sm_catalog_file *f, const sm_analysis *a,
                        int64_t replace_id, int64_t *id_out, sm_error *err)
{
    struct db *d = impl;
    bool own;
    sm_status rc = auto_begin(d, &own, err);
    if (rc != SM_OK)
        return rc;
    rc = put_body(d, f, a, replace_id, id_out, err);
    return auto_end(d, own, rc, err);
}

static sm_status db_put_error(void *impl, const sm_catalog_file *f, const sm_error *fe,
                              sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = stmt(d, ST_PUT_ERROR, err);
    if (!st)
        return err ? err->code : SM_EIO;
    bind_text(st, 1, f->path);
    bind_text(st, 2, f->root);
    sqlite3_bind_int64(st, 3, f->size);
    sqlite3_bind_int64(st, 4, f->mtime_ns);
    sqlite3_bind_int(st, 5, SM_ANALYZER_VERSION);
    bind_text(st, 6, sm_status_name(fe->code));
    bind_text(st, 7, fe->msg);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(d, err, "storing an error record");
    return SM_OK;
}

static sm_status db_forget_error(void *impl, const char *path, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = stmt(d, ST_FORGET_ERROR, err);
    if (!st)
        return err ? err->code : SM_EIO;
    bind_text(st, 1, path);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(d, err, "clearing an error record");
    return SM_OK;
}

static sm_status db_set_missing(void *impl, int64_t id, bool missing, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = stmt(d, ST_SET_MISSING, err);
    if (!st)
        return err ? err->code : SM_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, missing ? 1 : 0);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(d, err, "marking a file missing");
    return SM_OK;
}

/* "path >= root/ AND path < root0": every path under root, by the unique index. */
static void bind_under(sqlite3_stmt *st, int i, const char *root, char **lo, char **hi)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    *lo = sm_malloc(n + 2);
    *hi = sm_malloc(n + 2);
    if (!*lo || !*hi)
        return;
    memcpy(*lo, root, n);
    memcpy(*hi, root, n);
    (*lo)[n] = '/';
    (*hi)[n] = '/' + 1;
    (*lo)[n + 1] = '\0';
    (*hi)[n + 1] = '\0';
    if (n == 1 && root[0] == '/') {
        (*lo)[1] = '\0';
        (*hi)[0] = '/' + 1;
        (*hi)[1] = '\0';
    }
    sqlite3_bind_text(st, i, *lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i + 1, *hi, -1, SQLITE_STATIC);
}

static sm_status db_prune(void *impl, const char *root, int64_t *n, sm_error *err)
{
    struct db *d = impl;
    bool own;
    sm_status rc = auto_begin(d, &own, err);
    if (rc != SM_OK)
        return rc;
    const char *sql_fts =
        root ? "DELETE FROM samples_fts WHERE rowid IN (SELECT id FROM samples WHERE missing <> 0"
               " AND path >= ?1 AND path < ?2)"
             : "DELETE FROM samples_fts WHERE rowid IN (SELECT id FROM samples WHERE missing <> 0)";
    const char *sql =
        root ? "DELETE FROM samples WHERE missing <> 0 AND path >= ?1 AND path < ?2"
             : "DELETE FROM samples WHERE missing <> 0";
    char *lo = NULL;
    char *hi = NULL;
    int64_t removed = 0;
    for (int pass = 0; pass < 2 && rc == SM_OK; pass++) {
        sqlite3_stmt *st = prep(d, pass == 0 ? sql_fts : sql, err);
        if (!st) {
            rc = err ? err->code : SM_EIO;
            break;
        }
        if (root) {
            sm_free(lo);
            sm_free(hi);
            bind_under(st, 1, root, &lo, &hi);
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = fail(d, err, "pruning missing files");
        removed = sqlite3_changes(d->h);
        sqlite3_finalize(st);
    }
    sm_free(lo);
    sm_free(hi);
    if (n)
        *n = rc == SM_OK ? removed : 0;
    return auto_end(d, own, rc, err);
}

static sm_status db_add_root(void *impl, const char *root, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st =
        prep(d, "INSERT OR IGNORE INTO roots(path, added_at) VALUES(?1, ?2)", err);
    if (!st)
        return err ? err->code : SM_EIO;
    bind_text(st, 1, root);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    sm_status rc = SM_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = fail(d, err, "adding a library root");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------- reads --- */

static sm_status db_each_known(void *impl, const char *root, sm_catalog_known_fn fn, void *ud,
                               sm_error *err)
{
    struct db *d = impl;
    static const char *const sqls[2][2] = {
        {"SELECT id, path, size, mtime_ns, analyzer_version, missing FROM samples",
         "SELECT id, path, size, mtime_ns, analyzer_version, missing FROM samples"
         " WHERE path >= ?1 AND path < ?2"},
        {"SELECT 0, path, size, mtime_ns, analyzer_version, 0 FROM errors",
         "SELECT 0, path, size, mtime_ns, analyzer_version, 0 FROM errors"
         " WHERE path >= ?1 AND path < ?2"},
    };
    sm_status rc = SM_OK;
    bool stop = false;
    for (int t = 0; t < 2 && rc == SM_OK && !stop; t++) {
        sqlite3_stmt *st = prep(d, sqls[t][root ? 1 : 0], err);
        if (!st)
            return err ? err->code : SM_EIO;
        char *lo = NULL;
        char *hi = NULL;
        if (root)
            bind_under(st, 1, root, &lo, &hi);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            sm_catalog_known k;
            k.id = sqlite3_column_int64(st, 0);
            k.path = (const char *)sqlite3_column_text(st, 1);
            k.path_len = (size_t)sqlite3_column_bytes(st, 1);
            k.size = sqlite3_column_int64(st, 2);
            k.mtime_ns = sqlite3_column_int64(st, 3);
            k.analyzer_version = sqlite3_column_int(st, 4);
            k.missing = sqlite3_column_int(st, 5) != 0;
            k.is_error = t == 1;
            if (k.path && fn(&k, ud) != 0) {
                stop = true;
                break;
            }
        }
        if (!stop && r != SQLITE_DONE)
            rc = fail(d, err, "reading the known files");
        sqlite3_finalize(st);
        sm_free(lo);
        sm_free(hi);
    }
    return rc;
}

static sm_status read_rows(struct db *d, sqlite3_stmt *st, sm_sample_list *out, int score_col,
                           sm_error *err)
{
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        sm_sample *s = sm__sample_list_push(out);
        if (!s)
            return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
        if (read_row(st, s) != 0)
            return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
        if (score_col >= 0)
            s->score = col_num(st, score_col);
    }
    if (r != SQLITE_DONE)
        return fail(d, err, "reading rows");
    return SM_OK;
}

static sm_status db_find_hash(void *impl, const char *hash, sm_sample_list *out, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = stmt(d, ST_FIND_HASH, err);
    if (!st)
        return err ? err->code : SM_EIO;
    bind_text(st, 1, hash);
    sm_status rc = read_rows(d, st, out, -1, err);
    sqlite3_reset(st);
    return rc;
}

static sm_status db_get(void *impl, int64_t id, const char *path, sm_sample *out, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = stmt(d, path ? ST_GET_PATH : ST_GET_ID, err);
    if (!st)
        return err ? err->code : SM_EIO;
    if (path)
        bind_text(st, 1, path);
    else
        sqlite3_bind_int64(st, 1, id);
    int r = sqlite3_step(st);
    sm_status rc = SM_OK;
    if (r == SQLITE_ROW) {
        if (read_row(st, out) != 0)
            rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    } else if (r == SQLITE_DONE) {
        if (path)
            rc = sm_error_set(err, SM_ENOENT, "no file %s in the catalog", path);
        else
            rc = sm_error_set(err, SM_ENOENT, "no sample with id %lld in the catalog",
                              (long long)id);
    } else {
        rc = fail(d, err, "reading a sample");
    }
    sqlite3_reset(st);
    return rc;
}

static void *blob_dup(sqlite3_stmt *st, int i, size_t *bytes)
{
    *bytes = (size_t)sqlite3_column_bytes(st, i);
    const void *b = sqlite3_column_blob(st, i);
    if (!b || *bytes == 0)
        return NULL;
    void *p = sm_malloc(*bytes);
    if (p)
        memcpy(p, b, *bytes);
    return p;
}

static sm_status db_get_record(void *impl, int64_t id, struct sm__catalog_record *rec,
                               sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st =
        prep(d, "SELECT analysis, waveform, embedding FROM sample_data WHERE id = ?1", err);
    if (!st)
        return err ? err->code : SM_EIO;
    sqlite3_bind_int64(st, 1, id);
    int r = sqlite3_step(st);
    sm_status rc = SM_OK;
    if (r == SQLITE_ROW) {
        size_t bytes = 0;
        rec->analysis_json = col_dup(st, 0);
        rec->peaks = blob_dup(st, 1, &bytes);
        rec->n_peaks = bytes / (2 * sizeof(float));
        rec->embedding = blob_dup(st, 2, &bytes);
        rec->embedding_dim = bytes / sizeof(float);
    } else if (r == SQLITE_DONE) {
        rc = sm_error_set(err, SM_ENOENT, "no sample with id %lld", (long long)id);
    } else {
        rc = fail(d, err, "reading a record");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ----------------------------------------------------------------- search --- */

struct sqlbuf {
    char *s;
    size_t n;
    size_t cap;
    bool oom;
};

static void sb_add(struct sqlbuf *b, const char *fmt, ...) SM_PRINTF(2, 3);

static void sb_add(struct sqlbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = true;
            return;
        }
        if (b->s && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 512) + (size_t)w;
        char *s = sm_realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static const char *const field_cols[SM_QF_COUNT] = {
    "s.bpm",   "s.lufs",     "s.duration", "s.true_peak", "s.note_midi",  "s.brightness",
    "s.warmth", "s.hardness", "s.depth",    "s.roughness", "s.boominess",
};

/* The FTS5 expression for the free words: each word a prefix, phrases exact. */
static char *fts_expr(const sm_query *q)
{
    struct sqlbuf b = {NULL, 0, 0, false};
    for (size_t i = 0; i < q->n_words; i++) {
        sb_add(&b, "%s\"", i ? " " : "");
        for (const char *p = q->words[i]; *p; p++) {
            if (*p == '"')
                sb_add(&b, "\"\"");
            else
                sb_add(&b, "%c", *p);
        }
        sb_add(&b, strchr(q->words[i], ' ') ? "\"" : "\"*");
    }
    if (b.oom) {
        sm_free(b.s);
        return NULL;
    }
    return b.s;
}

/* FROM ... WHERE ... for q; the binds are the FTS expression (?1) and the tags. */
static void build_where(struct sqlbuf *b, const sm_query *q, bool fts)
{
    if (fts)
        sb_add(b, " FROM samples_fts f JOIN samples s ON s.id = f.rowid WHERE samples_fts "
                  "MATCH ?1");
    else
        sb_add(b, " FROM samples s WHERE 1");
    if (q->missing == 0)
        sb_add(b, " AND s.missing = 0");
    else if (q->missing == 1)
        sb_add(b, " AND s.missing <> 0");
    for (int f = 0; f < SM_QF_COUNT; f++) {
        const sm_query_range *r = &q->range[f];
        if (!r->set)
            continue;
        if (isfinite(r->lo))
            sb_add(b, " AND %s %s %.17g", field_cols[f], r->lo_incl ? ">=" : ">", r->lo);
        if (isfinite(r->hi))
            sb_add(b, " AND %s %s %.17g", field_cols[f], r->hi_incl ? "<=" : "<", r->hi);
        if (!isfinite(r->lo) && !isfinite(r->hi))
            sb_add(b, " AND %s IS NOT NULL", field_cols[f]);
    }
    if (q->n_keys > 0) {
        sb_add(b, " AND (");
        for (int i = 0; i < q->n_keys; i++)
            sb_add(b, "%s(s.key_tonic = %d AND s.key_mode = %d)", i ? " OR " : "",
                   q->key_tonic[i], q->key_mode[i]);
        sb_add(b, ")");
    }
    if (q->categories) {
        sb_add(b, " AND s.category IN (");
        int n = 0;
        for (int c = 0; c < 32; c++)
            if (q->categories & (1u << c))
                sb_add(b, "%s%d", n++ ? ", " : "", c);
        sb_add(b, ")");
    }
    if (q->loop >= 0)
        sb_add(b, " AND s.loop = %d", q->loop ? 1 : 0);
    for (size_t i = 0; i < q->n_tags; i++)
        sb_add(b, " AND EXISTS (SELECT 1 FROM tags t WHERE t.sample_id = s.id AND t.tag = ?%zu)",
               i + 2);
}

static void bind_query(sqlite3_stmt *st, const sm_query *q, const char *fts)
{
    if (fts)
        sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    for (size_t i = 0; i < q->n_tags; i++)
        sqlite3_bind_text(st, (int)i + 2, q->tags[i], -1, SQLITE_STATIC);
}

static sm_status db_search(void *impl, const sm_query *q, sm_sample_list *out, sm_error *err)
{
    struct db *d = impl;
    char *fts = q->n_words ? fts_expr(q) : NULL;
    if (q->n_words && !fts)
        return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    struct sqlbuf b = {NULL, 0, 0, false};
    sb_add(&b, "SELECT " ROW_COLS ", %s", fts ? "f.rank" : "NULL");
    build_where(&b, q, fts != NULL);
    const char *dir = q->sort_desc ? "DESC" : "ASC";
    switch (q->sort) {
        case SM_SORT_DEFAULT:
        case SM_SORT_RELEVANCE:
            if (fts)
                sb_add(&b, " ORDER BY f.rank %s, s.id", dir);
            else
                sb_add(&b, " ORDER BY s.path %s", dir);
            break;
        case SM_SORT_PATH:
            sb_add(&b, " ORDER BY s.path %s", dir);
            break;
        case SM_SORT_NAME:
            sb_add(&b, " ORDER BY s.name COLLATE NOCASE %s, s.path", dir);
            break;
        case SM_SORT_ID:
            sb_add(&b, " ORDER BY s.id %s", dir);
            break;
        case SM_SORT_KEY:
            sb_add(&b, " ORDER BY s.camelot IS NULL, CAST(s.camelot AS INTEGER) %s, s.camelot "
                       "%s, s.id", dir, dir);
            break;
        case SM_SORT_CATEGORY:
            sb_add(&b, " ORDER BY s.category %s, s.path", dir);
            break;
        case SM_SORT_FIELD:
            if (q->sort_field >= 0 && q->sort_field < SM_QF_COUNT)
                sb_add(&b, " ORDER BY %s IS NULL, %s %s, s.id", field_cols[q->sort_field],
                       field_cols[q->sort_field], dir);
            break;
        default:
            break;
    }
    if (q->limit > 0 || q->offset > 0)
        sb_add(&b, " LIMIT %lld OFFSET %lld", q->limit > 0 ? (long long)q->limit : -1LL,
               (long long)q->offset);
    sm_status rc;
    if (b.oom) {
        rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    } else {
        sqlite3_stmt *st = prep(d, b.s, err);
        if (!st) {
            rc = err ? err->code : SM_EIO;
        } else {
            bind_query(st, q, fts);
            rc = read_rows(d, st, out, ROW_N, err);
            sqlite3_finalize(st);
        }
    }
    sm_free(b.s);
    sm_free(fts);
    return rc;
}

static sm_status db_search_ids(void *impl, const sm_query *q, int64_t **ids, size_t *n,
                               sm_error *err)
{
    struct db *d = impl;
    char *fts = q->n_words ? fts_expr(q) : NULL;
    if (q->n_words && !fts)
        return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    struct sqlbuf b = {NULL, 0, 0, false};
    sb_add(&b, "SELECT s.id");
    build_where(&b, q, fts != NULL);
    sb_add(&b, " ORDER BY s.id");
    sm_status rc = SM_OK;
    sqlite3_stmt *st = b.oom ? NULL : prep(d, b.s, err);
    if (!st) {
        rc = b.oom ? sm_error_set(err, SM_ENOMEM, "catalog: out of memory")
                   : (err ? err->code : SM_EIO);
    } else {
        bind_query(st, q, fts);
        size_t cap = 0;
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 1024;
                int64_t *v = sm_realloc(*ids, cap * sizeof(int64_t));
                if (!v) {
                    rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                    break;
                }
                *ids = v;
            }
            (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
        }
        if (rc == SM_OK && r != SQLITE_DONE)
            rc = fail(d, err, "searching");
        sqlite3_finalize(st);
    }
    if (rc != SM_OK) {
        sm_free(*ids);
        *ids = NULL;
        *n = 0;
    }
    sm_free(b.s);
    sm_free(fts);
    return rc;
}

/* ------------------------------------------------------------------- tags --- */

static sm_status db_tag(void *impl, int64_t id, const char *tag, bool add, sm_error *err)
{
    struct db *d = impl;
    bool own;
    sm_status rc = auto_begin(d, &own, err);
    if (rc != SM_OK)
        return rc;
    sm_sample s;
    sm_sample_init(&s);
    rc = db_get(d, id, NULL, &s, err);
    sm_sample_release(&s);
    if (rc == SM_OK) {
        sqlite3_stmt *st = stmt(d, add ? ST_TAG_ADD : ST_TAG_DEL, err);
        if (!st) {
            rc = err ? err->code : SM_EIO;
        } else {
            sqlite3_bind_int64(st, 1, id);
            bind_text(st, 2, tag);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = fail(d, err, "changing a tag");
        }
    }
    if (rc == SM_OK) {
        sqlite3_stmt *st = stmt(d, ST_FTS_TAGS, err);
        if (!st) {
            rc = err ? err->code : SM_EIO;
        } else {
            sqlite3_bind_int64(st, 1, id);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = fail(d, err, "updating the search index");
        }
    }
    return auto_end(d, own, rc, err);
}

static sm_status db_each_error(void *impl, sm_catalog_error_fn fn, void *ud, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st =
        prep(d, "SELECT path, root, code, message, at FROM errors ORDER BY path", err);
    if (!st)
        return err ? err->code : SM_EIO;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        sm_catalog_error_rec e;
        e.path = (const char *)sqlite3_column_text(st, 0);
        e.root = (const char *)sqlite3_column_text(st, 1);
        e.code = (const char *)sqlite3_column_text(st, 2);
        e.message = (const char *)sqlite3_column_text(st, 3);
        e.at = sqlite3_column_int64(st, 4);
        if (fn(&e, ud) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    sm_status rc = r == SQLITE_DONE ? SM_OK : fail(d, err, "reading errors");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------ stats --- */

static sm_status db_stats(void *impl, sm_catalog_stats *o, sm_error *err)
{
    struct db *d = impl;
    static const char *const sqls[] = {
        "SELECT count(*), coalesce(sum(duration), 0), coalesce(sum(loop), 0) FROM samples "
        "WHERE missing = 0",
        "SELECT count(*) FROM samples WHERE missing <> 0",
        "SELECT count(*) FROM errors",
        "SELECT count(DISTINCT sample_id) FROM tags",
        "SELECT count(*) FROM roots",
        "SELECT category, count(*) FROM samples WHERE missing = 0 GROUP BY category",
        "SELECT key_tonic, key_mode, count(*) FROM samples WHERE missing = 0 GROUP BY 1, 2",
        "SELECT CAST(bpm / 10 AS INTEGER), count(*), bpm IS NULL FROM samples WHERE missing = 0 "
        "GROUP BY 1, 3",
    };
    for (int q = 0; q < (int)(sizeof(sqls) / sizeof(sqls[0])); q++) {
        sqlite3_stmt *st = prep(d, sqls[q], err);
        if (!st)
            return err ? err->code : SM_EIO;
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t a = sqlite3_column_int64(st, 0);
            switch (q) {
                case 0:
                    o->samples = a;
                    o->total_duration = sqlite3_column_double(st, 1);
                    o->loops = sqlite3_column_int64(st, 2);
                    break;
                case 1:
                    o->missing = a;
                    break;
                case 2:
                    o->errors = a;
                    break;
                case 3:
                    o->tagged = a;
                    break;
                case 4:
                    o->roots = a;
                    break;
                case 5:
                    if (a >= 0 && a < SM_CAT_COUNT)
                        o->by_category[a] += sqlite3_column_int64(st, 1);
                    break;
                case 6:
                    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
                        o->no_key += sqlite3_column_int64(st, 2);
                    else if (a >= 0 && a < 12 && sqlite3_column_int(st, 1) >= 0 &&
                             sqlite3_column_int(st, 1) <= 1)
                        o->by_key[a + 12 * sqlite3_column_int(st, 1)] +=
                            sqlite3_column_int64(st, 2);
                    break;
                case 7: {
                    int64_t c = sqlite3_column_int64(st, 1);
                    if (sqlite3_column_int(st, 2))
                        o->no_tempo += c;
                    else if (a < 5)
                        o->tempo_below += c;
                    else if (a >= 5 + SM_STATS_TEMPO_BINS)
                        o->tempo_above += c;
                    else
                        o->tempo[a - 5] += c;
                    break;
                }
                default:
                    break;
            }
        }
        sm_status rc = r == SQLITE_DONE ? SM_OK : fail(d, err, "computing statistics");
        sqlite3_finalize(st);
        if (rc != SM_OK)
            return rc;
    }
    return SM_OK;
}

static sm_status db_each_duplicate(void *impl, sm_catalog_dup_fn fn, void *ud, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = prep(d,
                            "SELECT hash, group_concat(id) FROM (SELECT hash, id FROM samples "
                            "WHERE missing = 0 AND hash <> '' ORDER BY id) GROUP BY hash "
                            "HAVING count(*) > 1 ORDER BY count(*) DESC, min(id)",
                            err);
    if (!st)
        return err ? err->code : SM_EIO;
    int64_t *ids = NULL;
    size_t cap = 0;
    sm_status rc = SM_OK;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *hash = (const char *)sqlite3_column_text(st, 0);
        const char *list = (const char *)sqlite3_column_text(st, 1);
        size_t n = 0;
        for (const char *p = list; p && *p;) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                int64_t *v = sm_realloc(ids, cap * sizeof(*v));
                if (!v) {
                    rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                    break;
                }
                ids = v;
            }
            char *end = NULL;
            ids[n++] = strtoll(p, &end, 10);
            p = *end == ',' ? end + 1 : end;
            if (end == p && *p)
                break;
        }
        if (rc != SM_OK || fn(hash, ids, n, ud) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (rc == SM_OK && r != SQLITE_DONE)
        rc = fail(d, err, "finding duplicates");
    sqlite3_finalize(st);
    sm_free(ids);
    return rc;
}

static sm_status db_each_embedding(void *impl, sm_catalog_vec_fn fn, void *ud, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = prep(d,
                            "SELECT d.id, d.embedding FROM sample_data d JOIN samples s ON "
                            "s.id = d.id WHERE s.missing = 0 AND d.embedding IS NOT NULL "
                            "AND s.embedding_version = ?1 ORDER BY d.id",
                            err);
    if (!st)
        return err ? err->code : SM_EIO;
    sqlite3_bind_int(st, 1, SM_EMBEDDING_VERSION);
    int r;
    float *tmp = NULL;
    size_t tmp_cap = 0;
    sm_status rc = SM_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(st, 1);
        size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
        size_t dim = bytes / sizeof(float);
        if (!b || dim == 0)
            continue;
        /* Blobs need not be aligned for float. */
        if (dim > tmp_cap) {
            float *t = sm_realloc(tmp, dim * sizeof(float));
            if (!t) {
                rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                break;
            }
            tmp = t;
            tmp_cap = dim;
        }
        memcpy(tmp, b, dim * sizeof(float));
        if (fn(sqlite3_column_int64(st, 0), tmp, dim, ud) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (rc == SM_OK && r != SQLITE_DONE)
        rc = fail(d, err, "reading embeddings");
    sqlite3_finalize(st);
    sm_free(tmp);
    return rc;
}

static sm_status db_get_embedding(void *impl, int64_t id, float *out, size_t cap, size_t *dim,
                                  sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = prep(d,
                            "SELECT d.embedding FROM sample_data d JOIN samples s ON s.id = d.id "
                            "WHERE d.id = ?1 AND s.embedding_version = ?2",
                            err);
    if (!st)
        return err ? err->code : SM_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, SM_EMBEDDING_VERSION);
    int r = sqlite3_step(st);
    sm_status rc = SM_OK;
    if (r == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0) / sizeof(float);
        if (n > cap)
            rc = sm_error_set(err, SM_ETOOBIG, "catalog: embedding of %zu floats > %zu", n, cap);
        else
            memcpy(out, sqlite3_column_blob(st, 0), n * sizeof(float));
        *dim = n;
    } else if (r == SQLITE_ROW || r == SQLITE_DONE) {
        rc = sm_error_set(err, SM_ENOENT,
                          "sample %lld has no embedding of version %d (rescan to compute it)",
                          (long long)id, SM_EMBEDDING_VERSION);
    } else {
        rc = fail(d, err, "reading an embedding");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ filter index --- */

static sm_status db_read_begin(void *impl, sm_error *err)
{
    struct db *d = impl;
    if (d->in_tx || !sqlite3_get_autocommit(d->h))
        return SM_OK;
    if (sqlite3_exec(d->h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return fail(d, err, "starting a read");
    d->reading = true;
    return SM_OK;
}

static void db_read_end(void *impl)
{
    struct db *d = impl;
    if (!d->reading)
        return;
    d->reading = false;
    if (!sqlite3_get_autocommit(d->h))
        sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL);
}

static sm_status db_fx_rows(void *impl, sm__fx_row_fn fn, void *ud, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = prep(d,
                            "SELECT id, missing, bpm, lufs, duration, true_peak, note_midi, "
                            "brightness, warmth, hardness, depth, roughness, boominess, "
                            "key_tonic, key_mode, camelot, loop, category "
                            "FROM samples ORDER BY id",
                            err);
    if (!st)
        return err ? err->code : SM_EIO;
    int r;
    sm_status rc = SM_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct sm__fx_row row;
        row.id = sqlite3_column_int64(st, 0);
        row.missing = sqlite3_column_int(st, 1) != 0;
        for (int f = 0; f < SM_QF_COUNT; f++)
            row.field[f] = col_num(st, 2 + f);
        bool has_key = sqlite3_column_type(st, 13) != SQLITE_NULL;
        row.key_tonic = has_key ? sqlite3_column_int(st, 13) : -1;
        row.key_mode = has_key ? sqlite3_column_int(st, 14) : -1;
        /* ORDER BY camelot IS NULL, CAST(camelot AS INTEGER), camelot: our camelot
         * values are "<1..12><A|B>", so number then letter orders them the same. */
        row.key_sort = -1;
        if (sqlite3_column_type(st, 15) != SQLITE_NULL) {
            const char *c = (const char *)sqlite3_column_text(st, 15);
            int num = 0;
            size_t i = 0;
            while (c && c[i] >= '0' && c[i] <= '9' && num < 100000)
                num = num * 10 + (c[i++] - '0');
            int letter = c && c[i] == 'A' ? 0 : c && c[i] == 'B' ? 1 : 2;
            row.key_sort = num * 4 + letter;
        }
        row.loop = sqlite3_column_int(st, 16) != 0;
        row.category = sqlite3_column_int(st, 17);
        if (fn(&row, ud) != 0) {
            rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory loading the index");
            break;
        }
    }
    if (rc == SM_OK && r != SQLITE_DONE)
        rc = fail(d, err, "loading the filter index");
    sqlite3_finalize(st);
    return rc;
}

static sm_status db_fx_tags(void *impl, sm__fx_tag_fn fn, void *ud, sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = prep(d, "SELECT tag, sample_id FROM tags ORDER BY tag, sample_id", err);
    if (!st)
        return err ? err->code : SM_EIO;
    int r;
    sm_status rc = SM_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *tag = (const char *)sqlite3_column_text(st, 0);
        if (!tag || fn(tag, sqlite3_column_int64(st, 1), ud) != 0) {
            rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory loading the index");
            break;
        }
    }
    if (rc == SM_OK && r != SQLITE_DONE)
        rc = fail(d, err, "loading the tags");
    sqlite3_finalize(st);
    return rc;
}

/* The orders come from the indexes (path unique, name NOCASE), which SQLite walks
 * without sorting; ties of the name order are found with the same collation. */
static sm_status db_fx_order(void *impl, bool by_name, sm__fx_order_fn fn, void *ud,
                             sm_error *err)
{
    struct db *d = impl;
    sqlite3_stmt *st = prep(d,
                            by_name ? "SELECT id, name FROM samples ORDER BY name COLLATE NOCASE"
                                    : "SELECT id FROM samples ORDER BY path",
                            err);
    if (!st)
        return err ? err->code : SM_EIO;
    char *prev = NULL;
    size_t prev_cap = 0;
    bool have_prev = false;
    int r;
    sm_status rc = SM_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        bool tie = false;
        if (by_name) {
            const char *name = (const char *)sqlite3_column_text(st, 1);
            size_t len = (size_t)sqlite3_column_bytes(st, 1);
            if (!name) {
                rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                break;
            }
            tie = have_prev && sqlite3_strnicmp(prev, name, (int)len + 1) == 0 &&
                  strlen(prev) == len;
            if (len + 1 > prev_cap) {
                char *np = sm_realloc(prev, len + 1);
                if (!np) {
                    rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                    break;
                }
                prev = np;
                prev_cap = len + 1;
            }
            memcpy(prev, name, len + 1);
            have_prev = true;
        }
        if (fn(sqlite3_column_int64(st, 0), tie, ud) != 0) {
            rc = sm_error_set(err, SM_EINTERNAL, "catalog: the filter index lost a row");
            break;
        }
    }
    if (rc == SM_OK && r != SQLITE_DONE)
        rc = fail(d, err, "loading the sort orders");
    sqlite3_finalize(st);
    sm_free(prev);
    return rc;
}

/* Token counts of every FTS row (the %_docsize table), so that ranking does not
 * look each one up in SQLite. */
struct docsizes {
    int64_t *ids;  /* ascending */
    int32_t *tok;  /* tokens in all columns */
    size_t n;
    int32_t *by_id; /* tokens of row id (direct table when ids are dense; -1 none) */
    int64_t max_id;
};

static void docsizes_free(void *state)
{
    struct docsizes *ds = state;
    if (!ds)
        return;
    sm_free(ds->ids);
    sm_free(ds->tok);
    sm_free(ds->by_id);
    sm_free(ds);
}

/* An SQLite/FTS5 varint (big-endian 7-bit groups, the ninth byte whole). */
static size_t get_varint(const unsigned char *p, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n && i < 9; i++) {
        if (i == 8) {
            *v = (x << 8) | p[i];
            return 9;
        }
        x = (x << 7) | (p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    *v = x;
    return 0;
}

/* The tokens of a row in all columns: the sum of the varints of its docsize
 * record (column col of st). */
static int64_t docsize_tokens(sqlite3_stmt *st, int col)
{
    const unsigned char *b = sqlite3_column_blob(st, col);
    size_t bytes = (size_t)sqlite3_column_bytes(st, col);
    int64_t total = 0;
    size_t off = 0;
    while (b && off < bytes) {
        uint64_t v = 0;
        size_t used = get_varint(b + off, bytes - off, &v);
        if (used == 0)
            break;
        total += (int64_t)v;
        off += used;
    }
    return total;
}

static void *db_fx_text_load(void *impl, sm_error *err)
{
    struct db *d = impl;
    struct docsizes *ds = sm_calloc(1, sizeof(*ds));
    if (!ds) {
        sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
        return NULL;
    }
    long long n = 0;
    if (query_int(d, "SELECT count(*) FROM samples_fts_docsize", &n) != SQLITE_OK) {
        fail(d, err, "loading the search index sizes");
        sm_free(ds);
        return NULL;
    }
    size_t cap = n > 0 ? (size_t)n : 1;
    ds->ids = sm_malloc(cap * sizeof(int64_t));
    ds->tok = sm_malloc(cap * sizeof(int32_t));
    sqlite3_stmt *st = ds->ids && ds->tok
                           ? prep(d, "SELECT id, sz FROM samples_fts_docsize ORDER BY id", err)
                           : NULL;
    if (!st) {
        if (!ds->ids || !ds->tok)
            sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
        docsizes_free(ds);
        return NULL;
    }
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && ds->n < cap) {
        int64_t total = docsize_tokens(st, 1);
        ds->ids[ds->n] = sqlite3_column_int64(st, 0);
        ds->tok[ds->n] = (int32_t)total;
        ds->n++;
    }
    if (r != SQLITE_DONE && r != SQLITE_ROW) {
        fail(d, err, "loading the search index sizes");
        sqlite3_finalize(st);
        docsizes_free(ds);
        return NULL;
    }
    sqlite3_finalize(st);
    /* Rows arrive in id order: a direct table is both smaller than a search
     * tree and one cache miss per lookup, when the ids are dense. */
    int64_t max_id = ds->n ? ds->ids[ds->n - 1] : 0;
    if (max_id >= 0 && max_id <= (int64_t)(4 * ds->n + 1024)) {
        ds->by_id = sm_malloc(((size_t)max_id + 1) * sizeof(int32_t));
        if (ds->by_id) {
            for (int64_t i = 0; i <= max_id; i++)
                ds->by_id[i] = -1;
            for (size_t i = 0; i < ds->n; i++)
                if (ds->ids[i] >= 0)
                    ds->by_id[ds->ids[i]] = ds->tok[i];
            ds->max_id = max_id;
        }
    }
    return ds;
}

/* The relevance of search(): FTS5's built-in bm25() (k1 1.2, b 0.75, every column
 * weight 1), computed the same way, operation for operation, so that the scores
 * are the same doubles; only the token count of the row comes from the snapshot
 * (when it has the row). */
struct bm25_data {
    int n_phrase;
    double avgdl;
    double *idf;
    double *freq;
};

static int count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *ud)
{
    (void)api;
    (void)fts;
    (*(sqlite3_int64 *)ud)++;
    return SQLITE_OK;
}

static void bm25_data_free(void *p)
{
    struct bm25_data *b = p;
    if (!b)
        return;
    sm_free(b->idf);
    sm_free(b->freq);
    sm_free(b);
}

/* The pointer argument of sm_bm25: token counts, and the rows wanted. */
struct bm25_args {
    const struct docsizes *ds;
    const uint8_t *want;   /* bitmap by id, NULL for every row */
    int64_t want_n;
};

static void sm_bm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                    int n_val, sqlite3_value **val)
{
    const double k1 = 1.2;
    const double b = 0.75;
    struct bm25_data *data = api->xGetAuxdata(fts, 0);
    int rc = SQLITE_OK;
    if (!data) {
        data = sm_calloc(1, sizeof(*data));
        if (!data) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
        data->n_phrase = api->xPhraseCount(fts);
        size_t np = data->n_phrase > 0 ? (size_t)data->n_phrase : 1;
        data->idf = sm_calloc(np, sizeof(double));
        data->freq = sm_calloc(np, sizeof(double));
        sqlite3_int64 n_row = 0;
        sqlite3_int64 n_token = 0;
        if (!data->idf || !data->freq)
            rc = SQLITE_NOMEM;
        if (rc == SQLITE_OK)
            rc = api->xRowCount(fts, &n_row);
        if (rc == SQLITE_OK)
            rc = api->xColumnTotalSize(fts, -1, &n_token);
        if (rc == SQLITE_OK)
            data->avgdl = (double)n_token / (double)n_row;
        for (int i = 0; rc == SQLITE_OK && i < data->n_phrase; i++) {
            sqlite3_int64 n_hit = 0;
            rc = api->xQueryPhrase(fts, i, &n_hit, count_cb);
            if (rc == SQLITE_OK) {
                double idf = log(((double)(n_row - n_hit) + 0.5) / ((double)n_hit + 0.5));
                if (idf <= 0.0)
                    idf = 1e-6;
                data->idf[i] = idf;
            }
        }
        if (rc == SQLITE_OK)
            rc = api->xSetAuxdata(fts, data, bm25_data_free);
        else
            bm25_data_free(data);
        if (rc != SQLITE_OK) {
            sqlite3_result_error_code(ctx, rc);
            return;
        }
    }
    const struct bm25_args *args = n_val > 0 ? sqlite3_value_pointer(val[0], "sm_bm25") : NULL;
    const struct docsizes *ds = args ? args->ds : NULL;
    if (args && args->want) {
        /* A row no filter lets through is not ranked (NULL). */
        sqlite3_int64 id = api->xRowid(fts);
        if (id < 0 || id >= args->want_n || !(args->want[id >> 3] & (1u << (id & 7)))) {
            sqlite3_result_null(ctx);
            return;
        }
    }
    for (int i = 0; i < data->n_phrase; i++)
        data->freq[i] = 0.0;
    int n_inst = 0;
    rc = api->xInstCount(fts, &n_inst);
    for (int i = 0; rc == SQLITE_OK && i < n_inst; i++) {
        int ip = 0;
        int ic = 0;
        int io = 0;
        rc = api->xInst(fts, i, &ip, &ic, &io);
        if (rc == SQLITE_OK && ip >= 0 && ip < data->n_phrase)
            data->freq[ip] += 1.0;
    }
    double dl = -1.0;
    if (rc == SQLITE_OK && ds && ds->by_id) {
        sqlite3_int64 id = api->xRowid(fts);
        if (id >= 0 && id <= ds->max_id && ds->by_id[id] >= 0)
            dl = (double)ds->by_id[id];
    } else if (rc == SQLITE_OK && ds) {
        size_t at = sm__id_find(ds->ids, ds->n, (int64_t)api->xRowid(fts));
        if (at != (size_t)-1)
            dl = (double)ds->tok[at];
    }
    if (rc == SQLITE_OK && dl < 0.0) {
        int n_tok = 0;
        rc = api->xColumnSize(fts, -1, &n_tok);
        dl = (double)n_tok;
    }
    double score = 0.0;
    for (int i = 0; rc == SQLITE_OK && i < data->n_phrase; i++)
        score += data->idf[i] * ((data->freq[i] * (k1 + 1.0)) /
                                 (data->freq[i] + k1 * (1 - b + b * dl / data->avgdl)));
    if (rc == SQLITE_OK)
        sqlite3_result_double(ctx, -1.0 * score);
    else
        sqlite3_result_error_code(ctx, rc);
}

/* For a query of one phrase the IDF needs only the number of matching rows, which
 * the caller counts anyway: sm_tf returns (instances of the phrase << 32 | tokens of
 * the row) and leaves the IDF and the formula of sm_bm25 to the caller, which
 * saves FTS5 a second pass over the matches. The first call stores the table's
 * row and token counts in the argument. */
struct tf_args {
    const struct docsizes *ds;
    sqlite3_int64 n_row;
    sqlite3_int64 n_token;
    bool have_totals;
    int rc;
};

static void sm_tf(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                  int n_val, sqlite3_value **val)
{
    struct tf_args *args = n_val > 0 ? sqlite3_value_pointer(val[0], "sm_tf") : NULL;
    if (!args) {
        sqlite3_result_error(ctx, "sm_tf needs its argument", -1);
        return;
    }
    int rc = SQLITE_OK;
    if (!args->have_totals) {
        rc = api->xRowCount(fts, &args->n_row);
        if (rc == SQLITE_OK)
            rc = api->xColumnTotalSize(fts, -1, &args->n_token);
        args->have_totals = rc == SQLITE_OK;
    }
    int n_inst = 0;
    if (rc == SQLITE_OK)
        rc = api->xInstCount(fts, &n_inst);
    int64_t freq = 0;
    for (int i = 0; rc == SQLITE_OK && i < n_inst; i++) {
        int ip = 0;
        int ic = 0;
        int io = 0;
        rc = api->xInst(fts, i, &ip, &ic, &io);
        if (rc == SQLITE_OK && ip == 0)
            freq++;
    }
    int64_t dl = -1;
    const struct docsizes *ds = args->ds;
    if (rc == SQLITE_OK && ds && ds->by_id) {
        sqlite3_int64 id = api->xRowid(fts);
        if (id >= 0 && id <= ds->max_id && ds->by_id[id] >= 0)
            dl = ds->by_id[id];
    }
    if (rc == SQLITE_OK && dl < 0) {
        int n_tok = 0;
        rc = api->xColumnSize(fts, -1, &n_tok);
        dl = n_tok;
    }
    if (rc != SQLITE_OK) {
        args->rc = rc;
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    sqlite3_result_int64(ctx, (sqlite3_int64)((freq << 32) | (dl & 0xffffffff)));
}

static int register_bm25(sqlite3 *h)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api || api->iVersion < 2)
        return -1;
    if (api->xCreateFunction(api, "sm_tf", NULL, sm_tf, NULL) != SQLITE_OK)
        return -1;
    return api->xCreateFunction(api, "sm_bm25", NULL, sm_bm25, NULL) == SQLITE_OK ? 0 : -1;
}

static sm_status db_fx_words(void *impl, const void *state, const sm_query *q,
                             const uint8_t *want, int64_t want_n, int64_t **ids, double **scores,
                             size_t *n, sm_error *err)
{
    struct db *d = impl;
    *ids = NULL;
    if (scores)
        *scores = NULL;
    *n = 0;
    if (scores && !d->has_bm25)
        return sm_error_set(err, SM_EINTERNAL, "catalog: FTS5 ranking is not available");
    char *fts = fts_expr(q);
    if (!fts)
        return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    /* One phrase and every row wanted: relevance from sm_tf (see there). */
    bool one = scores && !want && q->n_words == 1;
    sqlite3_stmt *st = prep(d,
                            one      ? "SELECT rowid, sm_tf(samples_fts, ?2) FROM samples_fts "
                                       "WHERE samples_fts MATCH ?1 ORDER BY rowid"
                            : scores ? "SELECT rowid, sm_bm25(samples_fts, ?2) FROM samples_fts "
                                       "WHERE samples_fts MATCH ?1 ORDER BY rowid"
                                     : "SELECT rowid FROM samples_fts WHERE samples_fts MATCH ?1 "
                                       "ORDER BY rowid",
                            err);
    if (!st) {
        sm_free(fts);
        return err ? err->code : SM_EIO;
    }
    struct bm25_args args = {state, want, want_n};
    struct tf_args targs = {state, 0, 0, false, SQLITE_OK};
    sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    if (one)
        sqlite3_bind_pointer(st, 2, &targs, "sm_tf", NULL);
    else if (scores)
        sqlite3_bind_pointer(st, 2, &args, "sm_bm25", NULL);
    size_t cap = 0;
    sm_status rc = SM_OK;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (scores && sqlite3_column_type(st, 1) == SQLITE_NULL)
            continue; /* not wanted */
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *ni = sm_realloc(*ids, cap * sizeof(int64_t));
            if (ni)
                *ids = ni;
            double *ns = scores ? sm_realloc(*scores, cap * sizeof(double)) : NULL;
            if (ns)
                *scores = ns;
            if (!ni || (scores && !ns)) {
                rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                break;
            }
        }
        (*ids)[*n] = sqlite3_column_int64(st, 0);
        if (one) /* packed (instances, tokens) for now; the scores follow below */
            (*scores)[*n] = (double)sqlite3_column_int64(st, 1);
        else if (scores)
            (*scores)[*n] = sqlite3_column_double(st, 1);
        (*n)++;
    }
    if (rc == SM_OK && r != SQLITE_DONE)
        rc = fail(d, err, "searching words");
    if (rc == SM_OK && one && *n > 0) {
        /* sm_bm25's arithmetic, operation for operation, with nHit = the matches. */
        const double k1 = 1.2;
        const double b = 0.75;
        sqlite3_int64 n_hit = (sqlite3_int64)*n;
        double avgdl = (double)targs.n_token / (double)targs.n_row;
        double idf = log(((double)(targs.n_row - n_hit) + 0.5) / ((double)n_hit + 0.5));
        if (idf <= 0.0)
            idf = 1e-6;
        for (size_t i = 0; i < *n; i++) {
            int64_t packed = (int64_t)(*scores)[i];
            double freq = (double)(packed >> 32);
            double dl = (double)(packed & 0xffffffff);
            double score = 0.0;
            score += idf * ((freq * (k1 + 1.0)) / (freq + k1 * (1 - b + b * dl / avgdl)));
            (*scores)[i] = -1.0 * score;
        }
    }
    sqlite3_finalize(st);
    sm_free(fts);
    if (rc != SM_OK) {
        sm_free(*ids);
        *ids = NULL;
        if (scores) {
            sm_free(*scores);
            *scores = NULL;
        }
        *n = 0;
    }
    return rc;
}

/* The full-text index for sm_findex's in-memory ranking: the instances from an
 * fts5vocab table (term, doc order; counted per row here) and the token count of
 * every row from the docsize table, as sm_bm25 reads them. */
static sm_status db_fx_terms(void *impl, sm__fx_term_fn fn, void *ud, int64_t *n_row,
                             int64_t *n_token, sm_error *err)
{
    struct db *d = impl;
    *n_row = 0;
    *n_token = 0;
    if (sqlite3_exec(d->h,
                     "CREATE VIRTUAL TABLE IF NOT EXISTS temp.sm_fts_instance USING "
                     "fts5vocab(main, samples_fts, instance)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return fail(d, err, "opening the search index's terms");
    sqlite3_stmt *st = prep(d, "SELECT term, doc FROM temp.sm_fts_instance", err);
    if (!st)
        return err ? err->code : SM_EIO;
    sm_status rc = SM_OK;
    char *term = NULL;
    size_t len = 0;
    size_t cap = 0;
    int64_t doc = 0;
    int count = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_blob(st, 0);
        size_t tl = (size_t)sqlite3_column_bytes(st, 0);
        int64_t id = sqlite3_column_int64(st, 1);
        if (count > 0 && id == doc && tl == len && (!tl || !memcmp(t, term, tl))) {
            count++;
            continue;
        }
        if (count > 0 && fn(term, len, doc, count, ud) != 0) {
            rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
            break;
        }
        if (tl + 1 > cap) {
            char *nt = sm_realloc(term, tl + 64);
            if (!nt) {
                rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                break;
            }
            term = nt;
            cap = tl + 64;
        }
        if (tl)
            memcpy(term, t, tl);
        term[tl] = '\0';
        len = tl;
        doc = id;
        count = 1;
    }
    if (rc == SM_OK && r != SQLITE_DONE)
        rc = fail(d, err, "reading the search index's terms");
    if (rc == SM_OK && count > 0 && fn(term, len, doc, count, ud) != 0)
        rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    sqlite3_finalize(st);
    sm_free(term);
    st = rc == SM_OK ? prep(d, "SELECT id, sz FROM samples_fts_docsize ORDER BY id", err) : NULL;
    if (rc == SM_OK && !st)
        rc = err ? err->code : SM_EIO;
    while (rc == SM_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t total = docsize_tokens(st, 1);
        (*n_row)++;
        *n_token += total;
        if (fn(NULL, 0, sqlite3_column_int64(st, 0), (int)total, ud) != 0)
            rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    }
    if (rc == SM_OK && r != SQLITE_DONE)
        rc = fail(d, err, "reading the search index's sizes");
    sqlite3_finalize(st);
    return rc;
}

const struct sm__catalog_backend sm__catalog_sqlite = {
    .name = "sqlite",
    .open = db_open,
    .close = db_close,
    .schema_version = db_schema_version,
    .begin = db_begin,
    .commit = db_commit,
    .rollback = db_rollback,
    .lock_scan = db_lock_scan,
    .put = db_put,
    .put_error = db_put_error,
    .forget_error = db_forget_error,
    .set_missing = db_set_missing,
    .prune = db_prune,
    .add_root = db_add_root,
    .each_known = db_each_known,
    .find_hash = db_find_hash,
    .get = db_get,
    .get_record = db_get_record,
    .search = db_search,
    .search_ids = db_search_ids,
    .tag = db_tag,
    .each_error = db_each_error,
    .stats = db_stats,
    .each_duplicate = db_each_duplicate,
    .each_embedding = db_each_embedding,
    .get_embedding = db_get_embedding,
    .read_begin = db_read_begin,
    .read_end = db_read_end,
    .fx_rows = db_fx_rows,
    .fx_tags = db_fx_tags,
    .fx_order = db_fx_order,
    .fx_text_load = db_fx_text_load,
    .fx_text_free = docsizes_free,
    .fx_words = db_fx_words,
    .put_answer = sm__sqlite_put_answer,
    .each_answer = sm__sqlite_each_answer,
    .fx_terms = db_fx_terms,
    .data_version = db_data_version,
};
