/* Token buckets: burst, refill rate, Retry-After, independence of keys, capacity. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "server/ratelimit.c"

static void test_ratelimit__burst_then_refill(void **state)
{
    (void)state;
    struct sm_rl *rl = sm__rl_new(2.0, 3.0, 100);
    assert_non_null(rl);
    double t = 1000.0;
    for (int i = 0; i < 3; i++)
        assert_true(sm__rl_take(rl, "a", t) <= 0.0);
    double wait = sm__rl_take(rl, "a", t);
    /* Empty bucket at 2 tokens/s: the next token is 0.5 s away. */
    assert_true(wait > 0.49 && wait < 0.51);
    assert_true(sm__rl_take(rl, "a", t + 0.25) > 0.0);
    assert_true(sm__rl_take(rl, "a", t + 0.75) <= 0.0);
    /* Another key has its own bucket. */
    assert_true(sm__rl_take(rl, "b", t) <= 0.0);
    /* A long pause refills up to the burst, not beyond. */
    for (int i = 0; i < 3; i++)
        assert_true(sm__rl_take(rl, "a", t + 100) <= 0.0);
    assert_true(sm__rl_take(rl, "a", t + 100) > 0.0);
    sm__rl_free(rl);
}

static void test_ratelimit__capacity_sweeps_idle_buckets(void **state)
{
    (void)state;
    struct sm_rl *rl = sm__rl_new(1.0, 1.0, 4);
    char key[16];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_true(sm__rl_take(rl, key, 10.0) <= 0.0);
    }
    assert_int_equal((int)sm__rl_size(rl), 4);
    /* Full of busy buckets: a new key is refused rather than forgetting debts. */
    assert_true(sm__rl_take(rl, "new", 10.0) > 0.0);
    /* Later the old buckets are full again and are dropped for the new key. */
    assert_true(sm__rl_take(rl, "new", 20.0) <= 0.0);
    assert_int_equal((int)sm__rl_size(rl), 1);
    sm__rl_free(rl);
}

static void test_ratelimit__wrong_params(void **state)
{
    (void)state;
    assert_null(sm__rl_new(0.0, 1.0, 10));
    assert_null(sm__rl_new(1.0, 0.5, 10));
    assert_null(sm__rl_new(1.0, 1.0, 0));
    sm__rl_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit__burst_then_refill),
        cmocka_unit_test(test_ratelimit__capacity_sweeps_idle_buckets),
        cmocka_unit_test(test_ratelimit__wrong_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
