/* Server configuration: one table of options read from four places. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include <samplemind/alloc.h>

#include "config.h"

enum opt_type { OPT_STR, OPT_INT, OPT_SIZE, OPT_DBL };

struct opt {
    const char *name;
    enum opt_type type;
    size_t off;
    const char *def;
    double min;
    double max;
    const char *help;
};

/* The type and the offset of a field in one: a field whose C type is not the one
 * its option writes does not compile (max_header was an int written as int64_t,
 * which zeroed max_connections whenever it was set). */
#define FIELD(f, T) \
    (offsetof(struct sm_srv_config, f) + 0 * sizeof(_Generic(((struct sm_srv_config *)0)->f, T: 1)))
#define STR(f) OPT_STR, FIELD(f, char *)
#define INT(f) OPT_INT, FIELD(f, int)
#define SIZE(f) OPT_SIZE, FIELD(f, int64_t)
#define DBL(f) OPT_DBL, FIELD(f, double)

static const struct opt opts[] = {
    {"host", STR(host), "127.0.0.1", 0, 0, "address to listen on"},
    {"port", INT(port), "8080", 0, 65535, "port to listen on (0: any free port)"},
    {"data_dir", STR(data_dir), "", 0, 0,
     "data directory: auth.db, admin-password, uploads (global --data-dir)"},
    {"db", STR(db), "", 0, 0, "catalog URL (global --db); default sqlite://DATA_DIR/catalog.db"},
    {"cache", STR(cache), "", 0, 0, "AI answer cache URL (global --cache)"},
    {"roots", STR(roots), "", 0, 0,
     "library roots, ':'-separated: what scans may walk and audio may serve"},
    {"uploads_root", STR(uploads_root), "", 0, 0,
     "where analyze?store=true keeps uploads (default DATA_DIR/uploads)"},
    {"access_log", STR(access_log), "stderr", 0, 0,
     "access log: stderr, off, or a file (JSON lines)"},
    {"threads", INT(threads), "0", 0, 256, "request threads (0: one per core)"},
    {"workers", INT(workers), "0", 0, 256, "job and analysis threads (0: one per core)"},
    {"max_body", SIZE(max_body), "1M", 1, 1e9, "largest JSON body (413 beyond)"},
    {"max_upload", SIZE(max_upload), "256M", 1, 1e12, "largest upload for analyze"},
    {"max_header", SIZE(max_header), "16K", 4096, 1048576,
     "memory per connection for the request line and headers (431 beyond)"},
    {"max_connections", INT(max_connections), "1024", 1, 100000,
     "simultaneous connections"},
    {"conn_timeout", INT(conn_timeout), "30", 1, 3600,
     "seconds of inactivity before a connection is closed"},
    {"grace", INT(grace), "10", 0, 3600,
     "seconds to wait for in-flight requests on SIGTERM/SIGINT"},
    {"token_ttl", INT(token_ttl), "86400", 1, 31536000, "seconds a login token lives"},
    {"login_rate", DBL(login_rate), "10", 0.001, 1e6,
     "login attempts per minute per client address"},
    {"login_burst", DBL(login_burst), "5", 1, 1e6, "login attempts allowed at once"},
    {"api_rate", DBL(api_rate), "100", 0.001, 1e9, "API requests per second per token"},
    {"api_burst", DBL(api_burst), "200", 1, 1e9, "API requests allowed at once per token"},
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const struct opt *find_opt(const char *name)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (!strcmp(opts[i].name, name))
            return &opts[i];
    return NULL;
}

/* Parse "123", "64K", "1.5M", "2G" into bytes. */
static int parse_size(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    double mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024;
    else if (*end == 'm' || *end == 'M')
        mul = 1024.0 * 1024;
    else if (*end == 'g' || *end == 'G')
        mul = 1024.0 * 1024 * 1024;
    if (mul > 1)
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return -1;
    *out = floor(v * mul);
    return 0;
}

static int apply(struct sm_srv_config *c, const struct opt *o, const char *value,
                 const char *source, sm_error *err)
{
    char *base = (char *)c;
    if (o->type == OPT_STR) {
        char *copy = sm_strdup(value);
        if (!copy) {
            sm_error_set(err, SM_ENOMEM, "out of memory");
            return -1;
        }
        char **slot = (char **)(void *)(base + o->off);
        sm_free(*slot);
        *slot = copy;
        return 0;
    }
    double v = 0;
    char *end = NULL;
    int bad = 0;
    if (o->type == OPT_SIZE) {
        bad = parse_size(value, &v);
    } else {
        errno = 0;
        v = strtod(value, &end);
        bad = end == value || *end || errno || !isfinite(v);
        if (o->type == OPT_INT && !bad && v > floor(v))
            bad = 1;
    }
    if (bad || v < o->min || v > o->max) {
        sm_error_set(err, SM_EUSAGE, "%s: %s '%s' is not %s in %g..%g", source, o->name, value,
                     o->type == OPT_DBL ? "a number" : "an integer", o->min, o->max);
        return -1;
    }
    if (o->type == OPT_INT)
        *(int *)(void *)(base + o->off) = (int)v;
    else if (o->type == OPT_SIZE)
        *(int64_t *)(void *)(base + o->off) = (int64_t)v;
    else
        *(double *)(void *)(base + o->off) = v;
    return 0;
}

int sm__config_set(struct sm_srv_config *c, const char *name, const char *value,
                   const char *source, sm_error *err)
{
    const struct opt *o = find_opt(name);
    if (!o) {
        sm_error_set(err, SM_EUSAGE, "%s: unknown option '%s'", source, name);
        return -1;
    }
    return apply(c, o, value, source, err);
}

int sm__config_defaults(struct sm_srv_config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < N_OPTS; i++)
        if (apply(c, &opts[i], opts[i].def, "default", NULL))
            return -1;
    return 0;
}

void sm__config_release(struct sm_srv_config *c)
{
    sm_free(c->config_path);
    c->config_path = NULL;
    for (size_t i = 0; i < N_OPTS; i++) {
        if (opts[i].type == OPT_STR) {
            char **slot = (char **)(void *)((char *)c + opts[i].off);
            sm_free(*slot);
            *slot = NULL;
        }
    }
}

struct ini_ctx {
    struct sm_srv_config *c;
    const char *path;
    sm_error *err;
    int failed;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *ctx = user;
    if (ctx->failed)
        return 0;
    if (section[0] && strcmp(section, "server"))
        return 1; /* other sections belong to other commands */
    char src[300];
    snprintf(src, sizeof(src), "%s [%s]", ctx->path, section[0] ? section : "top");
    if (sm__config_set(ctx->c, name, value, src, ctx->err)) {
        ctx->failed = 1;
        return 0;
    }
    return 1;
}

int sm__config_load_ini(struct sm_srv_config *c, const char *path, sm_error *err)
{
    struct ini_ctx ctx = {c, path, err, 0};
    int rc = ini_parse(path, on_ini, &ctx);
    if (ctx.failed)
        return -1;
    if (rc < 0) {
        sm_error_set(err, SM_EUSAGE, "config %s: cannot open", path);
        return -1;
    }
    if (rc > 0) {
        sm_error_set(err, SM_EUSAGE, "config %s: syntax error on line %d", path, rc);
        return -1;
    }
    /* Kept for the modules that read their own sections (the AI router). */
    char *copy = sm_strdup(path);
    if (copy) {
        sm_free(c->config_path);
        c->config_path = copy;
    }
    return 0;
}

static void env_name(const char *name, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "SAMPLEMIND_%s", name);
    for (size_t i = 0; i < n && i < size; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
}

int sm__config_load_env(struct sm_srv_config *c, sm_error *err)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        char name[64];
        env_name(opts[i].name, name, sizeof(name));
        const char *v = getenv(name);
        if (v && apply(c, &opts[i], v, name, err))
            return -1;
    }
    return 0;
}

int sm__config_take_flag(struct sm_srv_config *c, int argc, char **argv, int *i, sm_error *err)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2))
        return 0;
    char name[64];
    size_t n = 0;
    const char *p = a + 2;
    while (*p && *p != '=' && n + 1 < sizeof(name)) {
        name[n++] = *p == '-' ? '_' : *p;
        p++;
    }
    name[n] = '\0';
    const struct opt *o = find_opt(name);
    if (!o)
        return 0;
    const char *value;
    if (*p == '=') {
        value = p + 1;
    } else if (*p) {
        return 0;
    } else {
        if (*i + 1 >= argc) {
            sm_error_set(err, SM_EUSAGE, "%s needs a value", a);
            return -1;
        }
        value = argv[++*i];
    }
    char src[80];
    snprintf(src, sizeof(src), "flag --%s", o->name);
    for (char *s = src; *s; s++)
        if (*s == '_')
            *s = '-';
    return apply(c, o, value, src, err) ? -1 : 1;
}

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a);
    size_t nb = strlen(b);
    char *s = sm_malloc(na + nb + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    return s;
}

int sm__config_finish(struct sm_srv_config *c, sm_error *err)
{
    if (!c->data_dir[0]) {
        const char *xdg = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");
        char *d = NULL;
        if (xdg && xdg[0] == '/') {
            d = join(xdg, "/samplemind");
        } else if (home && home[0]) {
            d = join(home, "/.local/share/samplemind");
        } else {
            sm_error_set(err, SM_EUSAGE, "no data directory: set --data-dir or HOME");
            return -1;
        }
        if (!d)
            goto oom;
        sm_free(c->data_dir);
        c->data_dir = d;
    }
    if (!c->db[0]) {
        char *base = join(c->data_dir, "/catalog.db");
        char *u = base ? join("sqlite://", base) : NULL;
        sm_free(base);
        if (!u)
            goto oom;
        sm_free(c->db);
        c->db = u;
    }
    if (!c->uploads_root[0]) {
        char *u = join(c->data_dir, "/uploads");
        if (!u)
            goto oom;
        sm_free(c->uploads_root);
        c->uploads_root = u;
    }
    return 0;
oom:
    sm_error_set(err, SM_ENOMEM, "out of memory");
    return -1;
}

void sm__config_help(FILE *out)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        char flag[64];
        char env[64];
        snprintf(flag, sizeof(flag), "--%s", opts[i].name);
        for (char *s = flag + 2; *s; s++)
            if (*s == '_')
                *s = '-';
        env_name(opts[i].name, env, sizeof(env));
        const char *arg = opts[i].type == OPT_STR ? "TEXT" : opts[i].type == OPT_SIZE ? "BYTES" : "N";
        char left[96];
        snprintf(left, sizeof(left), "%s %s", flag, arg);
        fprintf(out, "  %-24s %s\n", left, opts[i].help);
        fprintf(out, "  %-24s env %s; INI key %s; default %s\n", "", env, opts[i].name,
                opts[i].def[0] ? opts[i].def : "(see text)");
    }
}
