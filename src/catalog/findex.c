/* The in-memory filter index (sm_findex): a snapshot of every catalog row's
 * filterable columns in contiguous arrays, the tags as sorted id lists, and the
 * path and name orders as ranks. A query is filtered, sorted and paged here in C:
 * filters start from the most selective lookup (rows by category, key, value
 * range or tag) rather than from every row; plain words are matched and ranked
 * from an in-memory copy of the full-text index (made on first use, with the
 * relevance of sm_catalog_search, bit for bit), other words through the
 * backend's. Only the rows of the page are then read from the catalog by id
 * (sm_findex_search), or none (sm_findex_page, with a per-row text the caller
 * keeps here). Results are the same rows in the same order as sm_catalog_search
 * over the same catalog state (tests compare both paths). */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
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

#define FX_NO_ROW UINT32_MAX
/* Sort orders kept as row permutations: path, name, id, key, category and each
 * numeric field, ascending and descending. */
#define FX_ORDERS ((5 + SM_QF_COUNT) * 2)
#define FX_KEYS 24 /* 12 tonics x 2 modes */

/* A text the caller keeps per row (sm_findex_row_text). */
struct fx_text {
    size_t len;
    char text[];
};

/* The full-text matches of some words with their relevance, kept so that the
 * next pages of the same words (cursor pagination, a page reloaded) skip the
 * full-text pass. Immutable once made; shared by reference count. */
struct fx_words {
    atomic_int refs;
    char *key;        /* the words, each as "<length>:<word>" */
    int64_t *ids;     /* ascending */
    double *score;
    size_t n;
    size_t bytes;
};

#define FX_WORDS_SLOTS 32
#define FX_WORDS_MAX_BYTES ((size_t)16 << 20)  /* all slots */
#define FX_WORDS_MAX_ONE ((size_t)4 << 20)     /* one entry */

/* The full-text index in memory (made on the first search with words): every
 * term (sorted by bytes) with its rows and instance counts, and every row's
 * token count, so plain words are matched and ranked as FTS5 and sm_bm25 do
 * (prefix match of each word, all words in a row, the same BM25 arithmetic)
 * without a pass through SQLite. */
struct fx_fts {
    char *terms;          /* NUL-terminated terms back to back */
    size_t terms_len;
    size_t terms_cap;
    uint32_t *term_at;    /* term t starts at terms + term_at[t] */
    uint32_t *post_at;    /* term t's rows: [post_at[t], post_at[t + 1]) */
    size_t n_terms;
    size_t cap_terms;
    int64_t *post_id;     /* ascending within a term */
    uint32_t *post_cnt;
    int32_t *post_len;    /* the row's token count (-1 when unknown), for ranking */
    size_t n_post;
    size_t cap_post;
    int64_t *doc_id;      /* ascending */
    int32_t *doc_len;
    size_t n_docs;
    size_t cap_docs;
    int32_t *len_by_id;   /* doc_len by id (-1 none), when ids are dense */
    int64_t max_id;
    int64_t n_row;
    int64_t n_token;
    bool unsorted;        /* terms did not arrive in order: not usable */
    bool unsorted_posts;  /* some term's rows did not arrive in id order */
};

/* What searches change in an index they share (behind the const handle). */
struct fx_mut {
    _Atomic(struct fx_text *) *text;  /* per row, NULL until put */
    atomic_size_t text_bytes;
    pthread_mutex_t fts_lock;
    _Atomic(struct fx_fts *) fts;
    bool fts_unusable;                     /* tried, and the backend cannot */
    pthread_mutex_t order_lock;
    _Atomic(uint32_t *) order[FX_ORDERS];  /* every row in a sort order; made on first use */
    pthread_mutex_t words_lock;
    struct fx_words *words[FX_WORDS_SLOTS];
    uint64_t words_used[FX_WORDS_SLOTS];  /* tick of the last use, for eviction */
    size_t words_bytes;
    uint64_t tick;
};

struct sm_findex {
    size_t n;
    uint32_t counts[2][2][256];    /* rows by missing, loop and category */
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
    /* Where a filter can start instead of a pass over every row: */
    uint32_t *row_by_id;           /* id -> row (FX_NO_ROW when none), when ids are dense */
    int64_t max_id;
    uint32_t *cat_rows;            /* rows by category, ascending within each */
    uint32_t cat_start[257];
    uint32_t *key_rows;            /* rows by key (tonic * 2 + mode), ascending within each */
    uint32_t key_start[FX_KEYS + 1];
    struct fx_mut *mut;
};

static void fts_free(struct fx_fts *t)
{
    if (!t)
        return;
    sm_free(t->terms);
    sm_free(t->term_at);
    sm_free(t->post_at);
    sm_free(t->post_id);
    sm_free(t->post_cnt);
    sm_free(t->post_len);
    sm_free(t->doc_id);
    sm_free(t->doc_len);
    sm_free(t->len_by_id);
    sm_free(t);
}

static void words_unref(struct fx_words *w)
{
    if (!w || atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    sm_free(w->key);
    sm_free(w->ids);
    sm_free(w->score);
    sm_free(w);
}

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
    sm_free(fx->row_by_id);
    sm_free(fx->cat_rows);
    sm_free(fx->key_rows);
    if (fx->mut) {
        for (int o = 0; o < FX_ORDERS; o++)
            sm_free(atomic_load(&fx->mut->order[o]));
        pthread_mutex_destroy(&fx->mut->order_lock);
        fts_free(atomic_load(&fx->mut->fts));
        pthread_mutex_destroy(&fx->mut->fts_lock);
        for (size_t i = 0; fx->mut->text && i < fx->n; i++)
            sm_free(atomic_load(&fx->mut->text[i]));
        sm_free(fx->mut->text);
        for (size_t i = 0; i < FX_WORDS_SLOTS; i++)
            words_unref(fx->mut->words[i]);
        pthread_mutex_destroy(&fx->mut->words_lock);
        sm_free(fx->mut);
    }
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
    fx->counts[fx->missing[i]][fx->loop[i]][fx->category[i]]++;
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

/* The row of an id: from the direct table when ids are dense, else by search. */
static size_t row_of(const sm_findex *fx, int64_t id)
{
    if (fx->row_by_id) {
        if (id < 0 || id > fx->max_id || fx->row_by_id[id] == FX_NO_ROW)
            return (size_t)-1;
        return fx->row_by_id[id];
    }
    return sm__id_find(fx->id, fx->n, id);
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

static int key_slot(int tonic, int mode)
{
    return tonic >= 0 && tonic < 12 && mode >= 0 && mode < 2 ? tonic * 2 + mode : -1;
}

/* Rows grouped by a small value (counting sort; ascending within each group):
 * group g holds rows[start[g]..start[g + 1]). group_of returns -1 for no group. */
static uint32_t *group_rows(const sm_findex *fx, uint32_t *start, size_t groups,
                            int (*group_of)(const sm_findex *, size_t))
{
    uint32_t *rows = sm_malloc((fx->n ? fx->n : 1) * sizeof(uint32_t));
    if (!rows)
        return NULL;
    memset(start, 0, (groups + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < fx->n; i++) {
        int g = group_of(fx, i);
        if (g >= 0)
            start[g + 1]++;
    }
    for (size_t g = 0; g < groups; g++)
        start[g + 1] += start[g];
    uint32_t at[257];
    memcpy(at, start, groups * sizeof(uint32_t));
    for (size_t i = 0; i < fx->n; i++) {
        int g = group_of(fx, i);
        if (g >= 0)
            rows[at[g]++] = (uint32_t)i;
    }
    return rows;
}

static int category_of(const sm_findex *fx, size_t i)
{
    return fx->category[i];
}

static int key_of(const sm_findex *fx, size_t i)
{
    return key_slot(fx->key_tonic[i], fx->key_mode[i]);
}

/* The id -> row table and the rows by category and by key. */
static int build_lookups(sm_findex *fx)
{
    int64_t max_id = fx->n ? fx->id[fx->n - 1] : 0;
    if (fx->n && fx->id[0] >= 0 && max_id <= (int64_t)(4 * fx->n + 1024)) {
        fx->row_by_id = sm_malloc(((size_t)max_id + 1) * sizeof(uint32_t));
        if (!fx->row_by_id)
            return -1;
        for (int64_t i = 0; i <= max_id; i++)
            fx->row_by_id[i] = FX_NO_ROW;
        for (size_t i = 0; i < fx->n; i++)
            fx->row_by_id[fx->id[i]] = (uint32_t)i;
        fx->max_id = max_id;
    }
    fx->cat_rows = group_rows(fx, fx->cat_start, 256, category_of);
    fx->key_rows = group_rows(fx, fx->key_start, FX_KEYS, key_of);
    return fx->cat_rows && fx->key_rows ? 0 : -1;
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
        fx->mut = sm_calloc(1, sizeof(*fx->mut));
        if (fx->mut) {
            fx->mut->text = sm_calloc(fx->n ? fx->n : 1, sizeof(*fx->mut->text));
            pthread_mutex_init(&fx->mut->words_lock, NULL);
            pthread_mutex_init(&fx->mut->order_lock, NULL);
            pthread_mutex_init(&fx->mut->fts_lock, NULL);
        }
        if (!fx->mut || !fx->mut->text || build_lookups(fx) != 0)
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
    return sm__id_find(v, n, id) != (size_t)-1;
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

/* The key of q's words in the words cache (new), or NULL when out of memory. */
static char *words_key(const sm_query *q)
{
    size_t len = 1;
    for (size_t i = 0; i < q->n_words; i++)
        len += strlen(q->words[i]) + 24;
    char *k = sm_malloc(len);
    if (!k)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < q->n_words; i++)
        at += (size_t)snprintf(k + at, len - at, "%zu:%s", strlen(q->words[i]), q->words[i]);
    k[at] = '\0';
    return k;
}

/* The cached matches of key (a new reference), or NULL. */
static struct fx_words *words_get(const sm_findex *fx, const char *key)
{
    struct fx_mut *m = fx->mut;
    struct fx_words *w = NULL;
    pthread_mutex_lock(&m->words_lock);
    for (size_t i = 0; i < FX_WORDS_SLOTS; i++) {
        if (m->words[i] && !strcmp(m->words[i]->key, key)) {
            w = m->words[i];
            atomic_fetch_add(&w->refs, 1);
            m->words_used[i] = ++m->tick;
            break;
        }
    }
    pthread_mutex_unlock(&m->words_lock);
    return w;
}

/* Cache w (the cache takes a reference of its own), evicting the least
 * recently used entries beyond the slots or the byte budget. */
static void words_put(const sm_findex *fx, struct fx_words *w)
{
    struct fx_mut *m = fx->mut;
    if (w->bytes > FX_WORDS_MAX_ONE)
        return;
    pthread_mutex_lock(&m->words_lock);
    for (size_t i = 0; i < FX_WORDS_SLOTS; i++) {
        if (m->words[i] && !strcmp(m->words[i]->key, w->key)) {
            pthread_mutex_unlock(&m->words_lock); /* another search was first */
            return;
        }
    }
    for (;;) {
        size_t slot = FX_WORDS_SLOTS;
        size_t oldest = FX_WORDS_SLOTS;
        for (size_t i = 0; i < FX_WORDS_SLOTS; i++) {
            if (!m->words[i]) {
                if (slot == FX_WORDS_SLOTS)
                    slot = i;
            } else if (oldest == FX_WORDS_SLOTS || m->words_used[i] < m->words_used[oldest]) {
                oldest = i;
            }
        }
        if (slot < FX_WORDS_SLOTS && m->words_bytes + w->bytes <= FX_WORDS_MAX_BYTES) {
            atomic_fetch_add(&w->refs, 1);
            m->words[slot] = w;
            m->words_used[slot] = ++m->tick;
            m->words_bytes += w->bytes;
            break;
        }
        if (oldest == FX_WORDS_SLOTS)
            break;
        m->words_bytes -= m->words[oldest]->bytes;
        words_unref(m->words[oldest]);
        m->words[oldest] = NULL;
    }
    pthread_mutex_unlock(&m->words_lock);
}

static int fts_take(const char *term, size_t len, int64_t id, int count, void *ud)
{
    struct fx_fts *t = ud;
    if (!term) {
        if (t->n_docs == t->cap_docs) {
            size_t cap = t->cap_docs ? t->cap_docs * 2 : 4096;
            GROW(t->doc_id, cap);
            GROW(t->doc_len, cap);
            t->cap_docs = cap;
        }
        if (t->n_docs && id <= t->doc_id[t->n_docs - 1])
            t->unsorted = true;
        t->doc_id[t->n_docs] = id;
        t->doc_len[t->n_docs] = count;
        t->n_docs++;
        return 0;
    }
    if (len > UINT32_MAX / 2 || t->terms_len + len + 1 > UINT32_MAX)
        return -1;
    const char *last = t->n_terms ? t->terms + t->term_at[t->n_terms - 1] : NULL;
    if (!last || strcmp(last, term) != 0) {
        if (last && strcmp(last, term) > 0)
            t->unsorted = true;
        if (t->n_terms + 1 >= t->cap_terms) {
            size_t cap = t->cap_terms ? t->cap_terms * 2 : 4096;
            GROW(t->term_at, cap);
            GROW(t->post_at, cap);
            t->cap_terms = cap;
        }
        if (t->terms_len + len + 1 > t->terms_cap) {
            size_t cap = t->terms_cap ? t->terms_cap * 2 : 65536;
            while (cap < t->terms_len + len + 1)
                cap *= 2;
            GROW(t->terms, cap);
            t->terms_cap = cap;
        }
        memcpy(t->terms + t->terms_len, term, len + 1);
        t->term_at[t->n_terms] = (uint32_t)t->terms_len;
        t->post_at[t->n_terms] = (uint32_t)t->n_post;
        t->terms_len += len + 1;
        t->n_terms++;
    } else if (id <= t->post_id[t->n_post - 1]) {
        t->unsorted_posts = true;
    }
    if (t->n_post == t->cap_post) {
        size_t cap = t->cap_post ? t->cap_post * 2 : 65536;
        if (cap > UINT32_MAX)
            return -1;
        GROW(t->post_id, cap);
        GROW(t->post_cnt, cap);
        t->cap_post = cap;
    }
    t->post_id[t->n_post] = id;
    t->post_cnt[t->n_post] = count > 0 ? (uint32_t)count : 0;
    t->n_post++;
    return 0;
}

struct post {
    int64_t id;
    uint32_t cnt;
    int32_t len;
};

static int post_cmp(const void *a, const void *b)
{
    const struct post *x = a;
    const struct post *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Sort rows[0..n) by id, summing the counts of equal ids. \return the new n. */
static size_t post_merge(struct post *rows, size_t n)
{
    qsort(rows, n, sizeof(*rows), post_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && rows[k - 1].id == rows[i].id)
            rows[k - 1].cnt += rows[i].cnt;
        else
            rows[k++] = rows[i];
    }
    return k;
}

static int64_t fts_doc_len(const struct fx_fts *t, int64_t id);

/* The in-memory full-text index (made on first use), or NULL when the backend
 * cannot give it (words then go through the backend). */
static const struct fx_fts *fts_get(const sm_findex *fx, const struct sm__catalog_backend *be,
                                    void *impl)
{
    struct fx_mut *m = fx->mut;
    struct fx_fts *t = atomic_load_explicit(&m->fts, memory_order_acquire);
    if (t || !be->fx_terms)
        return t;
    pthread_mutex_lock(&m->fts_lock);
    t = atomic_load_explicit(&m->fts, memory_order_relaxed);
    if (!t && !m->fts_unusable) {
        t = sm_calloc(1, sizeof(*t));
        sm_error err = SM_ERROR_INIT;
        bool ok = t && be->fx_terms(impl, fts_take, t, &t->n_row, &t->n_token, &err) == SM_OK &&
                  !t->unsorted;
        if (ok && t->n_terms + 1 > t->cap_terms) {
            void *g = sm_realloc(t->post_at, (t->n_terms + 1) * sizeof(uint32_t));
            ok = g != NULL;
            if (g)
                t->post_at = g;
        }
        if (ok)
            t->post_at[t->n_terms] = (uint32_t)t->n_post;
        for (size_t k = 0; ok && t->unsorted_posts && k < t->n_terms; k++) {
            /* Rows of a term out of id order: sort them, summing repeats. */
            size_t a = t->post_at[k];
            size_t n = t->post_at[k + 1] - a;
            struct post *rows = sm_malloc((n ? n : 1) * sizeof(*rows));
            ok = rows != NULL;
            for (size_t i = 0; ok && i < n; i++)
                rows[i] = (struct post){t->post_id[a + i], t->post_cnt[a + i], -1};
            size_t kept = ok ? post_merge(rows, n) : 0;
            for (size_t i = 0; ok && i < n; i++) {
                /* Merged-away slots become id -1 entries with no instances:
                 * they sort first and are skipped by fts_list. */
                t->post_id[a + i] = i < n - kept ? -1 : rows[i - (n - kept)].id;
                t->post_cnt[a + i] = i < n - kept ? 0 : rows[i - (n - kept)].cnt;
            }
            sm_free(rows);
        }
        int64_t max_id = t && t->n_docs ? t->doc_id[t->n_docs - 1] : 0;
        if (ok && t->n_docs && t->doc_id[0] >= 0 && max_id <= (int64_t)(4 * t->n_docs + 1024)) {
            t->len_by_id = sm_malloc(((size_t)max_id + 1) * sizeof(int32_t));
            if (t->len_by_id) {
                for (int64_t i = 0; i <= max_id; i++)
                    t->len_by_id[i] = -1;
                for (size_t i = 0; i < t->n_docs; i++)
                    t->len_by_id[t->doc_id[i]] = t->doc_len[i];
                t->max_id = max_id;
            }
        }
        if (ok) {
            t->post_len = sm_malloc((t->n_post ? t->n_post : 1) * sizeof(int32_t));
            ok = t->post_len != NULL;
        }
        for (size_t k = 0; ok && k < t->n_post; k++)
            t->post_len[k] = (int32_t)fts_doc_len(t, t->post_id[k]);
        if (ok) {
            atomic_store_explicit(&m->fts, t, memory_order_release);
        } else {
            fts_free(t);
            t = NULL;
            m->fts_unusable = true;
        }
    }
    pthread_mutex_unlock(&m->fts_lock);
    return t;
}

static int64_t fts_doc_len(const struct fx_fts *t, int64_t id)
{
    if (t->len_by_id)
        return id >= 0 && id <= t->max_id ? t->len_by_id[id] : -1;
    size_t at = sm__id_find(t->doc_id, t->n_docs, id);
    return at != (size_t)-1 ? t->doc_len[at] : -1;
}

/* One word's rows: those with a term that starts with the word. */
struct fts_list {
    const int64_t *id;
    const uint32_t *cnt;
    const int32_t *len;
    size_t n;
    struct post *own;   /* when several terms were merged (new) */
    size_t at;          /* cursor of the intersection */
};

/* The rows of postings [a, b) (several terms) with their counts summed, through
 * a bitmap and a count per id (ids dense and within the index's): no sort.
 * \return 0, or -1 when out of memory. */
static int fts_list_dense(const struct fx_fts *t, size_t a, size_t b, struct fts_list *l)
{
    size_t words = ((size_t)t->max_id + 64) / 64;
    uint64_t *bits = sm_calloc(words, sizeof(uint64_t));
    uint32_t *acc = sm_malloc(((size_t)t->max_id + 1) * sizeof(uint32_t));
    size_t n = 0;
    for (size_t i = a; bits && acc && i < b; i++) {
        int64_t id = t->post_id[i];
        if (t->post_cnt[i] == 0)
            continue;
        uint64_t bit = 1ull << (id & 63);
        if (bits[id >> 6] & bit) {
            acc[id] += t->post_cnt[i];
        } else {
            bits[id >> 6] |= bit;
            acc[id] = t->post_cnt[i];
            n++;
        }
    }
    l->own = bits && acc ? sm_malloc((n ? n : 1) * sizeof(*l->own)) : NULL;
    for (size_t w = 0; l->own && w < words; w++) {
        uint64_t x = bits[w];
        while (x) {
            int64_t id = (int64_t)(w * 64 + (size_t)__builtin_ctzll(x));
            l->own[l->n++] = (struct post){id, acc[id], t->len_by_id[id]};
            x &= x - 1;
        }
    }
    sm_free(bits);
    sm_free(acc);
    return l->own ? 0 : -1;
}

/* \return 0, or -1 when out of memory. */
static int fts_list(const struct fx_fts *t, const char *prefix, struct fts_list *l)
{
    memset(l, 0, sizeof(*l));
    size_t plen = strlen(prefix);
    size_t lo = 0;
    size_t hi = t->n_terms;
    while (lo < hi) { /* first term >= prefix */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->terms + t->term_at[mid], prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t first = lo;
    hi = t->n_terms;
    while (lo < hi) { /* first term past the prefix */
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(t->terms + t->term_at[mid], prefix, plen) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t a = first < lo ? t->post_at[first] : 0;
    size_t b = first < lo ? t->post_at[lo] : 0;
    if (lo - first <= 1 && !t->unsorted_posts) {
        l->id = t->post_id + a;
        l->cnt = t->post_cnt + a;
        l->len = t->post_len + a;
        l->n = b - a;
        return 0;
    }
    bool dense = t->len_by_id != NULL;
    for (size_t i = a; dense && i < b; i++)
        dense = t->post_cnt[i] == 0 || (t->post_id[i] >= 0 && t->post_id[i] <= t->max_id);
    if (dense && b - a > 64)
        return fts_list_dense(t, a, b, l);
    l->own = sm_malloc((b > a ? b - a : 1) * sizeof(*l->own));
    if (!l->own)
        return -1;
    size_t n = 0;
    for (size_t i = a; i < b; i++)
        if (t->post_cnt[i] > 0)
            l->own[n++] = (struct post){t->post_id[i], t->post_cnt[i], t->post_len[i]};
    l->n = post_merge(l->own, n);
    return 0;
}

static int64_t fts_list_id(const struct fts_list *l, size_t i)
{
    return l->own ? l->own[i].id : l->id[i];
}

static uint32_t fts_list_cnt(const struct fts_list *l, size_t i)
{
    return l->own ? l->own[i].cnt : l->cnt[i];
}

static int64_t fts_list_len(const struct fts_list *l, size_t i)
{
    return l->own ? l->own[i].len : l->len[i];
}

/* q's words matched and ranked in memory, as the backend's fx_words does with
 * FTS5 (a word W is the query "W"*; every word must match; the relevance is
 * sm_bm25's). \return 1 with the results in w, 0 when a word is not plain ASCII
 * letters and digits (FTS5 must tokenise it), -1 when out of memory. */
static int fts_words(const struct fx_fts *t, const sm_query *q, struct fx_words *w)
{
    if (q->n_words == 0 || q->n_words > 64)
        return 0;
    for (size_t i = 0; i < q->n_words; i++) {
        const char *p = q->words[i];
        if (!*p || strlen(p) > 256)
            return 0;
        for (; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                return 0;
        }
    }
    struct fts_list lists[64];
    double idf[64];
    size_t nl = 0;
    int rc = 1;
    for (size_t i = 0; i < q->n_words && rc == 1; i++) {
        char word[257];
        size_t k = 0;
        for (const char *p = q->words[i]; *p; p++)
            word[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        word[k] = '\0';
        if (fts_list(t, word, &lists[nl]) != 0) {
            rc = -1;
            break;
        }
        int64_t n_hit = (int64_t)lists[nl].n;
        double v = log(((double)(t->n_row - n_hit) + 0.5) / ((double)n_hit + 0.5));
        if (v <= 0.0)
            v = 1e-6;
        idf[nl] = v;
        nl++;
    }
    /* Rows in every list (all ascend by id): walk the shortest; the others are
     * tested through a bitmap of their ids (no branch to mispredict per row),
     * and searched only for the rows in all of them. */
    size_t drive = 0;
    for (size_t j = 1; j < nl; j++)
        if (lists[j].n < lists[drive].n)
            drive = j;
    uint64_t *bits[64] = {NULL};
    size_t words = t->len_by_id ? ((size_t)t->max_id + 64) / 64 : 0;
    for (size_t j = 0; rc == 1 && words && j < nl; j++) {
        if (j == drive)
            continue;
        bits[j] = sm_calloc(words, sizeof(uint64_t));
        if (!bits[j]) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < lists[j].n; i++) {
            int64_t id = fts_list_id(&lists[j], i);
            if (id >= 0 && id <= t->max_id)
                bits[j][id >> 6] |= 1ull << (id & 63);
        }
    }
    size_t cap = 0;
    const double k1 = 1.2;
    const double b = 0.75;
    double avgdl = (double)t->n_token / (double)t->n_row;
    double freq[64];
    const struct fts_list *dl_list = &lists[drive];
    for (size_t i = 0; rc == 1 && nl > 0 && i < dl_list->n; i++) {
        int64_t id = fts_list_id(dl_list, i);
        if (id < 0)
            continue;
        bool all = true;
        for (size_t j = 0; j < nl && all && words; j++)
            if (j != drive)
                all = id <= t->max_id && ((bits[j][id >> 6] >> (id & 63)) & 1u);
        if (!all)
            continue;
        freq[drive] = (double)fts_list_cnt(dl_list, i);
        for (size_t j = 0; j < nl && all; j++) {
            if (j == drive)
                continue;
            struct fts_list *l = &lists[j];
            /* ids ascend: gallop from the last match on, then bisect. */
            size_t lo = l->at;
            size_t hi = l->at;
            for (size_t step = 1; hi < l->n && fts_list_id(l, hi) < id; step *= 2) {
                lo = hi + 1;
                hi = l->at + step;
            }
            if (hi > l->n)
                hi = l->n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (fts_list_id(l, mid) < id)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            l->at = lo;
            all = lo < l->n && fts_list_id(l, lo) == id;
            if (all)
                freq[j] = (double)fts_list_cnt(l, lo);
        }
        if (!all)
            continue;
        int64_t len = fts_list_len(dl_list, i);
        if (len < 0) { /* a row without a size: FTS5 would read it from the row */
            rc = 0;
            break;
        }
        if (w->n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *ni = sm_realloc(w->ids, cap * sizeof(int64_t));
            if (ni)
                w->ids = ni;
            double *ns = sm_realloc(w->score, cap * sizeof(double));
            if (ns)
                w->score = ns;
            if (!ni || !ns) {
                rc = -1;
                break;
            }
        }
        /* sm_bm25 (sqlite.c), operation for operation, phrases in query order. */
        double dl = (double)len;
        double score = 0.0;
        for (size_t j = 0; j < nl; j++)
            score += idf[j] * ((freq[j] * (k1 + 1.0)) / (freq[j] + k1 * (1 - b + b * dl / avgdl)));
        w->ids[w->n] = id;
        w->score[w->n] = -1.0 * score;
        w->n++;
    }
    for (size_t j = 0; j < nl; j++) {
        sm_free(lists[j].own);
        sm_free(bits[j]);
    }
    if (rc != 1) {
        sm_free(w->ids);
        sm_free(w->score);
        w->ids = NULL;
        w->score = NULL;
        w->n = 0;
    }
    return rc;
}

/* The full-text matches of q's words: from the cache, or from the backend (and
 * then cached when scored). A new reference (words_unref), or NULL with rc. */
static struct fx_words *words_find(const sm_findex *fx, const struct sm__catalog_backend *be,
                                   void *impl, const sm_query *q, bool want_scores,
                                   sm_status *rc, sm_error *err)
{
    char *key = words_key(q);
    if (!key) {
        *rc = sm_error_set(err, SM_ENOMEM, "findex: out of memory");
        return NULL;
    }
    struct fx_words *w = words_get(fx, key);
    if (w) {
        sm_free(key);
        return w;
    }
    w = sm_calloc(1, sizeof(*w));
    if (!w) {
        sm_free(key);
        *rc = sm_error_set(err, SM_ENOMEM, "findex: out of memory");
        return NULL;
    }
    atomic_init(&w->refs, 1);
    w->key = key;
    const struct fx_fts *t = fts_get(fx, be, impl);
    int got = t ? fts_words(t, q, w) : 0;
    if (got < 0) {
        words_unref(w);
        *rc = sm_error_set(err, SM_ENOMEM, "findex: out of memory");
        return NULL;
    }
    if (got > 0) {
        want_scores = true; /* ranked anyway: worth keeping */
        *rc = SM_OK;
    } else {
        *rc = be->fx_words(impl, fx->text, q, NULL, 0, &w->ids,
                           want_scores ? &w->score : NULL, &w->n, err);
    }
    if (*rc != SM_OK) {
        words_unref(w);
        return NULL;
    }
    w->bytes = w->n * (sizeof(int64_t) + sizeof(double)) + strlen(key) + sizeof(*w);
    if (want_scores)
        words_put(fx, w);
    return w;
}

static const uint32_t *order_rows(const sm_findex *fx, int sort, int field, bool desc);

/* The rows of field f that have a value, by value (ties by row): the front of
 * the field's ascending sort order, where NULLs come last. */
static const uint32_t *field_perm(const sm_findex *fx, int f, size_t *n)
{
    *n = 0;
    const uint32_t *order = order_rows(fx, SM_SORT_FIELD, f, false);
    if (!order)
        return NULL;
    size_t lo = 0;
    size_t hi = fx->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (!isnan(fx->field[f][order[mid]]))
            lo = mid + 1;
        else
            hi = mid;
    }
    *n = lo;
    return order;
}

/* First position of perm (ascending values of col) whose value is past x: with
 * incl, the first value >= x (incl false: > x) when upper is false; for the
 * upper end, the first value > x (incl false: >= x). */
static size_t perm_bound(const uint32_t *perm, size_t n, const double *col, double x,
                         bool incl, bool upper)
{
    size_t lo = 0;
    size_t hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double v = col[perm[mid]];
        bool before = upper ? (incl ? v <= x : v < x) : (incl ? v < x : v <= x);
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The rows to filter, ascending, into idx (room for every row): those of the
 * most selective filter that has a lookup (a category, a key, a range, a tag),
 * or every row. apply_filters then checks every filter on them. \return count. */
static size_t start_rows(const sm_findex *fx, const struct plan *p, uint32_t *idx)
{
    const sm_query *q = p->q;
    enum { ALL, CATEGORIES, KEYS, RANGE, TAG } how = ALL;
    size_t best = fx->n;
    if (q->categories) {
        size_t c = 0;
        for (unsigned k = 0; k < 32; k++)
            if ((q->categories >> k) & 1u)
                c += fx->cat_start[k + 1] - fx->cat_start[k];
        if (c < best) {
            best = c;
            how = CATEGORIES;
        }
    }
    uint32_t keys = 0; /* bit per key slot */
    bool keys_ok = q->n_keys > 0;
    for (int k = 0; k < q->n_keys; k++) {
        int slot = key_slot(q->key_tonic[k], q->key_mode[k]);
        if (slot < 0)
            keys_ok = false;
        else
            keys |= 1u << slot;
    }
    if (keys_ok) {
        size_t c = 0;
        for (unsigned k = 0; k < FX_KEYS; k++)
            if ((keys >> k) & 1u)
                c += fx->key_start[k + 1] - fx->key_start[k];
        if (c < best) {
            best = c;
            how = KEYS;
        }
    }
    const uint32_t *perm = NULL;
    size_t from = 0;
    for (int r = 0; r < p->n_ranges; r++) {
        int f = p->ranges[r];
        const sm_query_range *rg = &q->range[f];
        size_t pn = 0;
        const uint32_t *pm = field_perm(fx, f, &pn);
        if (!pm)
            continue;
        size_t a = isfinite(rg->lo) ? perm_bound(pm, pn, fx->field[f], rg->lo, rg->lo_incl, false)
                                    : 0;
        size_t b = isfinite(rg->hi) ? perm_bound(pm, pn, fx->field[f], rg->hi, rg->hi_incl, true)
                                    : pn;
        size_t c = b > a ? b - a : 0;
        if (c < best) {
            best = c;
            how = RANGE;
            perm = pm;
            from = a;
        }
    }
    const struct fx_tag *tag = NULL;
    for (size_t t = 0; t < p->n_tags; t++) {
        if (p->tags[t]->n < best) {
            best = p->tags[t]->n;
            how = TAG;
            tag = p->tags[t];
        }
    }
    /* A lookup pays when it skips most rows; marking its rows in a bitmap then
     * gives them in ascending order. */
    if (how == ALL || best > fx->n / 2) {
        for (size_t i = 0; i < fx->n; i++)
            idx[i] = (uint32_t)i;
        return fx->n;
    }
    size_t words = (fx->n + 63) / 64;
    uint64_t *bits = sm_calloc(words ? words : 1, sizeof(uint64_t));
    if (!bits) { /* every row still gives the right answer */
        for (size_t i = 0; i < fx->n; i++)
            idx[i] = (uint32_t)i;
        return fx->n;
    }
#define MARK(row) (bits[(row) >> 6] |= 1ull << ((row) & 63))
    switch (how) {
        case CATEGORIES:
            for (unsigned k = 0; k < 32; k++)
                if ((q->categories >> k) & 1u)
                    for (uint32_t j = fx->cat_start[k]; j < fx->cat_start[k + 1]; j++)
                        MARK(fx->cat_rows[j]);
            break;
        case KEYS:
            for (unsigned k = 0; k < FX_KEYS; k++)
                if ((keys >> k) & 1u)
                    for (uint32_t j = fx->key_start[k]; j < fx->key_start[k + 1]; j++)
                        MARK(fx->key_rows[j]);
            break;
        case RANGE:
            for (size_t j = from; j < from + best; j++)
                MARK(perm[j]);
            break;
        case TAG:
            for (size_t j = 0; j < tag->n; j++) {
                size_t row = row_of(fx, tag->ids[j]);
                if (row != (size_t)-1)
                    MARK(row);
            }
            break;
        case ALL:
            break;
    }
#undef MARK
    size_t n = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = bits[w];
        while (x) {
            idx[n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x));
            x &= x - 1;
        }
    }
    sm_free(bits);
    return n;
}

/* The matching rows (indexes, ascending) and, with words, their relevance; after
 * select_page also the page, in order. */
struct matches {
    uint32_t *idx;
    double *score;   /* score[j] is idx[j]'s (NULL without words) */
    size_t n;
    struct page_row {
        uint32_t row;
        double score; /* NaN without words */
    } *page;         /* page[first..end) */
};

static void matches_release(struct matches *m)
{
    sm_free(m->idx);
    sm_free(m->score);
    sm_free(m->page);
    memset(m, 0, sizeof(*m));
}

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
        m->n = start_rows(fx, &p, m->idx);
        apply_filters(fx, &p, m->idx, &m->n);
        return SM_OK;
    }
    /* Words: one pass over the full-text matches, with their relevance when the
     * caller wants scores (ranking only the rows the filters keep was measured:
     * a second pass over the matches costs more than ranking them all). */
    struct fx_words *w = words_find(fx, be, impl, q, want_scores, &rc, err);
    if (!w)
        return rc;
    uint32_t *pre = want_scores ? sm_malloc((w->n ? w->n : 1) * sizeof(uint32_t)) : NULL;
    if (want_scores) {
        m->score = sm_malloc((w->n ? w->n : 1) * sizeof(double));
        if (!m->score || !pre) {
            sm_free(pre);
            words_unref(w);
            return sm_error_set(err, SM_ENOMEM, "findex: out of memory");
        }
    }
    /* Both lists ascend by id. */
    for (size_t k = 0; k < w->n; k++) {
        size_t i = row_of(fx, w->ids[k]);
        if (i == (size_t)-1)
            continue;
        if (want_scores) {
            m->score[m->n] = w->score[k];
            pre[m->n] = (uint32_t)i;
        }
        m->idx[m->n++] = (uint32_t)i;
    }
    words_unref(w);
    apply_filters(fx, &p, m->idx, &m->n);
    if (want_scores) {
        /* The filters kept a subsequence: move each kept row's score to its
         * place (j <= k, so in place). */
        size_t k = 0;
        for (size_t j = 0; j < m->n; j++) {
            while (pre[k] != m->idx[j])
                k++;
            m->score[j] = m->score[k];
        }
        sm_free(pre);
    }
    return SM_OK;
}

/* Sorting: every match gets a 64-bit key that orders as the SQL path's ORDER BY
 * does, with the match's position (= row = id order) breaking ties; a bounded
 * heap keeps the page. */
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
static uint64_t sort_key(const sm_findex *fx, int sort, int field, bool desc, double score,
                         uint32_t i)
{
    switch (sort) {
        case SM_SORT_RELEVANCE: /* rank, id */
            return dkey(score, desc);
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

/* Every row in the order of (sort, field, desc), ties by row: the order the
 * page selection gives the matches (made on first use; NULL when out of memory). */
static const uint32_t *order_rows(const sm_findex *fx, int sort, int field, bool desc)
{
    int kind = sort == SM_SORT_FIELD ? 5 + field : sort - SM_SORT_PATH;
    if (kind < 0 || kind >= 5 + SM_QF_COUNT)
        return NULL;
    int slot = kind * 2 + (desc ? 1 : 0);
    struct fx_mut *m = fx->mut;
    uint32_t *order = atomic_load_explicit(&m->order[slot], memory_order_acquire);
    if (order)
        return order;
    pthread_mutex_lock(&m->order_lock);
    order = atomic_load_explicit(&m->order[slot], memory_order_relaxed);
    struct kv *kv = order ? NULL : sm_malloc((fx->n ? fx->n : 1) * sizeof(*kv));
    if (kv) {
        for (size_t i = 0; i < fx->n; i++) {
            kv[i].key = sort_key(fx, sort, field, desc, 0.0, (uint32_t)i);
            kv[i].idx = (uint32_t)i;
        }
        kv_heap_sort(kv, fx->n);
        order = sm_malloc((fx->n ? fx->n : 1) * sizeof(uint32_t));
        if (order) {
            for (size_t i = 0; i < fx->n; i++)
                order[i] = kv[i].idx;
            atomic_store_explicit(&m->order[slot], order, memory_order_release);
        }
        sm_free(kv);
    }
    pthread_mutex_unlock(&m->order_lock);
    return order;
}

/* The page from a walk along the sort order, skipping rows that do not match:
 * cheaper than ordering the matches when they are many and the page is near
 * the front. \return 1 when done, 0 when the order is not at hand, -1 when out
 * of memory. */
static int walk_page(const sm_findex *fx, const uint32_t *order, struct matches *m,
                     size_t *first, size_t *end)
{
    uint64_t *bits = NULL;
    if (m->n < fx->n) { /* not every row matches: a bitmap of those that do */
        bits = sm_calloc((fx->n + 63) / 64, sizeof(uint64_t));
        if (!bits)
            return -1;
        for (size_t i = 0; i < m->n; i++)
            bits[m->idx[i] >> 6] |= 1ull << (m->idx[i] & 63);
    }
    m->page = sm_malloc((*end ? *end : 1) * sizeof(*m->page));
    if (!m->page) {
        sm_free(bits);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < fx->n && k < *end; i++) {
        uint32_t row = order[i];
        if (bits && !((bits[row >> 6] >> (row & 63)) & 1u))
            continue;
        m->page[k].row = row;
        m->page[k].score = (double)NAN;
        if (m->score) { /* words sorted otherwise still report their relevance */
            size_t lo = 0;
            size_t hi = m->n;
            while (lo < hi) { /* m->idx ascends */
                size_t mid = lo + (hi - lo) / 2;
                if (m->idx[mid] < row)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            m->page[k].score = m->score[lo];
        }
        k++;
    }
    sm_free(bits);
    if (k < *end) { /* never: every match is in the order */
        *end = k;
        *first = *first < k ? *first : k;
    }
    return 1;
}

/* The page of q: find, then order the matches as the SQL path does and keep
 * the page in m->page[*first..*end). */
/* Walking the sort order to the end of the page visits about end * rows /
 * matches rows; ordering the matches costs a key each and a heap of end. */
static bool walk_pays(const sm_findex *fx, size_t matches, size_t end)
{
    if (matches == 0)
        return false;
    double steps = (double)end * (double)fx->n / (double)matches;
    return steps < (double)matches * (1.0 + log2((double)end + 1.0));
}

/* A query whose only filters are missing, loop and categories (a listing): how
 * many rows match is known without a pass (the kept counts); the page is then
 * walked along the sort order in chunks that apply_filters checks. \return 1
 * when done, 0 when not such a query (or the order is not at hand), -1 when out
 * of memory. */
static int listing_page(const sm_findex *fx, const sm_query *q, int sort, int field,
                        struct matches *m, size_t *first, size_t *end)
{
    if (q->n_words || q->n_tags || q->n_keys || sort == SM_SORT_RELEVANCE)
        return 0;
    for (int f = 0; f < SM_QF_COUNT; f++)
        if (q->range[f].set)
            return 0;
    size_t n = 0;
    for (int mi = 0; mi < 2; mi++) {
        if (q->missing >= 0 && mi != (q->missing ? 1 : 0))
            continue;
        for (int lo = 0; lo < 2; lo++) {
            if (q->loop >= 0 && lo != (q->loop ? 1 : 0))
                continue;
            for (unsigned c = 0; c < 256; c++)
                if (!q->categories || (c < 32 && ((q->categories >> c) & 1u)))
                    n += fx->counts[mi][lo][c];
        }
    }
    *first = q->offset < n ? q->offset : n;
    *end = n;
    if (q->limit > 0 && q->limit < n - *first)
        *end = *first + q->limit;
    if (!walk_pays(fx, n, *end))
        return 0;
    const uint32_t *order = order_rows(fx, sort, field, q->sort_desc);
    if (!order)
        return 0;
    struct plan p;
    memset(&p, 0, sizeof(p));
    p.q = q;
    m->page = sm_malloc((*end ? *end : 1) * sizeof(*m->page));
    if (!m->page)
        return -1;
    uint32_t chunk[512];
    size_t k = 0;
    for (size_t at = 0; at < fx->n && k < *end; at += 512) {
        size_t c = fx->n - at < 512 ? fx->n - at : 512;
        memcpy(chunk, order + at, c * sizeof(uint32_t));
        apply_filters(fx, &p, chunk, &c);
        for (size_t i = 0; i < c && k < *end; i++) {
            m->page[k].row = chunk[i];
            m->page[k].score = (double)NAN;
            k++;
        }
    }
    m->n = n;
    if (k < *end) { /* never when the counts are right; the page stays in bounds */
        *end = k;
        *first = *first < k ? *first : k;
    }
    return 1;
}

static sm_status select_page(const sm_findex *fx, const struct sm__catalog_backend *be,
                             void *impl, const sm_query *q, struct matches *m, size_t *first,
                             size_t *end, sm_error *err)
{
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
    memset(m, 0, sizeof(*m));
    int got = listing_page(fx, q, sort, field, m, first, end);
    if (got < 0)
        return sm_error_set(err, SM_ENOMEM, "findex: out of memory");
    if (got > 0)
        return SM_OK;
    sm_status rc = find(fx, be, impl, q, true, m, err);
    if (rc != SM_OK)
        return rc;
    *first = q->offset < m->n ? q->offset : m->n;
    *end = m->n;
    if (q->limit > 0 && q->limit < m->n - *first)
        *end = *first + q->limit;
    if (sort != SM_SORT_RELEVANCE && walk_pays(fx, m->n, *end)) {
        const uint32_t *order = order_rows(fx, sort, field, q->sort_desc);
        got = order ? walk_page(fx, order, m, first, end) : 0;
        if (got < 0)
            return sm_error_set(err, SM_ENOMEM, "findex: out of memory");
        if (got > 0)
            return SM_OK;
    }
    struct kv *kv = sm_malloc((m->n ? m->n : 1) * sizeof(*kv));
    if (!kv)
        return sm_error_set(err, SM_ENOMEM, "findex: out of memory");
    for (size_t i = 0; i < m->n; i++) {
        kv[i].key = sort_key(fx, sort, field, q->sort_desc, m->score ? m->score[i] : 0.0,
                             m->idx[i]);
        kv[i].idx = (uint32_t)i;
    }
    kv_top_k(kv, m->n, *end);
    m->page = sm_malloc((*end ? *end : 1) * sizeof(*m->page));
    if (!m->page) {
        sm_free(kv);
        return sm_error_set(err, SM_ENOMEM, "findex: out of memory");
    }
    for (size_t i = 0; i < *end; i++) {
        m->page[i].row = m->idx[kv[i].idx];
        m->page[i].score = m->score ? m->score[kv[i].idx] : (double)NAN;
    }
    sm_free(kv);
    return SM_OK;
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
    size_t first = 0;
    size_t end = 0;
    rc = select_page(fx, be, impl, q, &m, &first, &end, err);
    if (rc != SM_OK) {
        be->read_end(impl);
        matches_release(&m);
        /* The backend cannot rank words here: the SQL path answers instead. */
        return rc == SM_EINTERNAL ? be->search(impl, q, out, err) : rc;
    }
    for (size_t i = first; i < end && rc == SM_OK; i++) {
        sm_sample *s = sm__sample_list_push(out);
        if (!s) {
            rc = sm_error_set(err, SM_ENOMEM, "findex: out of memory");
            break;
        }
        rc = be->get(impl, fx->id[m.page[i].row], NULL, s, err);
        if (rc == SM_ENOENT) {
            /* Deleted since the snapshot: skip it. */
            out->n--;
            rc = SM_OK;
            if (err)
                *err = (sm_error)SM_ERROR_INIT;
            continue;
        }
        if (rc == SM_OK && m.score)
            s->score = m.page[i].score;
    }
    be->read_end(impl);
    matches_release(&m);
    return rc;
}

sm_status sm_findex_page(const sm_findex *fx, sm_catalog *cat, const sm_query *q,
                         sm_findex_hit **hits, size_t *n, size_t *total, sm_error *err)
{
    void *impl = NULL;
    const struct sm__catalog_backend *be = sm__catalog_backend_of(cat, &impl);
    if (!fx || !be || !q || !hits || !n)
        return sm_error_set(err, SM_EINVAL, "findex: page needs an index, a catalog, a query "
                                            "and outputs");
    *hits = NULL;
    *n = 0;
    if (total)
        *total = 0;
    struct matches m;
    size_t first = 0;
    size_t end = 0;
    sm_status rc = select_page(fx, be, impl, q, &m, &first, &end, err);
    if (rc == SM_OK) {
        *hits = sm_malloc((end > first ? end - first : 1) * sizeof(**hits));
        if (!*hits)
            rc = sm_error_set(err, SM_ENOMEM, "findex: out of memory");
    }
    if (rc == SM_OK) {
        for (size_t i = first; i < end; i++) {
            sm_findex_hit *h = &(*hits)[i - first];
            h->row = m.page[i].row;
            h->id = fx->id[m.page[i].row];
            h->score = m.page[i].score;
        }
        *n = end - first;
        if (total)
            *total = m.n;
    }
    matches_release(&m);
    return rc;
}

const char *sm_findex_row_text(const sm_findex *fx, uint32_t row, size_t *len)
{
    if (!fx || row >= fx->n)
        return NULL;
    struct fx_text *t = atomic_load_explicit(&fx->mut->text[row], memory_order_acquire);
    if (!t)
        return NULL;
    if (len)
        *len = t->len;
    return t->text;
}

bool sm_findex_row_text_put(const sm_findex *fx, uint32_t row, const char *text, size_t len)
{
    if (!fx || row >= fx->n || !text)
        return false;
    struct fx_mut *m = fx->mut;
    size_t cost = sizeof(struct fx_text) + len + 1;
    if (atomic_load(&m->text[row]))
        return false;
    if (atomic_fetch_add(&m->text_bytes, cost) + cost > SM_FINDEX_TEXT_BUDGET) {
        atomic_fetch_sub(&m->text_bytes, cost);
        return false;
    }
    struct fx_text *t = sm_malloc(cost);
    if (!t) {
        atomic_fetch_sub(&m->text_bytes, cost);
        return false;
    }
    t->len = len;
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    struct fx_text *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&m->text[row], &none, t, memory_order_release,
                                                 memory_order_relaxed)) {
        sm_free(t); /* another search kept the row first */
        atomic_fetch_sub(&m->text_bytes, cost);
        return false;
    }
    return true;
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
