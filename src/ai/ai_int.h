/* The AI layer's internals: settings, prompts, provider wire formats, the rules. */
#ifndef SM_AI_INT_H
#define SM_AI_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <samplemind/ai.h>

#define SM__AI_MAX_PRICES 32

struct sm__ai_price {
    char model[64];
    double in_per_m;  /* dollars per million input tokens */
    double out_per_m; /* dollars per million output tokens */
};

struct sm__ai_provider_cfg {
    bool configured;
    bool paid;
    char base_url[256];
    char api_key[256];
    char model[64];
};

struct sm__ai_config {
    struct sm__ai_provider_cfg p[SM_AI_PROVIDER_COUNT];
    int route[SM_AI_TASK_COUNT][SM_AI_PROVIDER_COUNT]; /* provider ids, -1 ends */
    long timeout_ms;          /* per upstream call, retries included */
    double daily_budget;      /* dollars; < 0 = no limit */
    int breaker_failures;     /* consecutive failures that open a circuit */
    long breaker_cooldown_ms; /* open -> half-open */
    int max_attempts;
    long backoff_base_ms;
    long backoff_max_ms;
    long connect_timeout_ms;
    long cache_ttl_s;
    double temperature;
    int max_tokens;
    struct sm__ai_price prices[SM__AI_MAX_PRICES];
    int n_prices;
    bool ollama_explicit; /* OLLAMA_HOST or [ollama] given */
};

/* config.c */
void sm__ai_config_defaults(struct sm__ai_config *c);
/* Apply INI text; \p origin names it in errors. */
sm_status sm__ai_config_apply_ini(struct sm__ai_config *c, const char *text, const char *origin,
                                  sm_error *err);
/* Read the file, refusing it when it holds a key and others can read it. */
sm_status sm__ai_config_load_file(struct sm__ai_config *c, const char *path, sm_error *err);
void sm__ai_config_apply_env(struct sm__ai_config *c);
/* Dollars for the tokens on model (paid providers only; 0 for free ones). */
double sm__ai_config_cost(const struct sm__ai_config *c, int provider, const char *model,
                          long in, long out);

/* spend.c: the day's spending file of a data dir, shared by processes. */
/* The total of day in the file at path; 0 when absent, unreadable or of another day. */
double sm__ai_spend_read(const char *path, const char *day);
/* Add dollars to day's total in the file, atomically across processes (a flock on
 * path.lock); floor is the caller's own figure, used when larger than the file's.
 * *total gets the new total. Returns 0, or -1 when the file could not be written
 * (*total is then floor + dollars). */
int sm__ai_spend_add(const char *path, const char *day, double floor, double dollars,
                     double *total);

/* prompt.c */
/* Trimmed descriptors as canonical JSON (sorted keys, no per-frame arrays); new. */
char *sm__ai_descriptors_canonical(const char *descriptors, sm_error *err);
extern const char sm__ai_system_prompt[];
/* The user prompt for task over the canonical descriptors; new. */
char *sm__ai_user_prompt(int task, const char *canonical);
/* Repair instruction after an invalid answer; new. */
char *sm__ai_repair_prompt(int task, const char *why);
/* Validate text as the task's answer. Returns the normalised answer (new JSON
 * object) or NULL with why filled. */
json_t *sm__ai_validate(int task, const char *text, char *why, size_t whylen);
long sm__ai_estimate_tokens(size_t bytes);

/* providers.c: the wire formats. */
struct sm__ai_wire {
    char url[512];
    char *headers[6]; /* new strings, NULL-terminated */
    char *body;       /* new */
};
/* Build the request; messages is a JSON array of {"role","content"} (user/assistant). */
sm_status sm__ai_wire_build(int provider, const struct sm__ai_provider_cfg *cfg,
                            const char *model, const struct sm__ai_config *c, json_t *messages,
                            struct sm__ai_wire *out, sm_error *err);
void sm__ai_wire_release(struct sm__ai_wire *w);
/* Parse a 2xx reply: text (new) and usage (-1 when absent). 0 or -1 with why. */
int sm__ai_wire_parse(int provider, const char *body, char **text, long *tokens_in,
                      long *tokens_out, char *why, size_t whylen);

/* builtin.c: the rules. Returns a valid answer object (new) or NULL (out of memory). */
json_t *sm__ai_builtin_answer(int task, json_t *descriptors);

#endif
