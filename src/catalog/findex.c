/* The in-memory filter index (sm_findex): a snapshot of every catalog row's
 * filterable columns in contiguous arrays, the tags as sorted id lists, and the
 * path and name orders as ranks. A query is filtered, sorted and paged here in C;
 * free words still go through the backend's full-text index (with the same
 * relevance as sm_catalog_search); only the rows of the page are then read from
 * the catalog by id. Results are the same rows in the same order as
 * sm_catalog_search over the same catalog state (tests compare both paths). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>

#include "catalog/catalog_int.h"

struct fx_tag {
    char *tag;
    int64_t *ids;  /* ascending */
    size_t n;
    size_t cap;
};

struct sm_findex {
    size_t n;
    size_t cap;
    int64_t *id;                   /* ascending */
    double *field[SM_QF_COUNT];    /* NaN when NULL */
    uint8_t *missing;
    uint8_t *loop;
    int8_t *key_tonic;             /* -1 when NULL */
    int8_t *key_mode;
    int32_t *key_sort;             /* -1 when NULL */
    uint8_t *category;
    uint32_t *path_rank;           /* position in path order (BINARY) */
    uint32_t *name_rank;           /* dense rank of name COLLATE NOCASE */
    struct fx_tag *tags;           /* sorted by tag */
    size_t n_tags;
    size_t cap_tags;
    void *text;                    /* backend state for ranking words */
    void (*text_free)(void *);
};

size_t sm_findex_size(const sm_findex *fx)
{
    return fx ? fx->n : 0;
}

void sm_findex_free(sm_findex *fx)
{
    if (!fx)
        return;
    sm_free(fx->id);
    for (int f = 0; f < SM_QF_COUNT; f++)
        sm_free(fx->field[f]);
    sm_free(fx->missing);
    sm_free(fx->loop);
    sm_free(fx->key_tonic);
    sm_free(fx->key_mode);
    sm_free(fx->key_sort);
    sm_free(fx->category);
    sm_free(fx->path_rank);
    sm_free(fx->name_rank);
    for (size_t i = 0; i < fx->n_tags; i++) {
        sm_free(fx->tags[i].tag);
        sm_free(fx->tags[i].ids);
    }
    sm_free(fx->tags);
    if (fx->text && fx->text_free)
        fx->text_free(fx->text);
    sm_free(fx);
}

/* ---------------------------------------------------------------- loading --- */

#define GROW(ptr, cap)                                                              \
    do {                                                                            \
        void *g_ = sm_realloc((ptr), (cap) * sizeof(*(ptr)));                       \
        if (!g_)                                                                    \
            return -1;                                                              \
        (ptr) = g_;                                                                 \
    } while (0)

static int fx_grow(sm_findex *fx)
{
    size_t cap = fx->cap ? fx->cap * 2 : 4096;
    GROW(fx->id, cap);
    for (int f = 0; f < SM_QF_COUNT; f++)
        GROW(fx->field[f], cap);
    GROW(fx->missing, cap);
    GROW(fx->loop, cap);
    GROW(fx->key_tonic, cap);
    GROW(fx->key_mode, cap);
    GROW(fx->key_sort, cap);
    GROW(fx->category, cap);
    fx->cap = cap;
    return 0;
}

static int load_row(const struct sm__fx_row *r, void *ud)
{
    sm_findex *fx = ud;
    if (fx->n == fx->cap && fx_grow(fx) != 0)
        return -1;
    size_t i = fx->n;
    fx->id[i] = r->id;
    for (int f = 0; f < SM_QF_COUNT; f++)
        fx->field[f][i] = r->field[f];
    fx->missing[i] = r->missing ? 1 : 0;
    fx->loop[i] = r->loop ? 1 : 0;
    bool key = r->key_tonic >= 0 && r->key_tonic < 128 && r->key_mode >= 0 && r->key_mode < 128;
    fx->key_tonic[i] = (int8_t)(key ? r->key_tonic : -1);
    fx->key_mode[i] = (int8_t)(key ? r->key_mode : -1);
    fx->key_sort[i] = r->key_sort;
    /* Categories outside 0..31 can never match a category filter; 255 keeps
     * them apart for sorting. */
    fx->category[i] = (uint8_t)(r->category >= 0 && r->category < 255 ? r->category : 255);
    fx->n++;
    return 0;
}

static int load_tag(const char *tag, int64_t id, void *ud)
{
    sm_findex *fx = ud;
    struct fx_tag *t = fx->n_tags ? &fx->tags[fx->n_tags - 1] : NULL;
    if (!t || strcmp(t->tag, tag) != 0) {
        if (fx->n_tags == fx->cap_tags) {
            size_t cap = fx->cap_tags ? fx->cap_tags * 2 : 64;
            GROW(fx->tags, cap);
            fx->cap_tags = cap;
        }
        t = &fx->tags[fx->n_tags];
        memset(t, 0, sizeof(*t));
        t->tag = sm_strdup(tag);
        if (!t->tag)
            return -1;
        fx->n_tags++;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        GROW(t->ids, cap);
        t->cap = cap;
    }
    t->ids[t->n++] = id;
    return 0;
}

/* Ranks from the backend's orders: row index of an id by binary search. */
static size_t row_of(const sm_findex *fx, int64_t id)
{
    size_t lo = 0;
    size_t hi = fx->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fx->id[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < fx->n && fx->id[lo] == id ? lo : (size_t)-1;
}

struct rank_ctx {
    sm_findex *fx;
    uint32_t *rank;
    uint32_t next;
    size_t seen;
};

static int take_rank(int64_t id, bool tie, void *ud)
{
    struct rank_ctx *c = ud;
    size_t i = row_of(c->fx, id);
    if (i == (size_t)-1)
        return -1;
    if (c->seen > 0 && !tie)
        c->next++;
    c->rank[i] = c->next;
    c->seen++;
    return 0;
}

sm_findex *sm_findex_load(sm_catalog *cat, sm_error *err)
{
    void *impl = NULL;
    const struct sm__catalog_backend *be = sm__catalog_backend_of(cat, &impl);
    if (!be) {
        sm_error_set(err, SM_EINVAL, "findex: NULL catalog");
        return NULL;
    }
    sm_findex *fx = sm_calloc(1, sizeof(*fx));
    if (!fx) {
        sm_error_set(err, SM_ENOMEM, "findex: out of memory");
        return NULL;
    }
    /* One read transaction, so rows, tags and text sizes are one snapshot. */
    sm_status rc = be->read_begin(impl, err);
    bool reading = rc == SM_OK;
    if (rc == SM_OK)
        rc = be->fx_rows(impl, load_row, fx, err);
    if (rc == SM_OK)
        rc = be->fx_tags(impl, load_tag, fx, err);
    if (rc == SM_OK) {
        fx->text_free = be->fx_text_free;
        fx->text = be->fx_text_load(impl, err);
        if (!fx->text)
            rc = err && err->code != SM_OK ? err->code : SM_ENOMEM;
    }
    if (rc == SM_OK) {
        size_t n = fx->n ? fx->n : 1;
        fx->path_rank = sm_calloc(n, sizeof(uint32_t));
        fx->name_rank = sm_calloc(n, sizeof(uint32_t));
        if (!fx->path_rank || !fx->name_rank)
            rc = sm_error_set(err, SM_ENOMEM, "findex: out of memory");
    }
    if (rc == SM_OK) {
        struct rank_ctx c = {fx, fx->path_rank, 0, 0};
        rc = be->fx_order(impl, false, take_rank, &c, err);
    }
    if (rc == SM_OK) {
        struct rank_ctx c = {fx, fx->name_rank, 0, 0};
        rc = be->fx_order(impl, true, take_rank, &c, err);
    }
    if (reading)
        be->read_end(impl);
    if (rc != SM_OK) {
        sm_findex_free(fx);
        return NULL;
    }
    return fx;
}

/* -------------------------------------------------------------- searching --- */

static bool in_ids(const int64_t *v, size_t n, int64_t id)
{
    size_t lo = 0;
    size_t hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == id;
}

struct plan {
    const sm_query *q;
    const struct fx_tag *tags[64];
    size_t n_tags;
    bool none;          /* a wanted tag nobody has */
    int ranges[SM_QF_COUNT];
    int n_ranges;
};

/* Keep the rows of idx[0..*n) that pass every filter, in order. Each filter is
 * one pass over the surviving rows with a branch-free compaction (NULL is NaN and
 * fails every comparison, as in SQL). */
static void apply_filters(const sm_findex *fx, const struct plan *p, uint32_t *idx, size_t *n)
{
    const sm_query *q = p->q;
    size_t m = *n;
    if (q->missing >= 0) {
        uint8_t want = q->missing ? 1 : 0;
        size_t k = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t i = idx[j];
            idx[k] = i;
            k += (size_t)(fx->missing[i] == want);
        }
        m = k;
    }
    for (int r = 0; r < p->n_ranges; r++) {
        const sm_query_range *rg = &q->range[p->ranges[r]];
        const double *col = fx->field[p->ranges[r]];
        /* An open end is an inclusive infinite bound: false only for NaN. */
        double lo = isfinite(rg->lo) ? rg->lo : -(double)INFINITY;
        double hi = isfinite(rg->hi) ? rg->hi : (double)INFINITY;
        bool lo_in = !isfinite(rg->lo) || rg->lo_incl;
        bool hi_in = !isfinite(rg->hi) || rg->hi_incl;
        size_t k = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t i = idx[j];
            double v = col[i];
            bool ok = (lo_in ? v >= lo : v > lo) & (hi_in ? v <= hi : v < hi);
            idx[k] = i;
            k += (size_t)ok;
        }
        m = k;
    }
    if (q->n_keys > 0) {
        size_t k = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t i = idx[j];
            int t = fx->key_tonic[i];
            int md = fx->key_mode[i];
            bool any = false;
            for (int c = 0; c < q->n_keys; c++)
                any |= (t == q->key_tonic[c]) & (md == q->key_mode[c]);
            idx[k] = i;
            k += (size_t)(any & (t >= 0));
        }
        m = k;
    }
    if (q->categories) {
        size_t k = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t i = idx[j];
            unsigned c = fx->category[i];
            idx[k] = i;
            k += (size_t)(c < 32 && ((q->categories >> c) & 1u));
        }
        m = k;
    }
    if (q->loop >= 0) {
        uint8_t want = q->loop ? 1 : 0;
        size_t k = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t i = idx[j];
            idx[k] = i;
            k += (size_t)(fx->loop[i] == want);
        }
        m = k;
    }
    for (size_t t = 0; t < p->n_tags; t++) {
        size_t k = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t i = idx[j];
            idx[k] = i;
            k += (size_t)in_ids(p->tags[t]->ids, p->tags[t]->n, fx->id[i]);
        }
        m = k;
    }
    *n = m;
}

static sm_status plan_init(const sm_findex *fx, const sm_query *q, struct plan *p, sm_error *err)
{
    memset(p, 0, sizeof(*p));
    p->q = q;
    for (int f = 0; f < SM_QF_COUNT; f++)
        if (q->range[f].set)
            p->ranges[p->n_ranges++] = f;
    if (q->n_tags > sizeof(p->tags) / sizeof(p->tags[0]))
        return sm_error_set(err, SM_EINVAL, "findex: more than 64 tag filters");
    for (size_t t = 0; t < q->n_tags; t++) {
        size_t lo = 0;
        size_t hi = fx->n_tags;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(fx->tags[mid].tag, q->tags[t]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < fx->n_tags && !strcmp(fx->tags[lo].tag, q->tags[t]))
            p->tags[p->n_tags++] = &fx->tags[lo];
        else
            p->none = true;
    }
    return SM_OK;
}

/* The matching rows (indexes, ascending) and, with words, their relevance. */
struct matches {
    uint32_t *idx;
    double *score;   /* per row index of fx (NULL without words) */
    size_t n;
};

static sm_status find(const sm_findex *fx, const struct sm__catalog_backend *be, void *impl,
                      const sm_query *q, bool want_scores, struct matches *m, sm_error *err)
{
    memset(m, 0, sizeof(*m));
    struct plan p;
    sm_status rc = plan_init(fx, q, &p, err);
    if (rc != SM_OK)
        return rc;
    m->idx = sm_malloc((fx->n ? fx->n : 1) * sizeof(uint32_t));
    if (!m->idx)
        return sm_error_set(err, SM_ENOMEM, "findex: out of memory");
    if (p.none)
        return SM_OK;
    if (q->n_words == 0) {
        for (size_t i = 0; i < fx->n; i++)
            m->idx[i] = (uint32_t)i;
        m->n = fx->n;
        apply_filters(fx, &p, m->idx, &m->n);
        return SM_OK;
    }
    /* Words: one pass over the full-text matches, with their relevance when the
     * caller wants scores (ranking only the rows the filters keep was measured:
     * a second pass over the matches costs more than ranking them all). */
    int64_t *wid = NULL;
    double *wscore = NULL;
    size_t wn = 0;
    rc = be->fx_words(impl, fx->text, q, NULL, 0, &wid, want_scores ? &wscore : NULL, &wn, err);
    if (rc != SM_OK)
        return rc;
    if (want_scores) {
        m->score = sm_malloc((fx->n ? fx->n : 1) * sizeof(double));
        if (!m->score) {
            sm_free(wid);
            sm_free(wscore);
            return sm_error_set(err, SM_ENOMEM, "findex: out of memory");
        }
    }
    /* Both lists ascend by id: a merge. */
    size_t i = 0;
    for (size_t w = 0; w < wn; w++) {
        while (i < fx->n && fx->id[i] < wid[w])
            i++;
        if (i == fx->n)
            break;
        if (fx->id[i] != wid[w])
            continue;
        if (want_scores)
            m->score[i] = wscore[w];
        m->idx[m->n++] = (uint32_t)i;
    }
    sm_free(wid);
    sm_free(wscore);
    apply_filters(fx, &p, m->idx, &m->n);
    return SM_OK;
}

/* Sorting: every match gets a 64-bit key that orders as the SQL path's ORDER BY
 * does, with the row index (= id order) breaking ties; a bounded heap keeps the
 * page. */
struct kv {
    uint64_t key;
    uint32_t idx;
};

static bool kv_less(const struct kv *a, const struct kv *b)
{
    return a->key < b->key || (a->key == b->key && a->idx < b->idx);
}

static void kv_sift(struct kv *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1;
        size_t r = l + 1;
        size_t m = i;
        if (l < n && kv_less(&v[m], &v[l]))
            m = l;
        if (r < n && kv_less(&v[m], &v[r]))
            m = r;
        if (m == i)
            return;
        struct kv t = v[i];
        v[i] = v[m];
        v[m] = t;
        i = m;
    }
}

static void kv_heap_sort(struct kv *v, size_t n)
{
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0;)
        kv_sift(v, n, i);
    for (size_t end = n - 1; end > 0; end--) {
        struct kv t = v[0];
        v[0] = v[end];
        v[end] = t;
        kv_sift(v, end, 0);
    }
}

/* Keep the k first of v[0..n) in v[0..k), sorted. */
static void kv_top_k(struct kv *v, size_t n, size_t k)
{
    if (k >= n) {
        kv_heap_sort(v, n);
        return;
    }
    for (size_t i = k / 2; i-- > 0;)
        kv_sift(v, k, i);
    for (size_t i = k; i < n; i++) {
        if (kv_less(&v[i], &v[0])) {
            v[0] = v[i];
            kv_sift(v, k, 0);
        }
    }
    kv_heap_sort(v, k);
}

/* A double as an unsigned key of the same order (-0 = +0; never NaN here). */
static uint64_t dkey(double x, bool desc)
{
    if (!(x < 0.0) && !(x > 0.0))
        x = 0.0;
    uint64_t b;
    memcpy(&b, &x, sizeof(b));
    b = (b & 0x8000000000000000ull) ? ~b : b | 0x8000000000000000ull;
    return desc ? ~b : b;
}

static uint64_t dir32(uint32_t x, bool desc)
{
    return desc ? (uint64_t)(uint32_t)~x : (uint64_t)x;
}

/* The ORDER BY of the SQL path (sqlite.c, db_search), term for term. */
static uint64_t sort_key(const sm_findex *fx, int sort, int field, bool desc,
                         const double *score, uint32_t i)
{
    switch (sort) {
        case SM_SORT_RELEVANCE: /* rank, id */
            return dkey(score[i], desc);
        case SM_SORT_NAME: /* name NOCASE, path (ascending) */
            return dir32(fx->name_rank[i], desc) << 32 | fx->path_rank[i];
        case SM_SORT_ID:
            return desc ? UINT64_MAX - i : i;
        case SM_SORT_KEY: /* NULL last, Camelot number and letter, id */
            return fx->key_sort[i] < 0 ? UINT64_MAX : dir32((uint32_t)fx->key_sort[i], desc);
        case SM_SORT_CATEGORY: /* category, path (ascending) */
            return dir32(fx->category[i], desc) << 32 | fx->path_rank[i];
        case SM_SORT_FIELD: { /* NULL last, value, id */
            double x = fx->field[field][i];
            return isnan(x) ? UINT64_MAX : dkey(x, desc);
        }
        case SM_SORT_PATH:
        default:
            return dir32(fx->path_rank[i], desc);
    }
}

sm_status sm_findex_search(const sm_findex *fx, sm_catalog *cat, const sm_query *q,
                           sm_sample_list *out, sm_error *err)
{
    void *impl = NULL;
    const struct sm__catalog_backend *be = sm__catalog_backend_of(cat, &impl);
    if (!fx || !be || !q || !out)
        return sm_error_set(err, SM_EINVAL, "findex: search needs an index, a catalog, a "
                                            "query and a list");
    /* One read transaction for the words and the page's rows: one lock, one
     * snapshot. */
    sm_status rc = be->read_begin(impl, err);
    if (rc != SM_OK)
        return rc;
    struct matches m;
    rc = find(fx, be, impl, q, true, &m, err);
    if (rc != SM_OK) {
        be->read_end(impl);
        sm_free(m.idx);
        sm_free(m.score);
        /* The backend cannot rank words here: the SQL path answers instead. */
        return rc == SM_EINTERNAL ? be->search(impl, q, out, err) : rc;
    }
    int sort = SM_SORT_PATH;
    int field = 0;
    switch (q->sort) {
        case SM_SORT_DEFAULT:
        case SM_SORT_RELEVANCE:
            sort = q->n_words ? SM_SORT_RELEVANCE : SM_SORT_PATH;
            break;
        case SM_SORT_FIELD:
            sort = q->sort_field >= 0 && q->sort_field < SM_QF_COUNT ? SM_SORT_FIELD : SM_SORT_ID;
            field = q->sort_field;
            break;
        default:
            sort = q->sort;
            break;
    }
    size_t first = q->offset < m.n ? q->offset : m.n;
    size_t end = m.n;
    if (q->limit > 0 && q->limit < m.n - first)
        end = first + q->limit;
    struct kv *kv = sm_malloc((m.n ? m.n : 1) * sizeof(*kv));
    if (!kv) {
        be->read_end(impl);
        sm_free(m.idx);
        sm_free(m.score);
        return sm_error_set(err, SM_ENOMEM, "findex: out of memory");
    }
    for (size_t i = 0; i < m.n; i++) {
        kv[i].key = sort_key(fx, sort, field, q->sort_desc, m.score, m.idx[i]);
        kv[i].idx = m.idx[i];
    }
    kv_top_k(kv, m.n, end);
    for (size_t i = 0; i < end; i++)
        m.idx[i] = kv[i].idx;
    sm_free(kv);
    for (size_t i = first; i < end && rc == SM_OK; i++) {
        sm_sample *s = sm__sample_list_push(out);
        if (!s) {
            rc = sm_error_set(err, SM_ENOMEM, "findex: out of memory");
            break;
        }
        rc = be->get(impl, fx->id[m.idx[i]], NULL, s, err);
        if (rc == SM_ENOENT) {
            /* Deleted since the snapshot: skip it. */
            out->n--;
            rc = SM_OK;
            if (err)
                *err = (sm_error)SM_ERROR_INIT;
            continue;
        }
        if (rc == SM_OK && m.score)
            s->score = m.score[m.idx[i]];
    }
    be->read_end(impl);
    sm_free(m.idx);
    sm_free(m.score);
    return rc;
}

sm_status sm_findex_search_ids(const sm_findex *fx, sm_catalog *cat, const sm_query *q,
                               int64_t **ids, size_t *n, sm_error *err)
{
    void *impl = NULL;
    const struct sm__catalog_backend *be = sm__catalog_backend_of(cat, &impl);
    if (!fx || !be || !q || !ids || !n)
        return sm_error_set(err, SM_EINVAL, "findex: search_ids needs an index, a catalog, "
                                            "a query and outputs");
    *ids = NULL;
    *n = 0;
    struct matches m;
    sm_status rc = find(fx, be, impl, q, false, &m, err);
    if (rc == SM_OK) {
        *ids = sm_malloc((m.n ? m.n : 1) * sizeof(int64_t));
        if (!*ids) {
            rc = sm_error_set(err, SM_ENOMEM, "findex: out of memory");
        } else {
            for (size_t i = 0; i < m.n; i++)
                (*ids)[i] = fx->id[m.idx[i]];
            *n = m.n;
        }
    }
    sm_free(m.idx);
    sm_free(m.score);
    if (rc == SM_EINTERNAL)
        return be->search_ids(impl, q, ids, n, err);
    return rc;
}
