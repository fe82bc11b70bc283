/* samplemind ai ask | warm, and the helpers the AI commands share (data dir, cache,
 * router). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <samplemind/ai.h>
#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include <samplemind/cache.h>
#include <samplemind/catalog.h>

#include "cli.h"

/* ---------------------------------------------------------------- helpers --- */

int sm_cli_data_dir(struct sm_cli *cli, char *out, size_t size, bool create)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (cli->data_dir && *cli->data_dir)
        snprintf(out, size, "%s", cli->data_dir);
    else if (xdg && *xdg)
        snprintf(out, size, "%s/samplemind", xdg);
    else if (home && *home)
        snprintf(out, size, "%s/.local/share/samplemind", home);
    else {
        sm_cli_error(cli, "no data folder: set --data-dir, SAMPLEMIND_DATA_DIR or HOME");
        return -1;
    }
    if (!create)
        return 0;
    for (char *p = out + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(out, 0755);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            break;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        sm_cli_error(cli, "cannot create the data folder %s: %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

struct sm_cache *sm_cli_open_cache(struct sm_cli *cli)
{
    char url[PATH_MAX + 64];
    if (cli->cache && *cli->cache) {
        snprintf(url, sizeof(url), "%s", cli->cache);
    } else {
        char dir[PATH_MAX];
        if (sm_cli_data_dir(cli, dir, sizeof(dir), true) != 0)
            return NULL;
        snprintf(url, sizeof(url), "sqlite://%s/cache.db", dir);
    }
    sm_error err = SM_ERROR_INIT;
    sm_cache *c = sm_cache_open(url, NULL, &err);
    if (!c)
        sm_cli_error(cli, "cache: %s", err.msg);
    return c;
}

struct sm_ai *sm_cli_open_ai(struct sm_cli *cli, struct sm_cache *cache)
{
    char dir[PATH_MAX];
    bool have_dir = sm_cli_data_dir(cli, dir, sizeof(dir), true) == 0;
    sm_ai_opts o = {0};
    o.config_path = cli->config ? cli->config : getenv("SAMPLEMIND_CONFIG");
    o.cache = cache;
    o.data_dir = have_dir ? dir : NULL;
    sm_error err = SM_ERROR_INIT;
    sm_ai *ai = sm_ai_new(&o, &err);
    if (!ai)
        sm_cli_error(cli, "%s", err.msg);
    return ai;
}

/* Descriptors of ID|PATH: the catalog's record when it has the sample, else the
 * file analyzed now. *id is the catalog id or -1. New text, or NULL (printed why). */
static char *descriptors_of(struct sm_cli *cli, sm_catalog *cat, const char *arg, int64_t *id)
{
    *id = -1;
    sm_error err = SM_ERROR_INIT;
    if (cat) {
        sm_sample s;
        sm_sample_init(&s);
        bool digits = arg[0] && strspn(arg, "0123456789") == strlen(arg);
        int found = -1;
        if (digits)
            found = sm_catalog_get(cat, strtoll(arg, NULL, 10), &s, &err) == SM_OK ? 0 : -1;
        if (found != 0) {
            char real[PATH_MAX];
            const char *path = realpath(arg, real) ? real : arg;
            found = sm_catalog_get_by_path(cat, path, &s, &err) == SM_OK ? 0 : -1;
        }
        if (found == 0) {
            *id = s.id;
            sm_sample_release(&s);
            char *j = sm_catalog_sample_json(cat, *id, 0, &err);
            if (j)
                return j;
        }
        sm_sample_release(&s);
    }
    struct stat sb;
    if (stat(arg, &sb) != 0) {
        sm_cli_error(cli, "%s: not a catalog id and not a file", arg);
        return NULL;
    }
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    if (!an) {
        sm_cli_error(cli, "%s", err.msg);
        return NULL;
    }
    sm_analysis a;
    sm_analysis_init(&a);
    char *j = NULL;
    if (sm_analyzer_run(an, arg, &a, &err) == SM_OK)
        j = sm_analysis_to_json(&a, 0);
    else
        sm_cli_error(cli, "%s: %s", arg, err.msg);
    sm_analysis_release(&a);
    sm_analyzer_free(an);
    return j;
}

/* Parse "genre,mood" or "all" into a mask. -1 on a bad name. */
static int task_mask(const char *list)
{
    if (!strcmp(list, "all"))
        return (1 << SM_AI_TASK_COUNT) - 1;
    int mask = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = sm_ai_task_from_name(t);
        if (k < 0)
            return -1;
        mask |= 1 << k;
    }
    return mask;
}

static void print_answer(struct sm_cli *cli, const char *what, const sm_ai_answer *a)
{
    if (sm_cli_want_json(cli)) {
        char *j = sm_ai_answer_to_json(a);
        if (j) {
            json_t *o = json_loads(j, 0, NULL);
            json_object_set_new(o, "sample", json_string(what));
            char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(8));
            puts(t ? t : j);
            free(t);
            json_decref(o);
        }
        sm_free(j);
        return;
    }
    printf("%s  %s\n", what, sm_ai_task_name(a->task));
    if (!a->ok) {
        printf("  error: %s\n", a->error);
        return;
    }
    printf("  provider %s, model %s%s%s\n", a->provider, a->model,
           a->rule_based ? " (rule-based, no model)" : "", a->cached ? ", cached" : "");
    printf("  %.1f ms, tokens %ld in / %ld out%s, cost $%.6f\n", a->latency_ms, a->tokens_in,
           a->tokens_out, a->tokens_estimated ? " (estimated)" : "", a->cost);
    if (a->json) {
        json_t *o = json_loads(a->json, 0, NULL);
        char *t = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
        printf("%s\n", t ? t : a->json);
        free(t);
        json_decref(o);
    } else if (a->raw) {
        printf("  invalid answer: %s\n", a->raw);
    }
    if (a->note[0])
        printf("  note: %s\n", a->note);
}

/* Store a valid answer with catalog sample id (none for a file outside the
 * catalog): the answer record, tags from the tags task, searchable description.
 * Returns 0, or -1 after printing why it was not stored. */
static int store_in_catalog(struct sm_cli *cli, sm_catalog *cat, int64_t id,
                            const sm_ai_answer *a)
{
    if (!cat || id < 0)
        return 0;
    sm_error err = SM_ERROR_INIT;
    if (sm_ai_answer_store(a, cat, id, NULL, &err) == SM_OK)
        return 0;
    sm_cli_error(cli, "the %s answer for sample %lld was not stored: %s",
                 sm_ai_task_name(a->task), (long long)id, err.msg);
    return -1;
}

/* The catalog when there is one (--db, or DATA_DIR/catalog.db exists); NULL
 * otherwise: files work without it. */
static sm_catalog *open_optional_catalog(struct sm_cli *cli)
{
    char dir[PATH_MAX];
    struct stat sb;
    char path[PATH_MAX + 16];
    bool have = cli->db != NULL;
    if (!have && sm_cli_data_dir(cli, dir, sizeof(dir), false) == 0) {
        snprintf(path, sizeof(path), "%s/catalog.db", dir);
        have = stat(path, &sb) == 0;
    }
    return have ? sm_cli_open_catalog(cli, false) : NULL;
}

/* -------------------------------------------------------------------- ask --- */

static int ask_usage(FILE *out)
{
    fprintf(out, "Usage: samplemind ai ask ID|PATH... --task TASK[,TASK|all] [--provider P]\n"
                 "                         [--model M] [--no-cache] [--no-store]\n"
                 "Tasks: genre, mood, tags, description, production, mixing, pairing.\n"
                 "Answers for catalog samples are stored with them (see 'samplemind show');\n"
                 "--no-store skips that. Files outside the catalog are never stored.\n"
                 "Providers: builtin, ollama, openai, anthropic, gemini, openai-compatible.\n");
    return out == stdout ? SM_EXIT_OK : SM_EXIT_USAGE;
}

static int cmd_ask(struct sm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"task", required_argument, NULL, 't'},  {"provider", required_argument, NULL, 'p'},
        {"model", required_argument, NULL, 'm'}, {"no-cache", no_argument, NULL, 'n'},
        {"no-store", no_argument, NULL, 's'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tasks = NULL;
    const char *provider = NULL;
    const char *model = NULL;
    bool no_cache = false;
    bool no_store = false;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "t:p:m:h", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            tasks = optarg;
            break;
        case 'p':
            provider = optarg;
            break;
        case 'm':
            model = optarg;
            break;
        case 'n':
            no_cache = true;
            break;
        case 's':
            no_store = true;
            break;
        case 'h':
            return ask_usage(stdout);
        default:
            return ask_usage(stderr);
        }
    }
    if (optind >= argc) {
        sm_cli_error(cli, "ai ask: give a catalog id or a file");
        return ask_usage(stderr);
    }
    int mask = task_mask(tasks ? tasks : "genre");
    if (mask <= 0) {
        sm_cli_error(cli, "ai ask: unknown task in '%s'", tasks);
        return ask_usage(stderr);
    }
    if (provider && sm_ai_provider_from_name(provider) < 0) {
        sm_cli_error(cli, "ai ask: unknown provider '%s'", provider);
        return ask_usage(stderr);
    }
    sm_cache *cache = sm_cli_open_cache(cli);
    sm_ai *ai = sm_cli_open_ai(cli, cache);
    if (!ai) {
        sm_cache_close(cache);
        return SM_EXIT_FAILED;
    }
    sm_catalog *cat = open_optional_catalog(cli);
    int rc = SM_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        int64_t id = -1;
        char *desc = descriptors_of(cli, cat, argv[i], &id);
        if (!desc) {
            rc = SM_EXIT_FAILED;
            continue;
        }
        for (int t = 0; t < SM_AI_TASK_COUNT; t++) {
            if (!(mask & (1 << t)))
                continue;
            sm_ai_request rq = {0};
            rq.task = t;
            rq.descriptors = desc;
            rq.provider = provider;
            rq.model = model;
            rq.flags = no_cache ? SM_AI_NO_CACHE_READ : 0;
            sm_ai_answer a;
            sm_error err = SM_ERROR_INIT;
            sm_status st = sm_ai_ask(ai, &rq, &a, &err);
            if (st == SM_EINVAL) {
                sm_cli_error(cli, "%s: %s", argv[i], err.msg);
                rc = SM_EXIT_FAILED;
                continue;
            }
            print_answer(cli, argv[i], &a);
            if (!a.ok || !a.valid)
                rc = SM_EXIT_FAILED;
            if (!no_store && store_in_catalog(cli, cat, id, &a) != 0)
                rc = SM_EXIT_FAILED;
            sm_ai_answer_release(&a);
        }
        sm_free(desc);
    }
    if (cat)
        sm_catalog_close(cat);
    sm_ai_free(ai);
    sm_cache_close(cache);
    return rc;
}

/* ------------------------------------------------------------------- warm --- */

/* An answer waiting to be stored by the main thread (callbacks must not block on
 * the catalog, and the catalog handle belongs to one thread). */
struct warm_store {
    struct warm_store *next;
    int64_t id;
    sm_ai_answer a;
};

struct warm_totals {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int pending;
    int done, cached, would_call, failed, filled, stored, not_stored;
    double cost_estimate, spent;
    double per_provider_cost[SM_AI_PROVIDER_COUNT];
    int per_provider_calls[SM_AI_PROVIDER_COUNT];
    sm_catalog *store;        /* where answers go (--no-simulate), or NULL */
    struct warm_store *queue; /* answers to store, newest first */
};

/* The userdata of one request: its sample. */
struct warm_item {
    struct warm_totals *w;
    int64_t id; /* catalog id, or -1 */
};

/* Under w->lock: store the queued answers (the lock is let go meanwhile). */
static void warm_drain(struct sm_cli *cli, struct warm_totals *w)
{
    while (w->queue) {
        struct warm_store *q = w->queue;
        w->queue = NULL;
        pthread_mutex_unlock(&w->lock);
        int stored = 0;
        int failed = 0;
        while (q) {
            struct warm_store *next = q->next;
            if (store_in_catalog(cli, w->store, q->id, &q->a) == 0)
                stored++;
            else
                failed++;
            sm_ai_answer_release(&q->a);
            sm_free(q);
            q = next;
        }
        pthread_mutex_lock(&w->lock);
        w->stored += stored;
        w->not_stored += failed;
    }
}

static void on_warm(sm_ai_answer *a, void *ud)
{
    struct warm_item *item = ud;
    struct warm_totals *w = item->w;
    struct warm_store *q = NULL;
    if (w->store && item->id >= 0 && a->ok && a->valid && a->json && !a->simulated) {
        q = sm_malloc(sizeof(*q));
        if (q) {
            q->id = item->id;
            q->a = *a;
            q->a.raw = NULL;
            a->json = NULL; /* taken */
        }
    }
    pthread_mutex_lock(&w->lock);
    if (q) {
        q->next = w->queue;
        w->queue = q;
    }
    w->done++;
    int p = sm_ai_provider_from_name(a->provider);
    if (!a->ok)
        w->failed++;
    else if (a->cached)
        w->cached++;
    else if (a->simulated) {
        w->would_call++;
        w->cost_estimate += a->cost_estimate;
        if (p >= 0) {
            w->per_provider_calls[p]++;
            w->per_provider_cost[p] += a->cost_estimate;
        }
    } else {
        w->filled++;
        w->spent += a->cost;
        if (p >= 0) {
            w->per_provider_calls[p]++;
            w->per_provider_cost[p] += a->cost;
        }
    }
    w->pending--;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static int warm_usage(FILE *out)
{
    fprintf(out,
            "Usage: samplemind ai warm [--providers P,...] [--task-types T,...|all]\n"
            "                          [--samples QUERY] [--limit N] [--no-simulate]\n"
            "                          [--schedule HOURS] [--concurrency N] [PATH...]\n"
            "Runs task prompts over catalog samples (or the files given) to fill the\n"
            "answer cache. Simulation by default: no call is made; it reports what is\n"
            "cached and what the rest would cost. --no-simulate spends, and stores\n"
            "every answer with its catalog sample (as 'ai ask' does).\n");
    return out == stdout ? SM_EXIT_OK : SM_EXIT_USAGE;
}

static int warm_once(struct sm_cli *cli, sm_ai *ai, sm_catalog *cat, char **paths, int npaths,
                     const char *query, long limit, int providers[], int nprov, int mask,
                     bool simulate, int concurrency)
{
    /* Collect the samples' descriptors and catalog ids. */
    char **descs = NULL;
    struct warm_item *items = NULL;
    size_t n = 0;
    if (cat && (query || !npaths)) {
        sm_query q;
        sm_query_init(&q);
        sm_error err = SM_ERROR_INIT;
        if (sm_query_parse(&q, query ? query : "", &err) != SM_OK) {
            sm_cli_query_error(cli, query ? query : "", &q, &err);
            sm_query_release(&q);
            return SM_EXIT_USAGE;
        }
        int64_t *ids = NULL;
        size_t nids = 0;
        if (sm_catalog_search_ids(cat, &q, &ids, &nids, &err) != SM_OK) {
            sm_cli_error(cli, "%s", err.msg);
            sm_query_release(&q);
            return SM_EXIT_FAILED;
        }
        sm_query_release(&q);
        if (limit > 0 && nids > (size_t)limit)
            nids = (size_t)limit;
        descs = sm_calloc(nids + (size_t)npaths + 1, sizeof(char *));
        items = sm_calloc(nids + (size_t)npaths + 1, sizeof(*items));
        for (size_t i = 0; descs && items && i < nids; i++) {
            char *j = sm_catalog_sample_json(cat, ids[i], 0, &err);
            if (j) {
                items[n].id = ids[i];
                descs[n++] = j;
            }
        }
        sm_free(ids);
    } else {
        descs = sm_calloc((size_t)npaths + 1, sizeof(char *));
        items = sm_calloc((size_t)npaths + 1, sizeof(*items));
    }
    if (!descs || !items) {
        for (size_t s = 0; descs && s < n; s++)
            sm_free(descs[s]);
        sm_free(descs);
        sm_free(items);
        return SM_EXIT_FAILED;
    }
    for (int i = 0; i < npaths; i++) {
        int64_t id;
        char *j = descriptors_of(cli, cat, paths[i], &id);
        if (j) {
            items[n].id = id;
            descs[n++] = j;
        }
    }
    struct warm_totals w;
    memset(&w, 0, sizeof(w));
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    w.store = simulate ? NULL : cat;
    for (size_t s = 0; s < n; s++)
        items[s].w = &w;
    for (size_t s = 0; s < n; s++) {
        for (int t = 0; t < SM_AI_TASK_COUNT; t++) {
            if (!(mask & (1 << t)))
                continue;
            for (int k = 0; k < (nprov ? nprov : 1); k++) {
                pthread_mutex_lock(&w.lock);
                while (w.pending >= concurrency) {
                    pthread_cond_wait(&w.cond, &w.lock);
                    warm_drain(cli, &w);
                }
                w.pending++;
                pthread_mutex_unlock(&w.lock);
                sm_ai_request rq = {0};
                rq.task = t;
                rq.descriptors = descs[s];
                rq.provider = nprov ? sm_ai_provider_name(providers[k]) : NULL;
                rq.flags = simulate ? SM_AI_SIMULATE : 0;
                if (sm_ai_ask_async(ai, &rq, on_warm, &items[s], NULL) != SM_OK) {
                    pthread_mutex_lock(&w.lock);
                    w.pending--;
                    w.failed++;
                    pthread_mutex_unlock(&w.lock);
                }
            }
        }
    }
    pthread_mutex_lock(&w.lock);
    warm_drain(cli, &w);
    while (w.pending > 0) {
        pthread_cond_wait(&w.cond, &w.lock);
        warm_drain(cli, &w);
    }
    pthread_mutex_unlock(&w.lock);
    json_t *by = json_object();
    for (int p = 0; p < SM_AI_PROVIDER_COUNT; p++)
        if (w.per_provider_calls[p])
            json_object_set_new(by, sm_ai_provider_name(p),
                                json_pack("{s:i, s:f}", "calls", w.per_provider_calls[p],
                                          simulate ? "cost_estimate" : "cost",
                                          w.per_provider_cost[p]));
    if (sm_cli_want_json(cli)) {
        json_t *o = json_pack("{s:b, s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:o}",
                              "simulate", simulate, "samples", (json_int_t)n, "requests", w.done,
                              "cached", w.cached, "would_call", w.would_call, "filled", w.filled,
                              "failed", w.failed, "stored", w.stored, "cost_estimate",
                              w.cost_estimate, "spent", w.spent, "providers", by);
        char *t = json_dumps(o, JSON_COMPACT);
        puts(t);
        free(t);
        json_decref(o);
    } else {
        printf("%s: %zu samples, %d requests: %d already cached, ", simulate ? "simulation" : "warm",
               n, w.done, w.cached);
        if (simulate)
            printf("%d would call a provider (estimated $%.4f)", w.would_call, w.cost_estimate);
        else
            printf("%d filled ($%.4f spent), %d answers stored in the catalog", w.filled,
                   w.spent, w.stored);
        printf(", %d failed\n", w.failed);
        const char *k;
        json_t *v;
        json_object_foreach(by, k, v)
        {
            printf("  %-18s %4lld calls  $%.4f\n", k,
                   (long long)json_integer_value(json_object_get(v, "calls")),
                   json_number_value(json_object_get(v, simulate ? "cost_estimate" : "cost")));
        }
        json_decref(by);
    }
    for (size_t s = 0; s < n; s++)
        sm_free(descs[s]);
    sm_free(descs);
    sm_free(items);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return w.failed || w.not_stored ? SM_EXIT_FAILED : SM_EXIT_OK;
}

static int cmd_warm(struct sm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"providers", required_argument, NULL, 'p'}, {"task-types", required_argument, NULL, 't'},
        {"samples", required_argument, NULL, 's'},   {"limit", required_argument, NULL, 'l'},
        {"no-simulate", no_argument, NULL, 'N'},     {"schedule", required_argument, NULL, 'S'},
        {"concurrency", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *provs = NULL;
    const char *tasks = "genre,mood,tags";
    const char *query = NULL;
    long limit = 0;
    bool simulate = true;
    double hours = 0.0;
    int concurrency = 32;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            provs = optarg;
            break;
        case 't':
            tasks = optarg;
            break;
        case 's':
            query = optarg;
            break;
        case 'l':
            limit = strtol(optarg, NULL, 10);
            break;
        case 'N':
            simulate = false;
            break;
        case 'S':
            hours = strtod(optarg, NULL);
            if (!(hours > 0.0)) {
                sm_cli_error(cli, "ai warm: --schedule needs a number of hours > 0");
                return SM_EXIT_USAGE;
            }
            break;
        case 'c':
            concurrency = (int)strtol(optarg, NULL, 10);
            if (concurrency < 1)
                concurrency = 1;
            break;
        case 'h':
            return warm_usage(stdout);
        default:
            return warm_usage(stderr);
        }
    }
    int mask = task_mask(tasks);
    if (mask <= 0) {
        sm_cli_error(cli, "ai warm: unknown task in '%s'", tasks);
        return SM_EXIT_USAGE;
    }
    int providers[SM_AI_PROVIDER_COUNT];
    int nprov = 0;
    if (provs) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", provs);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int p = sm_ai_provider_from_name(t);
            if (p < 0 || nprov >= SM_AI_PROVIDER_COUNT) {
                sm_cli_error(cli, "ai warm: unknown provider '%s'", t);
                return SM_EXIT_USAGE;
            }
            providers[nprov++] = p;
        }
    }
    sm_cache *cache = sm_cli_open_cache(cli);
    sm_ai *ai = sm_cli_open_ai(cli, cache);
    if (!ai) {
        sm_cache_close(cache);
        return SM_EXIT_FAILED;
    }
    int npaths = argc - optind;
    sm_catalog *cat = NULL;
    if (query || npaths == 0) {
        cat = sm_cli_open_catalog(cli, false);
        if (!cat) {
            sm_ai_free(ai);
            sm_cache_close(cache);
            return SM_EXIT_FAILED;
        }
    } else {
        /* Files only: answers for the ones in the catalog are stored with them. */
        cat = open_optional_catalog(cli);
    }
    int rc;
    for (;;) {
        rc = warm_once(cli, ai, cat, argv + optind, npaths, query, limit, providers, nprov, mask,
                       simulate, concurrency);
        fflush(stdout);
        if (!(hours > 0.0) || rc == SM_EXIT_USAGE)
            break;
        struct timespec ts = {(time_t)(hours * 3600.0), 0};
        nanosleep(&ts, NULL);
    }
    if (cat)
        sm_catalog_close(cat);
    sm_ai_free(ai);
    sm_cache_close(cache);
    return rc;
}

/* ------------------------------------------------------------------ bench --- */

static const char bench_desc[] =
    "{\"path\":\"/lib/Kicks/Kick_%d.wav\",\"duration\":0.45,\"loop\":false,"
    "\"loudness\":{\"integrated_lufs\":-6.5,\"true_peak_dbtp\":0.4,\"sample_peak_dbfs\":0.0},"
    "\"tempo\":null,\"key\":null,\"note\":{\"hz\":43.7,\"midi\":29,\"name\":\"F1\",\"cents\":3},"
    "\"category\":{\"label\":\"kick\",\"confidence\":0.9},"
    "\"timbre\":{\"brightness\":30,\"warmth\":60,\"hardness\":80,\"depth\":85,"
    "\"roughness\":20,\"boominess\":70}}";

static double mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int threads_now(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "Threads:", 8))
            n = atoi(line + 8);
    if (f)
        fclose(f);
    return n;
}

struct bench_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int left;
    int ok;
    int max_threads;
};

static void on_bench(sm_ai_answer *a, void *ud)
{
    struct bench_wait *w = ud;
    pthread_mutex_lock(&w->lock);
    if (a->ok && a->valid)
        w->ok++;
    w->left--;
    /* The waiting thread samples the thread count; a callback stays cheap. */
    if (w->left <= 0)
        pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* samplemind ai bench [--calls N] [--mock URL] [--concurrent N]: router figures. */
static int cmd_bench(struct sm_cli *cli, int argc, char **argv)
{
    int calls = 2000;
    int concurrent = 0;
    const char *mock = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--calls") && i + 1 < argc)
            calls = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mock") && i + 1 < argc)
            mock = argv[++i];
        else if (!strcmp(argv[i], "--concurrent") && i + 1 < argc)
            concurrent = atoi(argv[++i]);
        else {
            fprintf(stderr, "Usage: samplemind ai bench [--calls N] [--mock URL] "
                            "[--concurrent N]\n");
            return SM_EXIT_USAGE;
        }
    }
    if (calls < 1)
        calls = 1;
    char ini[1024];
    snprintf(ini, sizeof(ini),
             "[ai]\nroute.default = openai, builtin\nmax_attempts = 1\ntimeout_ms = 60000\n"
             "daily_budget = -1\n[openai]\napi_key = bench-key\nbase_url = %s/v1\n",
             mock ? mock : "http://127.0.0.1:9");
    sm_error err = SM_ERROR_INIT;
    sm_cache *cache = sm_cache_open(cli->cache && *cli->cache ? cli->cache : ":memory:", NULL,
                                    &err);
    if (!cache) {
        sm_cli_error(cli, "%s", err.msg);
        return SM_EXIT_FAILED;
    }
    sm_ai_opts o = {0};
    o.config_text = ini;
    o.ignore_env = true;
    o.cache = cache;
    sm_ai *ai = sm_ai_new(&o, &err);
    if (!ai) {
        sm_cli_error(cli, "%s", err.msg);
        sm_cache_close(cache);
        return SM_EXIT_FAILED;
    }
    char desc[1024];
    snprintf(desc, sizeof(desc), bench_desc, 1);
    sm_ai_request rq = {0};
    rq.task = SM_AI_GENRE;
    rq.descriptors = desc;
    json_t *out = json_object();
    json_object_set_new(out, "cache", json_string(cli->cache && *cli->cache ? cli->cache : "sqlite :memory:"));
    /* 1. The builtin rules: routing, prompt, rules, validation; no I/O. */
    rq.provider = "builtin";
    double t = mono_us();
    for (int i = 0; i < calls; i++) {
        sm_ai_answer a;
        sm_ai_ask(ai, &rq, &a, NULL);
        sm_ai_answer_release(&a);
    }
    json_object_set_new(out, "builtin_us_per_call", json_real((mono_us() - t) / calls));
    if (mock) {
        /* 2. A cached answer: routing, key hashing, cache read, decode. */
        rq.provider = "openai";
        sm_ai_answer a;
        sm_ai_ask(ai, &rq, &a, NULL);
        sm_ai_answer_release(&a);
        t = mono_us();
        for (int i = 0; i < calls; i++) {
            sm_ai_ask(ai, &rq, &a, NULL);
            sm_ai_answer_release(&a);
        }
        json_object_set_new(out, "cached_us_per_call", json_real((mono_us() - t) / calls));
        /* 3. Router overhead on an upstream call: the same request through the
         * router (cache read skipped, answer parsed, validated and stored) minus
         * the bare HTTP round trip of the same bytes. */
        int n = calls < 500 ? calls : 500;
        rq.flags = SM_AI_NO_CACHE_READ;
        t = mono_us();
        for (int i = 0; i < n; i++) {
            sm_ai_ask(ai, &rq, &a, NULL);
            sm_ai_answer_release(&a);
        }
        double routed = (mono_us() - t) / n;
        char url[512];
        snprintf(url, sizeof(url), "%s/v1/chat/completions", mock);
        const char *hdrs[] = {"Content-Type: application/json", "Authorization: Bearer bench-key",
                              NULL};
        const char *body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
                           "\"content\":\"Task: genre.\"}]}";
        sm_http_request hr = {0};
        hr.url = url;
        hr.headers = hdrs;
        hr.body = body;
        hr.body_len = strlen(body);
        t = mono_us();
        for (int i = 0; i < n; i++) {
            sm_http_response rs;
            sm_http_perform(sm_ai_http(ai), &hr, &rs, NULL);
            sm_http_response_release(&rs);
        }
        double bare = (mono_us() - t) / n;
        json_object_set_new(out, "upstream_routed_us", json_real(routed));
        json_object_set_new(out, "upstream_bare_http_us", json_real(bare));
        json_object_set_new(out, "router_overhead_us", json_real(routed - bare));
        /* 4. Many distinct uncached requests at once (set the mock's latency first). */
        if (concurrent > 0) {
            struct bench_wait w;
            memset(&w, 0, sizeof(w));
            pthread_mutex_init(&w.lock, NULL);
            pthread_cond_init(&w.cond, NULL);
            w.left = concurrent;
            int threads_before = threads_now();
            t = mono_us();
            for (int i = 0; i < concurrent; i++) {
                char d[1024];
                snprintf(d, sizeof(d), bench_desc, 1000 + i);
                sm_ai_request r2 = {0};
                r2.task = SM_AI_GENRE;
                r2.provider = "openai";
                r2.descriptors = d;
                r2.flags = SM_AI_NO_CACHE_READ;
                if (sm_ai_ask_async(ai, &r2, on_bench, &w, NULL) != SM_OK) {
                    pthread_mutex_lock(&w.lock);
                    w.left--;
                    pthread_mutex_unlock(&w.lock);
                }
            }
            pthread_mutex_lock(&w.lock);
            while (w.left > 0) {
                /* Every 20 ms: how many threads the process has now. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 20000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&w.cond, &w.lock, &ts);
                pthread_mutex_unlock(&w.lock);
                int tn = threads_now();
                pthread_mutex_lock(&w.lock);
                if (tn > w.max_threads)
                    w.max_threads = tn;
            }
            pthread_mutex_unlock(&w.lock);
            double wall = (mono_us() - t) / 1e6;
            json_object_set_new(out, "concurrent_requests", json_integer(concurrent));
            json_object_set_new(out, "concurrent_ok", json_integer(w.ok));
            json_object_set_new(out, "concurrent_wall_s", json_real(wall));
            json_object_set_new(out, "threads_before", json_integer(threads_before));
            json_object_set_new(out, "threads_max", json_integer(w.max_threads));
            pthread_cond_destroy(&w.cond);
            pthread_mutex_destroy(&w.lock);
        }
    }
    char *txt = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6));
    puts(txt);
    free(txt);
    json_decref(out);
    sm_ai_free(ai);
    sm_cache_close(cache);
    return SM_EXIT_OK;
}

int sm_cmd_ai(struct sm_cli *cli, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "Usage: samplemind ai ask ID|PATH --task TASK [--provider P]\n"
                     "       samplemind ai warm [--providers ...] [--task-types ...] "
                     "[--samples QUERY] [--no-simulate] [--schedule HOURS]\n");
        return argc < 2 ? SM_EXIT_USAGE : SM_EXIT_OK;
    }
    if (!strcmp(argv[1], "ask"))
        return cmd_ask(cli, argc - 1, argv + 1);
    if (!strcmp(argv[1], "warm"))
        return cmd_warm(cli, argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench"))
        return cmd_bench(cli, argc - 1, argv + 1);
    sm_cli_error(cli, "ai: unknown sub-command '%s' (ask, warm)", argv[1]);
    return SM_EXIT_USAGE;
}
