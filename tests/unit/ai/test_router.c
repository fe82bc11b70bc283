#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>

#include <jansson.h>

#include <samplemind/ai.h>
#include <samplemind/alloc.h>
#include <samplemind/cache.h>
#include <samplemind/log.h>
#include "testutil.h"
#include "../net/mockproc.h"

static struct mockproc mock;
static sm_http *ctl;

static const char kick[] =
    "{\"path\":\"/lib/Kicks/Kick_01.wav\",\"duration\":0.45,\"loop\":false,"
    "\"hash\":\"blake2b:00\",\"onsets\":[0.0],"
    "\"loudness\":{\"integrated_lufs\":-6.5,\"true_peak_dbtp\":0.4,\"sample_peak_dbfs\":0.0},"
    "\"tempo\":null,\"key\":null,\"note\":{\"hz\":43.7,\"midi\":29,\"name\":\"F1\",\"cents\":3},"
    "\"category\":{\"label\":\"kick\",\"confidence\":0.9},"
    "\"timbre\":{\"brightness\":30,\"warmth\":60,\"hardness\":80,\"depth\":85,"
    "\"roughness\":20,\"boominess\":70}}";

static const char loop[] =
    "{\"path\":\"/lib/Loops/dark_loop_124.wav\",\"duration\":7.74,\"loop\":true,"
    "\"loudness\":{\"integrated_lufs\":-12,\"true_peak_dbtp\":-2,\"sample_peak_dbfs\":-2.5},"
    "\"tempo\":{\"bpm\":124,\"confidence\":0.9,\"beats\":[0,0.48]},"
    "\"key\":{\"tonic\":\"A\",\"mode\":\"minor\",\"name\":\"A minor\",\"camelot\":\"8A\"},"
    "\"category\":{\"label\":\"synth\"},"
    "\"timbre\":{\"brightness\":40,\"warmth\":50,\"hardness\":50,\"depth\":50,"
    "\"roughness\":70,\"boominess\":40}}";

static int setup(void **state)
{
    (void)state;
    if (mp_start_mock(&mock) != 0)
        return -1;
    ctl = sm_http_new(NULL, NULL);
    return ctl ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sm_http_free(ctl);
    mp_stop(&mock);
    mp_stop_all();
    return 0;
}

static void reset(const char *faults_json)
{
    assert_int_equal(mp_control(ctl, &mock, "/_mock/reset", "{}"), 0);
    if (faults_json)
        assert_int_equal(mp_control(ctl, &mock, "/_mock/faults", faults_json), 0);
}

/* A router whose providers all point at the mock; extra INI appended. */
static sm_ai *router(sm_cache *cache, const char *extra)
{
    char ini[4096];
    snprintf(ini, sizeof(ini),
             "[ai]\nbackoff_base_ms = 5\nbackoff_max_ms = 20\nmax_attempts = 2\n"
             "breaker_failures = 2\nbreaker_cooldown_ms = 300\ntimeout_ms = 3000\n"
             "[ollama]\nhost = %s\nmodel = llama3.2:3b\n"
             "[openai]\napi_key = sk-test-openai\nbase_url = %s/v1\n"
             "[anthropic]\napi_key = sk-ant-test\nbase_url = %s\n"
             "[gemini]\napi_key = g-test\nbase_url = %s\n"
             "[openai-compatible]\nbase_url = %s/compat/v1\nmodel = local-model\n%s",
             mock.url, mock.url, mock.url, mock.url, mock.url, extra ? extra : "");
    sm_ai_opts o = {0};
    o.config_text = ini;
    o.ignore_env = true;
    o.cache = cache;
    sm_error err = SM_ERROR_INIT;
    sm_ai *ai = sm_ai_new(&o, &err);
    if (!ai)
        print_error("sm_ai_new: %s\n", err.msg);
    assert_non_null(ai);
    return ai;
}

static json_t *stats(void)
{
    char *s = mp_stats(ctl, &mock);
    json_t *o = json_loads(s, 0, NULL);
    sm_free(s);
    assert_non_null(o);
    return o;
}

static json_t *last_request(json_t *st)
{
    json_t *reqs = json_object_get(st, "requests");
    return json_array_get(reqs, json_array_size(reqs) - 1);
}

static void ask(sm_ai *ai, int task, const char *provider, const char *desc, sm_ai_answer *a)
{
    sm_ai_request rq = {0};
    rq.task = task;
    rq.provider = provider;
    rq.descriptors = desc;
    sm_error err = SM_ERROR_INIT;
    sm_ai_ask(ai, &rq, a, &err);
}

static void check_shape(const char *provider, const char *path, const char *key_header,
                        const char *text_field)
{
    reset(NULL);
    sm_ai *ai = router(NULL, NULL);
    sm_ai_answer a;
    ask(ai, SM_AI_GENRE, provider, kick, &a);
    assert_true(a.ok);
    assert_true(a.valid);
    assert_string_equal(a.provider, provider);
    assert_non_null(strstr(a.json, "techno"));
    assert_false(a.cached);
    assert_false(a.tokens_estimated);
    assert_true(a.tokens_in > 0);
    assert_true(a.tokens_out > 0);
    json_t *st = stats();
    json_t *rq = last_request(st);
    const char *p = json_string_value(json_object_get(rq, "path"));
    assert_non_null(strstr(p, path));
    json_t *hdrs = json_object_get(rq, "headers");
    if (key_header)
        assert_non_null(json_object_get(hdrs, key_header));
    /* The key is never in the URL. */
    assert_null(strstr(p, "test"));
    json_t *body = json_object_get(rq, "body");
    assert_non_null(json_object_get(body, text_field));
    char *b = json_dumps(body, 0);
    assert_non_null(strstr(b, "Task: genre."));
    /* The descriptors are embedded, trimmed of per-frame data. */
    assert_non_null(strstr(b, "Kick_01.wav"));
    assert_null(strstr(b, "onsets"));
    free(b);
    json_decref(st);
    char *js = sm_ai_answer_to_json(&a);
    assert_null(strstr(js, "sk-"));
    sm_free(js);
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
}

static void test_router__openai_shape(void **state)
{
    (void)state;
    check_shape("openai", "/v1/chat/completions", "authorization", "messages");
    json_t *st = stats();
    json_t *body = json_object_get(last_request(st), "body");
    assert_string_equal(json_string_value(json_object_get(body, "model")), "gpt-4o-mini");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(body, "response_format"), "type")),
                        "json_object");
    json_decref(st);
}

static void test_router__anthropic_shape(void **state)
{
    (void)state;
    check_shape("anthropic", "/v1/messages", "x-api-key", "system");
    json_t *st = stats();
    json_t *rq = last_request(st);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rq, "headers"),
                                                          "anthropic-version")),
                        "2023-06-01");
    assert_true(json_is_integer(json_object_get(json_object_get(rq, "body"), "max_tokens")));
    json_decref(st);
}

static void test_router__gemini_shape(void **state)
{
    (void)state;
    check_shape("gemini", "/v1beta/models/gemini-1.5-flash:generateContent", "x-goog-api-key",
                "contents");
}

static void test_router__ollama_shape(void **state)
{
    (void)state;
    check_shape("ollama", "/api/chat", NULL, "messages");
    json_t *st = stats();
    json_t *body = json_object_get(last_request(st), "body");
    assert_true(json_is_false(json_object_get(body, "stream")));
    assert_string_equal(json_string_value(json_object_get(body, "model")), "llama3.2:3b");
    json_decref(st);
}

static void test_router__openai_compatible_shape(void **state)
{
    (void)state;
    check_shape("openai-compatible", "/v1/chat/completions", NULL, "messages");
}

static void test_router__every_task_validates(void **state)
{
    (void)state;
    reset(NULL);
    sm_ai *ai = router(NULL, NULL);
    for (int t = 0; t < SM_AI_TASK_COUNT; t++) {
        sm_ai_answer a;
        ask(ai, t, "openai", loop, &a);
        assert_true(a.valid);
        assert_int_equal(a.task, t);
        sm_ai_answer_release(&a);
        ask(ai, t, "builtin", loop, &a);
        assert_true(a.valid);
        assert_true(a.rule_based);
        assert_string_equal(a.provider, "builtin");
        assert_non_null(strstr(a.note, "rule-based"));
        sm_ai_answer_release(&a);
    }
    sm_ai_free(ai);
}

static void test_router__falls_back_in_order(void **state)
{
    (void)state;
    /* ollama fails twice (both attempts), then openai-compatible answers. */
    reset("{\"faults\":[\"500\",\"500\"]}");
    sm_ai *ai = router(NULL, "[ai]\nroute.genre = ollama, openai-compatible, openai, builtin\n");
    sm_ai_answer a;
    ask(ai, SM_AI_GENRE, NULL, kick, &a);
    assert_true(a.valid);
    assert_string_equal(a.provider, "openai-compatible");
    assert_non_null(strstr(a.note, "ollama failed"));
    json_t *st = stats();
    json_t *calls = json_object_get(st, "calls");
    assert_int_equal(json_integer_value(json_object_get(calls, "/api/chat")), 2);
    assert_int_equal(json_integer_value(json_object_get(calls, "/compat/v1/chat/completions")), 1);
    json_decref(st);
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
}

static void test_router__builtin_when_everything_fails(void **state)
{
    (void)state;
    reset("{\"faults\":[\"500\",\"500\",\"500\",\"500\"]}");
    sm_ai *ai = router(NULL, "[ai]\nroute.mood = ollama, openai, builtin\n");
    sm_ai_answer a;
    ask(ai, SM_AI_MOOD, NULL, loop, &a);
    assert_true(a.ok);
    assert_string_equal(a.provider, "builtin");
    assert_non_null(strstr(a.note, "openai failed"));
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
}

static void test_router__circuit_opens_and_half_opens(void **state)
{
    (void)state;
    reset("{\"faults\":[\"500\",\"500\",\"500\",\"500\"]}");
    sm_ai *ai = router(NULL, "[ai]\nroute.tags = openai, builtin\n");
    sm_ai_answer a;
    /* Two failing calls (two attempts each) open the circuit (breaker_failures = 2). */
    ask(ai, SM_AI_TAGS, NULL, kick, &a);
    assert_string_equal(a.provider, "builtin");
    sm_ai_answer_release(&a);
    ask(ai, SM_AI_TAGS, NULL, loop, &a);
    assert_string_equal(a.provider, "builtin");
    sm_ai_answer_release(&a);
    char *pj = sm_ai_providers_json(ai, false);
    assert_non_null(strstr(pj, "\"state\":\"open\""));
    sm_free(pj);
    /* Open: skipped without a call. */
    json_t *st = stats();
    json_int_t before = json_integer_value(json_object_get(st, "total"));
    json_decref(st);
    ask(ai, SM_AI_TAGS, NULL, kick, &a);
    assert_string_equal(a.provider, "builtin");
    assert_non_null(strstr(a.note, "circuit open"));
    sm_ai_answer_release(&a);
    st = stats();
    assert_int_equal(json_integer_value(json_object_get(st, "total")), before);
    json_decref(st);
    /* After the cool-down one probe goes through; it succeeds and closes it. */
    mp_sleep_ms(350);
    ask(ai, SM_AI_TAGS, NULL, kick, &a);
    assert_string_equal(a.provider, "openai");
    sm_ai_answer_release(&a);
    pj = sm_ai_providers_json(ai, false);
    assert_null(strstr(pj, "\"state\":\"open\""));
    sm_free(pj);
    sm_ai_free(ai);
}

static void test_router__budget_cuts_off_paid_providers(void **state)
{
    (void)state;
    reset(NULL);
    /* 321 in + 45 out tokens at $1000/M each is about $0.37 a call; budget $0.50. */
    sm_ai *ai = router(NULL, "[ai]\ndaily_budget = 0.50\nroute.genre = openai, builtin\n"
                             "[prices]\ngpt-4o-mini = 1000, 1000\n");
    sm_ai_answer a;
    ask(ai, SM_AI_GENRE, NULL, kick, &a);
    assert_string_equal(a.provider, "openai");
    assert_true(a.cost > 0.36 && a.cost < 0.37);
    sm_ai_answer_release(&a);
    ask(ai, SM_AI_GENRE, NULL, loop, &a);
    assert_string_equal(a.provider, "openai");
    sm_ai_answer_release(&a);
    assert_true(sm_ai_spent_today(ai) > 0.5);
    ask(ai, SM_AI_GENRE, NULL, kick, &a);
    assert_string_equal(a.provider, "builtin");
    assert_non_null(strstr(a.note, "daily budget"));
    sm_ai_answer_release(&a);
    /* A local provider is not paid: still used. */
    ask(ai, SM_AI_GENRE, "ollama", kick, &a);
    assert_string_equal(a.provider, "ollama");
    assert_true(a.cost <= 0.0);
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
}

static void test_router__invalid_answer_repaired_once(void **state)
{
    (void)state;
    reset("{\"faults\":[\"invalid\"]}");
    sm_ai *ai = router(NULL, NULL);
    sm_ai_answer a;
    ask(ai, SM_AI_GENRE, "openai", kick, &a);
    assert_true(a.valid);
    assert_non_null(strstr(a.note, "repair"));
    json_t *st = stats();
    assert_int_equal(json_integer_value(json_object_get(st, "total")), 2);
    /* The repair turn carries the bad answer and the instruction. */
    char *b = json_dumps(json_object_get(last_request(st), "body"), 0);
    assert_non_null(strstr(b, "not valid"));
    free(b);
    json_decref(st);
    sm_ai_answer_release(&a);
    /* Invalid twice: reported as invalid, with the raw text. */
    reset("{\"faults\":[\"invalid\",\"invalid\"]}");
    ask(ai, SM_AI_GENRE, "openai", kick, &a);
    assert_true(a.ok);
    assert_false(a.valid);
    assert_null(a.json);
    assert_non_null(a.raw);
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
}

static void test_router__malformed_reply_falls_back(void **state)
{
    (void)state;
    reset("{\"faults\":[\"malformed\"]}");
    sm_ai *ai = router(NULL, "[ai]\nroute.description = openai, anthropic\n");
    sm_ai_answer a;
    ask(ai, SM_AI_DESCRIPTION, NULL, kick, &a);
    assert_true(a.valid);
    assert_string_equal(a.provider, "anthropic");
    assert_non_null(strstr(a.note, "malformed"));
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
}

static void test_router__cache_hit_and_provider_clear(void **state)
{
    (void)state;
    reset(NULL);
    sm_cache *c = sm_cache_open(tu_path("router-cache.db"), NULL, NULL);
    assert_non_null(c);
    sm_cache_clear(c, NULL, NULL, NULL);
    sm_ai *ai = router(c, NULL);
    sm_ai_answer a;
    ask(ai, SM_AI_MOOD, "anthropic", loop, &a);
    assert_false(a.cached);
    double cost = a.cost_estimate;
    sm_ai_answer_release(&a);
    ask(ai, SM_AI_MOOD, "anthropic", loop, &a);
    assert_true(a.cached);
    assert_true(a.valid);
    assert_true(a.cost <= 0.0);
    assert_true(a.cost_estimate >= cost && a.cost_estimate <= cost);
    assert_true(a.tokens_in == 300 && a.tokens_out == 40);
    sm_ai_answer_release(&a);
    json_t *st = stats();
    assert_int_equal(json_integer_value(json_object_get(st, "total")), 1);
    json_decref(st);
    uint64_t removed = 0;
    assert_int_equal(sm_cache_clear(c, "anthropic", &removed, NULL), SM_OK);
    assert_int_equal(removed, 1);
    ask(ai, SM_AI_MOOD, "anthropic", loop, &a);
    assert_false(a.cached);
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
    sm_cache_close(c);
}

static void test_router__cached_reply_is_the_answer_bytes(void **state)
{
    (void)state;
    reset(NULL);
    sm_cache *c = sm_cache_open(tu_path("router-fast.db"), NULL, NULL);
    assert_non_null(c);
    sm_cache_clear(c, NULL, NULL, NULL);
    sm_ai *ai = router(c, NULL);
    sm_ai_request rq = {0};
    rq.task = SM_AI_GENRE;
    rq.provider = "openai";
    rq.descriptors = kick;
    char *r = NULL;
    size_t n = 0;
    /* Nothing cached yet: the full router must answer. */
    assert_false(sm_ai_cached_reply(ai, &rq, &r, &n));
    assert_null(r);
    sm_ai_answer a;
    ask(ai, SM_AI_GENRE, "openai", kick, &a);
    assert_false(a.cached);
    sm_ai_answer_release(&a);
    ask(ai, SM_AI_GENRE, "openai", kick, &a);
    assert_true(a.cached);
    char *slow = sm_ai_answer_to_json(&a);
    sm_ai_answer_release(&a);
    assert_true(sm_ai_cached_reply(ai, &rq, &r, &n));
    json_t *fast = json_loadb(r, n, 0, NULL);
    json_t *full = json_loads(slow, 0, NULL);
    assert_non_null(fast);
    assert_non_null(full);
    /* The same reply as the full path, but for the latency. */
    assert_true(json_number_value(json_object_get(fast, "latency_ms")) >= 0.0);
    json_object_del(fast, "latency_ms");
    json_object_del(full, "latency_ms");
    assert_true(json_equal(fast, full));
    assert_true(json_is_true(json_object_get(fast, "cached")));
    assert_true(json_number_value(json_object_get(fast, "cost")) <= 0.0);
    json_decref(fast);
    json_decref(full);
    sm_free(slow);
    sm_free(r);
    /* Other bytes, model, task or flags are not this entry. */
    rq.descriptors = loop;
    assert_false(sm_ai_cached_reply(ai, &rq, &r, &n));
    rq.descriptors = kick;
    rq.model = "gpt-4o";
    assert_false(sm_ai_cached_reply(ai, &rq, &r, &n));
    rq.model = NULL;
    rq.task = SM_AI_MOOD;
    assert_false(sm_ai_cached_reply(ai, &rq, &r, &n));
    rq.task = SM_AI_GENRE;
    rq.flags = SM_AI_NO_CACHE_READ;
    assert_false(sm_ai_cached_reply(ai, &rq, &r, &n));
    rq.flags = 0;
    /* The builtin rules are never served from the cache. */
    rq.provider = "builtin";
    assert_false(sm_ai_cached_reply(ai, &rq, &r, &n));
    rq.provider = "openai";
    assert_true(sm_ai_cached_reply(ai, &rq, &r, &n));
    sm_free(r);
    /* Clearing the provider's entries ends the hits. */
    assert_int_equal(sm_cache_clear(c, "openai", NULL, NULL), SM_OK);
    assert_false(sm_ai_cached_reply(ai, &rq, &r, &n));
    /* One upstream call in all. */
    json_t *st = stats();
    assert_int_equal(json_integer_value(json_object_get(st, "total")), 1);
    json_decref(st);
    sm_ai_free(ai);
    sm_cache_close(c);
}

static void test_router__transport_failures_have_their_status(void **state)
{
    (void)state;
    /* A provider that never answers: a timeout. */
    reset("{\"faults\":[\"hang\",\"hang\"]}");
    sm_ai *ai = router(NULL, "[ai]\ntimeout_ms = 300\nmax_attempts = 1\n");
    sm_ai_request rq = {0};
    rq.task = SM_AI_GENRE;
    rq.provider = "openai";
    rq.descriptors = kick;
    sm_ai_answer a;
    sm_error err = SM_ERROR_INIT;
    assert_int_equal(sm_ai_ask(ai, &rq, &a, &err), SM_ETIMEOUT);
    assert_int_equal(a.status, SM_ETIMEOUT);
    assert_int_equal(err.code, SM_ETIMEOUT);
    char *js = sm_ai_answer_to_json(&a);
    assert_non_null(strstr(js, "\"status\":\"timeout\""));
    sm_free(js);
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
    /* Nobody listening: unavailable. */
    reset(NULL);
    char extra[256];
    snprintf(extra, sizeof(extra), "[openai]\nbase_url = http://127.0.0.1:%d/v1\n",
             mp_free_port());
    ai = router(NULL, extra);
    assert_int_equal(sm_ai_ask(ai, &rq, &a, &err), SM_EUNAVAILABLE);
    assert_int_equal(a.status, SM_EUNAVAILABLE);
    assert_string_equal(sm_status_name(err.code), "unavailable");
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
}

struct many {
    int done;
    int valid;
    int cached;
};

static void on_answer(sm_ai_answer *a, void *ud)
{
    struct many *m = ud;
    if (a->valid)
        __atomic_add_fetch(&m->valid, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&m->done, 1, __ATOMIC_SEQ_CST);
}

static void test_router__single_flight_100_identical(void **state)
{
    (void)state;
    reset("{\"faults\":[],\"latency_ms\":300}");
    sm_ai *ai = router(NULL, NULL);
    struct many m = {0, 0, 0};
    sm_ai_request rq = {0};
    rq.task = SM_AI_PAIRING;
    rq.provider = "openai";
    rq.descriptors = loop;
    for (int i = 0; i < 100; i++)
        assert_int_equal(sm_ai_ask_async(ai, &rq, on_answer, &m, NULL), SM_OK);
    double t = mp_now_ms();
    while (__atomic_load_n(&m.done, __ATOMIC_SEQ_CST) < 100 && mp_now_ms() - t < 10000.0)
        mp_sleep_ms(5);
    assert_int_equal(m.done, 100);
    assert_int_equal(m.valid, 100);
    assert_int_equal(sm_ai_upstream_calls(ai), 1);
    json_t *st = stats();
    assert_int_equal(json_integer_value(json_object_get(st, "total")), 1);
    json_decref(st);
    sm_ai_free(ai);
    reset(NULL);
}

static void test_router__simulate_makes_no_call(void **state)
{
    (void)state;
    reset(NULL);
    sm_ai *ai = router(NULL, "[ai]\nroute.genre = openai, builtin\n");
    sm_ai_request rq = {0};
    rq.task = SM_AI_GENRE;
    rq.descriptors = kick;
    rq.flags = SM_AI_SIMULATE;
    sm_ai_answer a;
    assert_int_equal(sm_ai_ask(ai, &rq, &a, NULL), SM_OK);
    assert_true(a.simulated);
    assert_string_equal(a.provider, "openai");
    assert_true(a.cost_estimate > 0.0);
    assert_true(a.cost <= 0.0);
    sm_ai_answer_release(&a);
    json_t *st = stats();
    assert_int_equal(json_integer_value(json_object_get(st, "total")), 0);
    json_decref(st);
    sm_ai_free(ai);
}

static void test_router__rejects_bad_input(void **state)
{
    (void)state;
    sm_ai *ai = router(NULL, NULL);
    sm_ai_request rq = {0};
    sm_error err = SM_ERROR_INIT;
    sm_ai_answer a;
    rq.task = 99;
    rq.descriptors = kick;
    assert_int_equal(sm_ai_ask(ai, &rq, &a, &err), SM_EINVAL);
    rq.task = SM_AI_GENRE;
    rq.descriptors = "[1,2]";
    assert_int_equal(sm_ai_ask(ai, &rq, &a, &err), SM_EINVAL);
    rq.descriptors = kick;
    rq.provider = "skynet";
    assert_int_equal(sm_ai_ask(ai, &rq, &a, &err), SM_EINVAL);
    sm_ai_free(ai);
    /* An unconfigured forced provider is an answer with an error, not a crash. */
    sm_ai_opts o = {0};
    o.ignore_env = true;
    ai = sm_ai_new(&o, NULL);
    rq.provider = "openai";
    assert_int_equal(sm_ai_ask(ai, &rq, &a, &err), SM_EUNAVAILABLE);
    assert_non_null(strstr(err.msg, "not configured"));
    sm_ai_answer_release(&a);
    sm_ai_free(ai);
    /* Bad config values name the key, never the value. */
    o.config_text = "[openai]\napi_key = sk-abc\nfoo = sk-secret\n";
    assert_null(sm_ai_new(&o, &err));
    assert_int_equal(err.code, SM_EINVAL);
    assert_null(strstr(err.msg, "sk-"));
}

static void test_router__world_readable_config_with_key_refused(void **state)
{
    (void)state;
    const char *p = tu_path("ai.ini");
    FILE *f = fopen(p, "w");
    fputs("[openai]\napi_key = sk-file-key\n", f);
    fclose(f);
    chmod(p, 0644);
    sm_ai_opts o = {0};
    o.ignore_env = true;
    o.config_path = p;
    sm_error err = SM_ERROR_INIT;
    assert_null(sm_ai_new(&o, &err));
    assert_int_equal(err.code, SM_EACCES);
    assert_null(strstr(err.msg, "sk-file-key"));
    chmod(p, 0600);
    sm_ai *ai = sm_ai_new(&o, &err);
    assert_non_null(ai);
    char *pj = sm_ai_providers_json(ai, false);
    assert_null(strstr(pj, "sk-file-key"));
    sm_free(pj);
    sm_ai_free(ai);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router__openai_shape),
        cmocka_unit_test(test_router__anthropic_shape),
        cmocka_unit_test(test_router__gemini_shape),
        cmocka_unit_test(test_router__ollama_shape),
        cmocka_unit_test(test_router__openai_compatible_shape),
        cmocka_unit_test(test_router__every_task_validates),
        cmocka_unit_test(test_router__falls_back_in_order),
        cmocka_unit_test(test_router__builtin_when_everything_fails),
        cmocka_unit_test(test_router__circuit_opens_and_half_opens),
        cmocka_unit_test(test_router__budget_cuts_off_paid_providers),
        cmocka_unit_test(test_router__invalid_answer_repaired_once),
        cmocka_unit_test(test_router__malformed_reply_falls_back),
        cmocka_unit_test(test_router__cache_hit_and_provider_clear),
        cmocka_unit_test(test_router__single_flight_100_identical),
        cmocka_unit_test(test_router__simulate_makes_no_call),
        cmocka_unit_test(test_router__rejects_bad_input),
        cmocka_unit_test(test_router__world_readable_config_with_key_refused),
        cmocka_unit_test(test_router__cached_reply_is_the_answer_bytes),
        cmocka_unit_test(test_router__transport_failures_have_their_status),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
