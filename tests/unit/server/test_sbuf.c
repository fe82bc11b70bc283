/* Response text helpers: JSON string escaping and UTF-8 validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sbuf__json_escapes),
        cmocka_unit_test(test_sbuf__utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
