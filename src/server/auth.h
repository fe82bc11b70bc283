/* Users, session tokens and API keys in an SQLite file of their own (auth.db).
 *
 * Passwords are Argon2id strings (libsodium crypto_pwhash_str). Tokens are 256
 * random bits, shown once and stored only as their BLAKE2b-256 hash. Everything
 * SQL lives in this file, so the store can move to PostgreSQL behind the same
 * functions. Thread-safe: one connection under a mutex. */
#ifndef SM_SERVER_AUTH_H
#define SM_SERVER_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <samplemind/error.h>

#define SM_AUTH_TOKEN_SIZE 64 /* "smt_" + 43 base64url characters + NUL, rounded up */
#define SM_AUTH_NAME_MAX 64

enum sm_auth_role { SM_ROLE_MEMBER = 0, SM_ROLE_ADMIN = 1 };

struct sm_auth;

/* Who a token belongs to. */
struct sm_auth_ident {
    int64_t user_id;
    int64_t token_id;
    char username[SM_AUTH_NAME_MAX + 1];
    int role;          /* enum sm_auth_role */
    bool api_key;
    char hash_hex[65]; /* the token's hash: a key for rate limits, never the token */
};

/* Open or create \p path (mode 0600). \return new handle or NULL with \p err. */
struct sm_auth *sm__auth_open(const char *path, sm_error *err);
void sm__auth_close(struct sm_auth *a);

/* Test hook: cheaper Argon2id parameters (the unit tests only). */
void sm__auth_set_cost(struct sm_auth *a, unsigned long long ops, size_t mem);

/* \return SM_OK with *n the number of users. */
sm_status sm__auth_user_count(struct sm_auth *a, int64_t *n, sm_error *err);
/* Names: 1..64 of [A-Za-z0-9._-]; passwords: 8..1024 bytes. SM_EINVAL on a
 * bad name, password or an existing user. */
sm_status sm__auth_user_add(struct sm_auth *a, const char *username, const char *password,
                            int role, sm_error *err);
/* Delete a user and every token and key of theirs. SM_ENOENT when absent. */
sm_status sm__auth_user_del(struct sm_auth *a, const char *username, sm_error *err);
/* New password; revokes the user's session tokens. */
sm_status sm__auth_user_passwd(struct sm_auth *a, const char *username, const char *password,
                               sm_error *err);

typedef int (*sm_auth_user_fn)(const char *username, int role, int64_t created, void *ud);
sm_status sm__auth_user_each(struct sm_auth *a, sm_auth_user_fn fn, void *ud, sm_error *err);

/* Check the password and issue a session token valid \p ttl seconds.
 * \return SM_OK, or SM_EACCES for a wrong name or password (same answer for
 * both, same time). \p token gets the token text (SM_AUTH_TOKEN_SIZE bytes). */
sm_status sm__auth_login(struct sm_auth *a, const char *username, const char *password,
                         int64_t ttl, char *token, int64_t *expires_at, sm_error *err);
/* Who \p token is. SM_EACCES when unknown, forged, revoked or expired. */
sm_status sm__auth_check(struct sm_auth *a, const char *token, struct sm_auth_ident *id,
                         sm_error *err);
/* Revoke \p token (a session or an API key). SM_ENOENT when unknown. */
sm_status sm__auth_revoke(struct sm_auth *a, const char *token, sm_error *err);

/* New API key for \p username named \p name, valid \p ttl seconds (0: no expiry).
 * \p key gets the key text; \p id its number (for revoking). */
sm_status sm__auth_apikey_create(struct sm_auth *a, const char *username, const char *name,
                                 int64_t ttl, char *key, int64_t *id, sm_error *err);
/* Revoke API key number \p id. SM_ENOENT when there is no such live key. */
sm_status sm__auth_apikey_revoke(struct sm_auth *a, int64_t id, sm_error *err);

typedef int (*sm_auth_key_fn)(int64_t id, const char *username, const char *name,
                              int64_t created, int64_t expires, bool revoked, void *ud);
sm_status sm__auth_apikey_each(struct sm_auth *a, sm_auth_key_fn fn, void *ud, sm_error *err);

/* Random password of 24 base64url characters into \p out (at least 25 bytes). */
void sm__auth_random_password(char *out);

#endif
