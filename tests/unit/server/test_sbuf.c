/* Response text helpers: JSON string escaping and UTF-8 validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "server/sbuf.c"

static void test_sbuf__json_escapes(void **state)
{
    (void)state;
    struct sm_sbuf b = SM_SBUF_INIT;
    sm__sbuf_add_json_str(&b, "a\"b\\c\n\x01\x7f\xc3\xa9\xff/");
    assert_string_equal(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\xc3\xa9\\ufffd/\"");
    sm__sbuf_release(&b);
    sm__sbuf_addf(&b, "%d-%s", 42, "x");
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sm__sbuf_addf(&b, "%s", big);
    assert_int_equal((int)b.n, 4 + 999);
    assert_int_equal(b.p[b.n], '\0');
    sm__sbuf_release(&b);
}

static void test_sbuf__utf8(void **state)
{
    (void)state;
    assert_true(sm__sbuf_utf8_valid("plain", 5));
    assert_true(sm__sbuf_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xb5", 9));
    assert_false(sm__sbuf_utf8_valid("\xff", 1));
    assert_false(sm__sbuf_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(sm__sbuf_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(sm__sbuf_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(sm__sbuf_utf8_valid("\xe2\x82", 2));         /* truncated */
    assert_false(sm__sbuf_utf8_valid("a\0b", 3));             /* NUL */
    char *c = sm__sbuf_utf8_clean("ok\xff!");
    assert_string_equal(c, "ok\xef\xbf\xbd!");
    sm_free(c);
}

/* What jansson writes for \p v (stolen), as the server dumps replies. */
static char *jansson_text(json_t *v)
{
    json_t *a = json_pack("[o]", v);
    char *t = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(a);
    assert_non_null(t);
    size_t n = strlen(t);
    memmove(t, t + 1, n - 2); /* strip the array's brackets */
    t[n - 2] = '\0';
    return t;
}

/* The direct writer writes what jansson writes: strings (after cleaning invalid
 * UTF-8, as the routes did with jansson), reals at precision 10, integers. */
static void test_sbuf__same_as_jansson(void **state)
{
    (void)state;
    static const char *const strs[] = {
        "", "plain/path with spaces.wav", "q\"uote\\back", "\b\f\n\r\t\x01\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb5", "bad \xff\xfe mid \xc3", "\xed\xa0\x80",
        "\xc0\xaf", "\xf4\x90\x80\x80", "\xe2\x82", "end\xc3\xa9\xc3"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        char *clean = sm__sbuf_utf8_clean(strs[i]);
        char *want = jansson_text(json_string(clean));
        sm_free(clean);
        struct sm_sbuf b = SM_SBUF_INIT;
        sm__sbuf_add_jstr(&b, strs[i]);
        assert_string_equal(b.p, want);
        sm__sbuf_release(&b);
        free(want);
    }
    static const double reals[] = {0.0, -0.0, 1.0, -1.0, 0.5, 120.6152612, -28.22735864,
                                   1e20, 1.5e-7, -2.5e-300, 1e100, 123456789012.0, 1e15, 1e16,
                                   0.1, 1.0 / 3.0, 99.99999999999, 1e-5, 1e-4, 9.999999999e9,
                                   4.9e-324, 1.7976931348623157e308};
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        char *want = jansson_text(json_real(reals[i]));
        struct sm_sbuf b = SM_SBUF_INIT;
        sm__sbuf_add_jreal(&b, reals[i], 10);
        assert_string_equal(b.p, want);
        sm__sbuf_release(&b);
        free(want);
    }
    /* Many values across magnitudes, from a fixed generator. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v = ldexp((double)(x >> 11) / 9007199254740992.0, (int)(x % 200) - 100);
        if (x & 1)
            v = -v;
        char *want = jansson_text(json_real(v));
        struct sm_sbuf b = SM_SBUF_INIT;
        sm__sbuf_add_jreal(&b, v, 10);
        assert_string_equal(b.p, want);
        sm__sbuf_release(&b);
        free(want);
    }
    struct sm_sbuf b = SM_SBUF_INIT;
    sm__sbuf_add_jstrn(&b, "tag\xc3\xa9 next", 6); /* a tag out of "tags" */
    assert_string_equal(b.p, "\"tag\xc3\xa9 \"");
    sm__sbuf_release(&b);
    sm__sbuf_add_jstrn(&b, "ab\xc3\xa9", 3); /* cut inside a character: U+FFFD */
    assert_string_equal(b.p, "\"ab\xef\xbf\xbd\"");
    sm__sbuf_release(&b);
    sm__sbuf_add_jreal(&b, (double)NAN, 10);
    sm__sbuf_add_jreal(&b, (double)INFINITY, 10);
    assert_string_equal(b.p, "nullnull");
    sm__sbuf_release(&b);
    static const long long ints[] = {0, 1, -1, 42, 1000000007, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        char *want = jansson_text(json_integer(ints[i]));
        sm__sbuf_add_int(&b, ints[i]);
        assert_string_equal(b.p, want);
        sm__sbuf_release(&b);
        free(want);
    }
}

/* Three decimals without printf: the same text as "%.3f" wherever the value is not
 * within rounding noise of a tie, and never more than half a unit off. */
static void test_sbuf__milli(void **state)
{
    (void)state;
    char out[32], ref[64];
    size_t n = sm__fmt_milli(out, 0.0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "0.000", 5);
    n = sm__fmt_milli(out, -3.0);
    assert_memory_equal(out, "0.000", n);
    n = sm__fmt_milli(out, 1.0 / 0.0);
    assert_memory_equal(out, "0.000", n);
    n = sm__fmt_milli(out, 12.3456);
    assert_memory_equal(out, "12.346", n);
    n = sm__fmt_milli(out, 86400.5);
    assert_memory_equal(out, "86400.500", n);
    unsigned seed = 7;
    for (int i = 0; i < 100000; i++) {
        seed = seed * 1103515245u + 12345u;
        double v = (double)(seed >> 8) / (double)(1u << (i % 24));
        n = sm__fmt_milli(out, v);
        out[n] = '\0';
        snprintf(ref, sizeof(ref), "%.3f", v);
        double frac = v * 1e3 - (double)(long long)(v * 1e3);
        if (frac < 0.4999 || frac > 0.5001)
            assert_string_equal(out, ref);
        assert_true(fabs(strtod(out, NULL) - v) <= 0.0005 + v * 1e-15);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sbuf__json_escapes),
        cmocka_unit_test(test_sbuf__utf8),
        cmocka_unit_test(test_sbuf__same_as_jansson),
        cmocka_unit_test(test_sbuf__milli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
