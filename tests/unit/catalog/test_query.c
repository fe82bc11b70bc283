/* The query language: every filter parses to the right backend-neutral filter,
 * and every mistake gets an error that points at the bad token. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/catalog.h>

#include "testutil.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static sm_query q;

static int setup(void **state)
{
    (void)state;
    sm_query_init(&q);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sm_query_release(&q);
    return 0;
}

static void ok(const char *text)
{
    sm_error err = SM_ERROR_INIT;
    sm_status rc = sm_query_parse(&q, text, &err);
    if (rc != SM_OK)
        fail_msg("'%s': %s", text, err.msg);
}

/* Parse must fail, the message must contain want, and the error must point at
 * text[pos .. pos + len). */
static void bad(const char *text, const char *want, size_t pos, size_t len)
{
    sm_error err = SM_ERROR_INIT;
    if (sm_query_parse(&q, text, &err) != SM_EINVAL)
        fail_msg("'%s' parsed but should fail", text);
    assert_int_equal(err.code, SM_EINVAL);
    if (!strstr(err.msg, want))
        fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, want);
    if (q.err_pos != pos || q.err_len != len)
        fail_msg("'%s': error at %zu+%zu, want %zu+%zu (%s)", text, q.err_pos, q.err_len, pos,
                 len, err.msg);
    assert_int_equal(q.n_words, 0); /* nothing half-parsed is left */
}

static void test_query__empty_matches_everything(void **state)
{
    (void)state;
    ok("");
    assert_false(sm_query_has_filters(&q));
    assert_int_equal(q.n_words, 0);
    assert_int_equal(q.loop, -1);
    assert_int_equal(q.missing, 0);
    assert_int_equal(q.limit, 0);
    ok("   \t ");
    assert_int_equal(sm_query_parse(&q, NULL, NULL), SM_OK);
    assert_int_equal(sm_query_parse(NULL, "x", NULL), SM_EINVAL);
}

static void test_query__words_and_phrases(void **state)
{
    (void)state;
    ok("Deep  KICK \"lo fi\" - &");
    assert_int_equal(q.n_words, 3);
    assert_string_equal(q.words[0], "deep");
    assert_string_equal(q.words[1], "kick");
    assert_string_equal(q.words[2], "lo fi");
    assert_false(sm_query_has_filters(&q));
    /* Not a filter: the name part must be letters only. */
    ok("12:30 a1:b");
    assert_int_equal(q.n_words, 2);
}

static void test_query__bpm_ranges(void **state)
{
    (void)state;
    ok("bpm:120..130");
    sm_query_range *r = &q.range[SM_QF_BPM];
    assert_true(r->set);
    assert_near(r->lo, 120, 0);
    assert_near(r->hi, 130, 0);
    assert_true(r->lo_incl && r->hi_incl);
    assert_true(sm_query_has_filters(&q));
    ok("bpm:>100");
    assert_near(q.range[SM_QF_BPM].lo, 100, 0);
    assert_false(q.range[SM_QF_BPM].lo_incl);
    assert_true(isinf(q.range[SM_QF_BPM].hi));
    ok("bpm:>=100");
    assert_true(q.range[SM_QF_BPM].lo_incl);
    ok("bpm:<90.5");
    assert_near(q.range[SM_QF_BPM].hi, 90.5, 0);
    assert_false(q.range[SM_QF_BPM].hi_incl);
    ok("tempo:120");
    assert_near(q.range[SM_QF_BPM].lo, 119.5, 1e-12);
    assert_near(q.range[SM_QF_BPM].hi, 120.5, 1e-12);
    assert_false(q.range[SM_QF_BPM].hi_incl);
    ok("bpm:120.5");
    assert_near(q.range[SM_QF_BPM].lo, 120.45, 1e-9);
    assert_near(q.range[SM_QF_BPM].hi, 120.55, 1e-9);
    ok("bpm:100.. bpm:..140 bpm:>110");
    assert_near(q.range[SM_QF_BPM].lo, 110, 0);
    assert_false(q.range[SM_QF_BPM].lo_incl);
    assert_near(q.range[SM_QF_BPM].hi, 140, 0);
}

static void test_query__other_ranges(void **state)
{
    (void)state;
    ok("lufs:-14..-8 duration:..2 peak:<=-1");
    assert_near(q.range[SM_QF_LUFS].lo, -14, 0);
    assert_near(q.range[SM_QF_LUFS].hi, -8, 0);
    assert_true(isinf(q.range[SM_QF_DURATION].lo));
    assert_near(q.range[SM_QF_DURATION].hi, 2, 0);
    assert_near(q.range[SM_QF_PEAK].hi, -1, 0);
    assert_true(q.range[SM_QF_PEAK].hi_incl);
    static const struct {
        const char *text;
        int field;
    } timbre[] = {
        {"bright:>70", SM_QF_BRIGHTNESS}, {"brightness:>70", SM_QF_BRIGHTNESS},
        {"warm:>70", SM_QF_WARMTH},       {"hard:>70", SM_QF_HARDNESS},
        {"deep:>70", SM_QF_DEPTH},        {"rough:>70", SM_QF_ROUGHNESS},
        {"boomy:>70", SM_QF_BOOMINESS},   {"boominess:>70", SM_QF_BOOMINESS},
    };
    for (size_t i = 0; i < sizeof(timbre) / sizeof(timbre[0]); i++) {
        ok(timbre[i].text);
        for (int f = 0; f < SM_QF_COUNT; f++)
            assert_int_equal(q.range[f].set, f == timbre[i].field);
        assert_near(q.range[timbre[i].field].lo, 70, 0);
    }
    assert_string_equal(sm_query_field_name(SM_QF_BRIGHTNESS), "brightness");
    assert_string_equal(sm_query_field_name(99), "?");
}

static void test_query__notes(void **state)
{
    (void)state;
    ok("note:F#1");
    assert_near(q.range[SM_QF_NOTE].lo, 30, 0);
    assert_near(q.range[SM_QF_NOTE].hi, 30, 0);
    ok("note:A4");
    assert_near(q.range[SM_QF_NOTE].lo, 69, 0);
    ok("note:Bb-1");
    assert_near(q.range[SM_QF_NOTE].lo, 10, 0);
    ok("note:C1..C2");
    assert_near(q.range[SM_QF_NOTE].lo, 24, 0);
    assert_near(q.range[SM_QF_NOTE].hi, 36, 0);
    ok("note:36");
    assert_near(q.range[SM_QF_NOTE].lo, 36, 0);
}

static void test_query__keys(void **state)
{
    (void)state;
    ok("key:Am");
    assert_int_equal(q.n_keys, 1);
    assert_int_equal(q.key_tonic[0], 9);
    assert_int_equal(q.key_mode[0], SM_MODE_MINOR);
    ok("key:8A");
    assert_int_equal(q.n_keys, 1);
    assert_int_equal(q.key_tonic[0], 9);
    assert_int_equal(q.key_mode[0], SM_MODE_MINOR);
    ok("key:C#,Am,am");
    assert_int_equal(q.n_keys, 2); /* duplicates fold */
    assert_int_equal(q.key_tonic[0], 1);
    assert_int_equal(q.key_mode[0], SM_MODE_MAJOR);
    ok("key:compatible:Am");
    /* Am, its relative C, and 9A (Em) and 7A (Dm) on the wheel. */
    assert_int_equal(q.n_keys, 4);
    int want_t[4] = {9, 0, 4, 2};
    int want_m[4] = {1, 0, 1, 1};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(q.key_tonic[i], want_t[i]);
        assert_int_equal(q.key_mode[i], want_m[i]);
    }
    ok("key:compatible:Am,compatible:C");
    assert_int_equal(q.n_keys, 6);
}

static void test_query__category_loop_tag_missing(void **state)
{
    (void)state;
    ok("category:kick");
    assert_int_equal(q.categories, 1u << SM_CAT_KICK);
    ok("cat:Kick,snare,hihat");
    assert_int_equal(q.categories,
                     (1u << SM_CAT_KICK) | (1u << SM_CAT_SNARE) | (1u << SM_CAT_HIHAT_CLOSED));
    ok("loop:yes");
    assert_int_equal(q.loop, 1);
    ok("loop:no");
    assert_int_equal(q.loop, 0);
    ok("loop:true");
    assert_int_equal(q.loop, 1);
    ok("tag:Dark tag:punchy tag:\"lo-fi\"");
    assert_int_equal(q.n_tags, 3);
    assert_string_equal(q.tags[0], "dark");
    assert_string_equal(q.tags[2], "lo-fi");
    ok("missing:yes");
    assert_int_equal(q.missing, 1);
    ok("missing:any");
    assert_int_equal(q.missing, -1);
    ok("missing:no");
    assert_int_equal(q.missing, 0);
}

static void test_query__sort_limit_offset(void **state)
{
    (void)state;
    ok("sort:bpm");
    assert_int_equal(q.sort, SM_SORT_FIELD);
    assert_int_equal(q.sort_field, SM_QF_BPM);
    assert_false(q.sort_desc);
    ok("sort:-duration");
    assert_int_equal(q.sort_field, SM_QF_DURATION);
    assert_true(q.sort_desc);
    ok("sort:name");
    assert_int_equal(q.sort, SM_SORT_NAME);
    ok("sort:-lufs");
    assert_int_equal(q.sort_field, SM_QF_LUFS);
    ok("sort:key");
    assert_int_equal(q.sort, SM_SORT_KEY);
    ok("sort:relevance");
    assert_int_equal(q.sort, SM_SORT_RELEVANCE);
    ok("sort:bright");
    assert_int_equal(q.sort_field, SM_QF_BRIGHTNESS);
    ok("limit:20 offset:40");
    assert_int_equal(q.limit, 20);
    assert_int_equal(q.offset, 40);
    assert_false(sm_query_has_filters(&q));
}

static void test_query__errors_point_at_the_bad_token(void **state)
{
    (void)state;
    bad("kick bmp:120", "unknown filter 'bmp' (did you mean 'bpm'?)", 5, 3);
    bad("zzzzz:1", "unknown filter 'zzzzz'", 0, 5);
    bad("bpm:fast", "'fast' is not a number", 4, 4);
    bad("bpm:", "bpm: needs a value", 0, 4);
    bad("bpm:130..120", "empty range", 4, 8);
    bad("bpm:..", "at least one bound", 4, 2);
    bad("bpm:1x..130", "'1x' is not a number", 4, 2);
    bad("bpm:120..1x0", "'1x0' is not a number", 9, 3);
    bad("bpm:>abc", "'abc' is not a number", 4, 4);
    bad("bpm:nan", "not a number", 4, 3);
    bad("bpm:inf", "not a number", 4, 3);
    bad("key:Hm", "'Hm' is not a key", 4, 2);
    bad("key:13A", "'13A' is not a key", 4, 3);
    bad("key:Am,", "key: empty", 7, 1);
    bad("key:Am key:C", "key: given twice", 7, 5);
    bad("key:compatible:Xm", "'Xm' is not a key", 4, 13);
    bad("category:kik", "did you mean 'kick'?", 9, 3);
    bad("category:kick,zzzzzz", "unknown category 'zzzzzz'", 14, 6);
    bad("category:kick cat:snare", "category: given twice", 14, 9);
    bad("loop:maybe", "'maybe' is not yes or no", 5, 5);
    bad("note:H2", "not a note", 5, 2);
    bad("note:C12", "not a note", 5, 3);
    bad("note:200", "not a note", 5, 3);
    bad("tag:a,b", "may not contain", 4, 3);
    bad("sort:loudest", "unknown order 'loudest'", 5, 7);
    bad("limit:0", "not a whole number from 1", 6, 1);
    bad("limit:ten", "not a whole number", 6, 3);
    bad("limit:5 limit:6", "limit: given twice", 8, 7);
    bad("offset:-1", "not a whole number", 7, 2);
    bad("missing:perhaps", "not yes, no or any", 8, 7);
    bad("kick \"deep sub", "unclosed quote", 5, 9);
    bad("lufs:-14..-8x", "'-8x' is not a number", 10, 3);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_query_parse(&q, "bad\xff", &err), SM_EINVAL);
    assert_non_null(strstr(err.msg, "UTF-8"));
    /* Human positions are 1-based. */
    assert_int_equal(sm_query_parse(&q, "kick bmp:120", &err), SM_EINVAL);
    assert_non_null(strstr(err.msg, "at character 6: 'bmp'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_query__empty_matches_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query__words_and_phrases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query__bpm_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query__other_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query__notes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query__keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query__category_loop_tag_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query__sort_limit_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query__errors_point_at_the_bad_token, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
