/* Users, tokens and API keys over SQLite and libsodium. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include <samplemind/alloc.h>

#include "auth.h"
#include "util/dbwatch.h"

/* Token checks answered from memory. Changes made through this process (logout,
 * revocation, user and password changes) clear the cache at once; changes any
 * other process commits to the store (the CLI revoking a key) are seen through
 * SQLite's `PRAGMA data_version`, which changes when another connection commits,
 * and clear it too. That pragma is a read transaction (file locks, a mutex), so it
 * is consulted only when the store's WAL file changed lately (util/dbwatch.h): a
 * stat() per check instead. So the cache never answers with stale rights; an entry
 * also lapses AUTH_CACHE_MS after it was read, and with its token's expiry. */
#define AUTH_CACHE_SLOTS 1024
#define AUTH_CACHE_MS 2000

struct auth_cache_entry {
    bool used;
    unsigned char hash[32];
    int64_t valid_until_ms; /* monotonic */
    int64_t expires;        /* the token's own expiry, wall seconds (0: none) */
    struct sm_auth_ident id;
};

struct sm_auth {
    sqlite3 *db;
    sqlite3_stmt *check; /* the token query, prepared once */
    sqlite3_stmt *version; /* PRAGMA data_version */
    int64_t data_version;
    struct sm_dbwatch watch; /* when data_version is worth asking */
    pthread_mutex_t lock;
    struct auth_cache_entry cache[AUTH_CACHE_SLOTS];
    unsigned long long ops;
    size_t mem;
    char dummy[crypto_pwhash_STRBYTES]; /* verified against for unknown users */
    bool have_dummy;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS users("
    " id INTEGER PRIMARY KEY,"
    " username TEXT UNIQUE NOT NULL,"
    " role TEXT NOT NULL CHECK (role IN ('admin','member')),"
    " pwhash TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens("
    " id INTEGER PRIMARY KEY,"
    " hash BLOB UNIQUE NOT NULL,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK (kind IN ('session','apikey')),"
    " name TEXT,"
    " created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0);";

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Call with the lock held. */
static void cache_clear(struct sm_auth *a)
{
    for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
        a->cache[i].used = false;
}

static sm_status db_fail(struct sm_auth *a, sm_error *err, const char *what)
{
    return sm_error_set(err, SM_EIO, "auth store: %s: %s", what, sqlite3_errmsg(a->db));
}

struct sm_auth *sm__auth_open(const char *path, sm_error *err)
{
    if (sodium_init() < 0) {
        sm_error_set(err, SM_EINTERNAL, "libsodium failed to initialise");
        return NULL;
    }
    struct sm_auth *a = sm_calloc(1, sizeof(*a));
    if (!a) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    sm__dbwatch_init(&a->watch, path);
    a->ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    a->mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    /* Create the file 0600 before SQLite opens it. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        sm_error_set(err, errno == EACCES ? SM_EACCES : SM_EIO, "auth store %s: %s", path,
                     strerror(errno));
        sm__auth_close(a);
        return NULL;
    }
    close(fd);
    if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        sm_error_set(err, SM_EIO, "auth store %s: %s", path,
                     a->db ? sqlite3_errmsg(a->db) : "cannot open");
        sm__auth_close(a);
        return NULL;
    }
    sqlite3_busy_timeout(a->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(a->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        sm_error_set(err, SM_EIO, "auth store %s: %s", path, msg ? msg : "schema failed");
        sqlite3_free(msg);
        sm__auth_close(a);
        return NULL;
    }
    if (sqlite3_prepare_v2(a->db,
                           "SELECT t.id, t.kind, t.expires, t.revoked, u.id, u.username, u.role "
                           "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
                           -1, &a->check, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(a->db, "PRAGMA data_version", -1, &a->version, NULL) != SQLITE_OK) {
        sm_error_set(err, SM_EIO, "auth store %s: %s", path, sqlite3_errmsg(a->db));
        sm__auth_close(a);
        return NULL;
    }
    return a;
}

void sm__auth_close(struct sm_auth *a)
{
    if (!a)
        return;
    sqlite3_finalize(a->check);
    sqlite3_finalize(a->version);
    sm__dbwatch_close(&a->watch);
    if (a->db)
        sqlite3_close(a->db);
    pthread_mutex_destroy(&a->lock);
    sm_free(a);
}

void sm__auth_set_cost(struct sm_auth *a, unsigned long long ops, size_t mem)
{
    a->ops = ops;
    a->mem = mem;
}

static bool valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > SM_AUTH_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static sm_status check_password(const char *pw, sm_error *err)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < 8 || n > 1024)
        return sm_error_set(err, SM_EINVAL, "password must be 8 to 1024 bytes");
    return SM_OK;
}

static sm_status hash_password(struct sm_auth *a, const char *pw, char *out, sm_error *err)
{
    if (crypto_pwhash_str(out, pw, strlen(pw), a->ops, a->mem) != 0)
        return sm_error_set(err, SM_ENOMEM, "password hashing ran out of memory");
    return SM_OK;
}

sm_status sm__auth_user_count(struct sm_auth *a, int64_t *n, sm_error *err)
{
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db, "SELECT count(*) FROM users", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = db_fail(a, err, "count users");
    else
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

sm_status sm__auth_user_add(struct sm_auth *a, const char *username, const char *password,
                            int role, sm_error *err)
{
    if (!valid_name(username))
        return sm_error_set(err, SM_EINVAL,
                            "user name must be 1 to 64 of letters, digits, '.', '_', '-'");
    if (check_password(password, err))
        return err ? err->code : SM_EINVAL;
    if (role != SM_ROLE_ADMIN && role != SM_ROLE_MEMBER)
        return sm_error_set(err, SM_EINVAL, "role must be admin or member");
    char hash[crypto_pwhash_STRBYTES];
    if (hash_password(a, password, hash, err))
        return SM_ENOMEM;
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db,
                           "INSERT INTO users(username, role, pwhash, created) VALUES(?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(a, err, "add user");
    } else {
        sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, role == SM_ROLE_ADMIN ? "admin" : "member", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_s());
        int s = sqlite3_step(st);
        if (s == SQLITE_CONSTRAINT)
            rc = sm_error_set(err, SM_EINVAL, "user '%s' exists", username);
        else if (s != SQLITE_DONE)
            rc = db_fail(a, err, "add user");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

/* Run one statement with one text parameter; *changes gets the changed rows. */
static sm_status exec1(struct sm_auth *a, const char *sql, const char *arg, int *changes,
                       sm_error *err)
{
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(a, err, "prepare");
    } else {
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(a, err, "update");
        else if (changes)
            *changes = sqlite3_changes(a->db);
    }
    sqlite3_finalize(st);
    return rc;
}

sm_status sm__auth_user_del(struct sm_auth *a, const char *username, sm_error *err)
{
    int changes = 0;
    pthread_mutex_lock(&a->lock);
    cache_clear(a); /* a user, key or token changed */
    sm_status rc = exec1(a, "DELETE FROM users WHERE username = ?", username ? username : "",
                         &changes, err);
    pthread_mutex_unlock(&a->lock);
    if (rc == SM_OK && !changes)
        rc = sm_error_set(err, SM_ENOENT, "no user '%s'", username ? username : "");
    return rc;
}

sm_status sm__auth_user_passwd(struct sm_auth *a, const char *username, const char *password,
                               sm_error *err)
{
    if (check_password(password, err))
        return SM_EINVAL;
    char hash[crypto_pwhash_STRBYTES];
    if (hash_password(a, password, hash, err))
        return SM_ENOMEM;
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    cache_clear(a); /* a user, key or token changed */
    if (sqlite3_prepare_v2(a->db, "UPDATE users SET pwhash = ? WHERE username = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_fail(a, err, "passwd");
    } else {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, username ? username : "", -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(a, err, "passwd");
        else if (!sqlite3_changes(a->db))
            rc = sm_error_set(err, SM_ENOENT, "no user '%s'", username ? username : "");
    }
    sqlite3_finalize(st);
    if (rc == SM_OK)
        rc = exec1(a,
                   "UPDATE tokens SET revoked = 1 WHERE kind = 'session' AND user_id = "
                   "(SELECT id FROM users WHERE username = ?)",
                   username, NULL, err);
    pthread_mutex_unlock(&a->lock);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

sm_status sm__auth_user_each(struct sm_auth *a, sm_auth_user_fn fn, void *ud, sm_error *err)
{
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db, "SELECT username, role, created FROM users ORDER BY username",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(a, err, "list users");
    } else {
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            const char *role = (const char *)sqlite3_column_text(st, 1);
            int r = role && !strcmp(role, "admin") ? SM_ROLE_ADMIN : SM_ROLE_MEMBER;
            if (fn((const char *)sqlite3_column_text(st, 0), r, sqlite3_column_int64(st, 2), ud))
                break;
        }
        if (s != SQLITE_ROW && s != SQLITE_DONE)
            rc = db_fail(a, err, "list users");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

/* A new token "<prefix><43 base64url chars>" and its hash. */
static void new_token(const char *prefix, char *token, unsigned char hash[32])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    size_t p = strlen(prefix);
    memcpy(token, prefix, p);
    sodium_bin2base64(token + p, SM_AUTH_TOKEN_SIZE - p, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_generichash(hash, 32, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_memzero(raw, sizeof(raw));
}

static sm_status insert_token(struct sm_auth *a, int64_t user_id, const char *kind,
                              const char *name, const unsigned char hash[32], int64_t expires,
                              int64_t *id, sm_error *err)
{
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    if (sqlite3_prepare_v2(a->db,
                           "INSERT INTO tokens(hash, user_id, kind, name, created, expires) "
                           "VALUES(?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(a, err, "issue token");
    } else {
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, user_id);
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
        if (name)
            sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        sqlite3_bind_int64(st, 5, now_s());
        sqlite3_bind_int64(st, 6, expires);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(a, err, "issue token");
        else if (id)
            *id = sqlite3_last_insert_rowid(a->db);
    }
    sqlite3_finalize(st);
    return rc;
}

sm_status sm__auth_login(struct sm_auth *a, const char *username, const char *password,
                         int64_t ttl, char *token, int64_t *expires_at, sm_error *err)
{
    char stored[crypto_pwhash_STRBYTES] = {0};
    int64_t user_id = 0;
    bool found = false;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db, "SELECT id, pwhash FROM users WHERE username = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, username ? username : "", -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *h = (const char *)sqlite3_column_text(st, 1);
            if (h && strlen(h) < sizeof(stored)) {
                user_id = sqlite3_column_int64(st, 0);
                memcpy(stored, h, strlen(h) + 1);
                found = true;
            }
        }
    }
    sqlite3_finalize(st);
    if (!found && !a->have_dummy) {
        char pw[32];
        sm__auth_random_password(pw);
        if (crypto_pwhash_str(a->dummy, pw, strlen(pw), a->ops, a->mem) == 0)
            a->have_dummy = true;
    }
    if (!found && a->have_dummy)
        memcpy(stored, a->dummy, sizeof(stored));
    pthread_mutex_unlock(&a->lock);

    /* The expensive part runs outside the lock: logins verify in parallel. */
    const char *pw = password ? password : "";
    bool ok = crypto_pwhash_str_verify(stored, pw, strlen(pw)) == 0 && found;
    if (!ok)
        return sm_error_set(err, SM_EACCES, "wrong user name or password");

    unsigned char hash[32];
    new_token("smt_", token, hash);
    int64_t exp = now_s() + ttl;
    pthread_mutex_lock(&a->lock);
    sm_status rc = insert_token(a, user_id, "session", NULL, hash, exp, NULL, err);
    /* Housekeeping: drop sessions that expired a day ago. */
    sqlite3_stmt *del = NULL;
    if (rc == SM_OK && sqlite3_prepare_v2(a->db,
                                          "DELETE FROM tokens WHERE kind = 'session' AND "
                                          "expires < ?",
                                          -1, &del, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(del, 1, now_s() - 86400);
        sqlite3_step(del);
    }
    sqlite3_finalize(del);
    pthread_mutex_unlock(&a->lock);
    if (rc == SM_OK && expires_at)
        *expires_at = exp;
    return rc;
}

static bool token_shape_ok(const char *token)
{
    size_t n = token ? strlen(token) : 0;
    if (n != 47 || (strncmp(token, "smt_", 4) && strncmp(token, "smk_", 4)))
        return false;
    for (size_t i = 4; i < n; i++) {
        char c = token[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

sm_status sm__auth_check(struct sm_auth *a, const char *token, struct sm_auth_ident *id,
                         sm_error *err)
{
    if (!token_shape_ok(token))
        return sm_error_set(err, SM_EACCES, "invalid token");
    unsigned char hash[32];
    crypto_generichash(hash, 32, (const unsigned char *)token, strlen(token), NULL, 0);
    struct auth_cache_entry *e = &a->cache[(hash[0] | (size_t)hash[1] << 8) % AUTH_CACHE_SLOTS];
    int64_t now = now_s();
    int64_t mono = mono_ms();
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    /* Another process committed to the store: forget everything. */
    if (sm__dbwatch_due(&a->watch)) {
        if (sqlite3_step(a->version) == SQLITE_ROW) {
            int64_t v = sqlite3_column_int64(a->version, 0);
            if (v != a->data_version) {
                cache_clear(a);
                a->data_version = v;
            }
        } else {
            cache_clear(a);
        }
        sqlite3_reset(a->version);
    }
    if (e->used && mono < e->valid_until_ms && !sodium_memcmp(e->hash, hash, 32) &&
        (!e->expires || e->expires > now)) {
        if (id)
            *id = e->id;
        pthread_mutex_unlock(&a->lock);
        return SM_OK;
    }
    sqlite3_stmt *st = a->check;
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = db_fail(a, err, "check token");
    } else if (step != SQLITE_ROW) {
        rc = sm_error_set(err, SM_EACCES, "invalid token");
    } else {
        int64_t expires = sqlite3_column_int64(st, 2);
        if (sqlite3_column_int(st, 3)) {
            rc = sm_error_set(err, SM_EACCES, "token revoked");
        } else if (expires && expires <= now) {
            rc = sm_error_set(err, SM_EACCES, "token expired");
        } else {
            struct sm_auth_ident who;
            memset(&who, 0, sizeof(who));
            const char *kind = (const char *)sqlite3_column_text(st, 1);
            const char *name = (const char *)sqlite3_column_text(st, 5);
            const char *role = (const char *)sqlite3_column_text(st, 6);
            who.token_id = sqlite3_column_int64(st, 0);
            who.user_id = sqlite3_column_int64(st, 4);
            snprintf(who.username, sizeof(who.username), "%s", name ? name : "");
            who.role = role && !strcmp(role, "admin") ? SM_ROLE_ADMIN : SM_ROLE_MEMBER;
            who.api_key = kind && !strcmp(kind, "apikey");
            sodium_bin2hex(who.hash_hex, sizeof(who.hash_hex), hash, 32);
            e->used = true;
            memcpy(e->hash, hash, 32);
            e->valid_until_ms = mono + AUTH_CACHE_MS;
            e->expires = expires;
            e->id = who;
            if (id)
                *id = who;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

sm_status sm__auth_revoke(struct sm_auth *a, const char *token, sm_error *err)
{
    if (!token_shape_ok(token))
        return sm_error_set(err, SM_ENOENT, "unknown token");
    unsigned char hash[32];
    crypto_generichash(hash, 32, (const unsigned char *)token, strlen(token), NULL, 0);
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    cache_clear(a); /* a user, key or token changed */
    if (sqlite3_prepare_v2(a->db, "UPDATE tokens SET revoked = 1 WHERE hash = ? AND revoked = 0",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(a, err, "revoke");
    } else {
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(a, err, "revoke");
        else if (!sqlite3_changes(a->db))
            rc = sm_error_set(err, SM_ENOENT, "unknown token");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

sm_status sm__auth_apikey_create(struct sm_auth *a, const char *username, const char *name,
                                 int64_t ttl, char *key, int64_t *id, sm_error *err)
{
    if (!name || !*name || strlen(name) > 200)
        return sm_error_set(err, SM_EINVAL, "key name must be 1 to 200 bytes");
    sqlite3_stmt *st = NULL;
    int64_t user_id = 0;
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db, "SELECT id FROM users WHERE username = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, username ? username : "", -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            user_id = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (!user_id) {
        rc = sm_error_set(err, SM_ENOENT, "no user '%s'", username ? username : "");
    } else {
        unsigned char hash[32];
        new_token("smk_", key, hash);
        rc = insert_token(a, user_id, "apikey", name, hash, ttl > 0 ? now_s() + ttl : 0, id,
                          err);
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

sm_status sm__auth_apikey_revoke(struct sm_auth *a, int64_t id, sm_error *err)
{
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    cache_clear(a); /* a user, key or token changed */
    if (sqlite3_prepare_v2(a->db,
                           "UPDATE tokens SET revoked = 1 WHERE id = ? AND kind = 'apikey' AND "
                           "revoked = 0",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(a, err, "revoke key");
    } else {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(a, err, "revoke key");
        else if (!sqlite3_changes(a->db))
            rc = sm_error_set(err, SM_ENOENT, "no live API key %lld", (long long)id);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

sm_status sm__auth_apikey_each(struct sm_auth *a, sm_auth_key_fn fn, void *ud, sm_error *err)
{
    sqlite3_stmt *st = NULL;
    sm_status rc = SM_OK;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db,
                           "SELECT t.id, u.username, t.name, t.created, t.expires, t.revoked "
                           "FROM tokens t JOIN users u ON u.id = t.user_id "
                           "WHERE t.kind = 'apikey' ORDER BY t.id",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(a, err, "list keys");
    } else {
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (fn(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                   (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
                   sqlite3_column_int64(st, 4), sqlite3_column_int(st, 5) != 0, ud))
                break;
        }
        if (s != SQLITE_ROW && s != SQLITE_DONE)
            rc = db_fail(a, err, "list keys");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void sm__auth_random_password(char *out)
{
    unsigned char raw[18];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, 25, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}
