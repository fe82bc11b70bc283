#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include <samplemind/ai.h>
#include <samplemind/alloc.h>
#include "testutil.h"

/* A deep, hard kick one-shot, clipping: no tempo, no key. */
static const char kick[] =
    "{\"path\":\"/lib/Kick_01.wav\",\"duration\":0.45,\"loop\":false,"
    "\"loudness\":{\"integrated_lufs\":-6.0,\"true_peak_dbtp\":0.4,\"sample_peak_dbfs\":0.0},"
    "\"tempo\":null,\"key\":null,\"note\":{\"name\":\"F1\"},\"category\":{\"label\":\"kick\"},"
    "\"timbre\":{\"brightness\":30,\"warmth\":60,\"hardness\":80,\"depth\":85,"
    "\"roughness\":20,\"boominess\":70}}";

/* A 124 BPM A minor synth loop at -12 LUFS, neutral timbre. */
static const char loop[] =
    "{\"path\":\"/lib/loop.wav\",\"duration\":7.74,\"loop\":true,"
    "\"loudness\":{\"integrated_lufs\":-12,\"true_peak_dbtp\":-2,\"sample_peak_dbfs\":-2.5},"
    "\"tempo\":{\"bpm\":124},\"key\":{\"tonic\":\"A\",\"mode\":\"minor\",\"name\":\"A minor\"},"
    "\"category\":{\"label\":\"synth\"},"
    "\"timbre\":{\"brightness\":50,\"warmth\":50,\"hardness\":50,\"depth\":50,"
    "\"roughness\":50,\"boominess\":50}}";

static json_t *rules(int task, const char *desc)
{
    sm_ai_opts o = {0};
    o.ignore_env = true;
    sm_ai *ai = sm_ai_new(&o, NULL);
    assert_non_null(ai);
    sm_ai_request rq = {0};
    rq.task = task;
    rq.descriptors = desc;
    sm_ai_answer a;
    assert_int_equal(sm_ai_ask(ai, &rq, &a, NULL), SM_OK);
    assert_string_equal(a.provider, "builtin");
    assert_true(a.rule_based);
    assert_true(a.valid);
    json_t *j = json_loads(a.json, 0, NULL);
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
    assert_non_null(j);
    return j;
}

static const char *first_name(json_t *j, const char *list)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(j, list), 0), "name"));
}

static void test_builtin__genre_from_tempo_and_category(void **state)
{
    (void)state;
    json_t *j = rules(SM_AI_GENRE, loop);
    assert_string_equal(first_name(j, "genres"), "house");
    double c = json_number_value(json_object_get(json_array_get(json_object_get(j, "genres"), 0),
                                                 "confidence"));
    assert_true(c > 0.0 && c <= 0.6);
    assert_non_null(strstr(json_string_value(json_object_get(j, "reasoning")), "Rule-based"));
    json_decref(j);
    j = rules(SM_AI_GENRE, kick);
    assert_string_equal(first_name(j, "genres"), "trap");
    json_decref(j);
}

static void test_builtin__mood_formula(void **state)
{
    (void)state;
    /* energy = 0.4*0.5 + 0.3*(18/24) + 0.3*(64/120) = 0.585; valence = 0.35 (minor). */
    json_t *j = rules(SM_AI_MOOD, loop);
    double e = json_number_value(json_object_get(j, "energy"));
    double v = json_number_value(json_object_get(j, "valence"));
    assert_true(e > 0.575 && e < 0.595);
    assert_true(v > 0.345 && v < 0.355);
    assert_string_equal(first_name(j, "moods"), "dark");
    json_decref(j);
}

static void test_builtin__tags_and_description(void **state)
{
    (void)state;
    json_t *j = rules(SM_AI_TAGS, kick);
    char *t = json_dumps(j, 0);
    assert_non_null(strstr(t, "\"kick\""));
    assert_non_null(strstr(t, "\"one-shot\""));
    assert_non_null(strstr(t, "\"punchy\""));
    assert_non_null(strstr(t, "\"deep\""));
    assert_null(strstr(t, "bpm"));
    free(t);
    json_decref(j);
    j = rules(SM_AI_TAGS, loop);
    t = json_dumps(j, 0);
    assert_non_null(strstr(t, "\"124 bpm\""));
    assert_non_null(strstr(t, "\"a minor\""));
    free(t);
    json_decref(j);
    j = rules(SM_AI_DESCRIPTION, loop);
    assert_string_equal(json_string_value(json_object_get(j, "description")),
                        "A balanced synth loop at 124 BPM in A minor, 7.74 s long (rule-based "
                        "description).");
    json_decref(j);
}

static void test_builtin__mixing_flags_peaks_and_loudness(void **state)
{
    (void)state;
    json_t *j = rules(SM_AI_MIXING, kick);
    json_t *iss = json_object_get(j, "issues");
    char *t = json_dumps(iss, 0);
    assert_non_null(strstr(t, "True peak 0.40 dBTP"));
    assert_non_null(strstr(t, "0 dBFS"));
    assert_non_null(strstr(t, "Very loud"));
    free(t);
    json_decref(j);
    j = rules(SM_AI_MIXING, loop);
    assert_int_equal(json_array_size(json_object_get(j, "issues")), 0);
    assert_true(json_array_size(json_object_get(j, "tips")) >= 2);
    json_decref(j);
}

static void test_builtin__pairing_queries_keep_tempo_and_key(void **state)
{
    (void)state;
    json_t *j = rules(SM_AI_PAIRING, loop);
    char *t = json_dumps(j, 0);
    assert_non_null(strstr(t, "bpm:121..127"));
    assert_non_null(strstr(t, "key:Am"));
    free(t);
    json_decref(j);
    j = rules(SM_AI_PRODUCTION, loop);
    assert_true(json_array_size(json_object_get(j, "tips")) >= 3);
    json_decref(j);
}

static void test_builtin__missing_descriptors_still_answer(void **state)
{
    (void)state;
    for (int t = 0; t < SM_AI_TASK_COUNT; t++) {
        json_t *j = rules(t, "{}");
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin__genre_from_tempo_and_category),
        cmocka_unit_test(test_builtin__mood_formula),
        cmocka_unit_test(test_builtin__tags_and_description),
        cmocka_unit_test(test_builtin__mixing_flags_peaks_and_loudness),
        cmocka_unit_test(test_builtin__pairing_queries_keep_tempo_and_key),
        cmocka_unit_test(test_builtin__missing_descriptors_still_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
