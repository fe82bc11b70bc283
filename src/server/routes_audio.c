/* The catalog routes: search with cursors, one sample, similar, waveform, the
 * audio bytes with Range, and analysis of an upload. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <samplemind/alloc.h>
#include <samplemind/log.h>
#include <samplemind/analysis.h>
#include <samplemind/catalog.h>

#include "jobs.h"
#include "server_int.h"

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 1000
#define MAX_K 100
#define MAX_DIM 1024

/* ------------------------------------------------------------ helpers --- */

static json_t *str_clean(const char *s)
{
    if (!s)
        return json_null();
    char *c = sm__sbuf_utf8_clean(s);
    json_t *j = c ? json_string(c) : json_null();
    sm_free(c);
    return j;
}

static void add_str_or_null(struct sm_sbuf *b, const char *s)
{
    if (s)
        sm__sbuf_add_jstr(b, s);
    else
        sm__sbuf_add(b, "null", 4);
}

/* One sample as the API's JSON object without its closing brace (search adds
 * "score", similar "distance"), written directly: the same bytes the server's
 * jansson dump gave for the same fields (tests/unit/server/test_sbuf.c checks the
 * writer against jansson). */
static void sample_fields(struct sm_sbuf *b, const sm_sample *s)
{
    static const char *const timbre[SM_TIMBRE_COUNT] = {"brightness", "warmth",    "hardness",
                                                        "depth",      "roughness", "boominess"};
    sm__sbuf_lit(b, "{\"id\":");
    sm__sbuf_add_int(b, s->id);
    sm__sbuf_lit(b, ",\"path\":");
    add_str_or_null(b, s->path);
    sm__sbuf_lit(b, ",\"root\":");
    add_str_or_null(b, s->root);
    sm__sbuf_lit(b, ",\"tags\":[");
    bool first = true;
    for (const char *t = s->tags ? s->tags : ""; *t;) {
        size_t len = strcspn(t, " ");
        if (len) {
            if (!first)
                sm__sbuf_lit(b, ",");
            sm__sbuf_add_jstrn(b, t, len);
            first = false;
        }
        t += len;
        while (*t == ' ')
            t++;
    }
    sm__sbuf_lit(b, "],\"hash\":");
    sm__sbuf_add_jstr(b, s->hash);
    sm__sbuf_lit(b, ",\"size\":");
    sm__sbuf_add_int(b, s->size);
    sm__sbuf_lit(b, ",\"format\":");
    sm__sbuf_add_jstr(b, s->format);
    sm__sbuf_lit(b, ",\"sample_rate\":");
    sm__sbuf_add_int(b, s->sample_rate);
    sm__sbuf_lit(b, ",\"channels\":");
    sm__sbuf_add_int(b, s->channels);
    sm__sbuf_lit(b, ",\"duration\":");
    sm__sbuf_add_jreal(b, s->duration, 10);
    sm__sbuf_lit(b, ",\"bpm\":");
    sm__sbuf_add_jreal(b, s->has_tempo ? s->bpm : (double)NAN, 10);
    if (s->has_key) {
        char name[32];
        char cam[8];
        const char *nm = sm_key_name(s->key_tonic, s->key_mode, name, sizeof(name));
        const char *cm = sm_key_camelot(s->key_tonic, s->key_mode, cam, sizeof(cam));
        if (nm && cm) { /* jansson left the key out otherwise */
            sm__sbuf_lit(b, ",\"key\":{\"name\":");
            sm__sbuf_add_jstr(b, nm);
            sm__sbuf_lit(b, ",\"camelot\":");
            sm__sbuf_add_jstr(b, cm);
            sm__sbuf_lit(b, "}");
        }
    } else {
        sm__sbuf_lit(b, ",\"key\":null");
    }
    sm__sbuf_lit(b, ",\"note\":");
    char nn[16];
    add_str_or_null(b, s->has_note ? sm_note_name(s->note_midi, nn, sizeof(nn)) : NULL);
    if (s->loop)
        sm__sbuf_lit(b, ",\"loop\":true,\"category\":");
    else
        sm__sbuf_lit(b, ",\"loop\":false,\"category\":");
    add_str_or_null(b, sm_category_name(s->category));
    sm__sbuf_lit(b, ",\"lufs\":");
    sm__sbuf_add_jreal(b, s->lufs, 10);
    sm__sbuf_lit(b, ",\"true_peak\":");
    sm__sbuf_add_jreal(b, s->true_peak, 10);
    sm__sbuf_lit(b, ",\"timbre\":{");
    for (int i = 0; i < SM_TIMBRE_COUNT; i++) {
        sm__sbuf_add(b, i ? ",\"" : "\"", i ? 2 : 1);
        sm__sbuf_add(b, timbre[i], strlen(timbre[i]));
        sm__sbuf_lit(b, "\":");
        sm__sbuf_add_jreal(b, s->timbre[i], 10);
    }
    if (s->missing)
        sm__sbuf_lit(b, "},\"missing\":true");
    else
        sm__sbuf_lit(b, "},\"missing\":false");
}

/* Close a sample object, with ,"<key>":<v> when v is finite. */
static void sample_close(struct sm_sbuf *b, const char *key, double v)
{
    if (isfinite(v)) {
        sm__sbuf_lit(b, ",\"");
        sm__sbuf_add(b, key, strlen(key));
        sm__sbuf_lit(b, "\":");
        sm__sbuf_add_jreal(b, v, 10);
    }
    sm__sbuf_lit(b, "}");
}

/* Strict integer in [lo, hi]. \return 0, or -1. */
static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s || strlen(s) > 18)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < lo || v > hi || s[0] == '+' || s[0] == ' ')
        return -1;
    *out = v;
    return 0;
}

static int id_param(sm_req *req, int64_t *id)
{
    if (sm__parse_id(sm__req_param(req, "id"), id)) {
        sm__req_error(req, 400, "invalid_argument", "the id must be a positive integer");
        return -1;
    }
    return 0;
}

static sm_catalog *catalog(sm_req *req)
{
    sm_error err = SM_ERROR_INIT;
    sm_catalog *cat = sm__srv_catalog_acquire(sm__req_srv(req), &err);
    if (!cat)
        sm__req_error(req, 503, "catalog_unavailable", "%s", err.msg);
    return cat;
}

/* ------------------------------------------------------------ search --- */

static const char *const filter_params[] = {
    "bpm",    "key",        "category", "loop",  "lufs",     "duration",  "note",      "tag",
    "sort",   "peak",       "bright",   "brightness", "warmth", "hardness", "depth", "roughness",
    "boominess", "missing"};
#define N_FILTERS (sizeof(filter_params) / sizeof(filter_params[0]))

struct search_args {
    struct sm_sbuf text;
    const char *bad;
    bool bad_value;
};

static int collect_arg(const char *key, const char *value, void *ud)
{
    struct search_args *a = ud;
    if (!strcmp(key, "q") || !strcmp(key, "limit") || !strcmp(key, "cursor"))
        return 0;
    for (size_t i = 0; i < N_FILTERS; i++) {
        if (!strcmp(key, filter_params[i])) {
            if (!value || !*value || strpbrk(value, " \t\"")) {
                a->bad = key;
                a->bad_value = true;
                return 1;
            }
            sm__sbuf_addf(&a->text, " %s:%s", key, value);
            return 0;
        }
    }
    a->bad = key;
    return 1;
}

static void cursor_mac(sm_srv *srv, long long offset, const char *qtext, char *hex)
{
    unsigned char mac[8];
    crypto_generichash_state st;
    char off[32];
    int n = snprintf(off, sizeof(off), "%lld|", offset);
    crypto_generichash_init(&st, srv->secret, sizeof(srv->secret), sizeof(mac));
    crypto_generichash_update(&st, (const unsigned char *)off, (size_t)n);
    crypto_generichash_update(&st, (const unsigned char *)qtext, strlen(qtext));
    crypto_generichash_final(&st, mac, sizeof(mac));
    sodium_bin2hex(hex, 17, mac, sizeof(mac));
}

/* Cursor text "o<offset>.<mac>" bound to the query text. \return 0 or -1. */
static int cursor_parse(sm_srv *srv, const char *cursor, const char *qtext, long long *offset)
{
    if (!cursor || cursor[0] != 'o')
        return -1;
    const char *dot = strchr(cursor, '.');
    if (!dot || dot - cursor > 12 || strlen(dot + 1) != 16)
        return -1;
    char num_s[16];
    memcpy(num_s, cursor + 1, (size_t)(dot - cursor - 1));
    num_s[dot - cursor - 1] = '\0';
    if (parse_int(num_s, 0, 1000000000000LL, offset))
        return -1;
    char hex[17];
    cursor_mac(srv, *offset, qtext, hex);
    return sodium_memcmp(hex, dot + 1, 16) ? -1 : 0;
}

static int query_error(sm_req *req, const sm_query *q, const char *text, const sm_error *err)
{
    char token[64] = "";
    if (q->err_pos < strlen(text)) {
        size_t n = q->err_len < sizeof(token) - 1 ? q->err_len : sizeof(token) - 1;
        memcpy(token, text + q->err_pos, n);
        token[n] = '\0';
    }
    json_t *e = json_pack("{s:s,s:s,s:I,s:I,s:o,s:s}", "code", "invalid_query", "message",
                          err->msg, "position", (json_int_t)q->err_pos, "length",
                          (json_int_t)q->err_len, "token", str_clean(token), "query", text);
    return sm__req_reply_json(req, 400, e ? json_pack("{s:o}", "error", e) : NULL);
}

/* The filter index, loaded on first use and after changes. On SM_OK the read
 * lock is held (the caller unlocks fx_lock); otherwise search falls back to SQL. */
static sm_status fx_acquire(sm_srv *srv, sm_catalog *cat)
{
    sm__srv_catalog_watch(srv);
    pthread_rwlock_rdlock(&srv->fx_lock);
    if (!srv->fx_stale && srv->fx)
        return SM_OK;
    pthread_rwlock_unlock(&srv->fx_lock);
    pthread_rwlock_wrlock(&srv->fx_lock);
    if (srv->fx_stale || !srv->fx) {
        sm_error err = SM_ERROR_INIT;
        sm_findex *fx = sm_findex_load(cat, &err);
        if (fx) {
            sm_findex_free(srv->fx);
            srv->fx = fx;
            srv->fx_stale = false;
        } else {
            SM_LOG(SM_LOG_WARN, "filter index: %s (searching through SQL)", err.msg);
        }
    }
    bool ok = srv->fx && !srv->fx_stale;
    pthread_rwlock_unlock(&srv->fx_lock);
    if (!ok)
        return SM_EINTERNAL;
    pthread_rwlock_rdlock(&srv->fx_lock);
    if (srv->fx)
        return SM_OK;
    pthread_rwlock_unlock(&srv->fx_lock);
    return SM_EINTERNAL;
}

/* A search reply being written: the items of one page. */
struct page {
    struct sm_sbuf b;
    size_t limit;    /* rows to write; one more was asked for, to know of a next page */
    size_t count;    /* rows written */
    size_t total;    /* matches of the query, before offset and limit */
    bool more;       /* there is a next page */
};

static void page_item(struct page *pg, const char *text, size_t len, double score)
{
    if (pg->count)
        sm__sbuf_lit(&pg->b, ",");
    sm__sbuf_add(&pg->b, text, len);
    sample_close(&pg->b, "score", score);
    pg->count++;
}

/* The page from the filter index: each row's JSON is written once per index and
 * kept with it (sm_findex_row_text), so a page is mostly copies. Called with the
 * index's read lock held. */
static sm_status page_from_index(const sm_findex *fx, sm_catalog *cat, const sm_query *q,
                                 struct page *pg, sm_error *err)
{
    sm_findex_hit *hits = NULL;
    size_t n = 0;
    sm_status rc = sm_findex_page(fx, cat, q, &hits, &n, &pg->total, err);
    if (rc != SM_OK)
        return rc;
    pg->more = n > pg->limit;
    struct sm_sbuf one = SM_SBUF_INIT;
    for (size_t i = 0; i < n && i < pg->limit && rc == SM_OK; i++) {
        size_t len = 0;
        const char *text = sm_findex_row_text(fx, hits[i].row, &len);
        if (text) {
            page_item(pg, text, len, hits[i].score);
            continue;
        }
        sm_sample s;
        sm_sample_init(&s);
        rc = sm_catalog_get(cat, hits[i].id, &s, err);
        if (rc == SM_OK) {
            one.n = 0;
            sample_fields(&one, &s);
            if (one.oom) {
                rc = sm_error_set(err, SM_ENOMEM, "out of memory");
            } else {
                sm_findex_row_text_put(fx, hits[i].row, one.p, one.n);
                page_item(pg, one.p, one.n, hits[i].score);
            }
        } else if (rc == SM_ENOENT) { /* deleted since the index was loaded */
            rc = SM_OK;
            if (err)
                *err = (sm_error)SM_ERROR_INIT;
        }
        sm_sample_release(&s);
    }
    sm__sbuf_release(&one);
    sm_free(hits);
    return rc;
}

/* The page through SQL (sm_catalog_search: the same rows as the index; the
 * total from sm_catalog_search_ids). */
static sm_status page_from_sql(sm_catalog *cat, const sm_query *q, struct page *pg,
                               sm_error *err)
{
    sm_sample_list hits = SM_SAMPLE_LIST_INIT;
    int64_t *ids = NULL;
    sm_status rc = sm_catalog_search_ids(cat, q, &ids, &pg->total, err);
    sm_free(ids);
    if (rc == SM_OK)
        rc = sm_catalog_search(cat, q, &hits, err);
    if (rc == SM_OK) {
        pg->more = hits.n > pg->limit;
        struct sm_sbuf one = SM_SBUF_INIT;
        for (size_t i = 0; i < hits.n && i < pg->limit; i++) {
            one.n = 0;
            sample_fields(&one, &hits.v[i]);
            if (!one.oom)
                page_item(pg, one.p, one.n, hits.v[i].score);
        }
        if (one.oom)
            rc = sm_error_set(err, SM_ENOMEM, "out of memory");
        sm__sbuf_release(&one);
    }
    sm_sample_list_release(&hits);
    return rc;
}

static int files_search(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    struct search_args a = {SM_SBUF_INIT, NULL, false};
    const char *qv = sm__req_query(req, "q");
    sm__sbuf_addf(&a.text, "%s", qv ? qv : "");
    sm__req_query_each(req, collect_arg, &a);
    if (a.bad) {
        sm__sbuf_release(&a.text);
        return sm__req_error(req, 400, "invalid_argument",
                             a.bad_value ? "parameter '%s' needs a value without spaces or quotes"
                                         : "unknown parameter '%s' (q, limit, cursor and the "
                                           "filters of the query language)",
                             a.bad);
    }
    if (a.text.oom) {
        sm__sbuf_release(&a.text);
        return sm__req_error(req, 500, "out_of_memory", "out of memory");
    }
    const char *text = a.text.p ? a.text.p : "";
    if (strlen(text) > 4096) {
        sm__sbuf_release(&a.text);
        return sm__req_error(req, 400, "invalid_query", "the query is longer than 4096 bytes");
    }
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    if (sm_query_parse(&q, text, &err) != SM_OK) {
        query_error(req, &q, text, &err);
        sm_query_release(&q);
        sm__sbuf_release(&a.text);
        return SM_SRV_DONE;
    }
    long long limit = q.limit ? (long long)q.limit : DEFAULT_LIMIT;
    const char *lv = sm__req_query(req, "limit");
    if (lv && parse_int(lv, 1, MAX_LIMIT, &limit)) {
        sm_query_release(&q);
        sm__sbuf_release(&a.text);
        return sm__req_error(req, 400, "invalid_argument", "limit must be an integer 1..%d",
                             MAX_LIMIT);
    }
    if (limit > MAX_LIMIT) {
        sm_query_release(&q);
        sm__sbuf_release(&a.text);
        return sm__req_error(req, 400, "invalid_argument", "limit must be at most %d",
                             MAX_LIMIT);
    }
    long long offset = (long long)q.offset;
    const char *cv = sm__req_query(req, "cursor");
    if (cv && cursor_parse(srv, cv, text, &offset)) {
        sm_query_release(&q);
        sm__sbuf_release(&a.text);
        return sm__req_error(req, 400, "invalid_cursor",
                             "the cursor is not one this server gave for this query");
    }
    q.limit = (size_t)limit + 1;
    q.offset = (size_t)offset;
    sm_catalog *cat = catalog(req);
    if (!cat) {
        sm_query_release(&q);
        sm__sbuf_release(&a.text);
        return SM_SRV_DONE;
    }
    struct page pg = {SM_SBUF_INIT, (size_t)limit, 0, 0, false};
    sm__sbuf_lit(&pg.b, "{\"items\":[");
    sm_status rc = SM_EINTERNAL;
    if (fx_acquire(srv, cat) == SM_OK) {
        rc = page_from_index(srv->fx, cat, &q, &pg, &err);
        pthread_rwlock_unlock(&srv->fx_lock);
    }
    if (rc == SM_EINTERNAL) { /* no index, or it cannot rank words: the SQL path, same rows */
        pg.b.n = sizeof("{\"items\":[") - 1;
        pg.count = 0;
        rc = page_from_sql(cat, &q, &pg, &err);
    }
    sm__srv_catalog_release(srv, cat);
    sm_query_release(&q);
    if (rc != SM_OK) {
        sm__sbuf_release(&pg.b);
        sm__sbuf_release(&a.text);
        return sm__req_error_status(req, &err);
    }
    sm__sbuf_lit(&pg.b, "],\"count\":");
    sm__sbuf_add_int(&pg.b, (long long)pg.count);
    sm__sbuf_lit(&pg.b, ",\"total\":");
    sm__sbuf_add_int(&pg.b, (long long)pg.total);
    sm__sbuf_lit(&pg.b, ",\"limit\":");
    sm__sbuf_add_int(&pg.b, limit);
    if (pg.more) {
        char hex[17];
        char cur[64];
        cursor_mac(srv, offset + limit, text, hex);
        int cn = snprintf(cur, sizeof(cur), ",\"next_cursor\":\"o%lld.%s\"", offset + limit, hex);
        sm__sbuf_add(&pg.b, cur, (size_t)cn);
    } else {
        sm__sbuf_lit(&pg.b, ",\"next_cursor\":null");
    }
    sm__sbuf_lit(&pg.b, ",\"query\":");
    sm__sbuf_add_jstr(&pg.b, text);
    sm__sbuf_lit(&pg.b, "}\n");
    sm__sbuf_release(&a.text);
    if (pg.b.oom) {
        sm__sbuf_release(&pg.b);
        return sm__req_error(req, 500, "out_of_memory", "out of memory");
    }
    return sm__req_reply_owned(req, 200, "application/json", pg.b.p, pg.b.n);
}

/* ------------------------------------------------------------ one file --- */

/* Row id as JSON text (new; sm_free), or NULL after replying with the error. */
static char *sample_text(sm_req *req, int64_t id, unsigned flags)
{
    sm_catalog *cat = catalog(req);
    if (!cat)
        return NULL;
    sm_error err = SM_ERROR_INIT;
    char *text = sm_catalog_sample_json(cat, id, flags, &err);
    sm__srv_catalog_release(sm__req_srv(req), cat);
    if (!text)
        sm__req_error_status(req, &err);
    return text;
}

/* Reply {"id": id, key: <that field of text>}; takes text. A missing field is a
 * 404 when required, else an empty array. */
static int reply_field(sm_req *req, int64_t id, char *text, const char *key, bool required)
{
    json_t *all = json_loads(text, 0, NULL);
    sm_free(text);
    json_t *v = all ? json_object_get(all, key) : NULL;
    if (!v && required) {
        json_decref(all);
        return sm__req_error(req, 404, "not_found", "no %s is stored for sample %lld", key,
                             (long long)id);
    }
    json_t *o = json_pack("{s:I,s:o}", "id", (json_int_t)id, key,
                          v ? json_incref(v) : json_array());
    json_decref(all);
    return sm__req_reply_json(req, 200, o);
}

static int file_get(sm_req *req, void *ud)
{
    (void)ud;
    int64_t id;
    if (id_param(req, &id))
        return SM_SRV_DONE;
    char *text = sample_text(req, id, SM_CATALOG_JSON_AI);
    if (!text)
        return SM_SRV_DONE;
    sm__req_reply_data(req, 200, "application/json", text, strlen(text));
    sm_free(text);
    return SM_SRV_DONE;
}

/* A tag must stay searchable as `tag:x`: 1..64 bytes, no spaces, control
 * characters, colons or quotes. */
static bool tag_ok(const char *t)
{
    size_t n = strlen(t);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= ' ' || c == ':' || c == '"' || c == '\'' || c == 0x7f)
            return false;
    }
    return true;
}

/* Checks that v (may be NULL) is an array of at most 64 valid tags. */
static const char *tag_list_problem(const json_t *v)
{
    if (!v)
        return NULL;
    if (!json_is_array(v))
        return "must be an array of strings";
    if (json_array_size(v) > 64)
        return "holds more than 64 tags";
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t)
    {
        if (!json_is_string(t) || !tag_ok(json_string_value(t)))
            return "holds a tag that is not 1..64 bytes without spaces, colons or quotes";
    }
    return NULL;
}

/* POST /api/v1/audio/files/{id}/tags {"add": [...], "remove": [...]}
 * -> {"id": id, "tags": [...]} (the tags after the change). */
static int file_tags(sm_req *req, void *ud)
{
    (void)ud;
    int64_t id;
    if (id_param(req, &id))
        return SM_SRV_DONE;
    json_t *body = sm__req_json(req);
    if (!body)
        return SM_SRV_DONE;
    if (!json_is_object(body)) {
        json_decref(body);
        return sm__req_error(req, 400, "invalid_argument", "the body must be a JSON object");
    }
    const char *key;
    json_t *val;
    json_object_foreach(body, key, val)
    {
        if (strcmp(key, "add") && strcmp(key, "remove")) {
            sm__req_error(req, 400, "invalid_argument",
                          "unknown field \"%.64s\" (expected add, remove)", key);
            json_decref(body);
            return SM_SRV_DONE;
        }
    }
    json_t *add = json_object_get(body, "add");
    json_t *rem = json_object_get(body, "remove");
    const char *bad_add = tag_list_problem(add);
    const char *bad_rem = tag_list_problem(rem);
    if (bad_add || bad_rem) {
        sm__req_error(req, 400, "invalid_argument", "%s %s", bad_add ? "add" : "remove",
                      bad_add ? bad_add : bad_rem);
        json_decref(body);
        return SM_SRV_DONE;
    }
    sm_catalog *cat = catalog(req);
    if (!cat) {
        json_decref(body);
        return SM_SRV_DONE;
    }
    sm_error err = SM_ERROR_INIT;
    sm_sample s;
    sm_sample_init(&s);
    sm_status rc = sm_catalog_get(cat, id, &s, &err); /* 404 for an unknown id */
    sm_sample_release(&s);
    json_t *lists[2] = {add, rem};
    for (int l = 0; l < 2 && rc == SM_OK; l++) {
        size_t i;
        json_t *t;
        json_array_foreach(lists[l], i, t)
        {
            rc = sm_catalog_tag(cat, id, json_string_value(t), l == 0, &err);
            if (rc != SM_OK)
                break;
        }
    }
    json_decref(body);
    if (rc == SM_OK)
        sm__srv_indexes_stale(sm__req_srv(req));
    char *text = rc == SM_OK ? sm_catalog_sample_json(cat, id, 0, &err) : NULL;
    sm__srv_catalog_release(sm__req_srv(req), cat);
    if (!text)
        return sm__req_error_status(req, &err);
    return reply_field(req, id, text, "tags", false);
}

static int file_waveform(sm_req *req, void *ud)
{
    (void)ud;
    int64_t id;
    if (id_param(req, &id))
        return SM_SRV_DONE;
    char *text = sample_text(req, id, SM_JSON_WAVEFORM);
    if (!text)
        return SM_SRV_DONE;
    return reply_field(req, id, text, "waveform", true);
}

/* Make sure the similarity index is loaded; \return with the read lock held. */
static sm_status index_acquire(sm_srv *srv, sm_catalog *cat, size_t dim, sm_error *err)
{
    sm__srv_catalog_watch(srv);
    pthread_rwlock_rdlock(&srv->vx_lock);
    if (!srv->vx_stale && srv->vx && sm_vindex_dim(srv->vx) == dim)
        return SM_OK;
    pthread_rwlock_unlock(&srv->vx_lock);
    pthread_rwlock_wrlock(&srv->vx_lock);
    sm_status rc = SM_OK;
    if (srv->vx_stale || !srv->vx || sm_vindex_dim(srv->vx) != dim) {
        sm_vindex *vx = sm_vindex_new(dim, err);
        if (vx)
            rc = sm_vindex_load(vx, cat, err);
        else
            rc = err ? err->code : SM_ENOMEM;
        if (rc == SM_OK) {
            sm_vindex_free(srv->vx);
            srv->vx = vx;
            srv->vx_stale = false;
        } else {
            sm_vindex_free(vx);
        }
    }
    pthread_rwlock_unlock(&srv->vx_lock);
    if (rc != SM_OK)
        return rc;
    pthread_rwlock_rdlock(&srv->vx_lock);
    if (!srv->vx) {
        pthread_rwlock_unlock(&srv->vx_lock);
        return sm_error_set(err, SM_EINTERNAL, "similarity index unavailable");
    }
    return SM_OK;
}

static int file_similar(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    int64_t id;
    if (id_param(req, &id))
        return SM_SRV_DONE;
    long long k = 10;
    const char *kv = sm__req_query(req, "k");
    if (kv && parse_int(kv, 1, MAX_K, &k))
        return sm__req_error(req, 400, "invalid_argument", "k must be an integer 1..%d", MAX_K);
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    const char *qv = sm__req_query(req, "q");
    if (qv && sm_query_parse(&q, qv, &err) != SM_OK) {
        query_error(req, &q, qv, &err);
        sm_query_release(&q);
        return SM_SRV_DONE;
    }
    sm_catalog *cat = catalog(req);
    if (!cat) {
        sm_query_release(&q);
        return SM_SRV_DONE;
    }
    float *vec = sm_malloc(MAX_DIM * sizeof(float));
    int64_t *allow = NULL;
    size_t n_allow = 0;
    size_t dim = 0;
    sm_status rc = vec ? sm_catalog_get_embedding(cat, id, vec, MAX_DIM, &dim, &err) : SM_ENOMEM;
    if (rc == SM_OK && qv)
        rc = sm_catalog_search_ids(cat, &q, &allow, &n_allow, &err);
    sm_query_release(&q);
    int64_t ids[MAX_K];
    float dist[MAX_K];
    size_t found = 0;
    if (rc == SM_OK)
        rc = index_acquire(srv, cat, dim, &err);
    if (rc == SM_OK) {
        found = sm_vindex_search(srv->vx, vec, (size_t)k, id, qv ? allow : NULL, n_allow, ids,
                                 dist);
        pthread_rwlock_unlock(&srv->vx_lock);
    }
    sm_free(vec);
    sm_free(allow);
    if (rc != SM_OK) {
        sm__srv_catalog_release(srv, cat);
        if (rc == SM_ENOENT)
            return sm__req_error(req, 404, "not_found", "sample %lld does not exist or has no "
                                 "embedding", (long long)id);
        return sm__req_error_status(req, &err);
    }
    struct sm_sbuf b = SM_SBUF_INIT;
    sm__sbuf_lit(&b, "{\"id\":");
    sm__sbuf_add_int(&b, id);
    sm__sbuf_lit(&b, ",\"k\":");
    sm__sbuf_add_int(&b, k);
    sm__sbuf_lit(&b, ",\"items\":[");
    size_t written = 0;
    for (size_t i = 0; i < found; i++) {
        sm_sample s;
        sm_sample_init(&s);
        if (sm_catalog_get(cat, ids[i], &s, NULL) == SM_OK) {
            if (written++)
                sm__sbuf_lit(&b, ",");
            sample_fields(&b, &s);
            sample_close(&b, "distance", (double)dist[i]);
        }
        sm_sample_release(&s);
    }
    sm__srv_catalog_release(srv, cat);
    sm__sbuf_lit(&b, "]}\n");
    if (b.oom) {
        sm__sbuf_release(&b);
        return sm__req_error(req, 500, "out_of_memory", "out of memory");
    }
    return sm__req_reply_owned(req, 200, "application/json", b.p, b.n);
}

/* ------------------------------------------------------------ audio bytes --- */

static const char *audio_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    static const char *const map[][2] = {
        {"wav", "audio/wav"},   {"wave", "audio/wav"},  {"aif", "audio/aiff"},
        {"aiff", "audio/aiff"}, {"aifc", "audio/aiff"}, {"flac", "audio/flac"},
        {"ogg", "audio/ogg"},   {"oga", "audio/ogg"},   {"opus", "audio/ogg; codecs=opus"},
        {"mp3", "audio/mpeg"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcasecmp(dot + 1, map[i][0]))
            return map[i][1];
    return "application/octet-stream";
}

/* True when real path \p p is \p root or inside it. */
static bool under(const char *p, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return true;
    return !strncmp(p, root, n) && (p[n] == '/' || p[n] == '\0');
}

/* Range header: 0 = serve everything, 1 = [start, start+len), -1 = unsatisfiable. */
static int parse_range(const char *h, int64_t size, int64_t *start, int64_t *len)
{
    if (!h)
        return 0;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "bytes=", 6))
        return 0; /* a unit we do not know: ignore (RFC 9110) */
    h += 6;
    if (strchr(h, ','))
        return 0; /* several ranges: send the whole file */
    const char *dash = strchr(h, '-');
    if (!dash)
        return -1;
    char a[24] = "";
    char b[24] = "";
    size_t na = (size_t)(dash - h);
    size_t nb = strlen(dash + 1);
    if (na >= sizeof(a) || nb >= sizeof(b) || (!na && !nb))
        return -1;
    memcpy(a, h, na);
    a[na] = '\0';
    memcpy(b, dash + 1, nb + 1);
    long long x = 0;
    long long y = 0;
    if (na && parse_int(a, 0, INT64_MAX / 2, &x))
        return -1;
    if (nb && parse_int(b, 0, INT64_MAX / 2, &y))
        return -1;
    if (!na) { /* the last y bytes */
        if (y == 0 || size == 0)
            return -1;
        if (y > size)
            y = size;
        *start = size - y;
        *len = y;
        return 1;
    }
    if (x >= size || (nb && y < x))
        return -1;
    if (!nb || y >= size)
        y = size - 1;
    *start = x;
    *len = y - x + 1;
    return 1;
}

static int file_audio(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    int64_t id;
    if (id_param(req, &id))
        return SM_SRV_DONE;
    sm_catalog *cat = catalog(req);
    if (!cat)
        return SM_SRV_DONE;
    sm_sample s;
    sm_sample_init(&s);
    sm_error err = SM_ERROR_INIT;
    sm_status rc = sm_catalog_get(cat, id, &s, &err);
    sm__srv_catalog_release(srv, cat);
    if (rc != SM_OK) {
        sm_sample_release(&s);
        return sm__req_error_status(req, &err);
    }
    char *real = s.path ? realpath(s.path, NULL) : NULL;
    if (!real) {
        sm_sample_release(&s);
        return sm__req_error(req, 404, "not_found", "the file of sample %lld is gone",
                             (long long)id);
    }
    /* Only files inside a configured root (or the uploads root); with no roots
     * configured, inside the root the catalog recorded for the file. */
    bool ok = under(real, srv->cfg.uploads_root);
    for (size_t i = 0; i < srv->n_roots && !ok; i++)
        ok = under(real, srv->roots[i]);
    if (!ok && !srv->n_roots && s.root) {
        char *rroot = realpath(s.root, NULL);
        ok = rroot && under(real, rroot);
        free(rroot);
    }
    sm_sample_release(&s);
    if (!ok) {
        free(real);
        return sm__req_error(req, 403, "forbidden",
                             "the file of sample %lld is outside the library roots",
                             (long long)id);
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        free(real);
        return sm__req_error(req, 404, "not_found", "the file of sample %lld cannot be read",
                             (long long)id);
    }
    const char *ctype = audio_type(real);
    free(real);
    int64_t size = (int64_t)st.st_size;
    int64_t start = 0;
    int64_t len = size;
    int r = parse_range(sm__req_header(req, "Range"), size, &start, &len);
    sm__req_header_add(req, "Accept-Ranges", "bytes");
    char cr[96];
    if (r < 0) {
        close(fd);
        snprintf(cr, sizeof(cr), "bytes */%lld", (long long)size);
        sm__req_header_add(req, "Content-Range", cr);
        return sm__req_error(req, 416, "range_not_satisfiable",
                             "the file has %lld bytes", (long long)size);
    }
    if (r == 1) {
        snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)start,
                 (long long)(start + len - 1), (long long)size);
        sm__req_header_add(req, "Content-Range", cr);
    }
    return sm__req_reply_fd(req, r == 1 ? 206 : 200, ctype, fd, start, len);
}

/* ------------------------------------------------------------ analyze --- */

struct analyze_task {
    sm_req *req;
    bool store;
};

/* A safe file name from the client's (letters, digits, '.', '-', '_'). */
static void safe_name(const char *in, char *out, size_t size)
{
    const char *base = in ? strrchr(in, '/') : NULL;
    base = base ? base + 1 : in;
    size_t n = 0;
    for (const char *p = base ? base : ""; *p && n + 1 < size; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
    if (!n || out[0] == '.')
        snprintf(out, size, "upload.bin");
}

static int mkdirs(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0700);
            *p = '/';
        }
    }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

/* Move the upload into the uploads root and put it in the catalog. */
static sm_status store_upload(sm_srv *srv, const char *tmp, const char *filename,
                              const sm_analysis *a, int64_t *id, char **dest_out, sm_error *err)
{
    char name[128];
    safe_name(filename, name, sizeof(name));
    const char *h = strchr(a->hash, ':');
    h = h ? h + 1 : a->hash;
    char dest[4400];
    snprintf(dest, sizeof(dest), "%s/%.16s-%s", srv->cfg.uploads_root, h, name);
    if (mkdirs(srv->cfg.uploads_root))
        return sm_error_set(err, SM_EIO, "cannot create %s", srv->cfg.uploads_root);
    struct stat st;
    if (stat(dest, &st) && rename(tmp, dest))
        return sm_error_set(err, SM_EIO, "cannot store the upload: %s", strerror(errno));
    if (stat(dest, &st))
        return sm_error_set(err, SM_EIO, "cannot stat %s", dest);
    sm_catalog *cat = sm__srv_catalog_acquire(srv, err);
    if (!cat)
        return err->code;
    sm_analysis copy = *a;
    copy.path = dest;
    sm_catalog_file f = {dest, srv->cfg.uploads_root, (int64_t)st.st_size,
                         (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
    sm_status rc = sm_catalog_add_root(cat, srv->cfg.uploads_root, err);
    if (rc == SM_OK)
        rc = sm_catalog_put(cat, &f, &copy, 0, id, err);
    sm__srv_catalog_release(srv, cat);
    sm__srv_indexes_stale(srv);
    *dest_out = sm_strdup(dest);
    return rc;
}

static void analyze_run(void *ud)
{
    struct analyze_task *t = ud;
    sm_req *req = t->req;
    sm_srv *srv = sm__req_srv(req);
    const char *filename = NULL;
    int64_t size = 0;
    const char *path = sm__req_upload_path(req, &size, &filename);
    sm_analysis a;
    sm_analysis_init(&a);
    sm_error err = SM_ERROR_INIT;
    sm_status rc = sm__srv_analyze(srv, path, &a, &err);
    if (rc != SM_OK) {
        int status = rc == SM_ENOMEM || rc == SM_EIO || rc == SM_EINTERNAL ? 500 : 422;
        sm__req_complete_error(req, status, sm_status_name(rc), "%s", err.msg);
        sm_analysis_release(&a);
        sm_free(t);
        return;
    }
    int64_t id = 0;
    char *dest = NULL;
    if (t->store)
        rc = store_upload(srv, path, filename, &a, &id, &dest, &err);
    char *text = rc == SM_OK ? sm_analysis_to_json(&a, 0) : NULL;
    sm_analysis_release(&a);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    sm_free(text);
    if (rc != SM_OK || !o) {
        sm_free(dest);
        json_decref(o);
        sm__req_complete_error(req, 500, rc != SM_OK ? sm_status_name(rc) : "internal_error",
                               "%s", rc != SM_OK ? err.msg : "could not encode the analysis");
        sm_free(t);
        return;
    }
    json_object_set_new(o, "path", filename ? str_clean(filename) : json_null());
    json_object_set_new(o, "size", json_integer(size));
    json_object_set_new(o, "stored", json_boolean(t->store));
    if (t->store) {
        json_object_set_new(o, "id", json_integer(id));
        json_object_set_new(o, "stored_path", str_clean(dest));
    }
    sm_free(dest);
    sm_free(t);
    sm__req_complete(req, 200, o);
}

static int analyze(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    const char *sv = sm__req_query(req, "store");
    bool store = false;
    if (sv) {
        if (!strcmp(sv, "true") || !strcmp(sv, "1"))
            store = true;
        else if (strcmp(sv, "false") && strcmp(sv, "0"))
            return sm__req_error(req, 400, "invalid_argument", "store must be true or false");
    }
    int64_t size = 0;
    const char *path = sm__req_upload_path(req, &size, NULL);
    if (!path || size <= 0)
        return sm__req_error(req, 400, "invalid_argument",
                             "send the audio as the body, or as the multipart field 'file'");
    struct analyze_task *t = sm_calloc(1, sizeof(*t));
    if (!t)
        return sm__req_error(req, 500, "out_of_memory", "out of memory");
    t->req = req;
    t->store = store;
    if (sm__jobs_submit(srv, analyze_run, t)) {
        sm_free(t);
        return sm__req_error(req, 503, "unavailable", "the server is stopping");
    }
    return SM_SRV_PENDING;
}

int sm__routes_audio(sm_srv *srv)
{
    return sm__srv_route(srv, "GET", "/api/v1/audio/files", 0, files_search, NULL,
                         "Search the catalog (query language, filters, cursor pagination)") ||
           sm__srv_route(srv, "GET", "/api/v1/audio/files/{id}", 0, file_get, NULL,
                         "One sample with all descriptors") ||
           sm__srv_route(srv, "GET", "/api/v1/audio/files/{id}/similar", 0, file_similar, NULL,
                         "The k most similar samples") ||
           sm__srv_route(srv, "POST", "/api/v1/audio/files/{id}/tags", 0, file_tags, NULL,
                         "Add and remove tags of a sample") ||
           sm__srv_route(srv, "GET", "/api/v1/audio/files/{id}/waveform", 0, file_waveform,
                         NULL, "Waveform peaks for drawing") ||
           sm__srv_route(srv, "GET", "/api/v1/audio/files/{id}/audio", 0, file_audio, NULL,
                         "The audio file, with HTTP Range") ||
           sm__srv_route(srv, "POST", "/api/v1/audio/analyze", SM_ROUTE_UPLOAD, analyze, NULL,
                         "Analyze an uploaded file (raw body or multipart 'file')");
}
