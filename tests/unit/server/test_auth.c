/* The auth store: users, Argon2id passwords, hashed tokens with expiry, API keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/auth.c"
#include "testutil.h"

static char last_path[4096];

static struct sm_auth *open_fresh(const char *name)
{
    const char *path = tu_path(name);
    snprintf(last_path, sizeof(last_path), "%s", path);
    unlink(path);
    sm_error err = SM_ERROR_INIT;
    struct sm_auth *a = sm__auth_open(path, &err);
    assert_non_null(a);
    /* Cheap Argon2id for the test; the server uses the interactive limits. */
    sm__auth_set_cost(a, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    return a;
}

static void test_auth__users_and_login(void **state)
{
    (void)state;
    struct sm_auth *a = open_fresh("auth1.db");
    struct stat st;
    assert_int_equal(stat(last_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    sm_error err = SM_ERROR_INIT;
    int64_t n = -1;
    assert_int_equal(sm__auth_user_count(a, &n, &err), SM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sm__auth_user_add(a, "admin", "correct horse", SM_ROLE_ADMIN, &err), SM_OK);
    assert_int_equal(sm__auth_user_add(a, "admin", "correct horse", SM_ROLE_ADMIN, &err),
                     SM_EINVAL);
    assert_int_equal(sm__auth_user_add(a, "bad name", "correct horse", 0, &err), SM_EINVAL);
    assert_int_equal(sm__auth_user_add(a, "bob", "short", 0, &err), SM_EINVAL);
    assert_int_equal(sm__auth_user_add(a, "bob", "long enough", 7, &err), SM_EINVAL);

    char tok[SM_AUTH_TOKEN_SIZE];
    int64_t exp = 0;
    assert_int_equal(sm__auth_login(a, "admin", "wrong pass", 60, tok, &exp, &err), SM_EACCES);
    assert_int_equal(sm__auth_login(a, "ghost", "whatever1", 60, tok, &exp, &err), SM_EACCES);
    assert_int_equal(sm__auth_login(a, "admin", "correct horse", 60, tok, &exp, &err), SM_OK);
    assert_int_equal((int)strlen(tok), 47);
    assert_true(exp > (int64_t)time(NULL));

    struct sm_auth_ident id;
    assert_int_equal(sm__auth_check(a, tok, &id, &err), SM_OK);
    assert_string_equal(id.username, "admin");
    assert_int_equal(id.role, SM_ROLE_ADMIN);
    assert_false(id.api_key);
    assert_int_equal((int)strlen(id.hash_hex), 64);
    /* The token itself is never stored: a forged one with the same shape fails. */
    char forged[SM_AUTH_TOKEN_SIZE];
    memcpy(forged, tok, sizeof(forged));
    forged[10] = forged[10] == 'A' ? 'B' : 'A';
    assert_int_equal(sm__auth_check(a, forged, &id, &err), SM_EACCES);
    assert_int_equal(sm__auth_check(a, "", &id, &err), SM_EACCES);
    assert_int_equal(sm__auth_check(a, NULL, &id, &err), SM_EACCES);

    assert_int_equal(sm__auth_revoke(a, tok, &err), SM_OK);
    assert_int_equal(sm__auth_check(a, tok, &id, &err), SM_EACCES);
    assert_non_null(strstr(err.msg, "revoked"));
    assert_int_equal(sm__auth_revoke(a, tok, &err), SM_ENOENT);
    sm__auth_close(a);
}

static void test_auth__expiry_passwd_and_delete(void **state)
{
    (void)state;
    struct sm_auth *a = open_fresh("auth2.db");
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm__auth_user_add(a, "m", "password-1", SM_ROLE_MEMBER, &err), SM_OK);
    char tok[SM_AUTH_TOKEN_SIZE];
    int64_t exp;
    struct sm_auth_ident id;
    /* A token with a negative lifetime is already expired. */
    assert_int_equal(sm__auth_login(a, "m", "password-1", -1, tok, &exp, &err), SM_OK);
    assert_int_equal(sm__auth_check(a, tok, &id, &err), SM_EACCES);
    assert_non_null(strstr(err.msg, "expired"));
    /* A new password revokes sessions and the old password stops working. */
    assert_int_equal(sm__auth_login(a, "m", "password-1", 60, tok, &exp, &err), SM_OK);
    assert_int_equal(sm__auth_user_passwd(a, "m", "password-2", &err), SM_OK);
    assert_int_equal(sm__auth_check(a, tok, &id, &err), SM_EACCES);
    assert_int_equal(sm__auth_login(a, "m", "password-1", 60, tok, &exp, &err), SM_EACCES);
    assert_int_equal(sm__auth_login(a, "m", "password-2", 60, tok, &exp, &err), SM_OK);
    assert_int_equal(sm__auth_user_passwd(a, "nobody", "password-2", &err), SM_ENOENT);
    /* Deleting the user removes its tokens. */
    assert_int_equal(sm__auth_user_del(a, "m", &err), SM_OK);
    assert_int_equal(sm__auth_check(a, tok, &id, &err), SM_EACCES);
    assert_int_equal(sm__auth_user_del(a, "m", &err), SM_ENOENT);
    sm__auth_close(a);
}

static int count_keys(int64_t id, const char *user, const char *name, int64_t created,
                      int64_t expires, bool revoked, void *ud)
{
    (void)id;
    (void)user;
    (void)name;
    (void)created;
    (void)expires;
    int *n = ud;
    n[revoked ? 1 : 0]++;
    return 0;
}

static void test_auth__api_keys(void **state)
{
    (void)state;
    struct sm_auth *a = open_fresh("auth3.db");
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm__auth_user_add(a, "ci", "password-1", SM_ROLE_MEMBER, &err), SM_OK);
    char key[SM_AUTH_TOKEN_SIZE];
    int64_t id = 0;
    assert_int_equal(sm__auth_apikey_create(a, "ci", "nightly", 0, key, &id, &err), SM_OK);
    assert_true(id > 0);
    assert_int_equal(strncmp(key, "smk_", 4), 0);
    assert_int_equal(sm__auth_apikey_create(a, "ghost", "x", 0, key, &id, &err), SM_ENOENT);
    assert_int_equal(sm__auth_apikey_create(a, "ci", "", 0, key, &id, &err), SM_EINVAL);
    char key2[SM_AUTH_TOKEN_SIZE];
    int64_t id2 = 0;
    assert_int_equal(sm__auth_apikey_create(a, "ci", "other", 0, key2, &id2, &err), SM_OK);
    struct sm_auth_ident who;
    assert_int_equal(sm__auth_check(a, key2, &who, &err), SM_OK);
    assert_true(who.api_key);
    assert_string_equal(who.username, "ci");
    assert_int_equal(sm__auth_apikey_revoke(a, id2, &err), SM_OK);
    assert_int_equal(sm__auth_apikey_revoke(a, id2, &err), SM_ENOENT);
    assert_int_equal(sm__auth_check(a, key2, &who, &err), SM_EACCES);
    int n[2] = {0, 0};
    assert_int_equal(sm__auth_apikey_each(a, count_keys, n, &err), SM_OK);
    assert_int_equal(n[0], 1);
    assert_int_equal(n[1], 1);
    sm__auth_close(a);
}

static void test_auth__open_fails_cleanly(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    assert_null(sm__auth_open("/nonexistent-dir/auth.db", &err));
    assert_int_not_equal(err.code, SM_OK);
    /* A file that is not a database is refused, not overwritten. */
    const char *p = tu_path("not-a-db.db");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("this is not sqlite, just text that is long enough to have a header page......", f);
    fclose(f);
    assert_null(sm__auth_open(p, &err));
    assert_int_equal(err.code, SM_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth__users_and_login),
        cmocka_unit_test(test_auth__expiry_passwd_and_delete),
        cmocka_unit_test(test_auth__api_keys),
        cmocka_unit_test(test_auth__open_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
