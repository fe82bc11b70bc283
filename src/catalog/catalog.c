/* The catalog interface: URL parsing, argument checks, dispatch to a backend,
 * and the backend-neutral helpers (sample rows, path words, tags, JSON record). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>

#include "catalog/catalog_int.h"
#include "util/utf8.h"

struct sm_catalog {
    const struct sm__catalog_backend *be;
    void *impl;
    char *location;
};

/* ------------------------------------------------------------ sample rows --- */

void sm_sample_init(sm_sample *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->duration = NAN;
    s->bpm = NAN;
    s->lufs = NAN;
    s->true_peak = NAN;
    for (int i = 0; i < SM_TIMBRE_COUNT; i++)
        s->timbre[i] = NAN;
    s->score = NAN;
    s->key_tonic = -1;
    s->key_mode = -1;
    s->note_midi = -1;
}

void sm_sample_release(sm_sample *s)
{
    if (!s)
        return;
    sm_free(s->path);
    sm_free(s->root);
    sm_free(s->tags);
    sm_sample_init(s);
}

void sm_sample_list_release(sm_sample_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        sm_sample_release(&list->v[i]);
    sm_free(list->v);
    list->v = NULL;
    list->n = 0;
    list->cap = 0;
}

sm_sample *sm__sample_list_push(sm_sample_list *list)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        sm_sample *v = sm_realloc(list->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        list->v = v;
        list->cap = cap;
    }
    sm_sample *s = &list->v[list->n++];
    sm_sample_init(s);
    return s;
}

/* ---------------------------------------------------------------- helpers --- */

static void append_word(char *out, size_t *n, const char *w, size_t len)
{
    if (len == 0)
        return;
    if (*n > 0)
        out[(*n)++] = ' ';
    for (size_t i = 0; i < len; i++)
        out[(*n)++] = (char)tolower((unsigned char)w[i]);
}

char *sm__catalog_path_words(const char *path, const char *root)
{
    if (!path)
        return NULL;
    const char *rel = path;
    size_t rl = root ? strlen(root) : 0;
    if (rl > 0 && !strncmp(path, root, rl) && path[rl] == '/')
        rel = path + rl + 1;
    char *clean = sm__utf8_sanitize(rel);
    if (!clean)
        return NULL;
    /* Drop the extension of the file name. */
    size_t len = strlen(clean);
    const char *slash = strrchr(clean, '/');
    const char *dot = strrchr(clean, '.');
    if (dot && (!slash || dot > slash))
        len = (size_t)(dot - clean);
    /* Whole words first (so phrases match), then their camelCase / digit parts. */
    char *out = sm_malloc(len * 3 + 2);
    char *parts = sm_malloc(len * 3 + 2);
    if (!out || !parts) {
        sm_free(out);
        sm_free(parts);
        sm_free(clean);
        return NULL;
    }
    size_t n = 0;
    size_t np = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)clean[i];
        if (!(isalnum(c) || c >= 0x80)) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && (isalnum((unsigned char)clean[i]) || (unsigned char)clean[i] >= 0x80))
            i++;
        append_word(out, &n, clean + start, i - start);
        size_t p = start;
        size_t cuts = 0;
        size_t part_start[64];
        size_t part_len[64];
        for (size_t j = start + 1; j <= i && cuts < 64; j++) {
            bool cut = j == i;
            if (!cut) {
                unsigned char a = (unsigned char)clean[j - 1];
                unsigned char b = (unsigned char)clean[j];
                cut = (isdigit(a) && isalpha(b)) || (isalpha(a) && isdigit(b)) ||
                      (islower(a) && isupper(b));
            }
            if (cut) {
                part_start[cuts] = p;
                part_len[cuts] = j - p;
                cuts++;
                p = j;
            }
        }
        if (cuts > 1)
            for (size_t k = 0; k < cuts; k++)
                append_word(parts, &np, clean + part_start[k], part_len[k]);
    }
    if (np > 0) {
        if (n > 0)
            out[n++] = ' ';
        memcpy(out + n, parts, np);
        n += np;
    }
    sm_free(parts);
    out[n] = '\0';
    sm_free(clean);
    return out;
}

/* Strip leading and trailing white space in place; returns the new length. */
static size_t trim(char *s)
{
    size_t len = strlen(s);
    size_t a = 0;
    while (a < len && isspace((unsigned char)s[a]))
        a++;
    while (len > a && isspace((unsigned char)s[len - 1]))
        len--;
    memmove(s, s + a, len - a);
    len -= a;
    s[len] = '\0';
    return len;
}

int sm__catalog_tag_normalize(char *tag, sm_error *err)
{
    size_t len = trim(tag);
    if (len == 0) {
        sm_error_set(err, SM_EINVAL, "tag: empty tag");
        return -1;
    }
    if (len > 64) {
        sm_error_set(err, SM_EINVAL, "tag: '%.20s...' is longer than 64 bytes", tag);
        return -1;
    }
    if (!sm__utf8_valid(tag, len)) {
        sm_error_set(err, SM_EINVAL, "tag: not valid UTF-8");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)tag[i];
        if (isspace(c) || c == ',' || c == '"' || c < 0x20) {
            sm_error_set(err, SM_EINVAL, "tag: '%s' may not contain spaces, commas or quotes",
                         tag);
            return -1;
        }
        tag[i] = (char)tolower(c);
    }
    return 0;
}

/* "sqlite:///abs", "sqlite://rel", "sqlite:path", a plain path or ":memory:",
 * with optional "?busy_timeout=MS&max_pages=N" on URLs. */
static sm_status parse_url(const char *url, struct sm__catalog_url *u, sm_error *err)
{
    memset(u, 0, sizeof(*u));
    u->busy_timeout_ms = -1;
    const char *rest = url;
    const char *colon = strstr(url, "://");
    bool is_url = false;
    if (colon) {
        size_t sl = (size_t)(colon - url);
        if (sl == 0 || sl >= sizeof(u->scheme))
            return sm_error_set(err, SM_EINVAL, "catalog: '%s' has no valid scheme", url);
        memcpy(u->scheme, url, sl);
        u->scheme[sl] = '\0';
        rest = colon + 3;
        is_url = true;
    } else if (!strncmp(url, "sqlite:", 7)) {
        strcpy(u->scheme, "sqlite");
        rest = url + 7;
        is_url = true;
    } else {
        strcpy(u->scheme, "sqlite");
    }
    if (strcmp(u->scheme, "sqlite") != 0) {
        if (!strcmp(u->scheme, "postgresql") || !strcmp(u->scheme, "postgres"))
            return sm_error_set(err, SM_EINVAL,
                                "catalog: the PostgreSQL backend is not built in yet ('%s')",
                                url);
        return sm_error_set(err, SM_EINVAL, "catalog: unknown scheme '%s' in '%s'", u->scheme,
                            url);
    }
    size_t len = strlen(rest);
    const char *q = is_url ? strchr(rest, '?') : NULL;
    if (q)
        len = (size_t)(q - rest);
    if (len == 0)
        return sm_error_set(err, SM_EINVAL, "catalog: '%s' names no file", url);
    u->location = sm_malloc(len + 1);
    if (!u->location)
        return sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
    memcpy(u->location, rest, len);
    u->location[len] = '\0';
    while (q && *q) {
        q++;
        const char *amp = strchr(q, '&');
        size_t pl = amp ? (size_t)(amp - q) : strlen(q);
        char param[64];
        if (pl >= sizeof(param)) {
            sm_free(u->location);
            u->location = NULL;
            return sm_error_set(err, SM_EINVAL, "catalog: option too long in '%s'", url);
        }
        memcpy(param, q, pl);
        param[pl] = '\0';
        char *eq = strchr(param, '=');
        char *end = NULL;
        long long v = eq ? strtoll(eq + 1, &end, 10) : -1;
        bool valid = eq && end && *end == '\0' && end != eq + 1 && v >= 0;
        if (valid && !strncmp(param, "busy_timeout=", 13) && v <= 3600000) {
            u->busy_timeout_ms = (int)v;
        } else if (valid && !strncmp(param, "max_pages=", 10) && v > 0) {
            u->max_pages = v;
        } else {
            sm_free(u->location);
            u->location = NULL;
            return sm_error_set(err, SM_EINVAL,
                                "catalog: unknown or bad option '%s' (busy_timeout=MS, "
                                "max_pages=N)",
                                param);
        }
        q = amp;
    }
    return SM_OK;
}

const struct sm__catalog_backend *sm__catalog_backend_of(sm_catalog *cat, void **impl)
{
    if (!cat)
        return NULL;
    *impl = cat->impl;
    return cat->be;
}

/* ---------------------------------------------------------------- opening --- */

sm_catalog *sm_catalog_open(const char *url, const sm_catalog_opts *opts, sm_error *err)
{
    if (!url || !*url) {
        sm_error_set(err, SM_EINVAL, "catalog: no URL or path given");
        return NULL;
    }
    struct sm__catalog_url u;
    if (parse_url(url, &u, err) != SM_OK)
        return NULL;
    sm_catalog_opts o = {0, 0};
    if (opts)
        o = *opts;
    sm_catalog *cat = sm_calloc(1, sizeof(*cat));
    if (!cat) {
        sm_free(u.location);
        sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
        return NULL;
    }
    cat->be = &sm__catalog_sqlite;
    cat->location = u.location;
    cat->impl = cat->be->open(&u, &o, err);
    if (!cat->impl) {
        sm_catalog_close(cat);
        return NULL;
    }
    return cat;
}

void sm_catalog_close(sm_catalog *cat)
{
    if (!cat)
        return;
    if (cat->impl)
        cat->be->close(cat->impl);
    sm_free(cat->location);
    sm_free(cat);
}

const char *sm_catalog_location(const sm_catalog *cat)
{
    return cat ? cat->location : "";
}

int sm_catalog_schema_version(const sm_catalog *cat)
{
    return cat ? cat->be->schema_version(cat->impl) : 0;
}

#define CHECK_CAT(cat, err)                                                         \
    do {                                                                            \
        if (!(cat))                                                                 \
            return sm_error_set((err), SM_EINVAL, "catalog: NULL handle");         \
    } while (0)

sm_status sm_catalog_begin(sm_catalog *cat, sm_error *err)
{
    CHECK_CAT(cat, err);
    return cat->be->begin(cat->impl, err);
}

sm_status sm_catalog_commit(sm_catalog *cat, sm_error *err)
{
    CHECK_CAT(cat, err);
    return cat->be->commit(cat->impl, err);
}

void sm_catalog_rollback(sm_catalog *cat)
{
    if (cat)
        cat->be->rollback(cat->impl);
}

sm_status sm_catalog_lock_scan(sm_catalog *cat, bool wait, sm_error *err)
{
    CHECK_CAT(cat, err);
    return cat->be->lock_scan(cat->impl, wait, err);
}

static sm_status check_file(const sm_catalog_file *f, sm_error *err)
{
    if (!f || !f->path || !*f->path || !f->root)
        return sm_error_set(err, SM_EINVAL, "catalog: file record without path or root");
    return SM_OK;
}

sm_status sm_catalog_put(sm_catalog *cat, const sm_catalog_file *f, const sm_analysis *a,
                         int64_t replace_id, int64_t *id_out, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (check_file(f, err) != SM_OK)
        return err ? err->code : SM_EINVAL;
    if (!a)
        return sm_error_set(err, SM_EINVAL, "catalog: put without an analysis");
    if (replace_id < 0)
        return sm_error_set(err, SM_EINVAL, "catalog: replace id %lld < 0",
                            (long long)replace_id);
    return cat->be->put(cat->impl, f, a, replace_id, id_out, err);
}

sm_status sm_catalog_put_error(sm_catalog *cat, const sm_catalog_file *f,
                               const sm_error *file_err, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (check_file(f, err) != SM_OK)
        return err ? err->code : SM_EINVAL;
    if (!file_err)
        return sm_error_set(err, SM_EINVAL, "catalog: put_error without an error");
    return cat->be->put_error(cat->impl, f, file_err, err);
}

sm_status sm_catalog_forget_error(sm_catalog *cat, const char *path, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!path)
        return sm_error_set(err, SM_EINVAL, "catalog: NULL path");
    return cat->be->forget_error(cat->impl, path, err);
}

sm_status sm_catalog_set_missing(sm_catalog *cat, int64_t id, bool missing, sm_error *err)
{
    CHECK_CAT(cat, err);
    return cat->be->set_missing(cat->impl, id, missing, err);
}

sm_status sm_catalog_prune(sm_catalog *cat, const char *root, int64_t *n, sm_error *err)
{
    CHECK_CAT(cat, err);
    return cat->be->prune(cat->impl, root, n, err);
}

sm_status sm_catalog_add_root(sm_catalog *cat, const char *root, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!root || !*root)
        return sm_error_set(err, SM_EINVAL, "catalog: empty root");
    return cat->be->add_root(cat->impl, root, err);
}

sm_status sm_catalog_each_known(sm_catalog *cat, const char *root, sm_catalog_known_fn fn,
                                void *userdata, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!fn)
        return sm_error_set(err, SM_EINVAL, "catalog: NULL callback");
    return cat->be->each_known(cat->impl, root, fn, userdata, err);
}

sm_status sm_catalog_find_hash(sm_catalog *cat, const char *hash, sm_sample_list *out,
                               sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!hash || !out)
        return sm_error_set(err, SM_EINVAL, "catalog: find_hash needs a hash and a list");
    return cat->be->find_hash(cat->impl, hash, out, err);
}

sm_status sm_catalog_get(sm_catalog *cat, int64_t id, sm_sample *out, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!out)
        return sm_error_set(err, SM_EINVAL, "catalog: get without an output row");
    sm_sample_release(out);
    return cat->be->get(cat->impl, id, NULL, out, err);
}

sm_status sm_catalog_get_by_path(sm_catalog *cat, const char *path, sm_sample *out,
                                 sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!out || !path)
        return sm_error_set(err, SM_EINVAL, "catalog: get_by_path needs a path and a row");
    sm_sample_release(out);
    return cat->be->get(cat->impl, 0, path, out, err);
}

sm_status sm_catalog_search(sm_catalog *cat, const sm_query *q, sm_sample_list *out,
                            sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!q || !out)
        return sm_error_set(err, SM_EINVAL, "catalog: search needs a query and a list");
    return cat->be->search(cat->impl, q, out, err);
}

sm_status sm_catalog_search_ids(sm_catalog *cat, const sm_query *q, int64_t **ids, size_t *n,
                                sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!q || !ids || !n)
        return sm_error_set(err, SM_EINVAL, "catalog: search_ids needs a query and outputs");
    *ids = NULL;
    *n = 0;
    return cat->be->search_ids(cat->impl, q, ids, n, err);
}

sm_status sm_catalog_tag(sm_catalog *cat, int64_t id, const char *tag, bool add, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!tag)
        return sm_error_set(err, SM_EINVAL, "tag: NULL tag");
    char buf[256];
    if (strlen(tag) >= sizeof(buf))
        return sm_error_set(err, SM_EINVAL, "tag: longer than 64 bytes");
    strcpy(buf, tag);
    if (sm__catalog_tag_normalize(buf, err) != 0)
        return SM_EINVAL;
    return cat->be->tag(cat->impl, id, buf, add, err);
}

/* ------------------------------------------------------------- AI answers --- */

#define MAX_ANSWER_BYTES (256 * 1024)
#define MAX_ANSWER_TAGS 64

void sm_catalog_ai_answer_init(sm_catalog_ai_answer *a)
{
    if (a)
        memset(a, 0, sizeof(*a));
}

static sm_status check_name(const char *what, const char *s, size_t min, size_t max,
                            bool task_chars, sm_error *err)
{
    if (!s)
        return sm_error_set(err, SM_EINVAL, "ai answer: no %s", what);
    size_t n = strlen(s);
    if (n < min || n > max)
        return sm_error_set(err, SM_EINVAL, "ai answer: %s '%.40s' must be %zu to %zu bytes",
                            what, s, min, max);
    if (!sm__utf8_valid(s, n))
        return sm_error_set(err, SM_EINVAL, "ai answer: %s is not valid UTF-8", what);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = task_chars ? (islower(c) || isdigit(c) || c == '-' || c == '_') : c >= 0x20;
        if (!ok)
            return sm_error_set(err, SM_EINVAL, "ai answer: %s '%.40s' has a bad character",
                                what, s);
    }
    return SM_OK;
}

static sm_status check_answer(const sm_catalog_ai_answer *a, sm_error *err)
{
    if (!a)
        return sm_error_set(err, SM_EINVAL, "ai answer: NULL answer");
    if (check_name("task", a->task, 1, 31, true, err) != SM_OK ||
        check_name("provider", a->provider, 1, 63, false, err) != SM_OK ||
        check_name("model", a->model, 0, 127, false, err) != SM_OK)
        return SM_EINVAL;
    if (!(a->latency_ms >= 0.0) || !isfinite(a->latency_ms))
        return sm_error_set(err, SM_EINVAL, "ai answer: latency_ms must be a number >= 0");
    if (!(a->cost_usd >= 0.0) || !isfinite(a->cost_usd))
        return sm_error_set(err, SM_EINVAL, "ai answer: cost_usd must be a number >= 0");
    if (a->tokens_in < 0 || a->tokens_out < 0)
        return sm_error_set(err, SM_EINVAL, "ai answer: token counts must be >= 0");
    if (a->created_at < 0)
        return sm_error_set(err, SM_EINVAL, "ai answer: created_at must be >= 0");
    if (!a->answer)
        return sm_error_set(err, SM_EINVAL, "ai answer: no answer text");
    if (strlen(a->answer) > MAX_ANSWER_BYTES)
        return sm_error_set(err, SM_EINVAL, "ai answer: the answer is longer than %d bytes",
                            MAX_ANSWER_BYTES);
    return SM_OK;
}

/* A tag from a "tags" answer: trimmed, inner spaces turned into '-', then the
 * catalog's rules. Returns 0, or -1 when it is still not a valid tag. */
static int answer_tag(const char *in, char *out, size_t size)
{
    if (strlen(in) >= size)
        return -1;
    strcpy(out, in);
    size_t n = trim(out);
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)out[i]))
            out[i] = '-';
    return sm__catalog_tag_normalize(out, NULL);
}

sm_status sm_catalog_put_ai_answer(sm_catalog *cat, int64_t id, const sm_catalog_ai_answer *a,
                                   sm_error *err)
{
    CHECK_CAT(cat, err);
    if (check_answer(a, err) != SM_OK)
        return SM_EINVAL;
    json_error_t jerr;
    json_t *o = json_loads(a->answer, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return sm_error_set(err, SM_EINVAL, "ai answer: the answer is not a JSON object");
    }
    /* The task's meaning for the catalog: searchable text, or tags. */
    const char *text = NULL;
    char *tags[MAX_ANSWER_TAGS];
    size_t n_tags = 0;
    sm_status rc = SM_OK;
    if (!strcmp(a->task, "description")) {
        text = json_string_value(json_object_get(o, "description"));
    } else if (!strcmp(a->task, "tags")) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(o, "tags"), i, t)
        {
            char tag[256];
            const char *v = json_string_value(t);
            if (!v || n_tags >= MAX_ANSWER_TAGS || answer_tag(v, tag, sizeof(tag)) != 0)
                continue;
            tags[n_tags] = sm_strdup(tag);
            if (!tags[n_tags]) {
                rc = sm_error_set(err, SM_ENOMEM, "catalog: out of memory");
                break;
            }
            n_tags++;
        }
    }
    sm_catalog_ai_answer c = *a;
    if (c.created_at == 0)
        c.created_at = (int64_t)time(NULL);
    if (rc == SM_OK)
        rc = cat->be->put_answer(cat->impl, id, &c, text, tags, n_tags, err);
    for (size_t i = 0; i < n_tags; i++)
        sm_free(tags[i]);
    json_decref(o);
    return rc;
}

sm_status sm_catalog_each_ai_answer(sm_catalog *cat, int64_t id, sm_catalog_ai_answer_fn fn,
                                    void *userdata, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!fn)
        return sm_error_set(err, SM_EINVAL, "catalog: NULL callback");
    return cat->be->each_answer(cat->impl, id, fn, userdata, err);
}

sm_status sm_catalog_data_version(sm_catalog *cat, uint64_t *version, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!version)
        return sm_error_set(err, SM_EINVAL, "catalog: NULL version");
    return cat->be->data_version(cat->impl, version, err);
}

sm_status sm_catalog_each_error(sm_catalog *cat, sm_catalog_error_fn fn, void *userdata,
                                sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!fn)
        return sm_error_set(err, SM_EINVAL, "catalog: NULL callback");
    return cat->be->each_error(cat->impl, fn, userdata, err);
}

sm_status sm_catalog_stats_get(sm_catalog *cat, sm_catalog_stats *out, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!out)
        return sm_error_set(err, SM_EINVAL, "catalog: stats without output");
    memset(out, 0, sizeof(*out));
    return cat->be->stats(cat->impl, out, err);
}

sm_status sm_catalog_each_duplicate(sm_catalog *cat, sm_catalog_dup_fn fn, void *userdata,
                                    sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!fn)
        return sm_error_set(err, SM_EINVAL, "catalog: NULL callback");
    return cat->be->each_duplicate(cat->impl, fn, userdata, err);
}

sm_status sm_catalog_each_embedding(sm_catalog *cat, sm_catalog_vec_fn fn, void *userdata,
                                    sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!fn)
        return sm_error_set(err, SM_EINVAL, "catalog: NULL callback");
    return cat->be->each_embedding(cat->impl, fn, userdata, err);
}

sm_status sm_catalog_get_embedding(sm_catalog *cat, int64_t id, float *out, size_t cap,
                                   size_t *dim, sm_error *err)
{
    CHECK_CAT(cat, err);
    if (!out || !dim)
        return sm_error_set(err, SM_EINVAL, "catalog: get_embedding needs outputs");
    return cat->be->get_embedding(cat->impl, id, out, cap, dim, err);
}

/* ------------------------------------------------------------ JSON record --- */

static json_t *text_json(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *clean = sm__utf8_sanitize(s);
    j = clean ? json_string(clean) : NULL;
    sm_free(clean);
    return j ? j : json_null();
}

static json_t *floats_json(const float *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n && arr; i++) {
        double x = (double)v[i];
        json_array_append_new(arr, isfinite(x) ? json_real(round(x * 1e5) / 1e5) : json_null());
    }
    return arr;
}

static int answer_json(const sm_catalog_ai_answer *a, void *userdata)
{
    json_t *ai = userdata;
    json_t *ans = json_loads(a->answer, 0, NULL);
    json_t *o = json_pack("{s:o, s:o, s:o, s:b, s:f, s:I, s:I, s:b, s:f, s:I}", "provider",
                          text_json(a->provider), "model", text_json(a->model), "answer",
                          ans ? ans : text_json(a->answer), "cached", a->cached, "latency_ms",
                          round(a->latency_ms * 1000.0) / 1000.0, "tokens_in",
                          (json_int_t)a->tokens_in, "tokens_out", (json_int_t)a->tokens_out,
                          "tokens_estimated", a->tokens_estimated, "cost_usd", a->cost_usd,
                          "created_at", (json_int_t)a->created_at);
    if (!o)
        return 1;
    json_object_set_new(ai, a->task, o);
    return 0;
}

char *sm_catalog_sample_json(sm_catalog *cat, int64_t id, unsigned flags, sm_error *err)
{
    if (!cat) {
        sm_error_set(err, SM_EINVAL, "catalog: NULL handle");
        return NULL;
    }
    sm_sample s;
    sm_sample_init(&s);
    if (cat->be->get(cat->impl, id, NULL, &s, err) != SM_OK)
        return NULL;
    struct sm__catalog_record rec;
    memset(&rec, 0, sizeof(rec));
    if (cat->be->get_record(cat->impl, id, &rec, err) != SM_OK) {
        sm_sample_release(&s);
        return NULL;
    }
    json_error_t jerr;
    json_t *o = rec.analysis_json ? json_loads(rec.analysis_json, 0, &jerr) : NULL;
    if (!o || !json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    char *out = NULL;
    if (o) {
        /* The current path and facts win over the ones stored with the analysis. */
        json_object_set_new(o, "id", json_integer((json_int_t)s.id));
        json_object_set_new(o, "path", text_json(s.path));
        json_object_set_new(o, "root", text_json(s.root));
        json_object_set_new(o, "size", json_integer((json_int_t)s.size));
        json_object_set_new(o, "mtime", json_real((double)s.mtime_ns / 1e9));
        json_object_set_new(o, "missing", json_boolean(s.missing));
        json_t *tags = json_array();
        if (tags && s.tags && *s.tags) {
            char *copy = sm_strdup(s.tags);
            char *save = NULL;
            for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t;
                 t = strtok_r(NULL, " ", &save))
                json_array_append_new(tags, text_json(t));
            sm_free(copy);
        }
        json_object_set_new(o, "tags", tags ? tags : json_array());
        if ((flags & SM_JSON_EMBEDDING) && rec.embedding)
            json_object_set_new(o, "embedding", floats_json(rec.embedding, rec.embedding_dim));
        if ((flags & SM_JSON_WAVEFORM) && rec.peaks)
            json_object_set_new(o, "waveform",
                                json_pack("{s:I, s:o}", "points", (json_int_t)rec.n_peaks,
                                          "peaks", floats_json(rec.peaks, 2 * rec.n_peaks)));
        if (flags & SM_CATALOG_JSON_AI) {
            json_t *ai = json_object();
            if (!ai || cat->be->each_answer(cat->impl, id, answer_json, ai, err) != SM_OK) {
                json_decref(ai);
                json_decref(o);
                goto done;
            }
            json_object_set_new(o, "ai", ai);
        }
        size_t jf = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);
        if (flags & SM_JSON_PRETTY)
            jf = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);
        char *dumped = json_dumps(o, jf);
        if (dumped) {
            out = sm_strdup(dumped);
            free(dumped);
        }
        json_decref(o);
    }
    if (!out)
        sm_error_set(err, SM_ENOMEM, "catalog: out of memory building JSON");
done:
    sm_free(rec.analysis_json);
    sm_free(rec.peaks);
    sm_free(rec.embedding);
    sm_sample_release(&s);
    return out;
}
