/* The vector index: exact top-k against a brute-force reference using
 * sm_embedding_distance, exclusion, allow-lists, near-duplicate groups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>
#include <samplemind/similarity.h>

#include "testutil.h"

#define DIM 72
#define N 2000

static unsigned rng_state = 12345;

static float rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (float)(rng_state % 20001) / 10000.0f - 1.0f;
}

static void test_vindex__rejects_bad_args(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    assert_null(sm_vindex_new(0, &err));
    assert_int_equal(err.code, SM_EINVAL);
    sm_vindex *vx = sm_vindex_new(4, &err);
    assert_non_null(vx);
    assert_int_equal(sm_vindex_add(vx, 1, NULL, &err), SM_EINVAL);
    float q[4] = {1, 0, 0, 0};
    int64_t ids[2];
    float d[2];
    assert_int_equal(sm_vindex_search(vx, q, 2, 0, NULL, 0, ids, d), 0); /* empty */
    assert_int_equal(sm_vindex_groups(vx, -1.0f, NULL, NULL, &err), SM_EINVAL);
    sm_vindex_free(vx);
    sm_vindex_free(NULL);
}

static void test_vindex__topk_matches_reference(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    sm_vindex *vx = sm_vindex_new(DIM, &err);
    float *all = malloc(sizeof(float) * DIM * N);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < DIM; j++)
            all[i * DIM + j] = rnd();
        assert_int_equal(sm_vindex_add(vx, 100 + i, all + i * DIM, &err), SM_OK);
    }
    assert_int_equal(sm_vindex_size(vx), N);
    assert_int_equal(sm_vindex_dim(vx), DIM);
    float q[DIM];
    for (int j = 0; j < DIM; j++)
        q[j] = rnd();
    /* Reference: the 10 smallest sm_embedding_distance values. */
    float ref[N];
    for (int i = 0; i < N; i++)
        ref[i] = sm_embedding_distance(q, all + i * DIM, DIM);
    int64_t ids[10];
    float dist[10];
    assert_int_equal(sm_vindex_search(vx, q, 10, 0, NULL, 0, ids, dist), 10);
    for (int r = 0; r < 10; r++) {
        int best = -1;
        for (int i = 0; i < N; i++)
            if (ref[i] >= 0.0f && (best < 0 || ref[i] < ref[best]))
                best = i;
        assert_int_equal(ids[r], 100 + best);
        assert_true(fabsf(dist[r] - ref[best]) < 1e-4f);
        ref[best] = -1.0f;
        if (r > 0)
            assert_true(dist[r] >= dist[r - 1]);
    }
    /* The vector itself is found at distance 0, unless excluded. */
    assert_int_equal(sm_vindex_search(vx, all + 5 * DIM, 1, 0, NULL, 0, ids, dist), 1);
    assert_int_equal(ids[0], 105);
    assert_true(dist[0] < 1e-5f);
    assert_int_equal(sm_vindex_search(vx, all + 5 * DIM, 1, 105, NULL, 0, ids, dist), 1);
    assert_true(ids[0] != 105);
    /* Allow-list: only those ids. */
    int64_t allow[3] = {100, 150, 1999 + 100};
    size_t n = sm_vindex_search(vx, all + 50 * DIM, 10, 0, allow, 3, ids, dist);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], 150);
    n = sm_vindex_search(vx, all + 50 * DIM, 10, 150, allow, 3, ids, dist);
    assert_int_equal(n, 2);
    free(all);
    sm_vindex_free(vx);
}

static void test_vindex__nan_and_zero_vectors(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    sm_vindex *vx = sm_vindex_new(3, &err);
    float z[3] = {0, 0, 0};
    float n[3] = {NAN, 1, 0};
    assert_int_equal(sm_vindex_add(vx, 1, z, &err), SM_OK);
    assert_int_equal(sm_vindex_add(vx, 2, n, &err), SM_OK);
    float q[3] = {0, 2, 0};
    int64_t ids[2];
    float d[2];
    assert_int_equal(sm_vindex_search(vx, q, 2, 0, NULL, 0, ids, d), 2);
    assert_int_equal(ids[0], 2);
    assert_true(d[0] < 1e-6f);
    assert_int_equal(ids[1], 1);
    assert_true(fabsf(d[1] - 1.0f) < 1e-6f); /* zero vector: distance 1 */
    sm_vindex_free(vx);
}

struct groups {
    int n;
    size_t sizes[8];
    int64_t first[8];
};

static int on_group(const int64_t *ids, size_t n, void *ud)
{
    struct groups *g = ud;
    g->sizes[g->n] = n;
    g->first[g->n] = ids[0];
    g->n++;
    return 0;
}

static void test_vindex__groups_near_duplicates(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    sm_vindex *vx = sm_vindex_new(4, &err);
    float a[4] = {1, 0, 0, 0};
    float a2[4] = {1, 0.01f, 0, 0};
    float a3[4] = {1, 0.02f, 0.0f, 0}; /* chained to a via a2 */
    float b[4] = {0, 1, 0, 0};
    float b2[4] = {0, 1, 0.01f, 0};
    float c[4] = {0, 0, 1, 0};
    assert_int_equal(sm_vindex_add(vx, 10, a, &err), SM_OK);
    assert_int_equal(sm_vindex_add(vx, 20, b, &err), SM_OK);
    assert_int_equal(sm_vindex_add(vx, 11, a2, &err), SM_OK);
    assert_int_equal(sm_vindex_add(vx, 30, c, &err), SM_OK);
    assert_int_equal(sm_vindex_add(vx, 21, b2, &err), SM_OK);
    assert_int_equal(sm_vindex_add(vx, 12, a3, &err), SM_OK);
    struct groups g;
    memset(&g, 0, sizeof(g));
    assert_int_equal(sm_vindex_groups(vx, 0.001f, on_group, &g, &err), SM_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.sizes[0] + g.sizes[1], 5);
    memset(&g, 0, sizeof(g));
    assert_int_equal(sm_vindex_groups(vx, 0.0f, on_group, &g, &err), SM_OK);
    assert_int_equal(g.n, 0);
    sm_vindex_free(vx);
}

/* Above 4096 vectors an int8 first pass picks candidates; the answer must be the
 * exact one: the same ids and distances as the exact pass (forced here with an
 * allow-list of every id), also for clusters of near-identical vectors and exact
 * duplicates (ties go to the lower id). */
static void test_vindex__quantised_pass_is_exact(void **state)
{
    (void)state;
    const size_t n = 20000;
    sm_error err = SM_ERROR_INIT;
    sm_vindex *vx = sm_vindex_new(DIM, &err);
    assert_non_null(vx);
    float *all = sm_malloc(n * DIM * sizeof(float));
    int64_t *every = sm_malloc(n * sizeof(int64_t));
    assert_non_null(all);
    assert_non_null(every);
    for (size_t i = 0; i < n; i++) {
        float *v = all + i * DIM;
        if (i >= 100 && i < 2100) {
            /* 20 clusters of 100 vectors within a small radius of a centre. */
            const float *c = all + (i % 20) * DIM;
            for (size_t j = 0; j < DIM; j++)
                v[j] = c[j] + 0.01f * rnd();
        } else if (i >= 2100 && i < 2110) {
            memcpy(v, all + 7 * DIM, DIM * sizeof(float)); /* exact duplicates */
        } else {
            for (size_t j = 0; j < DIM; j++)
                v[j] = rnd();
        }
        every[i] = (int64_t)i + 1;
        assert_int_equal(sm_vindex_add(vx, every[i], v, &err), SM_OK);
    }
    int64_t ia[40];
    int64_t ib[40];
    float da[40];
    float db[40];
    const size_t queries[] = {0, 7, 13, 150, 2105, 5000, 19999};
    const size_t ks[] = {1, 10, 40};
    for (size_t qi = 0; qi < sizeof(queries) / sizeof(queries[0]); qi++) {
        for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
            const float *q = all + queries[qi] * DIM;
            int64_t self = (int64_t)queries[qi] + 1;
            size_t na = sm_vindex_search(vx, q, ks[ki], self, NULL, 0, ia, da);
            size_t nb = sm_vindex_search(vx, q, ks[ki], self, every, n, ib, db);
            assert_int_equal(na, ks[ki]);
            assert_int_equal(na, nb);
            assert_memory_equal(ia, ib, na * sizeof(int64_t));
            assert_memory_equal(da, db, na * sizeof(float));
        }
    }
    /* A duplicate's nearest neighbours are its copies, at distance 0, lowest id first. */
    assert_int_equal(sm_vindex_search(vx, all + 7 * DIM, 3, 8, NULL, 0, ia, da), 3);
    assert_int_equal(ia[0], 2101);
    assert_int_equal(ia[1], 2102);
    assert_true(da[0] < 1e-6f);
    sm_free(all);
    sm_free(every);
    sm_vindex_free(vx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vindex__rejects_bad_args),
        cmocka_unit_test(test_vindex__topk_matches_reference),
        cmocka_unit_test(test_vindex__nan_and_zero_vectors),
        cmocka_unit_test(test_vindex__groups_near_duplicates),
        cmocka_unit_test(test_vindex__quantised_pass_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
