/* The in-memory vector index: unit float32 vectors stored contiguously, searched
 * by brute force with a bounded max-heap for the top k.
 *
 * Vectors are normalised when added, so the cosine distance of
 * sm_embedding_distance is 1 - dot(a, b): one multiply-add per element, a loop
 * gcc vectorises. At 72 dimensions that is about 100k vectors per few ms on one
 * core; docs/catalog.md and BENCHMARKS.md give the measured figures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>

#include "catalog/catalog_int.h"

struct sm_vindex {
    size_t dim;
    size_t n;
    size_t cap;
    float *v;      /* n * dim, row i is vector i */
    int64_t *ids;  /* n */
    bool sorted;   /* ids ascending */
    /* int8 copy for a first pass that reads a quarter of the bytes: row i is
     * about scale[i] * q8[i]; qerr bounds |dot(v_i, u) - scale_i dot(q8_i, u)|
     * for every unit u (the largest over all rows). */
    int8_t *q8;    /* n * qdim: dim rounded up to 16, zero-padded */
    size_t qdim;
    float *scale;
    float qerr;
};

/* Below this many vectors one exact pass is as fast as two. */
#define QUANT_MIN 4096

sm_vindex *sm_vindex_new(size_t dim, sm_error *err)
{
    if (dim == 0 || dim > 65536) {
        sm_error_set(err, SM_EINVAL, "vindex: dimension %zu must be 1..65536", dim);
        return NULL;
    }
    sm_vindex *vx = sm_calloc(1, sizeof(*vx));
    if (!vx) {
        sm_error_set(err, SM_ENOMEM, "vindex: out of memory");
        return NULL;
    }
    vx->dim = dim;
    vx->qdim = (dim + 15) & ~(size_t)15;
    vx->sorted = true;
    return vx;
}

void sm_vindex_free(sm_vindex *vx)
{
    if (!vx)
        return;
    sm_free(vx->v);
    sm_free(vx->ids);
    sm_free(vx->q8);
    sm_free(vx->scale);
    sm_free(vx);
}

size_t sm_vindex_size(const sm_vindex *vx)
{
    return vx ? vx->n : 0;
}

size_t sm_vindex_dim(const sm_vindex *vx)
{
    return vx ? vx->dim : 0;
}

sm_status sm_vindex_add(sm_vindex *vx, int64_t id, const float *v, sm_error *err)
{
    if (!vx || !v)
        return sm_error_set(err, SM_EINVAL, "vindex: add needs an index and a vector");
    if (vx->n == vx->cap) {
        size_t cap = vx->cap ? vx->cap * 2 : 1024;
        float *nv = sm_realloc(vx->v, cap * vx->dim * sizeof(float));
        if (!nv)
            return sm_error_set(err, SM_ENOMEM, "vindex: out of memory at %zu vectors", vx->n);
        vx->v = nv;
        int64_t *ni = sm_realloc(vx->ids, cap * sizeof(int64_t));
        if (!ni)
            return sm_error_set(err, SM_ENOMEM, "vindex: out of memory at %zu vectors", vx->n);
        vx->ids = ni;
        int8_t *nq = sm_realloc(vx->q8, cap * vx->qdim);
        if (!nq)
            return sm_error_set(err, SM_ENOMEM, "vindex: out of memory at %zu vectors", vx->n);
        vx->q8 = nq;
        float *ns = sm_realloc(vx->scale, cap * sizeof(float));
        if (!ns)
            return sm_error_set(err, SM_ENOMEM, "vindex: out of memory at %zu vectors", vx->n);
        vx->scale = ns;
        vx->cap = cap;
    }
    float *row = vx->v + vx->n * vx->dim;
    double ss = 0.0;
    for (size_t i = 0; i < vx->dim; i++) {
        float x = isfinite(v[i]) ? v[i] : 0.0f;
        row[i] = x;
        ss += (double)x * (double)x;
    }
    if (ss > 0.0) {
        float inv = (float)(1.0 / sqrt(ss));
        for (size_t i = 0; i < vx->dim; i++)
            row[i] *= inv;
    }
    /* Quantise: x ~ scale * q, |x - scale * q| <= scale / 2 per element, so for a
     * unit u the dot product is off by at most scale / 2 * sqrt(dim) (plus float
     * rounding, covered by the margin). */
    float amax = 0.0f;
    for (size_t i = 0; i < vx->dim; i++)
        amax = fabsf(row[i]) > amax ? fabsf(row[i]) : amax;
    float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    int8_t *qrow = vx->q8 + vx->n * vx->qdim;
    for (size_t i = 0; i < vx->dim; i++) {
        float r = roundf(row[i] / scale);
        qrow[i] = (int8_t)(r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r);
    }
    for (size_t i = vx->dim; i < vx->qdim; i++)
        qrow[i] = 0;
    vx->scale[vx->n] = scale;
    float bound = scale * 0.5f * sqrtf((float)vx->dim) * 1.01f + 1e-5f;
    if (bound > vx->qerr)
        vx->qerr = bound;
    if (vx->n > 0 && id <= vx->ids[vx->n - 1])
        vx->sorted = false;
    vx->ids[vx->n++] = id;
    return SM_OK;
}

struct load_ctx {
    sm_vindex *vx;
    sm_error *err;
    sm_status rc;
};

static int load_one(int64_t id, const float *v, size_t dim, void *ud)
{
    struct load_ctx *c = ud;
    if (dim != c->vx->dim)
        return 0; /* another embedding version: not comparable, skipped */
    c->rc = sm_vindex_add(c->vx, id, v, c->err);
    return c->rc != SM_OK;
}

sm_status sm_vindex_load(sm_vindex *vx, sm_catalog *cat, sm_error *err)
{
    if (!vx || !cat)
        return sm_error_set(err, SM_EINVAL, "vindex: load needs an index and a catalog");
    struct load_ctx c = {vx, err, SM_OK};
    sm_status rc = sm_catalog_each_embedding(cat, load_one, &c, err);
    return rc != SM_OK ? rc : c.rc;
}

static float dot(const float *restrict a, const float *restrict b, size_t n)
{
    float s0 = 0.0f;
    float s1 = 0.0f;
    float s2 = 0.0f;
    float s3 = 0.0f;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* Integer dot product of a stored int8 row and the int16 query, n a multiple of
 * 16 (rows are zero-padded): one loop gcc turns into multiply-add instructions
 * with no scalar tail. */
static int32_t dot_q8(const int8_t *restrict a, const int16_t *restrict b, size_t n)
{
    int32_t s = 0;
    n &= ~(size_t)15;
    for (size_t i = 0; i < n; i++)
        s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

/* Worse: a larger distance, or the same distance and a later row (ties go to
 * the lower row, so results do not depend on the visiting order). */
static bool worse(float da, size_t ia, float db, size_t ib)
{
    return da > db || (!(da < db) && ia > ib);
}

/* A max-heap of the k best (smallest distance) so far; the root is the worst. */
struct heap {
    float *d;
    size_t *idx;
    size_t n;
    size_t k;
};

static void heap_sift_down(struct heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1;
        size_t r = l + 1;
        size_t m = i;
        if (l < h->n && worse(h->d[l], h->idx[l], h->d[m], h->idx[m]))
            m = l;
        if (r < h->n && worse(h->d[r], h->idx[r], h->d[m], h->idx[m]))
            m = r;
        if (m == i)
            return;
        float td = h->d[i];
        size_t ti = h->idx[i];
        h->d[i] = h->d[m];
        h->idx[i] = h->idx[m];
        h->d[m] = td;
        h->idx[m] = ti;
        i = m;
    }
}

static void heap_offer(struct heap *h, float d, size_t idx)
{
    if (h->n < h->k) {
        size_t i = h->n++;
        h->d[i] = d;
        h->idx[i] = idx;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!worse(h->d[i], h->idx[i], h->d[p], h->idx[p]))
                break;
            float td = h->d[i];
            size_t ti = h->idx[i];
            h->d[i] = h->d[p];
            h->idx[i] = h->idx[p];
            h->d[p] = td;
            h->idx[p] = ti;
            i = p;
        }
    } else if (worse(h->d[0], h->idx[0], d, idx)) {
        h->d[0] = d;
        h->idx[0] = idx;
        heap_sift_down(h, 0);
    }
}

size_t sm_vindex_search(const sm_vindex *vx, const float *q, size_t k, int64_t exclude_id,
                        const int64_t *allow, size_t n_allow, int64_t *ids, float *dist)
{
    if (!vx || !q || k == 0 || !ids || !dist || vx->n == 0)
        return 0;
    /* Normalise the query the way the stored vectors are. */
    float *qn = sm_malloc(vx->dim * sizeof(float));
    struct heap h = {sm_malloc(k * sizeof(float)), sm_malloc(k * sizeof(size_t)), 0, k};
    if (!qn || !h.d || !h.idx) {
        sm_free(qn);
        sm_free(h.d);
        sm_free(h.idx);
        return 0;
    }
    double ss = 0.0;
    for (size_t i = 0; i < vx->dim; i++) {
        qn[i] = isfinite(q[i]) ? q[i] : 0.0f;
        ss += (double)qn[i] * (double)qn[i];
    }
    if (ss > 0.0)
        for (size_t i = 0; i < vx->dim; i++)
            qn[i] = (float)((double)qn[i] / sqrt(ss));
    const size_t dim = vx->dim;
    bool done = false;
    int16_t *q16 = NULL;
    float q16_scale = 0.0f;
    float q16_err = 0.0f;
    if (!allow && vx->n >= QUANT_MIN && k * 8 < vx->n && dim <= 256)
        q16 = sm_calloc(vx->qdim, sizeof(int16_t));
    if (q16) {
        /* The query with 15 bits per element; its rounding adds to the bound. */
        float amax = 0.0f;
        for (size_t i = 0; i < dim; i++)
            amax = fabsf(qn[i]) > amax ? fabsf(qn[i]) : amax;
        q16_scale = amax > 0.0f ? amax / 32767.0f : 1.0f;
        for (size_t i = 0; i < dim; i++)
            q16[i] = (int16_t)lrintf(qn[i] / q16_scale);
        q16_err = (1.0f + vx->qerr) * (q16_scale * 0.5f * sqrtf((float)dim) * 1.01f + 1e-6f);
    }
    if (q16) {
        /* Two passes: the int8 copy picks candidates (a quarter of the memory
         * traffic), float32 ranks them exactly. Any row left out has an exact
         * distance of at least its approximate one minus qerr, so when the last
         * candidate's approximate distance minus qerr is still beyond the k-th
         * exact distance, the answer is the exact one; otherwise one exact pass. */
        size_t kc = k * 4 + 32;
        struct heap c = {sm_malloc(kc * sizeof(float)), sm_malloc(kc * sizeof(size_t)), 0, kc};
        if (c.d && c.idx) {
            for (size_t i = 0; i < vx->n; i++) {
                float ad = 1.0f - vx->scale[i] * q16_scale *
                                      (float)dot_q8(vx->q8 + i * vx->qdim, q16, vx->qdim);
                if (c.n == kc && !(ad < c.d[0]))
                    continue;
                if (exclude_id != 0 && vx->ids[i] == exclude_id)
                    continue;
                heap_offer(&c, ad, i);
            }
            float t = c.n == kc ? c.d[0] : INFINITY;
            for (size_t j = 0; j < c.n; j++) {
                size_t i = c.idx[j];
                heap_offer(&h, 1.0f - dot(qn, vx->v + i * dim, dim), i);
            }
            float dk = h.n == k ? h.d[0] : INFINITY;
            done = t - (vx->qerr + q16_err) > dk;
            if (!done)
                h.n = 0;
        }
        sm_free(c.d);
        sm_free(c.idx);
        sm_free(q16);
    }
    if (done) {
        /* The quantised pass answered. */
    } else if (allow && vx->sorted) {
        /* Visit only the allowed rows. */
        for (size_t a = 0; a < n_allow; a++) {
            if (allow[a] == exclude_id && exclude_id != 0)
                continue;
            size_t i = sm__id_find(vx->ids, vx->n, allow[a]);
            if (i == (size_t)-1)
                continue;
            heap_offer(&h, 1.0f - dot(qn, vx->v + i * dim, dim), i);
        }
    } else {
        for (size_t i = 0; i < vx->n; i++) {
            float d = 1.0f - dot(qn, vx->v + i * dim, dim);
            if (h.n == k && !(d < h.d[0]))
                continue;
            if (exclude_id != 0 && vx->ids[i] == exclude_id)
                continue;
            if (allow && sm__id_find(allow, n_allow, vx->ids[i]) == (size_t)-1)
                continue;
            heap_offer(&h, d, i);
        }
    }
    /* Pop worst-first into the tail: nearest first in the output. */
    size_t found = h.n;
    while (h.n > 0) {
        size_t pos = h.n - 1;
        float d = h.d[0];
        ids[pos] = vx->ids[h.idx[0]];
        dist[pos] = d < 0.0f ? 0.0f : d > 2.0f ? 2.0f : d;
        h.d[0] = h.d[pos];
        h.idx[0] = h.idx[pos];
        h.n--;
        heap_sift_down(&h, 0);
    }
    sm_free(qn);
    sm_free(h.d);
    sm_free(h.idx);
    return found;
}

static size_t uf_find(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

struct member {
    size_t root;
    int64_t id;
};

static int cmp_member(const void *a, const void *b)
{
    const struct member *x = a;
    const struct member *y = b;
    if (x->root != y->root)
        return x->root < y->root ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

sm_status sm_vindex_groups(const sm_vindex *vx, float threshold, sm_vindex_group_fn fn,
                           void *userdata, sm_error *err)
{
    if (!vx || !fn)
        return sm_error_set(err, SM_EINVAL, "vindex: groups needs an index and a callback");
    if (!(threshold >= 0.0f) || threshold > 2.0f)
        return sm_error_set(err, SM_EINVAL, "vindex: threshold %g must be 0..2",
                            (double)threshold);
    size_t n = vx->n;
    size_t *parent = sm_malloc((n ? n : 1) * sizeof(size_t));
    struct member *m = sm_malloc((n ? n : 1) * sizeof(struct member));
    int64_t *ids = sm_malloc((n ? n : 1) * sizeof(int64_t));
    if (!parent || !m || !ids) {
        sm_free(parent);
        sm_free(m);
        sm_free(ids);
        return sm_error_set(err, SM_ENOMEM, "vindex: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        parent[i] = i;
    const float min_dot = 1.0f - threshold;
    const size_t dim = vx->dim;
    for (size_t i = 0; i < n; i++) {
        const float *a = vx->v + i * dim;
        for (size_t j = i + 1; j < n; j++) {
            if (dot(a, vx->v + j * dim, dim) >= min_dot) {
                size_t ri = uf_find(parent, i);
                size_t rj = uf_find(parent, j);
                if (ri != rj)
                    parent[rj] = ri;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        m[i].root = uf_find(parent, i);
        m[i].id = vx->ids[i];
    }
    qsort(m, n, sizeof(*m), cmp_member);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && m[j].root == m[i].root) {
            ids[j - i] = m[j].id;
            j++;
        }
        if (j - i > 1 && fn(ids, j - i, userdata) != 0)
            break;
        i = j;
    }
    sm_free(parent);
    sm_free(m);
    sm_free(ids);
    return SM_OK;
}
