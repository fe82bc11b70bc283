#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/alloc.h>
#include <samplemind/cache.h>
#include <samplemind/log.h>
#include "cache/flight.h"
#include "testutil.h"
#include "../net/mockproc.h"

static int warnings;

static void on_log(sm_log_level level, const char *msg, void *ud)
{
    (void)ud;
    (void)msg;
    if (level == SM_LOG_WARN)
        warnings++;
}

static char *sqlite_url(const char *name)
{
    static char url[400];
    const char *p = tu_path(name);
    unlink(p);
    snprintf(url, sizeof(url), "sqlite://%s", p);
    return url;
}

/* The behaviour every backend shares. */
static void check_backend(sm_cache *c)
{
    char k1[SM_CACHE_KEY_SIZE];
    char k2[SM_CACHE_KEY_SIZE];
    char k3[SM_CACHE_KEY_SIZE];
    sm_cache_key("openai", "req-1", 5, k1);
    sm_cache_key("openai", "req-2", 5, k2);
    sm_cache_key("anthropic", "req-1", 5, k3);
    assert_int_equal(strncmp(k1, "openai:", 7), 0);
    assert_int_equal(strlen(k1), 7 + 64);
    assert_string_not_equal(k1, k2);
    assert_string_equal(k1 + 7, k3 + 10); /* same request: same hash, other prefix */

    assert_int_equal(sm_cache_clear(c, NULL, NULL, NULL), SM_OK);
    char *v = NULL;
    size_t n = 0;
    assert_int_equal(sm_cache_get(c, k1, &v, &n), SM_CACHE_MISS);
    assert_null(v);
    assert_true(sm_cache_put(c, k1, "{\"a\":1}", 7, 0));
    assert_true(sm_cache_put(c, k2, "{\"b\":2}", 7, 0));
    assert_true(sm_cache_put(c, k3, "{\"c\":3}", 7, 0));
    assert_int_equal(sm_cache_get(c, k1, &v, &n), SM_CACHE_HIT);
    assert_int_equal(n, 7);
    assert_string_equal(v, "{\"a\":1}");
    sm_free(v);

    sm_cache_stats s;
    sm_cache_stats_get(c, &s);
    assert_true(s.up);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.entries, 3);

    /* Clear by provider leaves the others. */
    uint64_t removed = 0;
    assert_int_equal(sm_cache_clear(c, "openai", &removed, NULL), SM_OK);
    assert_int_equal(removed, 2);
    assert_int_equal(sm_cache_get(c, k1, &v, &n), SM_CACHE_MISS);
    assert_int_equal(sm_cache_get(c, k3, &v, &n), SM_CACHE_HIT);
    sm_free(v);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_cache_clear(c, "open*", NULL, &err), SM_EINVAL);

    /* TTL: an entry of 1 s is gone after it. */
    assert_true(sm_cache_put(c, k2, "short", 5, 1));
    assert_int_equal(sm_cache_get(c, k2, &v, &n), SM_CACHE_HIT);
    sm_free(v);
    mp_sleep_ms(1100);
    assert_int_equal(sm_cache_get(c, k2, &v, &n), SM_CACHE_MISS);

    char *js = NULL;
    sm_cache_stats_get(c, &s);
    js = sm_cache_stats_json(&s);
    assert_non_null(strstr(js, "\"hit_rate\""));
    sm_free(js);
}

static void test_cache__sqlite_hit_miss_ttl_clear(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    sm_cache *c = sm_cache_open(sqlite_url("cache-a.db"), NULL, &err);
    assert_non_null(c);
    check_backend(c);
    sm_cache_close(c);
}

static void test_cache__sqlite_counters_persist_across_opens(void **state)
{
    (void)state;
    const char *url = sqlite_url("cache-b.db");
    char u[400];
    snprintf(u, sizeof(u), "%s", url);
    sm_cache *c = sm_cache_open(u, NULL, NULL);
    char k[SM_CACHE_KEY_SIZE];
    sm_cache_key("ollama", "x", 1, k);
    char *v = NULL;
    size_t n = 0;
    sm_cache_get(c, k, &v, &n);
    sm_cache_put(c, k, "v", 1, 0);
    sm_cache_get(c, k, &v, &n);
    sm_free(v);
    sm_cache_close(c);
    c = sm_cache_open(u, NULL, NULL);
    sm_cache_stats s;
    sm_cache_stats_get(c, &s);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.local_hits, 0);
    assert_int_equal(s.entries, 1);
    sm_cache_close(c);
}

static void test_cache__rejects_bad_urls(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    assert_null(sm_cache_open("memcached://x", NULL, &err));
    assert_int_equal(err.code, SM_EINVAL);
    assert_null(sm_cache_open("redis://:pw@/0", NULL, &err));
    assert_int_equal(err.code, SM_EINVAL);
    assert_null(strstr(err.msg, "pw"));
    assert_null(sm_cache_open("redis://host:99999", NULL, &err));
    assert_null(sm_cache_open("", NULL, &err));
    assert_null(sm_cache_open("sqlite:///nonexistent-dir/x/cache.db", NULL, &err));
    assert_int_equal(err.code, SM_EIO);
}

static void test_cache__redis_hit_miss_ttl_clear(void **state)
{
    (void)state;
    struct mockproc r;
    if (mp_start_redis(&r, 0) != 0)
        skip();
    sm_cache *c = sm_cache_open(r.url, NULL, NULL);
    assert_non_null(c);
    check_backend(c);
    sm_cache_close(c);
    mp_stop(&r);
}

static void test_cache__redis_down_is_a_miss_and_reconnects(void **state)
{
    (void)state;
    struct mockproc r;
    if (mp_start_redis(&r, 0) != 0)
        skip();
    sm_cache_opts o = {0};
    o.reconnect_ms = 100;
    o.op_timeout_ms = 200;
    sm_cache *c = sm_cache_open(r.url, &o, NULL);
    assert_non_null(c);
    char k[SM_CACHE_KEY_SIZE];
    sm_cache_key("openai", "q", 1, k);
    assert_true(sm_cache_put(c, k, "v1", 2, 0));
    char *v = NULL;
    size_t n = 0;
    assert_int_equal(sm_cache_get(c, k, &v, &n), SM_CACHE_HIT);
    sm_free(v);

    /* Kill it: every call is a miss, quickly, with a warning, never an error. */
    int port = r.port;
    mp_stop(&r);
    sm_log_set_handler(on_log, NULL);
    warnings = 0;
    for (int i = 0; i < 20; i++) {
        double t = mp_now_ms();
        assert_int_equal(sm_cache_get(c, k, &v, &n), SM_CACHE_MISS);
        assert_true(mp_now_ms() - t < 500.0);
        sm_cache_put(c, k, "v2", 2, 0);
    }
    assert_true(warnings >= 1);
    assert_true(warnings <= 3); /* rate-limited, not one per call */
    sm_cache_stats s;
    sm_cache_stats_get(c, &s);
    assert_false(s.up);
    assert_true(s.local_errors >= 20);

    /* Restart on the same port: it reconnects by itself and caches again. */
    assert_int_equal(mp_start_redis(&r, port), 0);
    mp_sleep_ms(150);
    bool stored = false;
    for (int i = 0; i < 20 && !stored; i++) {
        stored = sm_cache_put(c, k, "v3", 2, 0);
        if (!stored)
            mp_sleep_ms(60);
    }
    assert_true(stored);
    assert_int_equal(sm_cache_get(c, k, &v, &n), SM_CACHE_HIT);
    assert_string_equal(v, "v3");
    sm_free(v);
    sm_cache_stats_get(c, &s);
    assert_true(s.up);
    /* Errors seen while down reach the shared counter once it is back. */
    assert_true(s.errors >= 20);
    sm_log_set_handler(NULL, NULL);
    sm_cache_close(c);
    mp_stop(&r);
}

/* Another handle on the same store stands for another process (its own
 * connections): what it writes must never be hidden by this one's near tier. */
static bool sees(sm_cache *c, const char *k, const char *want, int wait_ms)
{
    for (int t = 0;; t += 20) {
        char *v = NULL;
        size_t n = 0;
        bool hit = sm_cache_get(c, k, &v, &n) == SM_CACHE_HIT;
        bool ok = want ? hit && !strcmp(v, want) : !hit;
        sm_free(v);
        if (ok || t >= wait_ms)
            return ok;
        mp_sleep_ms(20);
    }
}

static void check_near_tier(const char *url, int wait_ms)
{
    sm_cache *c1 = sm_cache_open(url, NULL, NULL);
    sm_cache *c2 = sm_cache_open(url, NULL, NULL);
    assert_non_null(c1);
    assert_non_null(c2);
    char k[SM_CACHE_KEY_SIZE];
    sm_cache_key("openai", "near", 4, k);
    assert_true(sm_cache_put(c2, k, "v1", 2, 0));
    assert_true(sees(c1, k, "v1", 0));
    mp_sleep_ms(200); /* Redis: the tracking connection is up by now */
    for (int i = 0; i < 3; i++)
        assert_true(sees(c1, k, "v1", 0)); /* kept near */
    assert_true(sm_cache_put(c2, k, "v2", 2, 0)); /* overwritten elsewhere */
    assert_true(sees(c1, k, "v2", wait_ms));
    assert_true(sees(c1, k, "v2", 0));
    assert_int_equal(sm_cache_clear(c2, "openai", NULL, NULL), SM_OK); /* cleared elsewhere */
    assert_true(sees(c1, k, NULL, wait_ms));
    /* Its own writes are seen at once. */
    assert_true(sm_cache_put(c1, k, "v3", 2, 0));
    assert_true(sees(c1, k, "v3", 0));
    assert_true(sm_cache_put(c1, k, "v4", 2, 0));
    assert_true(sees(c1, k, "v4", 0));
    sm_cache_close(c2);
    sm_cache_close(c1);
}

static void test_cache__sqlite_near_tier_sees_other_processes(void **state)
{
    (void)state;
    check_near_tier(sqlite_url("cache-near.db"), 0); /* exact: no waiting */
}

static void test_cache__redis_near_tier_sees_other_processes(void **state)
{
    (void)state;
    struct mockproc r;
    if (mp_start_redis(&r, 0) != 0)
        skip();
    /* Invalidations are pushed: they arrive within a round trip. */
    check_near_tier(r.url, 1000);
    /* With Redis gone the near tier must not answer for it. */
    sm_cache *c = sm_cache_open(r.url, NULL, NULL);
    char k[SM_CACHE_KEY_SIZE];
    sm_cache_key("openai", "gone", 4, k);
    assert_true(sm_cache_put(c, k, "v", 1, 0));
    assert_true(sees(c, k, "v", 0));
    mp_sleep_ms(200);
    assert_true(sees(c, k, "v", 0));
    mp_stop(&r);
    assert_true(sees(c, k, NULL, 1000));
    sm_cache_close(c);
}

struct got {
    int calls;
    void *last;
};

static void on_done(void *result, void *ud)
{
    struct got *g = ud;
    g->calls++;
    g->last = result;
}

static void test_cache__flight_coalesces_identical_keys(void **state)
{
    (void)state;
    struct sm__flight *f = sm__flight_new();
    struct got g = {0, NULL};
    assert_int_equal(sm__flight_join(f, "k", on_done, &g), 1);
    for (int i = 0; i < 99; i++)
        assert_int_equal(sm__flight_join(f, "k", on_done, &g), 0);
    assert_int_equal(sm__flight_join(f, "other", on_done, &g), 1);
    assert_int_equal(sm__flight_count(f), 2);
    int result = 42;
    assert_int_equal(sm__flight_done(f, "k", &result), 99);
    assert_int_equal(g.calls, 99);
    assert_ptr_equal(g.last, &result);
    assert_int_equal(sm__flight_count(f), 1);
    /* The key is free again. */
    assert_int_equal(sm__flight_join(f, "k", on_done, &g), 1);
    assert_int_equal(sm__flight_join(f, "k", on_done, &g), 0);
    g.calls = 0;
    sm__flight_free(f); /* waiters hear NULL */
    assert_int_equal(g.calls, 1);
    assert_null(g.last);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache__sqlite_hit_miss_ttl_clear),
        cmocka_unit_test(test_cache__sqlite_counters_persist_across_opens),
        cmocka_unit_test(test_cache__rejects_bad_urls),
        cmocka_unit_test(test_cache__redis_hit_miss_ttl_clear),
        cmocka_unit_test(test_cache__redis_down_is_a_miss_and_reconnects),
        cmocka_unit_test(test_cache__flight_coalesces_identical_keys),
        cmocka_unit_test(test_cache__sqlite_near_tier_sees_other_processes),
        cmocka_unit_test(test_cache__redis_near_tier_sees_other_processes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mp_stop_all();
    return rc;
}
