/** \file
 * The AI layer: ask a model (or the offline rules) about a sample, through a router
 * that prefers local providers, falls back across providers, retries, keeps a
 * circuit breaker per provider, controls cost with a daily budget and caches every
 * answer.
 *
 *     sm_error err = SM_ERROR_INIT;
 *     sm_ai_opts o = {.config_path = "samplemind.ini", .cache = cache};
 *     sm_ai *ai = sm_ai_new(&o, &err);
 *     sm_ai_request rq = {.task = SM_AI_GENRE, .descriptors = analysis_json};
 *     sm_ai_answer a;
 *     if (sm_ai_ask(ai, &rq, &a, &err) == SM_OK) puts(a.json);
 *     sm_ai_answer_release(&a);
 *     sm_ai_free(ai);
 *
 * Providers: "builtin" (offline rules over the descriptors, always available, says
 * it is rule-based), "ollama", "openai", "anthropic", "gemini", "openai-compatible".
 * Settings come from built-in defaults, then the config file (INI), then the
 * environment (OPENAI_API_KEY, OPENAI_BASE_URL, ANTHROPIC_API_KEY,
 * ANTHROPIC_BASE_URL, GEMINI_API_KEY, GEMINI_BASE_URL, OLLAMA_HOST, OLLAMA_MODEL,
 * OPENAI_COMPATIBLE_BASE_URL), then opts->config_text. docs/ai.md lists every key.
 *
 * Invariants: API keys never appear in an answer, an error or a log line. A config
 * file that holds a key and is readable by others is refused. Every answer says
 * which provider and model made it, its latency, tokens (from the provider's usage,
 * else estimated at 4 bytes a token), estimated cost and whether it came from the
 * cache. Identical requests in flight share one upstream call. A cache failure is a
 * miss, never an error. All functions are thread-safe.
 */
#ifndef SAMPLEMIND_AI_H
#define SAMPLEMIND_AI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <samplemind/cache.h>
#include <samplemind/catalog.h>
#include <samplemind/common.h>
#include <samplemind/error.h>
#include <samplemind/net.h>

/** Task types and their JSON names. */
#define SM_AI_TASK_MAP(XX)                                                          \
    XX(GENRE, "genre")                                                              \
    XX(MOOD, "mood")                                                                \
    XX(TAGS, "tags")                                                                \
    XX(DESCRIPTION, "description")                                                  \
    XX(PRODUCTION, "production")                                                    \
    XX(MIXING, "mixing")                                                            \
    XX(PAIRING, "pairing")

enum sm_ai_task {
#define SM__AI_TASK_ENUM(id, name) SM_AI_##id,
    SM_AI_TASK_MAP(SM__AI_TASK_ENUM)
#undef SM__AI_TASK_ENUM
        SM_AI_TASK_COUNT
};

/** Providers and their names. */
#define SM_AI_PROVIDER_MAP(XX)                                                      \
    XX(BUILTIN, "builtin")                                                          \
    XX(OLLAMA, "ollama")                                                            \
    XX(OPENAI, "openai")                                                            \
    XX(ANTHROPIC, "anthropic")                                                      \
    XX(GEMINI, "gemini")                                                            \
    XX(OPENAI_COMPAT, "openai-compatible")

enum sm_ai_provider {
#define SM__AI_PROV_ENUM(id, name) SM_AI_P_##id,
    SM_AI_PROVIDER_MAP(SM__AI_PROV_ENUM)
#undef SM__AI_PROV_ENUM
        SM_AI_PROVIDER_COUNT
};

/** \return "genre" ...; "unknown" for a bad value. */
SM_API const char *sm_ai_task_name(int task);
/** \return the task named \p name, or -1. */
SM_API int sm_ai_task_from_name(const char *name);
/** \return "openai" ...; "unknown" for a bad value. */
SM_API const char *sm_ai_provider_name(int provider);
/** \return the provider named \p name, or -1. */
SM_API int sm_ai_provider_from_name(const char *name);

typedef struct sm_ai sm_ai;

typedef struct sm_ai_opts {
    const char *config_path; /**< INI file; NULL for none */
    const char *config_text; /**< INI text applied last (tests, --set); may be NULL */
    bool ignore_env;         /**< do not read the provider environment variables */
    sm_cache *cache;         /**< borrowed; NULL: answers are not cached */
    const char *data_dir;    /**< where the day's spending is kept; NULL: in memory */
} sm_ai_opts;

enum sm_ai_request_flags {
    SM_AI_NO_CACHE_READ = 1 << 0, /**< ask upstream even when cached (still stores) */
    SM_AI_SIMULATE = 1 << 1,      /**< no upstream call: say who would answer, at what
                                       estimated cost, and whether it is cached */
    SM_AI_CACHE_ONLY = 1 << 2,    /**< answer from the cache or not at all */
};

typedef struct sm_ai_request {
    int task;                /**< enum sm_ai_task */
    const char *descriptors; /**< the sample's analysis JSON (sm_analysis_to_json),
                                  NUL-terminated; its bytes key the cache */
    size_t descriptors_len;  /**< strlen(descriptors) when known; 0: measured */
    const char *provider;    /**< NULL: route by preference; else only this provider */
    const char *model;       /**< NULL: the provider's configured model */
    unsigned flags;          /**< enum sm_ai_request_flags */
} sm_ai_request;

typedef struct sm_ai_answer {
    int task;
    bool ok;          /**< a provider answered (valid or not); false: see error */
    bool valid;       /**< the answer passed the task's schema */
    bool cached;
    bool rule_based;  /**< made by the builtin rules, not a model */
    bool simulated;   /**< SM_AI_SIMULATE: no call was made */
    char provider[32];
    char model[64];
    char *json;       /**< new: the validated answer object; NULL unless valid */
    char *raw;        /**< new: the model's text when it was invalid; else NULL */
    double latency_ms;
    long tokens_in;
    long tokens_out;
    bool tokens_estimated;
    double cost;      /**< dollars spent by this call (0 when cached or simulated) */
    double cost_estimate; /**< dollars this answer costs (or would cost) upstream */
    char note[512];   /**< why providers were skipped or fell back; may be "" */
    char error[SM_ERROR_MSG_SIZE]; /**< when !ok */
    sm_status status; /**< when !ok: SM_ETIMEOUT (the last provider tried timed out),
                           SM_EUNAVAILABLE (none reachable or willing), SM_EIO... */
} sm_ai_answer;

SM_API void sm_ai_answer_init(sm_ai_answer *a);
SM_API void sm_ai_answer_release(sm_ai_answer *a);

/** \return the answer as new JSON text (sm_free): {"task","provider","model","answer",
 * "valid","cached","rule_based","latency_ms","tokens":{"input","output","estimated"},
 * "cost","note"}; NULL when out of memory. */
SM_API char *sm_ai_answer_to_json(const sm_ai_answer *a);

/**
 * Store answer \p a with catalog row \p id (sm_catalog_put_ai_answer): task,
 * provider, model, the answer object, latency, tokens, the estimated cost
 * (cost_estimate) and the cached flag, replacing the row's answer for that task.
 * A "tags" answer's tags become the row's tags and a "description" answer's text
 * becomes searchable. Answers that are not stored, with SM_OK: failed, invalid
 * (no validated object) and simulated ones, and a cached answer equal to the one
 * already stored for the task (same provider, model and answer: the record of the
 * first answer, with its real latency and cost, stands and nothing is written).
 * \p stored (may be NULL) says whether the catalog was written.
 * \return SM_OK; SM_ENOENT for an unknown row; the catalog's errors.
 */
SM_API sm_status sm_ai_answer_store(const sm_ai_answer *a, sm_catalog *cat, int64_t id,
                                    bool *stored, sm_error *err);

/**
 * Make a router. Reads the config file and environment; starts the HTTP client.
 * \return new router (sm_ai_free), or NULL with \p err filled (a world-readable
 * config that holds keys is SM_EACCES).
 */
SM_API sm_ai *sm_ai_new(const sm_ai_opts *opts, sm_error *err);
/** Wait for calls in flight to be cancelled, then free. NULL is fine. */
SM_API void sm_ai_free(sm_ai *ai);

/** Called once with the outcome (borrowed for the call; it may steal json/raw by
 * setting them to NULL). */
typedef void (*sm_ai_done_fn)(sm_ai_answer *answer, void *userdata);

/**
 * Ask asynchronously. \p fn runs either before this returns (cache hit, builtin,
 * nothing to try) or later on the HTTP client's thread; it must not block.
 * \return SM_OK (then \p fn is called exactly once), or SM_EINVAL for a bad task or
 * descriptors that are not a JSON object (then it is never called).
 */
SM_API sm_status sm_ai_ask_async(sm_ai *ai, const sm_ai_request *rq, sm_ai_done_fn fn,
                                 void *userdata, sm_error *err);

/**
 * The cached path without a prompt: when the provider the router would try first
 * (the forced one, else the task's first configured one) has a cached answer for
 * these descriptors' bytes, task and model, \p out receives the complete reply (the
 * sm_ai_answer_to_json object of the cached answer, new, not NUL-terminated; sm_free)
 * and \p out_len its length. Never calls upstream. \return false when the full router
 * must answer (miss, builtin first, over budget, NO_CACHE_READ or SIMULATE, no cache).
 */
SM_API bool sm_ai_cached_reply(sm_ai *ai, const sm_ai_request *rq, char **out,
                               size_t *out_len);

/** Ask and wait. \p out is always initialised. \return SM_OK when out->ok; else the
 * reason with \p err (SM_ETIMEOUT or SM_EUNAVAILABLE: no provider could answer, see out->status). Not from a callback. */
SM_API sm_status sm_ai_ask(sm_ai *ai, const sm_ai_request *rq, sm_ai_answer *out,
                           sm_error *err);

/**
 * Describe the providers as new JSON text (sm_free): name, configured, model, base
 * URL (without credentials), paid, circuit state, calls, failures, mean latency,
 * tokens and cost; with \p probe, Ollama's models from /api/tags and a health
 * check of each configured HTTP provider (a GET, no tokens spent).
 */
SM_API char *sm_ai_providers_json(sm_ai *ai, bool probe);

/** \return Prometheus text (new, sm_free; NULL when out of memory): per provider
 * upstream calls, failures, cache answers, tokens, cost, a latency histogram and
 * circuit state; today's spending; this process's cache hits, misses and errors. */
SM_API char *sm_ai_metrics_text(sm_ai *ai);

/** Dollars spent today (UTC) on paid providers. */
SM_API double sm_ai_spent_today(sm_ai *ai);
/** \return the cache given at creation (borrowed), or NULL. */
SM_API sm_cache *sm_ai_cache(sm_ai *ai);
/** \return the router's HTTP client (borrowed). */
SM_API sm_http *sm_ai_http(sm_ai *ai);
/** Upstream calls made (HTTP requests to providers, including repairs). */
SM_API unsigned long long sm_ai_upstream_calls(sm_ai *ai);

#endif
