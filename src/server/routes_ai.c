/* The AI routes: POST /api/v1/ai/analyze, GET /api/v1/ai/providers,
 * GET /api/v1/cache/stats, DELETE /api/v1/cache?provider=; and the "ai" and
 * "cache" components of /api/v1/health/detailed.
 *
 * An analyze request that is not answered at once (cache hit, builtin rules) is
 * suspended: the server thread goes back to work and the answer is completed
 * later from the HTTP client's thread when the provider replies. */
#include <limits.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include <samplemind/ai.h>
#include <samplemind/alloc.h>
#include <samplemind/cache.h>
#include <samplemind/catalog.h>
#include <samplemind/log.h>

#include "sbuf.h"
#include "server.h"

struct ai_ctx {
    sm_srv *srv;
    sm_cache *cache;
    sm_ai *ai;
};

/* One analyze request in flight. */
struct pending {
    pthread_mutex_t lock;
    sm_req *req;
    struct ai_ctx *ctx;
    int64_t file_id;
    bool suspended;   /* the handler returned SM_SRV_PENDING */
    bool answered;    /* the callback ran before the handler returned */
    int status;
    char *text; /* the reply when answered at once (sent as bytes, no re-encoding) */
};

static json_t *answer_body(const sm_ai_answer *a, int *status)
{
    char *txt = sm_ai_answer_to_json(a);
    json_t *o = txt ? json_loads(txt, 0, NULL) : NULL;
    sm_free(txt);
    if (!o) {
        *status = 500;
        return json_pack("{s:{s:s, s:s}}", "error", "code", "internal_error", "message",
                         "out of memory");
    }
    if (!a->ok) {
        *status = 503;
        json_t *e = json_pack("{s:{s:s, s:s}, s:O}", "error", "code", "no_provider", "message",
                              a->error, "detail", o);
        json_decref(o);
        return e;
    }
    *status = 200;
    return o;
}

/* Store the answer with catalog sample id (none for descriptors sent inline): every
 * valid answer, cached or not; tags answers tag the sample and description answers
 * become searchable, so the search indexes are reloaded after those. */
static void store_answer(struct ai_ctx *ctx, int64_t id, const sm_ai_answer *a)
{
    if (id < 0 || !a->ok || !a->valid || !a->json)
        return;
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm__srv_catalog_acquire(ctx->srv, &err);
    bool stored = false;
    sm_status st = cat ? sm_ai_answer_store(a, cat, id, &stored, &err) : err.code;
    if (cat)
        sm__srv_catalog_release(ctx->srv, cat);
    if (st != SM_OK) {
        SM_LOG(SM_LOG_WARN, "ai: the %s answer for sample %lld was not stored: %s",
               sm_ai_task_name(a->task), (long long)id, err.msg);
        return;
    }
    if (stored && (a->task == SM_AI_TAGS || a->task == SM_AI_DESCRIPTION))
        sm__srv_indexes_stale(ctx->srv); /* tags and descriptions are searchable */
}

static void on_answer(sm_ai_answer *a, void *userdata)
{
    struct pending *p = userdata;
    store_answer(p->ctx, p->file_id, a);
    pthread_mutex_lock(&p->lock);
    bool later = p->suspended;
    if (!later) {
        /* Answered before the handler returned (cache hit, rules): keep the text. */
        p->answered = true;
        if (a->ok) {
            p->status = 200;
            p->text = sm_ai_answer_to_json(a);
        }
        if (!p->text) {
            json_t *b = answer_body(a, &p->status);
            char *t = b ? json_dumps(b, JSON_COMPACT) : NULL;
            p->text = t ? sm_strdup(t) : NULL;
            free(t);
            json_decref(b);
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (later) {
        int status = 0;
        json_t *body = answer_body(a, &status);
        sm__req_complete(p->req, status, body);
        pthread_mutex_destroy(&p->lock);
        sm_free(p);
    }
}

/* ------------------------------------------------ the cached path's body scan */

struct scan {
    const char *task;
    size_t task_n;
    const char *provider; /* NULL: absent or null */
    size_t provider_n;
    const char *model;
    size_t model_n;
    const char *desc; /* the descriptors object's bytes as sent */
    size_t desc_n;
};

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A plain string (printable ASCII, no escapes) at p; its end, or NULL. */
static const char *plain_string(const char *p, const char *e, const char **s, size_t *n)
{
    if (p >= e || *p != '"')
        return NULL;
    const char *q = ++p;
    while (q < e && *q != '"') {
        if (*q == '\\' || (unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f)
            return NULL;
        q++;
    }
    if (q >= e)
        return NULL;
    *s = p;
    *n = (size_t)(q - p);
    return q + 1;
}

/* The end of the object at p, following strings and nesting only. Exact for valid
 * JSON; the bytes are trusted only when they key a stored answer, and every stored
 * key came from bytes the full parser accepted. */
static const char *object_end(const char *p, const char *e)
{
    if (p >= e || *p != '{')
        return NULL;
    int depth = 0;
    for (; p < e; p++) {
        char ch = *p;
        if (ch == '"') {
            for (p++; p < e && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            if (p >= e)
                return NULL;
        } else if (ch == '{' || ch == '[') {
            if (++depth > 64)
                return NULL;
        } else if (ch == '}' || ch == ']') {
            if (--depth == 0)
                return ch == '}' ? p + 1 : NULL;
        }
    }
    return NULL;
}

/* Reads a body made only of task, provider, model, descriptors (an object) and
 * no_cache: false, each once; anything else (file_id, other keys, escapes) is left
 * to the full parser. \return true when the body has that shape. */
static bool scan_body(const char *p, size_t len, struct scan *sc)
{
    memset(sc, 0, sizeof(*sc));
    const char *e = p + len;
    unsigned seen = 0;
    p = skip_ws(p, e);
    if (p >= e || *p != '{')
        return false;
    p = skip_ws(p + 1, e);
    while (p < e && *p != '}') {
        const char *k;
        size_t kn;
        p = plain_string(p, e, &k, &kn);
        if (!p)
            return false;
        p = skip_ws(p, e);
        if (p >= e || *p != ':')
            return false;
        p = skip_ws(p + 1, e);
        unsigned bit;
        if (kn == 4 && !memcmp(k, "task", 4)) {
            bit = 1;
            p = plain_string(p, e, &sc->task, &sc->task_n);
        } else if ((kn == 8 && !memcmp(k, "provider", 8)) || (kn == 5 && !memcmp(k, "model", 5))) {
            bool is_p = kn == 8;
            bit = is_p ? 2 : 4;
            if (e - p >= 4 && !memcmp(p, "null", 4))
                p += 4;
            else if (is_p)
                p = plain_string(p, e, &sc->provider, &sc->provider_n);
            else
                p = plain_string(p, e, &sc->model, &sc->model_n);
        } else if (kn == 11 && !memcmp(k, "descriptors", 11)) {
            bit = 8;
            const char *end = object_end(p, e);
            if (end) {
                sc->desc = p;
                sc->desc_n = (size_t)(end - p);
            }
            p = end;
        } else if (kn == 8 && !memcmp(k, "no_cache", 8)) {
            bit = 16;
            p = e - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
        } else {
            return false;
        }
        if (!p || (seen & bit))
            return false;
        seen |= bit;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            if (p >= e || *p == '}')
                return false;
        } else if (p >= e || *p != '}') {
            return false;
        }
    }
    if (p >= e || *p != '}' || skip_ws(p + 1, e) != e)
        return false;
    return (seen & 1) && (seen & 8);
}

static char *copy_n(const char *s, size_t n)
{
    char *c = sm_malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* The cached path straight from the body's bytes: no JSON parse, no prompt.
 * \return true when it replied. */
static bool analyze_cached(sm_req *req, struct ai_ctx *ctx, const struct scan *sc)
{
    char task_name[16];
    char prov[40];
    char model[72];
    if (sc->task_n >= sizeof(task_name) || sc->provider_n >= sizeof(prov) ||
        sc->model_n >= sizeof(model))
        return false;
    memcpy(task_name, sc->task, sc->task_n);
    task_name[sc->task_n] = '\0';
    int task = sm_ai_task_from_name(task_name);
    if (task < 0)
        return false;
    sm_ai_request rq = {0};
    rq.task = task;
    if (sc->provider) {
        memcpy(prov, sc->provider, sc->provider_n);
        prov[sc->provider_n] = '\0';
        rq.provider = prov;
    }
    if (sc->model) {
        memcpy(model, sc->model, sc->model_n);
        model[sc->model_n] = '\0';
        rq.model = model;
    }
    char *desc = copy_n(sc->desc, sc->desc_n);
    if (!desc)
        return false;
    rq.descriptors = desc;
    rq.descriptors_len = sc->desc_n;
    char *reply = NULL;
    size_t rlen = 0;
    bool hit = sm_ai_cached_reply(ctx->ai, &rq, &reply, &rlen);
    sm_free(desc);
    if (hit)
        sm__req_reply_owned(req, 200, "application/json", reply, rlen);
    return hit;
}

static int analyze(sm_req *req, void *userdata)
{
    struct ai_ctx *ctx = userdata;
    size_t raw_n = 0;
    const char *raw = sm__req_body(req, &raw_n);
    const char *ct = sm__req_header(req, "Content-Type");
    struct scan sc;
    bool scanned = raw && raw_n && (!ct || !strncasecmp(ct, "application/json", 16)) &&
                   scan_body(raw, raw_n, &sc) && sc.desc;
    if (scanned && analyze_cached(req, ctx, &sc))
        return SM_SRV_DONE;
    json_t *body = sm__req_json(req);
    if (!body)
        return SM_SRV_DONE;
    const char *task_name = json_string_value(json_object_get(body, "task"));
    int task = sm_ai_task_from_name(task_name ? task_name : "");
    if (task < 0) {
        json_decref(body);
        return sm__req_error(req, 400, "invalid_argument",
                             "task must be one of genre, mood, tags, description, production, "
                             "mixing, pairing");
    }
    json_t *provider = json_object_get(body, "provider");
    json_t *model = json_object_get(body, "model");
    if ((provider && !json_is_string(provider) && !json_is_null(provider)) ||
        (model && !json_is_string(model) && !json_is_null(model))) {
        json_decref(body);
        return sm__req_error(req, 400, "invalid_argument", "provider and model are strings");
    }
    char *desc = NULL;
    size_t desc_len = 0;
    int64_t file_id = -1;
    json_t *fid = json_object_get(body, "file_id");
    json_t *d = json_object_get(body, "descriptors");
    if (json_is_integer(fid)) {
        file_id = (int64_t)json_integer_value(fid);
        sm_error err = SM_ERROR_INIT;
        sm_catalog *cat = sm__srv_catalog_acquire(ctx->srv, &err);
        if (!cat) {
            json_decref(body);
            return sm__req_error(req, 503, "catalog_unavailable", "%s", err.msg);
        }
        desc = sm_catalog_sample_json(cat, file_id, 0, &err);
        sm__srv_catalog_release(ctx->srv, cat);
        if (!desc) {
            json_decref(body);
            if (err.code == SM_ENOENT)
                return sm__req_error(req, 404, "not_found", "no sample with id %lld",
                                     (long long)file_id);
            return sm__req_error(req, 500, "internal_error", "%s", err.msg);
        }
    } else if (json_is_object(d) && scanned) {
        /* The object's bytes as sent key the cache, as on the cached path. */
        desc = copy_n(sc.desc, sc.desc_n);
    } else if (json_is_object(d)) {
        /* The object re-encoded in its own key order: these bytes key the cache. */
        char *t = json_dumps(d, JSON_COMPACT);
        desc = t ? sm_strdup(t) : NULL;
        free(t);
    } else {
        json_decref(body);
        return sm__req_error(req, 400, "invalid_argument",
                             "give file_id (a catalog id) or descriptors (an object)");
    }
    bool no_cache = json_is_true(json_object_get(body, "no_cache"));
    if (desc && !scanned && !no_cache && file_id < 0) {
        /* The cached path: no prompt, no parsing of the answer, its bytes go out. An
         * answer for a catalog sample goes the full way (it is stored with it). */
        sm_ai_request fq = {0};
        fq.task = task;
        fq.descriptors = desc;
        desc_len = strlen(desc);
        fq.descriptors_len = desc_len;
        fq.provider = json_string_value(provider);
        fq.model = json_string_value(model);
        char *reply = NULL;
        size_t rlen = 0;
        if (sm_ai_cached_reply(ctx->ai, &fq, &reply, &rlen)) {
            sm_free(desc);
            json_decref(body);
            return sm__req_reply_owned(req, 200, "application/json", reply, rlen);
        }
    }
    struct pending *p = sm_calloc(1, sizeof(*p));
    if (!p || !desc) {
        sm_free(p);
        sm_free(desc);
        json_decref(body);
        return sm__req_error(req, 500, "internal_error", "out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    p->req = req;
    p->ctx = ctx;
    p->file_id = file_id;
    sm_ai_request rq = {0};
    rq.task = task;
    rq.descriptors = desc;
    rq.descriptors_len = desc_len;
    rq.provider = json_string_value(provider);
    rq.model = json_string_value(model);
    rq.flags = no_cache ? SM_AI_NO_CACHE_READ : 0;
    sm_error err = SM_ERROR_INIT;
    sm_status st = sm_ai_ask_async(ctx->ai, &rq, on_answer, p, &err);
    sm_free(desc);
    json_decref(body);
    if (st != SM_OK) {
        pthread_mutex_destroy(&p->lock);
        sm_free(p);
        return sm__req_error(req, 400, "invalid_argument", "%s", err.msg);
    }
    pthread_mutex_lock(&p->lock);
    bool now = p->answered;
    if (!now)
        p->suspended = true;
    pthread_mutex_unlock(&p->lock);
    if (!now)
        return SM_SRV_PENDING;
    int status = p->status;
    char *text = p->text;
    pthread_mutex_destroy(&p->lock);
    sm_free(p);
    if (!text)
        return sm__req_error(req, 500, "internal_error", "out of memory");
    sm__req_reply_data(req, status, "application/json", text, strlen(text));
    sm_free(text);
    return SM_SRV_DONE;
}

static int providers(sm_req *req, void *userdata)
{
    struct ai_ctx *ctx = userdata;
    const char *probe = sm__req_query(req, "probe");
    char *txt = sm_ai_providers_json(ctx->ai, probe && strcmp(probe, "0") && strcmp(probe, "false"));
    json_t *o = txt ? json_loads(txt, 0, NULL) : NULL;
    sm_free(txt);
    return sm__req_reply_json(req, o ? 200 : 500, o);
}

static json_t *stats_object(struct ai_ctx *ctx)
{
    sm_cache_stats s;
    sm_cache_stats_get(ctx->cache, &s);
    char *txt = sm_cache_stats_json(&s);
    json_t *o = txt ? json_loads(txt, 0, NULL) : NULL;
    sm_free(txt);
    return o;
}

static int cache_stats(sm_req *req, void *userdata)
{
    struct ai_ctx *ctx = userdata;
    json_t *o = stats_object(ctx);
    return sm__req_reply_json(req, o ? 200 : 500, o);
}

static int cache_clear(sm_req *req, void *userdata)
{
    struct ai_ctx *ctx = userdata;
    const char *provider = sm__req_query(req, "provider");
    if (provider && !*provider)
        provider = NULL;
    if (provider && sm_ai_provider_from_name(provider) < 0)
        return sm__req_error(req, 400, "invalid_argument", "unknown provider '%s'", provider);
    uint64_t removed = 0;
    sm_error err = SM_ERROR_INIT;
    if (sm_cache_clear(ctx->cache, provider, &removed, &err) != SM_OK)
        return sm__req_error(req, 503, "cache_unavailable", "%s", err.msg);
    return sm__req_reply_json(req, 200,
                              json_pack("{s:I, s:o}", "removed", (json_int_t)removed, "provider",
                                        provider ? json_string(provider) : json_null()));
}

static bool cache_component(json_t *out, void *userdata)
{
    struct ai_ctx *ctx = userdata;
    json_t *o = stats_object(ctx);
    if (o)
        json_object_update(out, o);
    json_decref(o);
    /* A cache that is down degrades to misses: "up" says so, the server stays healthy. */
    return true;
}

static bool ai_component(json_t *out, void *userdata)
{
    struct ai_ctx *ctx = userdata;
    char *txt = sm_ai_providers_json(ctx->ai, false);
    json_t *o = txt ? json_loads(txt, 0, NULL) : NULL;
    sm_free(txt);
    if (o)
        json_object_update(out, o);
    json_decref(o);
    return o != NULL;
}

static void metrics_lines(struct sm_sbuf *out, void *userdata)
{
    struct ai_ctx *ctx = userdata;
    char *t = sm_ai_metrics_text(ctx->ai);
    if (t)
        sm__sbuf_add(out, t, strlen(t));
    sm_free(t);
}

static void on_stop(void *userdata)
{
    struct ai_ctx *ctx = userdata;
    sm_ai_free(ctx->ai);
    sm_cache_close(ctx->cache);
    sm_free(ctx);
}

int sm__ai_routes_register(sm_srv *srv, sm_error *err)
{
    const struct sm_srv_config *cfg = sm__srv_config(srv);
    struct ai_ctx *ctx = sm_calloc(1, sizeof(*ctx));
    if (!ctx) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        return -1;
    }
    ctx->srv = srv;
    char url[PATH_MAX + 32];
    if (cfg->cache && *cfg->cache)
        snprintf(url, sizeof(url), "%s", cfg->cache);
    else
        snprintf(url, sizeof(url), "sqlite://%s/cache.db", cfg->data_dir ? cfg->data_dir : ".");
    ctx->cache = sm_cache_open(url, NULL, err);
    if (!ctx->cache) {
        sm_free(ctx);
        return -1;
    }
    sm_ai_opts o = {0};
    o.config_path = cfg->config_path ? cfg->config_path : getenv("SAMPLEMIND_CONFIG");
    o.cache = ctx->cache;
    o.data_dir = cfg->data_dir;
    ctx->ai = sm_ai_new(&o, err);
    if (!ctx->ai) {
        sm_cache_close(ctx->cache);
        sm_free(ctx);
        return -1;
    }
    if (sm__srv_route(srv, "POST", "/api/v1/ai/analyze", 0, analyze, ctx,
                      "Ask an AI provider about a sample (file_id or descriptors, task, provider)") ||
        sm__srv_route(srv, "GET", "/api/v1/ai/providers", 0, providers, ctx,
                      "AI providers, models, health and circuit state (?probe=1 checks them)") ||
        sm__srv_route(srv, "GET", "/api/v1/cache/stats", 0, cache_stats, ctx,
                      "AI answer cache statistics") ||
        sm__srv_route(srv, "DELETE", "/api/v1/cache", SM_ROUTE_ADMIN, cache_clear, ctx,
                      "Clear the AI answer cache, or one provider's entries (?provider=)") ||
        sm__srv_component(srv, "cache", cache_component, ctx) ||
        sm__srv_component(srv, "ai", ai_component, ctx) ||
        sm__srv_metrics_hook(srv, metrics_lines, ctx) || sm__srv_on_stop(srv, on_stop, ctx)) {
        sm_error_set(err, SM_EINTERNAL, "cannot register the AI routes");
        on_stop(ctx);
        return -1;
    }
    return 0;
}
