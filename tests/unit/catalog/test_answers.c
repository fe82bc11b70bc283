/* AI answers stored with catalog samples (src/catalog/answers.c and the checks of
 * catalog.c): fields round trip, one answer per task (newer replaces, older is
 * ignored), tags answers tag, description answers are searchable and survive
 * re-analysis and moves, answers go with their sample, the JSON record, the
 * migration of a version 1 catalog, and every bad argument. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>
#include <samplemind/version.h>

#include "testutil.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static int64_t put_file(sm_catalog *cat, const char *path, const char *hash, int64_t replace)
{
    sm_analysis a;
    sm_analysis_init(&a);
    a.path = sm_strdup(path);
    snprintf(a.hash, sizeof(a.hash), "%s", hash);
    a.size = 1000;
    a.duration = 0.5;
    a.sample_rate = 44100;
    a.channels = 1;
    snprintf(a.format, sizeof(a.format), "wav");
    a.analyzer_version = SM_ANALYZER_VERSION;
    a.category = SM_CAT_KICK;
    sm_catalog_file f = {path, "/lib", 1000, 42};
    sm_error err = SM_ERROR_INIT;
    int64_t id = 0;
    assert_int_equal(sm_catalog_put(cat, &f, &a, replace, &id, &err), SM_OK);
    sm_analysis_release(&a);
    return id;
}

static sm_catalog *mem(void)
{
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm_catalog_open(":memory:", NULL, &err);
    assert_non_null(cat);
    return cat;
}

static sm_catalog_ai_answer answer(const char *task, const char *json, int64_t at)
{
    sm_catalog_ai_answer a;
    sm_catalog_ai_answer_init(&a);
    a.task = task;
    a.provider = "openai";
    a.model = "gpt-4o-mini";
    a.answer = json;
    a.latency_ms = 812.5;
    a.tokens_in = 320;
    a.tokens_out = 41;
    a.tokens_estimated = true;
    a.cost_usd = 0.000072;
    a.cached = false;
    a.created_at = at;
    return a;
}

/* The answers of a row, copied: tasks "genre=openai/gpt-4o-mini ..." in order. */
struct seen {
    char text[1024];
    sm_catalog_ai_answer last;
    char last_answer[512];
    int n;
};

static int collect(const sm_catalog_ai_answer *a, void *ud)
{
    struct seen *s = ud;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s%s=%s/%s", n ? " " : "", a->task, a->provider,
             a->model);
    s->last = *a;
    snprintf(s->last_answer, sizeof(s->last_answer), "%s", a->answer);
    s->last.task = s->last.provider = s->last.model = NULL;
    s->last.answer = NULL; /* the text is in last_answer (this struct is copied) */
    s->n++;
    return 0;
}

static struct seen list(sm_catalog *cat, int64_t id)
{
    struct seen s;
    memset(&s, 0, sizeof(s));
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_catalog_each_ai_answer(cat, id, collect, &s, &err), SM_OK);
    return s;
}

static size_t hits(sm_catalog *cat, const char *text, int64_t *first)
{
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_query_parse(&q, text, &err), SM_OK);
    sm_sample_list out = SM_SAMPLE_LIST_INIT;
    assert_int_equal(sm_catalog_search(cat, &q, &out, &err), SM_OK);
    size_t n = out.n;
    if (first)
        *first = n ? out.v[0].id : 0;
    sm_sample_list_release(&out);
    sm_query_release(&q);
    return n;
}

static void test_answers__fields_round_trip(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    int64_t id = put_file(cat, "/lib/Kick_01.wav", "h1", 0);
    sm_error err = SM_ERROR_INIT;
    struct seen s = list(cat, id);
    assert_int_equal(s.n, 0);
    sm_catalog_ai_answer a = answer("genre", "{\"genres\":[{\"name\":\"techno\"}]}", 1700000000);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    s = list(cat, id);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.text, "genre=openai/gpt-4o-mini");
    assert_string_equal(s.last_answer, "{\"genres\":[{\"name\":\"techno\"}]}");
    assert_near(s.last.latency_ms, 812.5, 1e-9);
    assert_int_equal(s.last.tokens_in, 320);
    assert_int_equal(s.last.tokens_out, 41);
    assert_true(s.last.tokens_estimated);
    assert_near(s.last.cost_usd, 0.000072, 1e-12);
    assert_false(s.last.cached);
    assert_int_equal(s.last.created_at, 1700000000);
    /* created_at 0 means now; a second task is a second row, listed by task. */
    sm_catalog_ai_answer m = answer("mood", "{\"moods\":[]}", 0);
    m.provider = "builtin";
    m.model = "";
    m.cached = true;
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &m, &err), SM_OK);
    s = list(cat, id);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text, "genre=openai/gpt-4o-mini mood=builtin/");
    assert_true(s.last.cached);
    assert_true(s.last.created_at > 1700000000);
    sm_catalog_close(cat);
}

static void test_answers__newer_replaces_older_is_ignored(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    int64_t id = put_file(cat, "/lib/Kick_01.wav", "h1", 0);
    sm_error err = SM_ERROR_INIT;
    sm_catalog_ai_answer a = answer("genre", "{\"genres\":[],\"reasoning\":\"first\"}", 1000);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    sm_catalog_ai_answer b = answer("genre", "{\"genres\":[],\"reasoning\":\"second\"}", 2000);
    b.provider = "anthropic";
    b.model = "claude-3-5-haiku";
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_OK);
    struct seen s = list(cat, id);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.text, "genre=anthropic/claude-3-5-haiku");
    assert_non_null(strstr(s.last_answer, "second"));
    /* An answer made before the stored one does not replace it. */
    sm_catalog_ai_answer c = answer("genre", "{\"genres\":[],\"reasoning\":\"stale\"}", 1500);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &c, &err), SM_OK);
    s = list(cat, id);
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.last_answer, "second"));
    assert_int_equal(s.last.created_at, 2000);
    sm_catalog_close(cat);
}

static void test_answers__rejects_bad_input(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    int64_t id = put_file(cat, "/lib/Kick_01.wav", "h1", 0);
    sm_error err = SM_ERROR_INIT;
    sm_catalog_ai_answer a = answer("genre", "{}", 0);
    /* An unknown sample: not_found, naming the id, and nothing is stored. */
    assert_int_equal(sm_catalog_put_ai_answer(cat, 999, &a, &err), SM_ENOENT);
    assert_non_null(strstr(err.msg, "no sample with id 999"));
    struct seen s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(sm_catalog_each_ai_answer(cat, 999, collect, &s, &err), SM_ENOENT);
    assert_int_equal(s.n, 0);
    assert_int_equal(sm_catalog_put_ai_answer(NULL, id, &a, &err), SM_EINVAL);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, NULL, &err), SM_EINVAL);
    assert_int_equal(sm_catalog_each_ai_answer(cat, id, NULL, NULL, &err), SM_EINVAL);
    assert_int_equal(sm_catalog_each_ai_answer(NULL, id, collect, &s, &err), SM_EINVAL);
    const char *bad_tasks[] = {"", "Genre", "genre mood", "a-task-name-that-is-far-too-long", NULL};
    for (int i = 0; bad_tasks[i]; i++) {
        sm_catalog_ai_answer b = answer(bad_tasks[i], "{}", 0);
        assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
        assert_non_null(strstr(err.msg, "task"));
    }
    sm_catalog_ai_answer b = answer(NULL, "{}", 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
    b = answer("genre", "{}", 0);
    b.provider = "";
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
    assert_non_null(strstr(err.msg, "provider"));
    b = answer("genre", "{}", 0);
    b.model = NULL;
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
    assert_non_null(strstr(err.msg, "model"));
    const char *not_objects[] = {"[1,2]", "\"text\"", "{\"a\":", "", "{\"a\":1,\"a\":2}", NULL};
    for (int i = 0; not_objects[i]; i++) {
        b = answer("genre", not_objects[i], 0);
        assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
        assert_non_null(strstr(err.msg, "JSON object"));
    }
    b = answer("genre", NULL, 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
    b = answer("genre", "{}", 0);
    b.latency_ms = (double)NAN;
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
    assert_non_null(strstr(err.msg, "latency_ms"));
    b = answer("genre", "{}", 0);
    b.cost_usd = -0.5;
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
    assert_non_null(strstr(err.msg, "cost_usd"));
    b = answer("genre", "{}", 0);
    b.tokens_out = -1;
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
    b = answer("genre", "{}", -5);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &b, &err), SM_EINVAL);
    /* None of it was stored. */
    s = list(cat, id);
    assert_int_equal(s.n, 0);
    sm_catalog_close(cat);
}

static void test_answers__tags_answer_tags_the_sample(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    int64_t id = put_file(cat, "/lib/Kick_01.wav", "h1", 0);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_catalog_tag(cat, id, "mine", true, &err), SM_OK);
    sm_catalog_ai_answer a =
        answer("tags", "{\"tags\":[\"Dark\",\" deep sub \",\"a,b\",7,\"\",\"dark\"]}", 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    sm_sample s;
    sm_sample_init(&s);
    assert_int_equal(sm_catalog_get(cat, id, &s, &err), SM_OK);
    assert_string_equal(s.tags, "dark deep-sub mine");
    assert_int_equal(hits(cat, "tag:deep-sub", NULL), 1);
    assert_int_equal(hits(cat, "dark", NULL), 1);
    /* A later tags answer adds; it never removes. */
    a = answer("tags", "{\"tags\":[\"punchy\"]}", 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    assert_int_equal(sm_catalog_get(cat, id, &s, &err), SM_OK);
    assert_string_equal(s.tags, "dark deep-sub mine punchy");
    sm_sample_release(&s);
    sm_catalog_close(cat);
}

static void test_answers__description_is_searchable_and_survives(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    int64_t id = put_file(cat, "/lib/Loops/loop_124.wav", "h1", 0);
    int64_t other = put_file(cat, "/lib/Loops/other_124.wav", "h2", 0);
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(hits(cat, "vinyl", NULL), 0);
    sm_catalog_ai_answer a =
        answer("description", "{\"description\":\"A warm vinyl groove with dusty drums.\"}", 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    int64_t first = 0;
    assert_int_equal(hits(cat, "\"warm vinyl\"", &first), 1);
    assert_int_equal(first, id);
    assert_int_equal(hits(cat, "dusty loop", &first), 1);
    assert_int_equal(first, id);
    /* The filter index (the server's search) finds it too. */
    sm_findex *fx = sm_findex_load(cat, &err);
    assert_non_null(fx);
    sm_query q;
    sm_query_init(&q);
    assert_int_equal(sm_query_parse(&q, "warm vinyl", &err), SM_OK);
    sm_sample_list out = SM_SAMPLE_LIST_INIT;
    assert_int_equal(sm_findex_search(fx, cat, &q, &out, &err), SM_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.v[0].id, id);
    sm_sample_list_release(&out);
    sm_query_release(&q);
    sm_findex_free(fx);
    /* Re-analysis of the same path rebuilds the row's text: the description stays. */
    assert_int_equal(put_file(cat, "/lib/Loops/loop_124.wav", "h1b", 0), id);
    assert_int_equal(hits(cat, "\"warm vinyl\"", &first), 1);
    assert_int_equal(first, id);
    /* Tag changes rewrite the row's text as well. */
    assert_int_equal(sm_catalog_tag(cat, id, "groove", true, &err), SM_OK);
    assert_int_equal(hits(cat, "vinyl tag:groove", NULL), 1);
    /* A move (the row takes a new path) keeps it. */
    assert_int_equal(put_file(cat, "/lib/Moved/loop_124.wav", "h1b", id), id);
    assert_int_equal(hits(cat, "vinyl", &first), 1);
    assert_int_equal(first, id);
    assert_int_equal(hits(cat, "moved", NULL), 1);
    /* A newer description replaces the text; other tasks add none. */
    a = answer("description", "{\"description\":\"Bright glassy pluck.\"}", 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    sm_catalog_ai_answer g = answer("genre", "{\"genres\":[{\"name\":\"zydeco\"}]}", 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, other, &g, &err), SM_OK);
    assert_int_equal(hits(cat, "vinyl", NULL), 0);
    assert_int_equal(hits(cat, "glassy", &first), 1);
    assert_int_equal(first, id);
    assert_int_equal(hits(cat, "zydeco", NULL), 0);
    sm_catalog_close(cat);
}

static void test_answers__deleted_with_the_sample(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("answers.db"));
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm_catalog_open(path, NULL, &err);
    assert_non_null(cat);
    int64_t id = put_file(cat, "/lib/a.wav", "ha", 0);
    int64_t keep = put_file(cat, "/lib/b.wav", "hb", 0);
    int64_t gives_way = put_file(cat, "/lib/c.wav", "hc", 0);
    sm_catalog_ai_answer a = answer("description", "{\"description\":\"gone soon\"}", 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    assert_int_equal(sm_catalog_put_ai_answer(cat, keep, &a, &err), SM_OK);
    assert_int_equal(sm_catalog_put_ai_answer(cat, gives_way, &a, &err), SM_OK);
    /* Pruned: the row and its answers go. */
    assert_int_equal(sm_catalog_set_missing(cat, id, true, &err), SM_OK);
    int64_t n = 0;
    assert_int_equal(sm_catalog_prune(cat, NULL, &n, &err), SM_OK);
    assert_int_equal(n, 1);
    struct seen s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(sm_catalog_each_ai_answer(cat, id, collect, &s, &err), SM_ENOENT);
    /* A row giving way to a moved one at its path goes with its answers. */
    assert_int_equal(put_file(cat, "/lib/c.wav", "hb", keep), keep);
    sm_catalog_close(cat);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(h, "SELECT group_concat(sample_id) FROM ai_answers", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char want[32];
    snprintf(want, sizeof(want), "%lld", (long long)keep);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
    sqlite3_finalize(st);
    sqlite3_close(h);
    unlink(path);
}

static void test_answers__sample_json_has_ai_only_when_asked(void **state)
{
    (void)state;
    sm_catalog *cat = mem();
    int64_t id = put_file(cat, "/lib/a.wav", "ha", 0);
    sm_error err = SM_ERROR_INIT;
    char *plain = sm_catalog_sample_json(cat, id, 0, &err);
    assert_non_null(plain);
    assert_null(strstr(plain, "\"ai\""));
    sm_free(plain);
    char *empty = sm_catalog_sample_json(cat, id, SM_CATALOG_JSON_AI, &err);
    assert_non_null(empty);
    assert_non_null(strstr(empty, "\"ai\":{}"));
    sm_free(empty);
    sm_catalog_ai_answer a = answer("tags", "{\"tags\":[\"dark\"]}", 1700000000);
    a.cached = true;
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    char *text = sm_catalog_sample_json(cat, id, SM_CATALOG_JSON_AI | SM_JSON_PRETTY, &err);
    assert_non_null(text);
    json_t *o = json_loads(text, 0, NULL);
    assert_non_null(o);
    json_t *t = json_object_get(json_object_get(o, "ai"), "tags");
    assert_non_null(t);
    assert_string_equal(json_string_value(json_object_get(t, "provider")), "openai");
    assert_string_equal(json_string_value(json_object_get(t, "model")), "gpt-4o-mini");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(t, "answer"), "tags"), 0)),
                        "dark");
    assert_true(json_is_true(json_object_get(t, "cached")));
    assert_near(json_number_value(json_object_get(t, "latency_ms")), 812.5, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(t, "tokens_in")), 320);
    assert_int_equal(json_integer_value(json_object_get(t, "tokens_out")), 41);
    assert_true(json_is_true(json_object_get(t, "tokens_estimated")));
    assert_near(json_number_value(json_object_get(t, "cost_usd")), 0.000072, 1e-12);
    assert_int_equal(json_integer_value(json_object_get(t, "created_at")), 1700000000);
    /* The tag answer's tag is in the record's tags too. */
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "tags"), 0)), "dark");
    json_decref(o);
    sm_free(text);
    assert_null(sm_catalog_sample_json(cat, 999, SM_CATALOG_JSON_AI, &err));
    assert_int_equal(err.code, SM_ENOENT);
    sm_catalog_close(cat);
}

static void test_answers__version_1_catalog_is_migrated(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s", tu_path("v1.db"));
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm_catalog_open(path, NULL, &err);
    assert_non_null(cat);
    int64_t id = put_file(cat, "/lib/a.wav", "ha", 0);
    sm_catalog_close(cat);
    /* Make it a version 1 catalog: no answers table. */
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(h, "DROP TABLE ai_answers; PRAGMA user_version = 1", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    /* Read-only opening cannot migrate and says so. */
    sm_catalog_opts ro = {SM_CATALOG_READONLY, 0};
    assert_null(sm_catalog_open(path, &ro, &err));
    assert_non_null(strstr(err.msg, "needs migrating"));
    cat = sm_catalog_open(path, NULL, &err);
    assert_non_null(cat);
    assert_int_equal(sm_catalog_schema_version(cat), 2);
    sm_catalog_ai_answer a = answer("description", "{\"description\":\"migrated fine\"}", 0);
    assert_int_equal(sm_catalog_put_ai_answer(cat, id, &a, &err), SM_OK);
    assert_int_equal(hits(cat, "migrated", NULL), 1);
    sm_catalog_close(cat);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers__fields_round_trip),
        cmocka_unit_test(test_answers__newer_replaces_older_is_ignored),
        cmocka_unit_test(test_answers__rejects_bad_input),
        cmocka_unit_test(test_answers__tags_answer_tags_the_sample),
        cmocka_unit_test(test_answers__description_is_searchable_and_survives),
        cmocka_unit_test(test_answers__deleted_with_the_sample),
        cmocka_unit_test(test_answers__sample_json_has_ai_only_when_asked),
        cmocka_unit_test(test_answers__version_1_catalog_is_migrated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
