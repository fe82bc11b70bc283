#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/mel.h"
#include "analysis/stft.h"
#include "testutil.h"

/* Slaney's mel scale, written out again so the test does not trust mel.c. */
static double slaney_mel(double hz)
{
    if (hz < 1000.0)
        return hz * 3.0 / 200.0;
    return 15.0 + 27.0 * log(hz / 1000.0) / log(6.4);
}

/* The band whose centre is nearest to hz. */
static size_t band_of(double hz)
{
    double step = slaney_mel(SM_AN_RATE / 2.0) / (SM_AN_NMEL + 1);
    return (size_t)lround(slaney_mel(hz) / step) - 1;
}

static void test_mel__bands_are_unit_area_triangles_in_order(void **state)
{
    (void)state;
    const struct sm__mel *m = sm__mel_get();
    assert_non_null(m);
    assert_ptr_equal(m, sm__mel_get());
    size_t prev_first = 0;
    for (size_t b = 0; b < SM_AN_NMEL; b++) {
        size_t first;
        const float *w;
        size_t n = sm__mel_band(m, b, &first, &w);
        assert_true(n >= 3);
        assert_true(first >= prev_first);
        prev_first = first;
        /* Slaney normalisation: each triangle has unit area in Hz. */
        double area = 0.0;
        size_t peak = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(w[i] > 0.0f);
            area += (double)w[i] * SM_AN_RATE / SM_AN_NFFT;
            if (w[i] > w[peak])
                peak = i;
        }
        assert_true(fabs(area - 1.0) < 0.02);
        /* Rising then falling. */
        for (size_t i = 1; i <= peak; i++)
            assert_true(w[i] >= w[i - 1]);
        for (size_t i = peak + 1; i < n; i++)
            assert_true(w[i] <= w[i - 1]);
        /* The top of the triangle is within a bin of the band centre. */
        assert_true(labs((long)band_of(sm__bin_hz(first + peak)) - (long)b) <= 1);
    }
    size_t first;
    const float *w;
    assert_int_equal(sm__mel_band(m, SM_AN_NMEL, &first, &w), 0);
    assert_null(w);
}

static void test_mel__apply_matches_dense_weights(void **state)
{
    (void)state;
    const struct sm__mel *m = sm__mel_get();
    float power[SM_AN_NBINS];
    tu_noise(power, SM_AN_NBINS, 1.0, 17);
    for (size_t k = 0; k < SM_AN_NBINS; k++)
        power[k] = power[k] * power[k];
    float mel[SM_AN_NMEL];
    sm__mel_apply(m, power, mel);
    for (size_t b = 0; b < SM_AN_NMEL; b++) {
        size_t first;
        const float *w;
        size_t n = sm__mel_band(m, b, &first, &w);
        double want = 0.0;
        for (size_t i = 0; i < n; i++)
            want += (double)w[i] * (double)power[first + i];
        assert_true(fabs((double)mel[b] - want) <= 1e-5 * want);
    }
}

struct melrun {
    const struct sm__mel *m;
    struct sm__mfcc mfcc;
    double band_energy[SM_AN_NMEL];
};

static void on_frame(const struct sm__frame *f, void *userdata)
{
    struct melrun *r = userdata;
    float mel[SM_AN_NMEL];
    sm__mel_apply(r->m, f->power, mel);
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        r->band_energy[b] += (double)mel[b];
    struct sm__frame g = *f;
    g.mel = mel;
    sm__mfcc_process(&r->mfcc, &g);
}

static void analyse(const float *x, size_t n, struct melrun *r, sm_analysis *a)
{
    memset(r, 0, sizeof(*r));
    r->m = sm__mel_get();
    sm__mfcc_init(&r->mfcc);
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    sm__stft_process(s, x, n, on_frame, r);
    sm__stft_finish(s, on_frame, r);
    sm__stft_free(s);
    sm__mfcc_finish(&r->mfcc, a);
}

static void test_mel__sine_lands_in_its_band(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE / 2;
    float *x = malloc(sizeof(float) * n);
    static const double freqs[] = {150.0, 440.0, 1000.0, 2500.0, 7000.0};
    for (size_t i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
        tu_sine(x, n, freqs[i], SM_AN_RATE, 0.5);
        struct melrun r;
        sm_analysis a;
        analyse(x, n, &r, &a);
        size_t best = 0;
        for (size_t b = 1; b < SM_AN_NMEL; b++) {
            if (r.band_energy[b] > r.band_energy[best])
                best = b;
        }
        assert_true(labs((long)best - (long)band_of(freqs[i])) <= 1);
    }
    free(x);
}

static void test_mel__mfcc_of_a_flat_spectrum_is_all_level(void **state)
{
    (void)state;
    float mel[SM_AN_NMEL];
    float c[SM_MFCC_COUNT];
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 10.0f;
    sm__mfcc_compute(mel, c);
    /* Orthonormal DCT-II: c0 = sqrt(1 / 64) * 64 * 10 dB = 80. */
    assert_true(fabsf(c[0] - 80.0f) < 1e-3f);
    for (size_t k = 1; k < SM_MFCC_COUNT; k++)
        assert_true(fabsf(c[k]) < 1e-3f);
}

static void test_mel__mfcc_picks_out_a_cosine(void **state)
{
    (void)state;
    float mel[SM_AN_NMEL];
    float c[SM_MFCC_COUNT];
    const size_t want = 3;
    /* log mel = a DCT basis vector (in dB), so only coefficient 3 is non-zero:
     * sqrt(2 / 64) * sum cos^2 = sqrt(2 / 64) * 32. */
    for (size_t m = 0; m < SM_AN_NMEL; m++) {
        double db = cos(M_PI * (double)want * (2.0 * (double)m + 1.0) / (2.0 * SM_AN_NMEL));
        mel[m] = (float)pow(10.0, db / 10.0);
    }
    sm__mfcc_compute(mel, c);
    for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
        double expect = k == want ? sqrt(32.0) : 0.0;
        assert_true(fabs((double)c[k] - expect) < 1e-3);
    }
    /* Zeros are floored at 1e-10 (-100 dB), never -inf. */
    memset(mel, 0, sizeof(mel));
    sm__mfcc_compute(mel, c);
    assert_true(fabsf(c[0] + 800.0f) < 1e-2f);
}

static void test_mel__noise_is_flat_and_a_sine_is_not(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = malloc(sizeof(float) * n);
    struct melrun r;
    sm_analysis noise;
    sm_analysis sine;
    tu_noise(x, n, 0.5, 23);
    analyse(x, n, &r, &noise);
    tu_sine(x, n, 1000.0, SM_AN_RATE, 0.5);
    analyse(x, n, &r, &sine);
    /* White noise through unit-area bands gives equal mel energies, so the
     * shape coefficients 1..12 are near 0; a sine's single band makes them large. */
    double shape_noise = 0.0;
    double shape_sine = 0.0;
    for (size_t k = 1; k < SM_MFCC_COUNT; k++) {
        assert_false(isnan(noise.mfcc_mean[k]));
        assert_false(isnan(noise.mfcc_std[k]));
        shape_noise += noise.mfcc_mean[k] * noise.mfcc_mean[k];
        shape_sine += sine.mfcc_mean[k] * sine.mfcc_mean[k];
    }
    shape_noise = sqrt(shape_noise / (SM_MFCC_COUNT - 1));
    shape_sine = sqrt(shape_sine / (SM_MFCC_COUNT - 1));
    assert_true(shape_noise < 3.0);
    assert_true(shape_sine > 10.0 * shape_noise);
    /* c0 is 8 times the mean log mel energy: a uniform noise of amplitude 0.5
     * has power N * sum(w^2) * 0.5^2 / 3 per bin and unit-area bands divide by
     * the bin width. */
    double per_bin = SM_AN_NFFT * 0.375 * 0.25 / 3.0;
    double band = per_bin / (SM_AN_RATE / (double)SM_AN_NFFT);
    assert_true(fabs(noise.mfcc_mean[0] - 8.0 * 10.0 * log10(band)) < 8.0 * 0.5);
    free(x);
}

static void test_mel__silence_gives_nan(void **state)
{
    (void)state;
    const size_t n = 20000;
    float *x = calloc(n, sizeof(float));
    struct melrun r;
    sm_analysis a;
    analyse(x, n, &r, &a);
    for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
        assert_true(isnan(a.mfcc_mean[k]));
        assert_true(isnan(a.mfcc_std[k]));
    }
    /* Below the -70 dBFS gate counts as silence too. */
    tu_noise(x, n, tu_db(-80.0), 3);
    analyse(x, n, &r, &a);
    assert_true(isnan(a.mfcc_mean[0]));
    /* An empty input gives one silent frame. */
    analyse(x, 0, &r, &a);
    assert_true(isnan(a.mfcc_mean[0]));
    free(x);
}

static void test_mel__short_input_is_finite(void **state)
{
    (void)state;
    float x[300];
    tu_noise(x, 300, 0.5, 7);
    struct melrun r;
    sm_analysis a;
    analyse(x, 300, &r, &a);
    for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
        assert_true(isfinite(a.mfcc_mean[k]));
        assert_true(isfinite(a.mfcc_std[k]));
    }
    /* One frame: no spread. */
    assert_true(a.mfcc_std[0] < 1e-9);
}

static void test_mel__mfcc_without_mel_uses_power(void **state)
{
    (void)state;
    float samples[SM_AN_NFFT] = {0};
    float power[SM_AN_NBINS];
    float mag[SM_AN_NBINS];
    for (size_t k = 0; k < SM_AN_NBINS; k++) {
        power[k] = 4.0f;
        mag[k] = 2.0f;
    }
    float mel[SM_AN_NMEL];
    sm__mel_apply(sm__mel_get(), power, mel);
    struct sm__frame f = {0, samples, mag, power, NULL, 0.5, 4.0 * SM_AN_NBINS};
    struct sm__mfcc with;
    struct sm__mfcc without;
    sm__mfcc_init(&with);
    sm__mfcc_init(&without);
    sm__mfcc_process(&without, &f);
    f.mel = mel;
    sm__mfcc_process(&with, &f);
    for (size_t k = 0; k < SM_MFCC_COUNT; k++)
        assert_true(fabs(with.c[k].mean - without.c[k].mean) < 1e-6);
    assert_true(with.c[0].n > 0.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mel__bands_are_unit_area_triangles_in_order),
        cmocka_unit_test(test_mel__apply_matches_dense_weights),
        cmocka_unit_test(test_mel__sine_lands_in_its_band),
        cmocka_unit_test(test_mel__mfcc_of_a_flat_spectrum_is_all_level),
        cmocka_unit_test(test_mel__mfcc_picks_out_a_cosine),
        cmocka_unit_test(test_mel__noise_is_flat_and_a_sine_is_not),
        cmocka_unit_test(test_mel__silence_gives_nan),
        cmocka_unit_test(test_mel__short_input_is_finite),
        cmocka_unit_test(test_mel__mfcc_without_mel_uses_power),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
