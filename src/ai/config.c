/* AI settings: defaults, the INI config file, the providers' environment variables. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <samplemind/alloc.h>
#include <samplemind/log.h>

#include "ai/ai_int.h"

static const struct sm__ai_price default_prices[] = {
    {"gpt-4o-mini", 0.15, 0.60},
    {"gpt-4o", 2.50, 10.00},
    {"gpt-4.1-mini", 0.40, 1.60},
    {"claude-3-5-haiku-latest", 0.80, 4.00},
    {"claude-3-5-sonnet-latest", 3.00, 15.00},
    {"gemini-1.5-flash", 0.075, 0.30},
    {"gemini-2.0-flash", 0.10, 0.40},
};

static void set_route(struct sm__ai_config *c, int task, const int *ids, int n)
{
    for (int i = 0; i < SM_AI_PROVIDER_COUNT; i++)
        c->route[task][i] = i < n ? ids[i] : -1;
}

void sm__ai_config_defaults(struct sm__ai_config *c)
{
    memset(c, 0, sizeof(*c));
    c->timeout_ms = 30000;
    c->daily_budget = 1.0;
    c->breaker_failures = 3;
    c->breaker_cooldown_ms = 30000;
    c->max_attempts = 3;
    c->backoff_base_ms = 200;
    c->backoff_max_ms = 8000;
    c->connect_timeout_ms = 3000;
    c->cache_ttl_s = 7L * 24 * 3600;
    c->temperature = 0.2;
    c->max_tokens = 1024;
    c->p[SM_AI_P_BUILTIN].configured = true;
    snprintf(c->p[SM_AI_P_BUILTIN].model, 64, "rules-v1");
    snprintf(c->p[SM_AI_P_OLLAMA].base_url, 256, "http://127.0.0.1:11434");
    snprintf(c->p[SM_AI_P_OLLAMA].model, 64, "llama3.2");
    snprintf(c->p[SM_AI_P_OPENAI].base_url, 256, "https://api.openai.com/v1");
    snprintf(c->p[SM_AI_P_OPENAI].model, 64, "gpt-4o-mini");
    c->p[SM_AI_P_OPENAI].paid = true;
    snprintf(c->p[SM_AI_P_ANTHROPIC].base_url, 256, "https://api.anthropic.com");
    snprintf(c->p[SM_AI_P_ANTHROPIC].model, 64, "claude-3-5-haiku-latest");
    c->p[SM_AI_P_ANTHROPIC].paid = true;
    snprintf(c->p[SM_AI_P_GEMINI].base_url, 256, "https://generativelanguage.googleapis.com");
    snprintf(c->p[SM_AI_P_GEMINI].model, 64, "gemini-1.5-flash");
    c->p[SM_AI_P_GEMINI].paid = true;
    snprintf(c->p[SM_AI_P_OPENAI_COMPAT].model, 64, "default");
    /* Local first; cheap tasks prefer the cheapest paid model, writing tasks the
     * strongest writer; the rules answer when nothing else can. */
    static const int cheap[] = {SM_AI_P_OLLAMA, SM_AI_P_OPENAI_COMPAT, SM_AI_P_GEMINI,
                                SM_AI_P_OPENAI, SM_AI_P_ANTHROPIC, SM_AI_P_BUILTIN};
    static const int prose[] = {SM_AI_P_OLLAMA, SM_AI_P_OPENAI_COMPAT, SM_AI_P_ANTHROPIC,
                                SM_AI_P_OPENAI, SM_AI_P_GEMINI, SM_AI_P_BUILTIN};
    for (int t = 0; t < SM_AI_TASK_COUNT; t++) {
        bool is_cheap = t == SM_AI_GENRE || t == SM_AI_MOOD || t == SM_AI_TAGS;
        set_route(c, t, is_cheap ? cheap : prose, 6);
    }
    for (size_t i = 0; i < sizeof(default_prices) / sizeof(default_prices[0]); i++)
        c->prices[c->n_prices++] = default_prices[i];
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int parse_long(const char *v, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *trim(end))
        return -1;
    *out = x;
    return 0;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *trim(end) || isnan(x))
        return -1;
    *out = x;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

static int parse_route(const char *v, int *ids)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int p = sm_ai_provider_from_name(trim(tok));
        if (p < 0 || n >= SM_AI_PROVIDER_COUNT)
            return -1;
        for (int i = 0; i < n; i++)
            if (ids[i] == p)
                return -1;
        ids[n++] = p;
    }
    for (int i = n; i < SM_AI_PROVIDER_COUNT; i++)
        ids[i] = -1;
    return n > 0 ? 0 : -1;
}

static int set_ai(struct sm__ai_config *c, const char *k, const char *v)
{
    long l = 0;
    double d = 0.0;
    if (!strncmp(k, "route.", 6)) {
        int ids[SM_AI_PROVIDER_COUNT];
        if (parse_route(v, ids) < 0)
            return -1;
        if (!strcmp(k + 6, "default")) {
            for (int t = 0; t < SM_AI_TASK_COUNT; t++)
                memcpy(c->route[t], ids, sizeof(ids));
            return 0;
        }
        int t = sm_ai_task_from_name(k + 6);
        if (t < 0)
            return -1;
        memcpy(c->route[t], ids, sizeof(ids));
        return 0;
    }
    if (!strcmp(k, "daily_budget") || !strcmp(k, "temperature")) {
        if (parse_double(v, &d) < 0)
            return -1;
        if (!strcmp(k, "daily_budget"))
            c->daily_budget = d;
        else
            c->temperature = d;
        return 0;
    }
    if (parse_long(v, &l) < 0 || l < 0)
        return -1;
    if (!strcmp(k, "timeout_ms") && l > 0)
        c->timeout_ms = l;
    else if (!strcmp(k, "breaker_failures") && l > 0)
        c->breaker_failures = (int)l;
    else if (!strcmp(k, "breaker_cooldown_ms"))
        c->breaker_cooldown_ms = l;
    else if (!strcmp(k, "max_attempts") && l > 0)
        c->max_attempts = (int)l;
    else if (!strcmp(k, "backoff_base_ms"))
        c->backoff_base_ms = l;
    else if (!strcmp(k, "backoff_max_ms"))
        c->backoff_max_ms = l;
    else if (!strcmp(k, "connect_timeout_ms") && l > 0)
        c->connect_timeout_ms = l;
    else if (!strcmp(k, "cache_ttl_s") && l > 0)
        c->cache_ttl_s = l;
    else if (!strcmp(k, "max_tokens") && l > 0)
        c->max_tokens = (int)l;
    else
        return -1;
    return 0;
}

static int set_provider(struct sm__ai_config *c, int p, const char *k, const char *v)
{
    struct sm__ai_provider_cfg *pc = &c->p[p];
    if (!strcmp(k, "base_url") || !strcmp(k, "host")) {
        if (strlen(v) >= sizeof(pc->base_url))
            return -1;
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            snprintf(pc->base_url, sizeof(pc->base_url), "http://%.240s", v);
        else
            snprintf(pc->base_url, sizeof(pc->base_url), "%s", v);
        if (p == SM_AI_P_OLLAMA)
            c->ollama_explicit = true;
        if (p == SM_AI_P_OLLAMA || p == SM_AI_P_OPENAI_COMPAT)
            pc->configured = true;
        return 0;
    }
    if (!strcmp(k, "api_key")) {
        if (strlen(v) >= sizeof(pc->api_key))
            return -1;
        snprintf(pc->api_key, sizeof(pc->api_key), "%s", v);
        if (p != SM_AI_P_BUILTIN && p != SM_AI_P_OLLAMA)
            pc->configured = v[0] != '\0';
        return 0;
    }
    if (!strcmp(k, "model")) {
        if (!v[0] || strlen(v) >= sizeof(pc->model))
            return -1;
        snprintf(pc->model, sizeof(pc->model), "%s", v);
        return 0;
    }
    if (!strcmp(k, "enabled")) {
        if (parse_bool(v, &pc->configured) < 0)
            return -1;
        if (p == SM_AI_P_OLLAMA)
            c->ollama_explicit = true;
        return 0;
    }
    if (!strcmp(k, "paid"))
        return parse_bool(v, &pc->paid);
    return -1;
}

static int set_price(struct sm__ai_config *c, const char *k, const char *v)
{
    double in = 0.0;
    double out = 0.0;
    char *end;
    in = strtod(v, &end);
    if (end == v)
        return -1;
    while (*end == ' ' || *end == ',')
        end++;
    const char *second = end;
    out = strtod(second, &end);
    if (end == second || *trim(end) || in < 0.0 || out < 0.0 || strlen(k) >= 64)
        return -1;
    for (int i = 0; i < c->n_prices; i++) {
        if (!strcmp(c->prices[i].model, k)) {
            c->prices[i].in_per_m = in;
            c->prices[i].out_per_m = out;
            return 0;
        }
    }
    if (c->n_prices >= SM__AI_MAX_PRICES)
        return -1;
    struct sm__ai_price *pr = &c->prices[c->n_prices++];
    snprintf(pr->model, sizeof(pr->model), "%s", k);
    pr->in_per_m = in;
    pr->out_per_m = out;
    return 0;
}

sm_status sm__ai_config_apply_ini(struct sm__ai_config *c, const char *text, const char *origin,
                                  sm_error *err)
{
    char *copy = sm_strdup(text);
    if (!copy)
        return sm_error_set(err, SM_ENOMEM, "out of memory");
    char section[64] = "";
    int lineno = 0;
    sm_status st = SM_OK;
    char *p = copy;
    while (p && st == SM_OK) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *line = trim(p);
        p = nl ? nl + 1 : NULL;
        if (!line[0] || line[0] == ';' || line[0] == '#')
            continue;
        if (line[0] == '[') {
            char *end = strchr(line, ']');
            if (!end || (size_t)(end - line - 1) >= sizeof(section)) {
                st = sm_error_set(err, SM_EINVAL, "%s:%d: bad section header", origin, lineno);
                break;
            }
            *end = '\0';
            snprintf(section, sizeof(section), "%s", trim(line + 1));
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            st = sm_error_set(err, SM_EINVAL, "%s:%d: expected key = value", origin, lineno);
            break;
        }
        *eq = '\0';
        char *k = trim(line);
        char *v = trim(eq + 1);
        /* Strip an inline comment after a space. */
        char *cm = strstr(v, " ;");
        if (cm)
            *cm = '\0';
        v = trim(v);
        if (strlen(v) >= 2 && v[0] == '"' && v[strlen(v) - 1] == '"') {
            v[strlen(v) - 1] = '\0';
            v++;
        }
        int r = 0;
        int prov = sm_ai_provider_from_name(section);
        if (!strcmp(section, "ai"))
            r = set_ai(c, k, v);
        else if (!strcmp(section, "prices"))
            r = set_price(c, k, v);
        else if (prov >= 0)
            r = set_provider(c, prov, k, v);
        else
            continue; /* Other sections belong to other parts of samplemind. */
        if (r < 0) {
            /* Name the key, never the value: it may be a secret. */
            st = sm_error_set(err, SM_EINVAL, "%s:%d: bad value for [%s] %s", origin, lineno,
                              section, k);
        }
    }
    sm_free(copy);
    return st;
}

sm_status sm__ai_config_load_file(struct sm__ai_config *c, const char *path, sm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sm_error_set(err, errno == ENOENT ? SM_ENOENT : SM_EIO, "config %s: %s", path,
                            strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (1 << 20)) {
        close(fd);
        return sm_error_set(err, SM_EINVAL, "config %s: not a regular file under 1 MiB", path);
    }
    char *text = sm_malloc((size_t)sb.st_size + 1);
    if (!text) {
        close(fd);
        return sm_error_set(err, SM_ENOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, text + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    text[got] = '\0';
    struct sm__ai_config probe = *c;
    for (int i = 0; i < SM_AI_PROVIDER_COUNT; i++)
        probe.p[i].api_key[0] = '\0';
    sm_status st = sm__ai_config_apply_ini(&probe, text, path, err);
    bool has_key = false;
    for (int i = 0; i < SM_AI_PROVIDER_COUNT; i++)
        if (probe.p[i].api_key[0])
            has_key = true;
    if (st == SM_OK && has_key && (sb.st_mode & (S_IROTH | S_IWOTH))) {
        st = sm_error_set(err, SM_EACCES,
                          "config %s holds API keys and others can read it; run chmod 600 %s",
                          path, path);
    }
    if (st == SM_OK) {
        /* Keys already set (by an earlier layer) survive unless the file sets them. */
        for (int i = 0; i < SM_AI_PROVIDER_COUNT; i++) {
            if (!probe.p[i].api_key[0] && c->p[i].api_key[0]) {
                memcpy(probe.p[i].api_key, c->p[i].api_key, sizeof(probe.p[i].api_key));
                probe.p[i].configured = c->p[i].configured;
            }
        }
        *c = probe;
    }
    sodium_memzero(text, got);
    sm_free(text);
    return st;
}

static void env_into(char *dst, size_t size, const char *name)
{
    const char *v = getenv(name);
    if (v && v[0] && strlen(v) < size)
        snprintf(dst, size, "%s", v);
}

void sm__ai_config_apply_env(struct sm__ai_config *c)
{
    static const struct {
        int p;
        const char *key;
        const char *url;
    } vars[] = {
        {SM_AI_P_OPENAI, "OPENAI_API_KEY", "OPENAI_BASE_URL"},
        {SM_AI_P_ANTHROPIC, "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"},
        {SM_AI_P_GEMINI, "GEMINI_API_KEY", "GEMINI_BASE_URL"},
        {SM_AI_P_OPENAI_COMPAT, "OPENAI_COMPATIBLE_API_KEY", "OPENAI_COMPATIBLE_BASE_URL"},
    };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        struct sm__ai_provider_cfg *pc = &c->p[vars[i].p];
        env_into(pc->api_key, sizeof(pc->api_key), vars[i].key);
        env_into(pc->base_url, sizeof(pc->base_url), vars[i].url);
        if (vars[i].p == SM_AI_P_OPENAI_COMPAT)
            pc->configured = pc->base_url[0] != '\0';
        else if (pc->api_key[0])
            pc->configured = true;
    }
    const char *oh = getenv("OLLAMA_HOST");
    if (oh && oh[0])
        set_provider(c, SM_AI_P_OLLAMA, "host", oh);
    const char *om = getenv("OLLAMA_MODEL");
    if (om && om[0] && strlen(om) < sizeof(c->p[SM_AI_P_OLLAMA].model))
        snprintf(c->p[SM_AI_P_OLLAMA].model, sizeof(c->p[SM_AI_P_OLLAMA].model), "%s", om);
}

double sm__ai_config_cost(const struct sm__ai_config *c, int provider, const char *model,
                          long in, long out)
{
    if (provider < 0 || provider >= SM_AI_PROVIDER_COUNT)
        return 0.0;
    const struct sm__ai_price *pr = NULL;
    for (int i = 0; i < c->n_prices; i++)
        if (!strcmp(c->prices[i].model, model))
            pr = &c->prices[i];
    double pin = 0.0;
    double pout = 0.0;
    if (pr) {
        pin = pr->in_per_m;
        pout = pr->out_per_m;
    } else if (c->p[provider].paid) {
        /* An unpriced paid model: assume a mid-range price rather than free. */
        pin = 1.0;
        pout = 4.0;
    }
    return ((double)in * pin + (double)out * pout) / 1e6;
}
