#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sndfile.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include <samplemind/similarity.h>
#include "analysis/classify.h"
#include "testutil.h"

static void some_sound(sm_analysis *a, double hz)
{
    sm_analysis_init(a);
    for (int i = 0; i < SM_SPEC_COUNT; i++) {
        a->spectral[i].mean = 0.1;
        a->spectral[i].std = 0.05;
    }
    a->spectral[SM_SPEC_CENTROID].mean = hz;
    a->spectral[SM_SPEC_CENTROID].std = 0.2 * hz;
    a->spectral[SM_SPEC_BANDWIDTH].mean = hz;
    a->spectral[SM_SPEC_ROLLOFF].mean = 2.0 * hz;
    a->spectral[SM_SPEC_ROLLOFF].std = 0.3 * hz;
    for (int i = 0; i < SM_CONTRAST_BANDS; i++) {
        a->contrast[i].mean = 15.0 + i;
        a->contrast[i].std = 3.0;
    }
    for (int i = 0; i < SM_MFCC_COUNT; i++) {
        a->mfcc_mean[i] = 40.0 * cos(0.3 * i * log(hz));
        a->mfcc_std[i] = 5.0;
    }
    for (int i = 0; i < SM_CHROMA_COUNT; i++)
        a->chroma[i] = i == 9 ? 1.0 : 0.1;
    a->duration = 1.0;
    a->attack_ms = 5.0;
    a->decay_ms = 300.0;
}

static double norm(const float *e, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)e[i] * (double)e[i];
    return sqrt(s);
}

static void assert_unit(const sm_analysis *a)
{
    assert_non_null(a->embedding);
    assert_int_equal(a->embedding_dim, SM__EMB_DIM);
    assert_int_equal(a->embedding_version, SM_EMBEDDING_VERSION);
    assert_int_equal(SM__EMB_VERSION, SM_EMBEDDING_VERSION);
    for (size_t i = 0; i < a->embedding_dim; i++)
        assert_false(isnan(a->embedding[i]));
    assert_true(fabs(norm(a->embedding, a->embedding_dim) - 1.0) < 1e-5);
}

static void test_embedding__unit_length_and_versioned(void **state)
{
    (void)state;
    sm_analysis a;
    some_sound(&a, 800.0);
    assert_int_equal(sm__embedding_compute(&a), 0);
    assert_unit(&a);
    /* Recomputing reuses the buffer and gives the same vector. */
    float first[SM__EMB_DIM];
    memcpy(first, a.embedding, sizeof(first));
    float *buf = a.embedding;
    assert_int_equal(sm__embedding_compute(&a), 0);
    assert_ptr_equal(a.embedding, buf);
    assert_memory_equal(first, a.embedding, sizeof(first));
    sm_analysis_release(&a);
}

static void test_embedding__nan_input_still_unit(void **state)
{
    (void)state;
    sm_analysis a;
    sm_analysis_init(&a); /* silence: every descriptor NaN */
    assert_int_equal(sm__embedding_compute(&a), 0);
    assert_unit(&a);
    sm_analysis_release(&a);

    some_sound(&a, 800.0);
    a.spectral[SM_SPEC_FLUX].mean = INFINITY;
    a.mfcc_mean[4] = NAN;
    a.chroma[0] = NAN;
    a.attack_ms = -1.0;
    assert_int_equal(sm__embedding_compute(&a), 0);
    assert_unit(&a);
    sm_analysis_release(&a);
}

static void test_embedding__level_independent_statistics(void **state)
{
    (void)state;
    /* A sound 12 dB quieter: MFCC 0 and the RMS fall, shape stays. */
    sm_analysis a;
    sm_analysis b;
    some_sound(&a, 800.0);
    some_sound(&b, 800.0);
    a.mfcc_mean[0] = -200.0;
    b.mfcc_mean[0] = -240.0;
    b.spectral[SM_SPEC_RMS].mean = a.spectral[SM_SPEC_RMS].mean / 4.0;
    b.spectral[SM_SPEC_RMS].std = a.spectral[SM_SPEC_RMS].std / 4.0;
    assert_int_equal(sm__embedding_compute(&a), 0);
    assert_int_equal(sm__embedding_compute(&b), 0);
    assert_true(sm_embedding_distance(a.embedding, b.embedding, SM__EMB_DIM) < 1e-6f);
    sm_analysis_release(&a);
    sm_analysis_release(&b);
}

static int fail_now;
static void *maybe_malloc(size_t n)
{
    return fail_now ? NULL : malloc(n);
}
static void *maybe_realloc(void *p, size_t n)
{
    return fail_now ? NULL : realloc(p, n);
}
static void *maybe_calloc(size_t c, size_t n)
{
    return fail_now ? NULL : calloc(c, n);
}

static void test_embedding__out_of_memory(void **state)
{
    (void)state;
    sm_set_allocator(maybe_malloc, maybe_realloc, maybe_calloc, free);
    sm_analysis a;
    some_sound(&a, 500.0);
    fail_now = 1;
    int rc = sm__embedding_compute(&a);
    fail_now = 0;
    assert_int_equal(rc, -1);
    assert_null(a.embedding);
    assert_int_equal(a.embedding_dim, 0);
    sm_analysis_release(&a);
    sm_set_allocator(NULL, NULL, NULL, NULL);
}

static void test_embedding__distance_properties(void **state)
{
    (void)state;
    float a[4] = {1.0f, 0.0f, 0.0f, 0.0f};
    float b[4] = {0.0f, 1.0f, 0.0f, 0.0f};
    float c[4] = {-1.0f, 0.0f, 0.0f, 0.0f};
    float d[4] = {0.6f, 0.8f, 0.0f, 0.0f};
    float z[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    float s[4] = {3.0f, 0.0f, 0.0f, 0.0f};
    float n[4] = {1.0f, NAN, 0.0f, 0.0f};
    assert_true(fabsf(sm_embedding_distance(a, a, 4)) < 1e-7f);
    assert_true(fabsf(sm_embedding_distance(a, b, 4) - 1.0f) < 1e-6f);
    assert_true(fabsf(sm_embedding_distance(a, c, 4) - 2.0f) < 1e-6f);
    assert_true(fabsf(sm_embedding_distance(a, d, 4) - 0.4f) < 1e-6f);
    assert_true(fabsf(sm_embedding_distance(d, a, 4) - 0.4f) < 1e-6f);
    /* Scale does not matter; a zero vector is orthogonal to everything. */
    assert_true(fabsf(sm_embedding_distance(a, s, 4)) < 1e-6f);
    assert_true(fabsf(sm_embedding_distance(a, z, 4) - 1.0f) < 1e-6f);
    assert_true(fabsf(sm_embedding_distance(a, n, 4)) < 1e-6f);
    assert_true(isnan(sm_embedding_distance(NULL, a, 4)));
    assert_true(isnan(sm_embedding_distance(a, NULL, 4)));
    assert_true(isnan(sm_embedding_distance(a, b, 0)));
    /* Triangle-ish ordering on real embeddings: nearer sounds, smaller distance. */
    sm_analysis x;
    sm_analysis y;
    sm_analysis w;
    some_sound(&x, 800.0);
    some_sound(&y, 900.0);
    some_sound(&w, 6000.0);
    w.attack_ms = 200.0;
    w.decay_ms = NAN;
    assert_int_equal(sm__embedding_compute(&x), 0);
    assert_int_equal(sm__embedding_compute(&y), 0);
    assert_int_equal(sm__embedding_compute(&w), 0);
    float dxy = sm_embedding_distance(x.embedding, y.embedding, SM__EMB_DIM);
    float dxw = sm_embedding_distance(x.embedding, w.embedding, SM__EMB_DIM);
    assert_true(dxy >= 0.0f && dxw <= 2.0f);
    assert_true(dxy < dxw);
    sm_analysis_release(&x);
    sm_analysis_release(&y);
    sm_analysis_release(&w);
}

/* ---- End to end. ---- */

static void analyze_buffer(const float *x, size_t n, int rate, sm_analysis *a)
{
    const char *p = tu_path("emb.wav");
    assert_int_equal(tu_write(p, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    assert_non_null(an);
    sm_analysis_init(a);
    assert_int_equal(sm_analyzer_run(an, p, a, &err), SM_OK);
    sm_analyzer_free(an);
    remove(p);
    assert_unit(a);
}

/* A plucked tone: harmonics of hz with an exponential decay, plus a little
 * noise (seeded) at noise_amp. */
static void pluck(float *x, size_t n, int rate, double hz, double amp, unsigned seed,
                  double noise_amp)
{
    tu_noise(x, n, noise_amp, seed);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double v = 0.0;
        for (int h = 1; h <= 4; h++)
            v += sin(2.0 * M_PI * hz * h * t) / h;
        x[i] = (float)((double)x[i] + amp * 0.5 * v * exp(-t / 0.3));
    }
}

/* A noise hit: white noise with a 40 ms decay. */
static void hit(float *x, size_t n, int rate, double amp, unsigned seed)
{
    tu_noise(x, n, amp, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((double)x[i] * exp(-(double)i / rate / 0.04));
}

static void test_embedding__renderings_of_one_sound_are_nearer(void **state)
{
    (void)state;
    const int rate = 44100;
    size_t n = (size_t)rate;
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    sm_analysis tone_loud;
    sm_analysis tone_soft;
    sm_analysis hit_a;
    sm_analysis hit_b;
    pluck(x, n, rate, 330.0, 0.8, 1, 0.001);
    analyze_buffer(x, n, rate, &tone_loud);
    pluck(x, n, rate, 330.0, 0.2, 2, 0.0005); /* -12 dB, other noise */
    analyze_buffer(x, n, rate, &tone_soft);
    hit(x, n, rate, 0.8, 3);
    analyze_buffer(x, n, rate, &hit_a);
    hit(x, n, rate, 0.5, 4); /* other noise, -4 dB */
    analyze_buffer(x, n, rate, &hit_b);
    free(x);

    size_t dim = SM__EMB_DIM;
    float same_tone = sm_embedding_distance(tone_loud.embedding, tone_soft.embedding, dim);
    float same_hit = sm_embedding_distance(hit_a.embedding, hit_b.embedding, dim);
    float diff1 = sm_embedding_distance(tone_loud.embedding, hit_a.embedding, dim);
    float diff2 = sm_embedding_distance(tone_soft.embedding, hit_b.embedding, dim);
    assert_true(same_tone < diff1 && same_tone < diff2);
    assert_true(same_hit < diff1 && same_hit < diff2);
    assert_true(same_tone < 0.1f && same_hit < 0.1f);
    sm_analysis_release(&tone_loud);
    sm_analysis_release(&tone_soft);
    sm_analysis_release(&hit_a);
    sm_analysis_release(&hit_b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedding__unit_length_and_versioned),
        cmocka_unit_test(test_embedding__nan_input_still_unit),
        cmocka_unit_test(test_embedding__level_independent_statistics),
        cmocka_unit_test(test_embedding__out_of_memory),
        cmocka_unit_test(test_embedding__distance_properties),
        cmocka_unit_test(test_embedding__renderings_of_one_sound_are_nearer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
