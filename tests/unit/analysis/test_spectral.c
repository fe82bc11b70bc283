#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/analysis.h>
#include "analysis/spectral.h"
#include "analysis/stft.h"
#include "testutil.h"

/* Feeds frames [skip, frames - skip) to the accumulator, so a test can leave out
 * the zero-padded frames at the ends. */
struct specrun {
    struct sm__spectral sp;
    size_t skip;
    size_t frames;
};

static void on_frame(const struct sm__frame *f, void *userdata)
{
    struct specrun *r = userdata;
    if (f->index < r->skip || f->index + r->skip >= r->frames)
        return;
    sm__spectral_process(&r->sp, f);
}

static void analyse(const float *x, size_t n, size_t skip, sm_analysis *a)
{
    struct specrun *r = malloc(sizeof(*r));
    assert_non_null(r);
    sm__spectral_init(&r->sp);
    r->skip = skip;
    r->frames = 1 + n / SM_AN_HOP;
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    sm__stft_process(s, x, n, on_frame, r);
    sm__stft_finish(s, on_frame, r);
    sm__stft_free(s);
    sm__spectral_finish(&r->sp, a);
    free(r);
}

static void test_spectral__names_follow_the_map(void **state)
{
    (void)state;
    assert_string_equal(sm_spectral_name(SM_SPEC_CENTROID), "centroid");
    assert_string_equal(sm_spectral_name(SM_SPEC_BANDWIDTH), "bandwidth");
    assert_string_equal(sm_spectral_name(SM_SPEC_ROLLOFF), "rolloff");
    assert_string_equal(sm_spectral_name(SM_SPEC_FLATNESS), "flatness");
    assert_string_equal(sm_spectral_name(SM_SPEC_FLUX), "flux");
    assert_string_equal(sm_spectral_name(SM_SPEC_ZCR), "zcr");
    assert_string_equal(sm_spectral_name(SM_SPEC_RMS), "rms");
    assert_string_equal(sm_spectral_name(SM_SPEC_COUNT), "unknown");
    assert_string_equal(sm_spectral_name((enum sm_spectral_id)-1), "unknown");
}

static void test_spectral__sine_centroid_rolloff_and_zcr(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = malloc(sizeof(float) * n);
    static const double freqs[] = {440.0, 1000.0, 3000.0, 6000.0};
    for (size_t i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
        double f0 = freqs[i];
        tu_sine(x, n, f0, SM_AN_RATE, 0.5);
        sm_analysis a;
        analyse(x, n, 2, &a);
        assert_true(fabs(a.spectral[SM_SPEC_CENTROID].mean - f0) < 0.01 * f0);
        /* The Hann main lobe is 4 bins wide: the spread is a few bins. */
        assert_true(a.spectral[SM_SPEC_BANDWIDTH].mean < 60.0);
        /* 85 % of the power is reached within a bin of the sine. */
        double bin = SM_AN_RATE / (double)SM_AN_NFFT;
        assert_true(fabs(a.spectral[SM_SPEC_ROLLOFF].mean - f0) <= 1.01 * bin);
        /* A sine crosses zero 2 f0 / rate times a sample (+-1 per hop). */
        double zcr = 2.0 * f0 / SM_AN_RATE;
        assert_true(fabs(a.spectral[SM_SPEC_ZCR].mean - zcr) <= 1.01 / SM_AN_HOP);
        assert_true(fabs(a.spectral[SM_SPEC_RMS].mean - 0.5 / sqrt(2.0)) < 0.01);
        assert_true(a.spectral[SM_SPEC_FLATNESS].mean < 0.01);
    }
    free(x);
}

static void test_spectral__noise_is_flat_and_bright(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = malloc(sizeof(float) * n);
    tu_noise(x, n, 0.5, 29);
    sm_analysis a;
    analyse(x, n, 2, &a);
    const double nyq = SM_AN_RATE / 2.0;
    /* White power: the flatness of exponentially distributed powers is
     * exp(-Euler gamma) = 0.56; the centroid is mid-band; the magnitude spread
     * of a uniform spectrum is nyq / sqrt(12); 85 % of the power is below
     * 0.85 nyq. */
    assert_true(a.spectral[SM_SPEC_FLATNESS].mean > 0.45);
    assert_true(a.spectral[SM_SPEC_FLATNESS].mean < 0.65);
    assert_true(fabs(a.spectral[SM_SPEC_CENTROID].mean - nyq / 2.0) < 0.03 * nyq);
    assert_true(fabs(a.spectral[SM_SPEC_BANDWIDTH].mean - nyq / sqrt(12.0)) < 0.05 * nyq);
    assert_true(fabs(a.spectral[SM_SPEC_ROLLOFF].mean - 0.85 * nyq) < 0.03 * nyq);
    /* Independent samples change sign half the time. */
    assert_true(fabs(a.spectral[SM_SPEC_ZCR].mean - 0.5) < 0.05);
    /* Rms of uniform noise is amp / sqrt(3). */
    assert_true(fabs(a.spectral[SM_SPEC_RMS].mean - 0.5 / sqrt(3.0)) < 0.01);
    /* Noise changes from frame to frame; a steady sine does not (below). */
    assert_true(a.spectral[SM_SPEC_FLUX].mean > 0.01);
    for (size_t i = 0; i < SM_SPEC_COUNT; i++) {
        assert_true(isfinite(a.spectral[i].mean));
        assert_true(isfinite(a.spectral[i].std));
    }
    /* A flat spectrum has little contrast. */
    for (size_t b = 0; b < SM_CONTRAST_BANDS; b++) {
        assert_true(a.contrast[b].mean > 0.0);
        assert_true(a.contrast[b].mean < 30.0);
    }
    free(x);
}

static void test_spectral__flux_is_zero_on_a_steady_sine(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = malloc(sizeof(float) * n);
    tu_noise(x, n, 0.5, 31);
    sm_analysis noise;
    analyse(x, n, 4, &noise);
    tu_sine(x, n, 1234.5, SM_AN_RATE, 0.5);
    sm_analysis sine;
    analyse(x, n, 4, &sine);
    assert_true(sine.spectral[SM_SPEC_FLUX].mean < 1e-3);
    assert_true(sine.spectral[SM_SPEC_FLUX].mean < 0.05 * noise.spectral[SM_SPEC_FLUX].mean);
    free(x);
}

static void test_spectral__contrast_finds_a_sine_in_its_octave(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = malloc(sizeof(float) * n);
    float *noise = malloc(sizeof(float) * n);
    tu_noise(noise, n, 0.01, 37);
    /* 1 kHz is in the 800-1600 Hz band (3), 5 kHz in 3200-6400 Hz (5). */
    static const double freqs[] = {1000.0, 5000.0};
    static const size_t band[] = {3, 5};
    for (size_t i = 0; i < 2; i++) {
        tu_sine(x, n, freqs[i], SM_AN_RATE, 0.5);
        for (size_t j = 0; j < n; j++)
            x[j] += noise[j];
        sm_analysis a;
        analyse(x, n, 2, &a);
        sm_analysis b;
        analyse(noise, n, 2, &b);
        /* The sine's peak is about 40 dB above the noise floor in magnitude
         * (power_to_db of magnitudes, as librosa: 10 log10). */
        assert_true(a.contrast[band[i]].mean > b.contrast[band[i]].mean + 10.0);
        for (size_t k = 0; k < SM_CONTRAST_BANDS; k++) {
            if (k == band[i] || k + 1 == band[i] || k == band[i] + 1)
                continue;
            assert_true(fabs(a.contrast[k].mean - b.contrast[k].mean) < 3.0);
        }
    }
    free(x);
    free(noise);
}

/* The contrast of one hand-made frame, against a sort. */
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a;
    float y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_spectral__contrast_uses_exact_quantiles(void **state)
{
    (void)state;
    static float mag[SM_AN_NBINS];
    static float power[SM_AN_NBINS];
    static float samples[SM_AN_NFFT];
    tu_noise(mag, SM_AN_NBINS, 1.0, 41);
    for (size_t k = 0; k < SM_AN_NBINS; k++) {
        mag[k] = fabsf(mag[k]) + 0.01f;
        power[k] = mag[k] * mag[k];
    }
    struct sm__frame f = {0, samples, mag, power, NULL, 0.1, 1.0};
    double d[SM_SPEC_COUNT];
    double c[SM_CONTRAST_BANDS];
    sm__spectral_frame(&f, NULL, NULL, d, c);
    assert_true(isnan(d[SM_SPEC_FLUX]));
    /* librosa's layout: band 6 is bins 594..1024 (431 bins, q = rint(8.62) = 9);
     * band 5 is bins 297..593 (the bin below 3200 Hz, the top bin dropped;
     * 297 bins, q = rint(0.02 * 298) = 6). */
    static const size_t lo[] = {594, 297};
    static const size_t cnt[] = {431, 297};
    static const size_t q[] = {9, 6};
    static const size_t which[] = {6, 5};
    float sorted[SM_AN_NBINS];
    for (size_t i = 0; i < 2; i++) {
        memcpy(sorted, mag + lo[i], sizeof(float) * cnt[i]);
        qsort(sorted, cnt[i], sizeof(float), cmp_float);
        double valley = 0.0;
        double peak = 0.0;
        for (size_t j = 0; j < q[i]; j++) {
            valley += (double)sorted[j];
            peak += (double)sorted[cnt[i] - 1 - j];
        }
        double want = 10.0 * log10(peak / valley);
        assert_true(fabs(c[which[i]] - want) < 1e-4);
    }
}

static void test_spectral__silence_gives_nan(void **state)
{
    (void)state;
    const size_t n = 20000;
    float *x = calloc(n, sizeof(float));
    sm_analysis a;
    analyse(x, n, 0, &a);
    for (size_t i = 0; i < SM_SPEC_COUNT; i++) {
        assert_true(isnan(a.spectral[i].mean));
        assert_true(isnan(a.spectral[i].std));
    }
    for (size_t b = 0; b < SM_CONTRAST_BANDS; b++) {
        assert_true(isnan(a.contrast[b].mean));
        assert_true(isnan(a.contrast[b].std));
    }
    analyse(x, 0, 0, &a);
    assert_true(isnan(a.spectral[SM_SPEC_CENTROID].mean));
    free(x);
}

static void test_spectral__one_frame_has_no_flux(void **state)
{
    (void)state;
    float x[200];
    tu_noise(x, 200, 0.5, 43);
    sm_analysis a;
    analyse(x, 200, 0, &a);
    assert_true(isnan(a.spectral[SM_SPEC_FLUX].mean));
    for (size_t i = 0; i < SM_SPEC_COUNT; i++) {
        if (i == SM_SPEC_FLUX)
            continue;
        assert_true(isfinite(a.spectral[i].mean));
        assert_true(a.spectral[i].std < 1e-9);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spectral__names_follow_the_map),
        cmocka_unit_test(test_spectral__sine_centroid_rolloff_and_zcr),
        cmocka_unit_test(test_spectral__noise_is_flat_and_bright),
        cmocka_unit_test(test_spectral__flux_is_zero_on_a_steady_sine),
        cmocka_unit_test(test_spectral__contrast_finds_a_sine_in_its_octave),
        cmocka_unit_test(test_spectral__contrast_uses_exact_quantiles),
        cmocka_unit_test(test_spectral__silence_gives_nan),
        cmocka_unit_test(test_spectral__one_frame_has_no_flux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
