/* The router: provider preference, circuit breakers, budget, cache, single-flight,
 * validation with one repair, and the asynchronous call state machine. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <samplemind/alloc.h>
#include <samplemind/log.h>

#include "ai/ai_int.h"
#include "cache/flight.h"

enum { BR_CLOSED = 0, BR_OPEN = 1, BR_HALF_OPEN = 2 };
static const char *const br_names[] = {"closed", "open", "half-open"};

struct breaker {
    int state;
    int failures;
    double opened_ms;
    bool probing;
};

/* Upstream latency histogram bounds, seconds. */
static const double lat_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define N_LAT (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

struct pstats {
    unsigned long long lat_bucket[N_LAT + 1];
    unsigned long long calls;
    unsigned long long failures;
    unsigned long long cache_hits;
    double latency_ms_sum;
    long long tokens_in;
    long long tokens_out;
    double cost;
};

struct sm_ai {
    struct sm__ai_config cfg;
    sm_cache *cache;
    sm_http *http;
    struct sm__flight *flight;
    pthread_mutex_t lock; /* breakers, stats, spending */
    struct breaker br[SM_AI_PROVIDER_COUNT];
    struct pstats st[SM_AI_PROVIDER_COUNT];
    char day[16];
    double spent;
    char ledger[512];
    double ledger_read_ms; /* when the ledger was last read (monotonic) */
    unsigned long long upstream;
    /* Per task: BLAKE2b of the key version, the system prompt, the task's prompt
     * template and the generation parameters (see request_key). */
    unsigned char key_base[SM_AI_TASK_COUNT][32];
};

struct call {
    sm_ai *ai;
    int task;
    unsigned flags;
    int forced;
    char model_override[64];
    char *canonical;
    char *raw_desc; /* the descriptors' bytes as given (they key the cache) */
    size_t raw_len;
    json_t *desc;
    char *prompt;
    json_t *messages;
    int cand[SM_AI_PROVIDER_COUNT];
    int n_cand;
    int idx;
    int cur;
    char model[64];
    bool repaired;
    bool joined_flight;
    char flight_key[SM_CACHE_KEY_SIZE];
    char cache_key[SM_CACHE_KEY_SIZE];
    double t0;
    double t_up;
    sm_ai_answer ans;
    sm_ai_done_fn fn;
    void *userdata;
};

struct follower {
    sm_ai_done_fn fn;
    void *userdata;
    double t0;
    int task;
};

static void advance(struct call *c);

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void today(char out[16])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static char *dump(json_t *o)
{
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(8)) : NULL;
    char *r = t ? sm_strdup(t) : NULL;
    free(t);
    return r;
}

static void note(sm_ai_answer *a, const char *fmt, ...) SM_PRINTF(2, 3);
static void note(sm_ai_answer *a, const char *fmt, ...)
{
    size_t n = strlen(a->note);
    if (n + 3 >= sizeof(a->note))
        return;
    if (n) {
        memcpy(a->note + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->note + n, sizeof(a->note) - n, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------- answers */

void sm_ai_answer_init(sm_ai_answer *a)
{
    memset(a, 0, sizeof(*a));
    a->task = -1;
    a->tokens_in = 0;
    a->tokens_out = 0;
}

void sm_ai_answer_release(sm_ai_answer *a)
{
    if (!a)
        return;
    sm_free(a->json);
    sm_free(a->raw);
    sm_ai_answer_init(a);
}

static int answer_copy(sm_ai_answer *dst, const sm_ai_answer *src)
{
    *dst = *src;
    dst->json = src->json ? sm_strdup(src->json) : NULL;
    dst->raw = src->raw ? sm_strdup(src->raw) : NULL;
    return (src->json && !dst->json) || (src->raw && !dst->raw) ? -1 : 0;
}

/* The answer object; latency_ms only when \p with_latency; \p parsed (borrowed, may
 * be NULL) is a->json already parsed. */
static json_t *answer_object(const sm_ai_answer *a, bool with_latency, json_t *parsed)
{
    json_t *ans = NULL;
    if (parsed)
        ans = json_incref(parsed);
    else if (a->json)
        ans = json_loads(a->json, 0, NULL);
    json_t *o = json_pack(
        "{s:s, s:b, s:s, s:s, s:o, s:b, s:b, s:b, s:{s:I, s:I, s:b}, s:f, s:f}", "task",
        sm_ai_task_name(a->task), "ok", a->ok, "provider", a->provider, "model", a->model,
        "answer", ans ? ans : json_null(), "valid", a->valid, "cached", a->cached, "rule_based",
        a->rule_based, "tokens", "input", (json_int_t)a->tokens_in, "output",
        (json_int_t)a->tokens_out, "estimated", a->tokens_estimated, "cost", a->cost,
        "cost_estimate", a->cost_estimate);
    if (!o)
        return NULL;
    if (with_latency)
        json_object_set_new(o, "latency_ms", json_real(round(a->latency_ms * 1000.0) / 1000.0));
    if (a->simulated)
        json_object_set_new(o, "simulated", json_true());
    if (a->raw)
        json_object_set_new(o, "raw", json_string(a->raw));
    if (a->note[0])
        json_object_set_new(o, "note", json_string(a->note));
    if (!a->ok) {
        json_object_set_new(o, "error", json_string(a->error));
        json_object_set_new(o, "status",
                            json_string(sm_status_name(a->status != SM_OK ? a->status
                                                                          : SM_EUNAVAILABLE)));
    }
    return o;
}

char *sm_ai_answer_to_json(const sm_ai_answer *a)
{
    json_t *o = answer_object(a, true, NULL);
    char *r = dump(o);
    json_decref(o);
    return r;
}

/* ----------------------------------------------------------- spending */

static void ledger_load(sm_ai *ai)
{
    today(ai->day);
    if (ai->ledger[0])
        ai->spent = sm__ai_spend_read(ai->ledger, ai->day);
}

/* Under ai->lock. The file's total includes what other processes spent. */
static void ledger_add(sm_ai *ai, double dollars)
{
    char d[16];
    today(d);
    if (strcmp(d, ai->day)) {
        memcpy(ai->day, d, sizeof(d));
        ai->spent = 0.0;
    }
    if (!ai->ledger[0]) {
        ai->spent += dollars;
        return;
    }
    double total = 0.0;
    if (sm__ai_spend_add(ai->ledger, ai->day, ai->spent, dollars, &total) != 0)
        SM_LOG(SM_LOG_WARN, "ai: cannot record today's spending in %s", ai->ledger);
    ai->spent = total;
}

/* What every process of the data dir spent today: the ledger is read again at
 * most once a second, so another process's spending (ai warm beside a server)
 * counts against the budget within a second; our own counts at once. */
double sm_ai_spent_today(sm_ai *ai)
{
    pthread_mutex_lock(&ai->lock);
    double t = now_ms();
    if (ai->ledger[0] && t - ai->ledger_read_ms >= 1000.0) {
        ai->ledger_read_ms = t;
        char d[16];
        today(d);
        if (strcmp(d, ai->day)) {
            memcpy(ai->day, d, sizeof(d));
            ai->spent = 0.0;
        }
        double file = sm__ai_spend_read(ai->ledger, ai->day);
        if (file > ai->spent)
            ai->spent = file;
    }
    char d[16];
    today(d);
    double s = strcmp(d, ai->day) ? 0.0 : ai->spent;
    pthread_mutex_unlock(&ai->lock);
    return s;
}

/* ----------------------------------------------------------- breakers */

/* May provider p be called now? Moves open -> half-open after the cool-down. */
static bool breaker_allow(sm_ai *ai, int p, char *why, size_t whylen)
{
    pthread_mutex_lock(&ai->lock);
    struct breaker *b = &ai->br[p];
    bool ok = true;
    if (b->state == BR_OPEN) {
        double t = now_ms();
        if (t - b->opened_ms >= (double)ai->cfg.breaker_cooldown_ms) {
            b->state = BR_HALF_OPEN;
            b->probing = true;
        } else {
            ok = false;
            snprintf(why, whylen, "%s skipped: circuit open after %d consecutive failures",
                     sm_ai_provider_name(p), b->failures);
        }
    } else if (b->state == BR_HALF_OPEN) {
        if (b->probing) {
            ok = false;
            snprintf(why, whylen, "%s skipped: circuit half-open, a probe is in flight",
                     sm_ai_provider_name(p));
        } else {
            b->probing = true;
        }
    }
    pthread_mutex_unlock(&ai->lock);
    return ok;
}

static void breaker_result(sm_ai *ai, int p, bool success)
{
    pthread_mutex_lock(&ai->lock);
    struct breaker *b = &ai->br[p];
    b->probing = false;
    if (success) {
        b->state = BR_CLOSED;
        b->failures = 0;
    } else {
        b->failures++;
        if (b->state == BR_HALF_OPEN || b->failures >= ai->cfg.breaker_failures) {
            if (b->state != BR_OPEN)
                SM_LOG(SM_LOG_WARN, "ai: %s circuit opened after %d consecutive failures",
                       sm_ai_provider_name(p), b->failures);
            b->state = BR_OPEN;
            b->opened_ms = now_ms();
        }
    }
    pthread_mutex_unlock(&ai->lock);
}

static bool over_budget(sm_ai *ai, int p, char *why, size_t whylen)
{
    if (!ai->cfg.p[p].paid || ai->cfg.daily_budget < 0.0)
        return false;
    double spent = sm_ai_spent_today(ai);
    if (spent < ai->cfg.daily_budget)
        return false;
    snprintf(why, whylen, "%s skipped: daily budget of $%.2f reached ($%.4f spent today)",
             sm_ai_provider_name(p), ai->cfg.daily_budget, spent);
    return true;
}

/* -------------------------------------------------------------- lifecycle */

static bool ollama_answers(const char *base_url)
{
    /* A TCP connect with a short timeout: refused or silent means "not there". */
    const char *h = strstr(base_url, "://");
    h = h ? h + 3 : base_url;
    char host[64];
    size_t n = strcspn(h, ":/");
    if (n >= sizeof(host))
        return false;
    memcpy(host, h, n);
    host[n] = '\0';
    int port = h[n] == ':' ? atoi(h + n + 1) : 80;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return false;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        ok = true;
    } else if (errno == EINPROGRESS) {
        struct pollfd pf = {fd, POLLOUT, 0};
        if (poll(&pf, 1, 50) == 1) {
            int e = 0;
            socklen_t el = sizeof(e);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
            ok = e == 0;
        }
    }
    close(fd);
    return ok;
}

/* Bumped whenever the prompt or the cached value's format changes meaning. */
#define KEY_VERSION "samplemind-ai-key-v2"

static int key_bases(sm_ai *ai)
{
    for (int t = 0; t < SM_AI_TASK_COUNT; t++) {
        char *tmpl = sm__ai_user_prompt(t, "");
        if (!tmpl)
            return -1;
        char params[96];
        int n = snprintf(params, sizeof(params), "|%.6f|%d|", ai->cfg.temperature,
                         ai->cfg.max_tokens);
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, 32);
        crypto_generichash_update(&st, (const unsigned char *)KEY_VERSION, sizeof(KEY_VERSION));
        crypto_generichash_update(&st, (const unsigned char *)sm__ai_system_prompt,
                                  strlen(sm__ai_system_prompt) + 1);
        crypto_generichash_update(&st, (const unsigned char *)tmpl, strlen(tmpl) + 1);
        crypto_generichash_update(&st, (const unsigned char *)params, (size_t)n);
        crypto_generichash_final(&st, ai->key_base[t], 32);
        sm_free(tmpl);
    }
    return 0;
}

/* The cache key of a request: "<provider>:" + hex BLAKE2b-256 of the task's base
 * digest, the provider, the model and the descriptors' bytes as given. Two requests
 * with the same bytes get the same prompt, so they may share the answer; the
 * descriptors are never parsed or re-encoded for this. */
static void request_key(const sm_ai *ai, int task, int p, const char *model, const char *desc,
                        size_t len, char out[SM_CACHE_KEY_SIZE])
{
    const char *pn = sm_ai_provider_name(p);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, ai->key_base[task], 32);
    crypto_generichash_update(&st, (const unsigned char *)pn, strlen(pn) + 1);
    crypto_generichash_update(&st, (const unsigned char *)model, strlen(model) + 1);
    crypto_generichash_update(&st, (const unsigned char *)desc, len);
    unsigned char d[32];
    crypto_generichash_final(&st, d, sizeof(d));
    size_t n = strlen(pn);
    memcpy(out, pn, n);
    out[n] = ':';
    sodium_bin2hex(out + n + 1, 65, d, sizeof(d));
}

sm_ai *sm_ai_new(const sm_ai_opts *opts, sm_error *err)
{
    sm_ai_opts o = {0};
    if (opts)
        o = *opts;
    sm_ai *ai = sm_calloc(1, sizeof(*ai));
    if (!ai) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&ai->lock, NULL);
    sm__ai_config_defaults(&ai->cfg);
    if (o.config_path && sm__ai_config_load_file(&ai->cfg, o.config_path, err) != SM_OK)
        goto fail;
    if (!o.ignore_env)
        sm__ai_config_apply_env(&ai->cfg);
    if (o.config_text &&
        sm__ai_config_apply_ini(&ai->cfg, o.config_text, "settings", err) != SM_OK)
        goto fail;
    if (!ai->cfg.ollama_explicit && !o.ignore_env)
        ai->cfg.p[SM_AI_P_OLLAMA].configured =
            ollama_answers(ai->cfg.p[SM_AI_P_OLLAMA].base_url);
    if (key_bases(ai) != 0) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        goto fail;
    }
    ai->cache = o.cache;
    if (o.data_dir)
        snprintf(ai->ledger, sizeof(ai->ledger), "%s/ai-spend.json", o.data_dir);
    ledger_load(ai);
    sm_http_opts ho = {0};
    ho.connect_timeout_ms = ai->cfg.connect_timeout_ms;
    ho.timeout_ms = ai->cfg.timeout_ms;
    ho.max_attempts = ai->cfg.max_attempts;
    ho.backoff_base_ms = ai->cfg.backoff_base_ms;
    ho.backoff_max_ms = ai->cfg.backoff_max_ms;
    ho.max_body = 4u << 20;
    ai->http = sm_http_new(&ho, err);
    if (!ai->http)
        goto fail;
    ai->flight = sm__flight_new();
    if (!ai->flight) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        goto fail;
    }
    return ai;
fail:
    sm_ai_free(ai);
    return NULL;
}

void sm_ai_free(sm_ai *ai)
{
    if (!ai)
        return;
    /* Cancels calls in flight: their callbacks run (with errors) before this returns. */
    sm_http_free(ai->http);
    sm__flight_free(ai->flight);
    pthread_mutex_destroy(&ai->lock);
    sodium_memzero(&ai->cfg, sizeof(ai->cfg));
    sm_free(ai);
}

sm_cache *sm_ai_cache(sm_ai *ai)
{
    return ai ? ai->cache : NULL;
}

sm_http *sm_ai_http(sm_ai *ai)
{
    return ai ? ai->http : NULL;
}

unsigned long long sm_ai_upstream_calls(sm_ai *ai)
{
    pthread_mutex_lock(&ai->lock);
    unsigned long long n = ai->upstream;
    pthread_mutex_unlock(&ai->lock);
    return n;
}

/* ------------------------------------------------------------------ calls */

static void call_free(struct call *c)
{
    if (!c)
        return;
    sm_free(c->canonical);
    sm_free(c->raw_desc);
    sm_free(c->prompt);
    json_decref(c->desc);
    json_decref(c->messages);
    sm_ai_answer_release(&c->ans);
    sm_free(c);
}

static void on_follower(void *result, void *userdata)
{
    struct follower *f = userdata;
    sm_ai_answer a;
    sm_ai_answer_init(&a);
    if (result) {
        answer_copy(&a, result);
    } else {
        a.task = f->task;
        a.status = SM_EUNAVAILABLE;
        snprintf(a.error, sizeof(a.error), "cancelled: the router was shut down");
    }
    a.latency_ms = now_ms() - f->t0;
    /* The leader paid; a follower's copy cost nothing. */
    a.cost = 0.0;
    f->fn(&a, f->userdata);
    sm_ai_answer_release(&a);
    sm_free(f);
}

static void finish(struct call *c)
{
    c->ans.latency_ms = now_ms() - c->t0;
    if (c->ans.ok && c->ans.provider[0]) {
        int p = sm_ai_provider_from_name(c->ans.provider);
        pthread_mutex_lock(&c->ai->lock);
        if (p >= 0 && c->ans.cached)
            c->ai->st[p].cache_hits++;
        pthread_mutex_unlock(&c->ai->lock);
    }
    if (c->joined_flight)
        sm__flight_done(c->ai->flight, c->flight_key, &c->ans);
    c->fn(&c->ans, c->userdata);
    call_free(c);
}

static void fail_all(struct call *c)
{
    c->ans.ok = false;
    if (c->ans.status == SM_OK)
        c->ans.status = SM_EUNAVAILABLE;
    if (!c->ans.error[0])
        snprintf(c->ans.error, sizeof(c->ans.error), "no provider could answer%s%.200s",
                 c->ans.note[0] ? ": " : "", c->ans.note);
    finish(c);
}

static const char *str_or(const json_t *v)
{
    const char *t = json_string_value(v);
    return t ? t : "";
}

/* Fills the answer from a cached value (the answer object, see cache_store). */
static bool answer_from_value(sm_ai_answer *a, const char *v, size_t n)
{
    json_t *o = json_loadb(v, n, 0, NULL);
    json_t *ans = json_object_get(o, "answer");
    if (!json_is_object(ans) || !json_is_true(json_object_get(o, "cached"))) {
        json_decref(o);
        return false;
    }
    sm_free(a->json);
    a->json = dump(ans);
    a->ok = a->json != NULL;
    a->valid = a->ok;
    a->cached = true;
    a->rule_based = json_is_true(json_object_get(o, "rule_based"));
    snprintf(a->provider, sizeof(a->provider), "%s",
             str_or(json_object_get(o, "provider")));
    snprintf(a->model, sizeof(a->model), "%s", str_or(json_object_get(o, "model")));
    json_t *tk = json_object_get(o, "tokens");
    a->tokens_in = (long)json_integer_value(json_object_get(tk, "input"));
    a->tokens_out = (long)json_integer_value(json_object_get(tk, "output"));
    a->tokens_estimated = json_is_true(json_object_get(tk, "estimated"));
    a->cost = 0.0;
    a->cost_estimate = json_number_value(json_object_get(o, "cost_estimate"));
    json_decref(o);
    return a->ok;
}

/* Tries the cache for provider p; fills the answer on a hit. */
static bool cache_lookup(struct call *c, int p)
{
    (void)p;
    if (!c->ai->cache)
        return false;
    char *v = NULL;
    size_t n = 0;
    if (sm_cache_get(c->ai->cache, c->cache_key, &v, &n) != SM_CACHE_HIT)
        return false;
    bool ok = answer_from_value(&c->ans, v, n);
    sm_free(v);
    return ok;
}

/* Stores the answer as the final reply object of a cache hit without its latency:
 * a hit is then sent as these bytes with the latency put in front
 * (sm_ai_cached_reply), never parsed or re-encoded. */
static void cache_store(struct call *c, json_t *answer)
{
    if (!c->ai->cache)
        return;
    sm_ai_answer h;
    sm_ai_answer_init(&h);
    h.task = c->task;
    h.ok = true;
    h.valid = true;
    h.cached = true;
    snprintf(h.provider, sizeof(h.provider), "%s", c->ans.provider);
    snprintf(h.model, sizeof(h.model), "%s", c->model);
    h.tokens_in = c->ans.tokens_in;
    h.tokens_out = c->ans.tokens_out;
    h.tokens_estimated = c->ans.tokens_estimated;
    h.cost = 0.0;
    h.cost_estimate = c->ans.cost_estimate;
    json_t *o = answer_object(&h, false, answer);
    char *v = dump(o);
    json_decref(o);
    if (v)
        sm_cache_put(c->ai->cache, c->cache_key, v, strlen(v), c->ai->cfg.cache_ttl_s);
    sm_free(v);
}

static void answer_builtin(struct call *c)
{
    json_t *a = sm__ai_builtin_answer(c->task, c->desc);
    char *txt = dump(a);
    json_decref(a);
    char why[128] = "";
    json_t *v = txt ? sm__ai_validate(c->task, txt, why, sizeof(why)) : NULL;
    sm_free(txt);
    c->ans.ok = true;
    c->ans.rule_based = true;
    c->ans.valid = v != NULL;
    c->ans.json = dump(v);
    json_decref(v);
    snprintf(c->ans.provider, sizeof(c->ans.provider), "builtin");
    snprintf(c->ans.model, sizeof(c->ans.model), "%s", c->model);
    c->ans.tokens_in = 0;
    c->ans.tokens_out = 0;
    note(&c->ans, "rule-based answer from the descriptors (no model)");
    if (!c->ans.valid)
        snprintf(c->ans.error, sizeof(c->ans.error), "builtin rules: %s", why);
}

static void on_http(sm_http_response *r, void *userdata);

static int submit(struct call *c, int p)
{
    sm_ai *ai = c->ai;
    struct sm__ai_wire w;
    sm_error err = SM_ERROR_INIT;
    if (sm__ai_wire_build(p, &ai->cfg.p[p], c->model, &ai->cfg, c->messages, &w, &err) != SM_OK) {
        note(&c->ans, "%s: %s", sm_ai_provider_name(p), err.msg);
        return -1;
    }
    sm_http_request rq = {0};
    rq.url = w.url;
    rq.headers = (const char *const *)w.headers;
    rq.body = w.body;
    rq.body_len = strlen(w.body);
    rq.timeout_ms = ai->cfg.timeout_ms;
    rq.deadline_ms = ai->cfg.timeout_ms;
    c->t_up = now_ms();
    pthread_mutex_lock(&ai->lock);
    ai->upstream++;
    ai->st[p].calls++;
    pthread_mutex_unlock(&ai->lock);
    sm_status st = sm_http_submit(ai->http, &rq, on_http, c, &err);
    sm__ai_wire_release(&w);
    if (st != SM_OK) {
        note(&c->ans, "%s: %s", sm_ai_provider_name(p), err.msg);
        return -1;
    }
    return 0;
}

static void start_messages(struct call *c)
{
    json_decref(c->messages);
    c->messages = json_pack("[{s:s, s:s}]", "role", "user", "content", c->prompt);
    c->repaired = false;
}

/* Try the candidates from c->idx on; returns after submitting or finishing. */
static void advance(struct call *c)
{
    sm_ai *ai = c->ai;
    for (; c->idx < c->n_cand; c->idx++) {
        int p = c->cand[c->idx];
        char why[200];
        if (over_budget(ai, p, why, sizeof(why))) {
            note(&c->ans, "%s", why);
            continue;
        }
        snprintf(c->model, sizeof(c->model), "%s",
                 c->model_override[0] ? c->model_override : ai->cfg.p[p].model);
        c->cur = p;
        request_key(ai, c->task, p, c->model, c->raw_desc, c->raw_len, c->cache_key);
        long est_in =
            sm__ai_estimate_tokens(strlen(sm__ai_system_prompt) + strlen(c->prompt) + 64);
        bool cached = p != SM_AI_P_BUILTIN && !(c->flags & SM_AI_NO_CACHE_READ) &&
                      cache_lookup(c, p);
        if (cached) {
            finish(c);
            return;
        }
        if (c->flags & SM_AI_CACHE_ONLY) {
            note(&c->ans, "%s: not cached", sm_ai_provider_name(p));
            continue;
        }
        if (c->flags & SM_AI_SIMULATE) {
            c->ans.ok = true;
            c->ans.simulated = true;
            c->ans.rule_based = p == SM_AI_P_BUILTIN;
            snprintf(c->ans.provider, sizeof(c->ans.provider), "%s", sm_ai_provider_name(p));
            snprintf(c->ans.model, sizeof(c->ans.model), "%s", c->model);
            c->ans.tokens_in = p == SM_AI_P_BUILTIN ? 0 : est_in;
            c->ans.tokens_out = p == SM_AI_P_BUILTIN ? 0 : 150;
            c->ans.tokens_estimated = true;
            c->ans.cost_estimate =
                sm__ai_config_cost(&ai->cfg, p, c->model, c->ans.tokens_in, c->ans.tokens_out);
            note(&c->ans, "simulated: no call made");
            finish(c);
            return;
        }
        if (p == SM_AI_P_BUILTIN) {
            answer_builtin(c);
            finish(c);
            return;
        }
        if (!breaker_allow(ai, p, why, sizeof(why))) {
            note(&c->ans, "%s", why);
            continue;
        }
        start_messages(c);
        if (submit(c, p) == 0)
            return;
        breaker_result(ai, p, false);
    }
    fail_all(c);
}

static void upstream_failed(struct call *c, sm_status code, const char *why)
{
    int p = c->cur;
    c->ans.status = code;
    breaker_result(c->ai, p, false);
    pthread_mutex_lock(&c->ai->lock);
    c->ai->st[p].failures++;
    pthread_mutex_unlock(&c->ai->lock);
    SM_LOG(SM_LOG_WARN, "ai: %s failed, falling back: %s", sm_ai_provider_name(p), why);
    note(&c->ans, "%s failed: %s", sm_ai_provider_name(p), why);
    c->idx++;
    advance(c);
}

static void on_http(sm_http_response *r, void *userdata)
{
    struct call *c = userdata;
    sm_ai *ai = c->ai;
    int p = c->cur;
    double up_ms = now_ms() - c->t_up;
    char why[256];
    if (r->code != SM_OK) {
        upstream_failed(c, r->code, r->error);
        return;
    }
    if (r->status < 200 || r->status > 299) {
        snprintf(why, sizeof(why), "HTTP %ld after %d attempt%s", r->status, r->attempts,
                 r->attempts == 1 ? "" : "s");
        upstream_failed(c, SM_EUNAVAILABLE, why);
        return;
    }
    char *text = NULL;
    long tin = -1;
    long tout = -1;
    if (sm__ai_wire_parse(p, r->body, &text, &tin, &tout, why, sizeof(why)) != 0) {
        upstream_failed(c, SM_EIO, why);
        return;
    }
    breaker_result(ai, p, true);
    /* Tokens: the provider's usage, else 4 bytes a token. */
    bool est = tin < 0 || tout < 0;
    if (tin < 0)
        tin = sm__ai_estimate_tokens(r->body_len / 2 + strlen(c->prompt));
    if (tout < 0)
        tout = sm__ai_estimate_tokens(strlen(text));
    c->ans.tokens_in += tin;
    c->ans.tokens_out += tout;
    c->ans.tokens_estimated = c->ans.tokens_estimated || est;
    double cost = sm__ai_config_cost(&ai->cfg, p, c->model, tin, tout);
    c->ans.cost += cost;
    c->ans.cost_estimate += cost;
    pthread_mutex_lock(&ai->lock);
    ai->st[p].latency_ms_sum += up_ms;
    size_t lb = 0;
    while (lb < N_LAT && up_ms / 1000.0 > lat_bounds[lb])
        lb++;
    ai->st[p].lat_bucket[lb]++;
    ai->st[p].tokens_in += tin;
    ai->st[p].tokens_out += tout;
    ai->st[p].cost += cost;
    if (cost > 0.0)
        ledger_add(ai, cost);
    pthread_mutex_unlock(&ai->lock);
    snprintf(c->ans.provider, sizeof(c->ans.provider), "%s", sm_ai_provider_name(p));
    snprintf(c->ans.model, sizeof(c->ans.model), "%s", c->model);
    c->ans.ok = true;
    json_t *v = sm__ai_validate(c->task, text, why, sizeof(why));
    if (v) {
        sm_free(c->ans.raw);
        c->ans.raw = NULL;
        c->ans.valid = true;
        c->ans.json = dump(v);
        sm_free(text);
        if (c->ans.json)
            cache_store(c, v);
        json_decref(v);
        finish(c);
        return;
    }
    if (!c->repaired) {
        /* One repair: show the model its answer and what was wrong. */
        c->repaired = true;
        char *fix = sm__ai_repair_prompt(c->task, why);
        json_array_append_new(c->messages,
                              json_pack("{s:s, s:s}", "role", "assistant", "content", text));
        json_array_append_new(c->messages, json_pack("{s:s, s:s}", "role", "user", "content",
                                                     fix ? fix : "Reply with valid JSON only."));
        sm_free(fix);
        sm_free(text);
        note(&c->ans, "%s: invalid answer (%s), asked once to repair it",
             sm_ai_provider_name(p), why);
        if (submit(c, p) == 0)
            return;
        c->ans.valid = false;
        finish(c);
        return;
    }
    c->ans.valid = false;
    sm_free(c->ans.raw);
    c->ans.raw = text;
    note(&c->ans, "%s: answer still invalid after the repair (%s)", sm_ai_provider_name(p), why);
    finish(c);
}

sm_status sm_ai_ask_async(sm_ai *ai, const sm_ai_request *rq, sm_ai_done_fn fn, void *userdata,
                          sm_error *err)
{
    if (!ai || !rq || !fn)
        return sm_error_set(err, SM_EINVAL, "ai: missing router, request or callback");
    if (rq->task < 0 || rq->task >= SM_AI_TASK_COUNT)
        return sm_error_set(err, SM_EINVAL, "ai: unknown task %d", rq->task);
    int forced = -1;
    if (rq->provider) {
        forced = sm_ai_provider_from_name(rq->provider);
        if (forced < 0)
            return sm_error_set(err, SM_EINVAL,
                                "ai: unknown provider '%s' (builtin, ollama, openai, anthropic, "
                                "gemini, openai-compatible)",
                                rq->provider);
    }
    if (rq->model && strlen(rq->model) >= 64)
        return sm_error_set(err, SM_EINVAL, "ai: model name too long");
    struct call *c = sm_calloc(1, sizeof(*c));
    if (!c)
        return sm_error_set(err, SM_ENOMEM, "out of memory");
    c->t0 = now_ms();
    c->ai = ai;
    c->task = rq->task;
    c->flags = rq->flags;
    c->forced = forced;
    c->fn = fn;
    c->userdata = userdata;
    sm_ai_answer_init(&c->ans);
    c->ans.task = rq->task;
    if (rq->model)
        snprintf(c->model_override, sizeof(c->model_override), "%s", rq->model);
    c->canonical = sm__ai_descriptors_canonical(rq->descriptors, err);
    if (c->canonical) {
        c->raw_len = rq->descriptors_len ? rq->descriptors_len : strlen(rq->descriptors);
        c->raw_desc = sm_malloc(c->raw_len + 1);
        if (!c->raw_desc) {
            call_free(c);
            return sm_error_set(err, SM_ENOMEM, "out of memory");
        }
        memcpy(c->raw_desc, rq->descriptors, c->raw_len);
        c->raw_desc[c->raw_len] = '\0';
    }
    if (!c->canonical) {
        call_free(c);
        return err ? err->code : SM_EINVAL;
    }
    c->desc = json_loads(c->canonical, 0, NULL);
    c->prompt = sm__ai_user_prompt(rq->task, c->canonical);
    if (!c->desc || !c->prompt) {
        call_free(c);
        return sm_error_set(err, SM_ENOMEM, "out of memory");
    }
    /* Candidates: the forced provider, or the task's preference, configured only. */
    if (forced >= 0) {
        if (!ai->cfg.p[forced].configured) {
            c->ans.ok = false;
            snprintf(c->ans.error, sizeof(c->ans.error),
                     "provider %s is not configured (see docs/ai.md for its key or host)",
                     sm_ai_provider_name(forced));
            c->ans.status = SM_EUNAVAILABLE;
            finish(c);
            return SM_OK;
        }
        c->cand[c->n_cand++] = forced;
    } else {
        for (int i = 0; i < SM_AI_PROVIDER_COUNT; i++) {
            int p = ai->cfg.route[rq->task][i];
            if (p < 0)
                break;
            if (ai->cfg.p[p].configured)
                c->cand[c->n_cand++] = p;
        }
    }
    /* Identical requests in flight share one upstream call. */
    if (!(c->flags & (SM_AI_SIMULATE | SM_AI_CACHE_ONLY))) {
        char key[1024];
        int kn = snprintf(key, sizeof(key), "%d|%d|%s|%u|", rq->task, forced, c->model_override,
                          c->flags & SM_AI_NO_CACHE_READ);
        char fk[SM_CACHE_KEY_SIZE];
        size_t plen = strlen(c->prompt);
        char *buf = sm_malloc((size_t)kn + plen + 1);
        if (buf) {
            memcpy(buf, key, (size_t)kn);
            memcpy(buf + kn, c->prompt, plen + 1);
            sm_cache_key("ask", buf, (size_t)kn + plen, fk);
            sm_free(buf);
            struct follower *f = sm_malloc(sizeof(*f));
            if (f) {
                f->fn = fn;
                f->userdata = userdata;
                f->t0 = c->t0;
                f->task = rq->task;
                int j = sm__flight_join(ai->flight, fk, on_follower, f);
                if (j == 0) {
                    call_free(c);
                    return SM_OK;
                }
                sm_free(f);
                if (j == 1) {
                    c->joined_flight = true;
                    memcpy(c->flight_key, fk, sizeof(fk));
                }
            }
        }
    }
    advance(c);
    return SM_OK;
}

bool sm_ai_cached_reply(sm_ai *ai, const sm_ai_request *rq, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (!ai || !rq || !ai->cache || !rq->descriptors || rq->task < 0 ||
        rq->task >= SM_AI_TASK_COUNT || (rq->flags & (SM_AI_NO_CACHE_READ | SM_AI_SIMULATE)) ||
        (rq->model && strlen(rq->model) >= 64))
        return false;
    double t0 = now_ms();
    /* The provider the router would try first; anything it would note (budget,
     * builtin rules, an unconfigured provider) is left to the full path. */
    int p = -1;
    if (rq->provider) {
        p = sm_ai_provider_from_name(rq->provider);
        if (p < 0 || !ai->cfg.p[p].configured)
            return false;
    } else {
        for (int i = 0; i < SM_AI_PROVIDER_COUNT && p < 0; i++) {
            int q = ai->cfg.route[rq->task][i];
            if (q < 0)
                break;
            if (ai->cfg.p[q].configured)
                p = q;
        }
    }
    if (p < 0 || p == SM_AI_P_BUILTIN)
        return false;
    char why[200];
    if (over_budget(ai, p, why, sizeof(why)))
        return false;
    const char *model = rq->model ? rq->model : ai->cfg.p[p].model;
    size_t dlen = rq->descriptors_len ? rq->descriptors_len : strlen(rq->descriptors);
    char key[SM_CACHE_KEY_SIZE];
    request_key(ai, rq->task, p, model, rq->descriptors, dlen, key);
    char *v = NULL;
    size_t n = 0;
    if (sm_cache_get(ai->cache, key, &v, &n) != SM_CACHE_HIT)
        return false;
    /* The value is the reply object without its latency: put it in front. */
    if (n < 2 || v[0] != '{' || v[n - 1] != '}') {
        sm_free(v);
        return false;
    }
    char head[64];
    double ms = now_ms() - t0;
    int hn = snprintf(head, sizeof(head), "{\"latency_ms\":%.3f,", ms);
    char *r = sm_malloc((size_t)hn + n);
    if (!r) {
        sm_free(v);
        return false;
    }
    memcpy(r, head, (size_t)hn);
    memcpy(r + hn, v + 1, n - 1);
    sm_free(v);
    pthread_mutex_lock(&ai->lock);
    ai->st[p].cache_hits++;
    pthread_mutex_unlock(&ai->lock);
    *out = r;
    *out_len = (size_t)hn + n - 1;
    return true;
}

struct text {
    char *s;
    size_t n, cap;
    bool oom;
};

static void addf(struct text *t, const char *fmt, ...) SM_PRINTF(2, 3);
static void addf(struct text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->oom = true;
            return;
        }
        if (t->s && t->n + (size_t)k < t->cap) {
            t->n += (size_t)k;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)k;
        char *ns = sm_realloc(t->s, cap);
        if (!ns) {
            t->oom = true;
            return;
        }
        t->s = ns;
        t->cap = cap;
    }
}

char *sm_ai_metrics_text(sm_ai *ai)
{
    if (!ai)
        return NULL;
    struct pstats st[SM_AI_PROVIDER_COUNT];
    int br[SM_AI_PROVIDER_COUNT];
    pthread_mutex_lock(&ai->lock);
    memcpy(st, ai->st, sizeof(st));
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++)
        br[p] = ai->br[p].state;
    double spent = ai->spent;
    unsigned long long upstream = ai->upstream;
    pthread_mutex_unlock(&ai->lock);
    struct text t = {0};
    addf(&t, "# HELP samplemind_ai_upstream_calls_total HTTP calls to AI providers "
             "(repairs included).\n# TYPE samplemind_ai_upstream_calls_total counter\n");
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++)
        addf(&t, "samplemind_ai_upstream_calls_total{provider=\"%s\"} %llu\n",
             sm_ai_provider_name(p), st[p].calls);
    addf(&t, "# HELP samplemind_ai_upstream_failures_total Provider calls that failed (the "
             "router fell back).\n# TYPE samplemind_ai_upstream_failures_total counter\n");
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++)
        addf(&t, "samplemind_ai_upstream_failures_total{provider=\"%s\"} %llu\n",
             sm_ai_provider_name(p), st[p].failures);
    addf(&t, "# HELP samplemind_ai_cache_answers_total Answers served from the cache.\n"
             "# TYPE samplemind_ai_cache_answers_total counter\n");
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++)
        addf(&t, "samplemind_ai_cache_answers_total{provider=\"%s\"} %llu\n",
             sm_ai_provider_name(p), st[p].cache_hits);
    addf(&t, "# HELP samplemind_ai_tokens_total Tokens by provider and direction.\n"
             "# TYPE samplemind_ai_tokens_total counter\n");
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++) {
        addf(&t, "samplemind_ai_tokens_total{provider=\"%s\",direction=\"input\"} %lld\n",
             sm_ai_provider_name(p), st[p].tokens_in);
        addf(&t, "samplemind_ai_tokens_total{provider=\"%s\",direction=\"output\"} %lld\n",
             sm_ai_provider_name(p), st[p].tokens_out);
    }
    addf(&t, "# HELP samplemind_ai_cost_dollars_total Estimated dollars spent by provider.\n"
             "# TYPE samplemind_ai_cost_dollars_total counter\n");
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++)
        addf(&t, "samplemind_ai_cost_dollars_total{provider=\"%s\"} %.6f\n",
             sm_ai_provider_name(p), st[p].cost);
    addf(&t, "# HELP samplemind_ai_upstream_duration_seconds Latency of answered provider "
             "calls.\n# TYPE samplemind_ai_upstream_duration_seconds histogram\n");
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++) {
        const char *pn = sm_ai_provider_name(p);
        unsigned long long cum = 0;
        for (size_t b = 0; b <= N_LAT; b++) {
            cum += st[p].lat_bucket[b];
            if (b < N_LAT)
                addf(&t,
                     "samplemind_ai_upstream_duration_seconds_bucket{provider=\"%s\","
                     "le=\"%g\"} %llu\n",
                     pn, lat_bounds[b], cum);
            else
                addf(&t,
                     "samplemind_ai_upstream_duration_seconds_bucket{provider=\"%s\","
                     "le=\"+Inf\"} %llu\n",
                     pn, cum);
        }
        addf(&t, "samplemind_ai_upstream_duration_seconds_sum{provider=\"%s\"} %.6f\n", pn,
             st[p].latency_ms_sum / 1000.0);
        addf(&t, "samplemind_ai_upstream_duration_seconds_count{provider=\"%s\"} %llu\n", pn,
             cum);
    }
    addf(&t, "# HELP samplemind_ai_circuit_open 1 when the provider's circuit is open, 0.5 "
             "half-open.\n# TYPE samplemind_ai_circuit_open gauge\n");
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++)
        addf(&t, "samplemind_ai_circuit_open{provider=\"%s\"} %s\n", sm_ai_provider_name(p),
             br[p] == BR_OPEN ? "1" : br[p] == BR_HALF_OPEN ? "0.5" : "0");
    addf(&t, "# HELP samplemind_ai_spent_today_dollars Paid providers' spending today (UTC).\n"
             "# TYPE samplemind_ai_spent_today_dollars gauge\n"
             "samplemind_ai_spent_today_dollars %.6f\n"
             "# HELP samplemind_ai_upstream_requests_total All upstream HTTP calls.\n"
             "# TYPE samplemind_ai_upstream_requests_total counter\n"
             "samplemind_ai_upstream_requests_total %llu\n",
             spent, upstream);
    if (ai->cache) {
        uint64_t c[3];
        sm_cache_process_counters(ai->cache, c);
        addf(&t,
             "# HELP samplemind_ai_cache_lookups_total Cache lookups in this process by result "
             "(an error also counts as a miss to the caller).\n"
             "# TYPE samplemind_ai_cache_lookups_total counter\n"
             "samplemind_ai_cache_lookups_total{result=\"hit\"} %llu\n"
             "samplemind_ai_cache_lookups_total{result=\"miss\"} %llu\n"
             "samplemind_ai_cache_lookups_total{result=\"error\"} %llu\n",
             (unsigned long long)c[0], (unsigned long long)c[1], (unsigned long long)c[2]);
    }
    if (t.oom) {
        sm_free(t.s);
        return NULL;
    }
    return t.s;
}

struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    sm_ai_answer *out;
};

static void sync_done(sm_ai_answer *a, void *userdata)
{
    struct sync_wait *w = userdata;
    pthread_mutex_lock(&w->lock);
    *w->out = *a;
    a->json = NULL;
    a->raw = NULL;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

sm_status sm_ai_ask(sm_ai *ai, const sm_ai_request *rq, sm_ai_answer *out, sm_error *err)
{
    sm_ai_answer_init(out);
    struct sync_wait w;
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    w.done = false;
    w.out = out;
    sm_status st = sm_ai_ask_async(ai, rq, sync_done, &w, err);
    if (st == SM_OK) {
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        if (!out->ok)
            st = sm_error_set(err, out->status != SM_OK ? out->status : SM_EUNAVAILABLE, "%s",
                              out->error);
    }
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return st;
}

/* --------------------------------------------------------------- providers */

static void probe(sm_ai *ai, int p, json_t *o)
{
    const struct sm__ai_provider_cfg *pc = &ai->cfg.p[p];
    char url[400];
    char auth[320] = "";
    const char *hdrs[3] = {NULL, NULL, NULL};
    char b[256];
    snprintf(b, sizeof(b), "%s", pc->base_url);
    size_t n = strlen(b);
    while (n && b[n - 1] == '/')
        b[--n] = '\0';
    switch (p) {
    case SM_AI_P_OLLAMA:
        snprintf(url, sizeof(url), "%s/api/tags", b);
        break;
    case SM_AI_P_OPENAI:
    case SM_AI_P_OPENAI_COMPAT:
        snprintf(url, sizeof(url), "%s/models", b);
        if (pc->api_key[0]) {
            snprintf(auth, sizeof(auth), "Authorization: Bearer %s", pc->api_key);
            hdrs[0] = auth;
        }
        break;
    case SM_AI_P_ANTHROPIC:
        snprintf(url, sizeof(url), "%s/v1/models", b);
        snprintf(auth, sizeof(auth), "x-api-key: %s", pc->api_key);
        hdrs[0] = auth;
        hdrs[1] = "anthropic-version: 2023-06-01";
        break;
    case SM_AI_P_GEMINI:
        snprintf(url, sizeof(url), "%s/v1beta/models", b);
        snprintf(auth, sizeof(auth), "x-goog-api-key: %s", pc->api_key);
        hdrs[0] = auth;
        break;
    default:
        return;
    }
    sm_http_request rq = {0};
    rq.url = url;
    rq.headers = hdrs;
    rq.timeout_ms = 3000;
    rq.max_attempts = 1;
    sm_http_response rs;
    sm_http_perform(ai->http, &rq, &rs, NULL);
    memset(auth, 0, sizeof(auth));
    bool healthy = rs.code == SM_OK && rs.status >= 200 && rs.status < 300;
    json_object_set_new(o, "health", json_string(healthy ? "ok" : "unreachable"));
    if (!healthy)
        json_object_set_new(o, "health_detail",
                            json_string(rs.code == SM_OK ? "bad status" : rs.error));
    if (healthy && p == SM_AI_P_OLLAMA) {
        json_t *tags = json_loads(rs.body, 0, NULL);
        json_t *models = json_array();
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(tags, "models"), i, m)
        {
            json_t *name = json_object_get(m, "name");
            if (json_is_string(name))
                json_array_append(models, name);
        }
        json_object_set_new(o, "models", models);
        json_decref(tags);
    }
    sm_http_response_release(&rs);
}

char *sm_ai_providers_json(sm_ai *ai, bool do_probe)
{
    json_t *arr = json_array();
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++) {
        const struct sm__ai_provider_cfg *pc = &ai->cfg.p[p];
        pthread_mutex_lock(&ai->lock);
        struct breaker b = ai->br[p];
        struct pstats s = ai->st[p];
        pthread_mutex_unlock(&ai->lock);
        /* The base URL without credentials or query. */
        char url[256];
        snprintf(url, sizeof(url), "%s", pc->base_url);
        url[strcspn(url, "?")] = '\0';
        char *at = strchr(url, '@');
        if (at) {
            char *scheme = strstr(url, "://");
            if (scheme && scheme < at)
                memmove(scheme + 3, at + 1, strlen(at + 1) + 1);
        }
        unsigned long long ok_calls = s.calls > s.failures ? s.calls - s.failures : 0;
        json_t *o = json_pack(
            "{s:s, s:b, s:s, s:s, s:b, s:b, s:{s:s, s:i}, s:{s:I, s:I, s:I, s:f, s:I, s:I, s:f}}",
            "name", sm_ai_provider_name(p), "configured", pc->configured, "model", pc->model,
            "base_url", url, "paid", pc->paid, "local",
            p == SM_AI_P_BUILTIN || p == SM_AI_P_OLLAMA, "circuit", "state",
            br_names[b.state], "consecutive_failures", b.failures, "stats", "calls",
            (json_int_t)s.calls, "failures", (json_int_t)s.failures, "cache_hits",
            (json_int_t)s.cache_hits, "mean_latency_ms",
            ok_calls ? s.latency_ms_sum / (double)ok_calls : 0.0, "tokens_in",
            (json_int_t)s.tokens_in, "tokens_out", (json_int_t)s.tokens_out, "cost", s.cost);
        if (p == SM_AI_P_BUILTIN)
            json_object_set_new(o, "health", json_string("ok"));
        else if (do_probe && pc->configured)
            probe(ai, p, o);
        else
            json_object_set_new(o, "health",
                                json_string(pc->configured ? "not probed" : "not configured"));
        json_array_append_new(arr, o);
    }
    json_t *root = json_pack("{s:o, s:f, s:f}", "providers", arr, "daily_budget",
                             ai->cfg.daily_budget, "spent_today", sm_ai_spent_today(ai));
    char *r = dump(root);
    json_decref(root);
    return r;
}
