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
#include "analysis/classify.h"
#include "analysis/frame.h"
#include "testutil.h"

/* Slaney mel scale, as documented in mel.h. */
static double mel_to_hz(double mel)
{
    if (mel < 15.0)
        return mel * 200.0 / 3.0;
    return 1000.0 * exp(log(6.4) / 27.0 * (mel - 15.0));
}

static double hz_to_mel(double hz)
{
    if (hz < 1000.0)
        return hz * 3.0 / 200.0;
    return 15.0 + log(hz / 1000.0) / (log(6.4) / 27.0);
}

/* MFCC means of a spectrum whose mel band levels (dB) are a Gaussian bump of
 * `width_oct` octaves around `hz` over a -60 dB floor: the orthonormal DCT-II
 * of the band levels, as the MFCC module computes them. */
static void mfcc_of_bump(double hz, double width_oct, double *mfcc)
{
    double level[SM_AN_NMEL];
    double mel_max = hz_to_mel(SM_AN_RATE / 2.0);
    for (size_t m = 0; m < SM_AN_NMEL; m++) {
        double fc = mel_to_hz(mel_max * (double)(m + 1) / (SM_AN_NMEL + 1));
        double o = log2(fmax(fc, 10.0) / hz) / width_oct;
        level[m] = -60.0 + 60.0 * exp(-0.5 * o * o);
    }
    for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
        double s = k == 0 ? sqrt(1.0 / SM_AN_NMEL) : sqrt(2.0 / SM_AN_NMEL);
        double acc = 0.0;
        for (size_t m = 0; m < SM_AN_NMEL; m++)
            acc += s * cos(M_PI * (double)k * (2.0 * (double)m + 1.0) / (2.0 * SM_AN_NMEL))
                   * level[m];
        mfcc[k] = acc;
    }
}

/* A plausible tonal sound centred on hz. */
static void base(sm_analysis *a, double hz)
{
    sm_analysis_init(a);
    a->spectral[SM_SPEC_CENTROID].mean = hz;
    a->spectral[SM_SPEC_CENTROID].std = 0.1 * hz;
    a->spectral[SM_SPEC_ROLLOFF].mean = 1.5 * hz;
    a->spectral[SM_SPEC_ROLLOFF].std = 0.1 * hz;
    a->spectral[SM_SPEC_FLATNESS].mean = 0.01;
    a->spectral[SM_SPEC_FLATNESS].std = 0.005;
    a->spectral[SM_SPEC_FLUX].mean = 0.02;
    a->spectral[SM_SPEC_FLUX].std = 0.02;
    a->attack_ms = 10.0;
    mfcc_of_bump(hz, 0.5, a->mfcc_mean);
}

static void assert_score(double v)
{
    assert_false(isnan(v));
    assert_true(v >= 0.0 && v <= 100.0);
}

static void assert_all_scores(const sm_analysis *a)
{
    assert_score(a->brightness);
    assert_score(a->warmth);
    assert_score(a->hardness);
    assert_score(a->depth);
    assert_score(a->roughness);
    assert_score(a->boominess);
}

static void test_timbre__brightness_monotonic_in_centroid(void **state)
{
    (void)state;
    double prev = -1.0;
    double first = NAN;
    double last = NAN;
    for (double hz = 50.0; hz <= 12000.0; hz *= 1.25) {
        sm_analysis a;
        base(&a, hz);
        sm__timbre_analyze(&a);
        assert_all_scores(&a);
        assert_true(a.brightness >= prev);
        prev = a.brightness;
        if (isnan(first))
            first = a.brightness;
        last = a.brightness;
    }
    assert_true(first <= 0.0);
    assert_true(last >= 100.0);
    /* 1 kHz sits in the middle of the scale. */
    sm_analysis a;
    base(&a, 1000.0);
    sm__timbre_analyze(&a);
    assert_true(a.brightness > 30.0 && a.brightness < 70.0);
}

static void test_timbre__band_shares_follow_the_spectrum(void **state)
{
    (void)state;
    sm_analysis sub;
    sm_analysis mid;
    sm_analysis high;
    base(&sub, 55.0);
    base(&mid, 400.0);
    base(&high, 5000.0);
    sm__timbre_analyze(&sub);
    sm__timbre_analyze(&mid);
    sm__timbre_analyze(&high);
    /* Energy at 55 Hz: deep; at 400 Hz: warm; at 5 kHz: neither. */
    assert_true(sub.depth > 60.0);
    assert_true(sub.depth > mid.depth && mid.depth >= high.depth);
    assert_true(mid.warmth > 60.0);
    assert_true(mid.warmth > sub.warmth && mid.warmth > high.warmth);
    assert_true(high.warmth < 10.0 && high.depth < 10.0 && high.boominess < 10.0);
    /* Boominess (60-250 Hz) peaks between the two. */
    sm_analysis boom;
    base(&boom, 120.0);
    sm__timbre_analyze(&boom);
    assert_true(boom.boominess > 60.0);
    assert_true(boom.boominess > mid.boominess && boom.boominess > high.boominess);
}

static void test_timbre__hardness_falls_with_attack(void **state)
{
    (void)state;
    double prev = 101.0;
    for (double ms = 0.5; ms < 1000.0; ms *= 2.0) {
        sm_analysis a;
        base(&a, 1000.0);
        a.attack_ms = ms;
        sm__timbre_analyze(&a);
        assert_score(a.hardness);
        assert_true(a.hardness <= prev);
        prev = a.hardness;
    }
    assert_true(prev < 20.0);
    sm_analysis fast;
    base(&fast, 1000.0);
    fast.attack_ms = 1.0;
    fast.spectral[SM_SPEC_FLUX].mean = 0.2;
    sm__timbre_analyze(&fast);
    assert_true(fast.hardness >= 99.0);
}

static void test_timbre__roughness_rises_with_noise(void **state)
{
    (void)state;
    sm_analysis tone;
    sm_analysis noise;
    base(&tone, 1000.0);
    base(&noise, 1000.0);
    noise.spectral[SM_SPEC_FLATNESS].mean = 0.4;
    sm__timbre_analyze(&tone);
    sm__timbre_analyze(&noise);
    assert_true(noise.roughness > tone.roughness + 20.0);
}

static void test_timbre__nan_and_extreme_inputs_are_clamped(void **state)
{
    (void)state;
    sm_analysis a;
    sm_analysis_init(&a); /* silence: every descriptor NaN */
    sm__timbre_analyze(&a);
    assert_all_scores(&a);
    assert_true(a.brightness <= 0.0 && a.hardness <= 0.0);

    base(&a, 1000.0);
    a.attack_ms = NAN;
    a.spectral[SM_SPEC_ROLLOFF].mean = NAN;
    a.spectral[SM_SPEC_FLUX].mean = NAN;
    a.spectral[SM_SPEC_FLATNESS].mean = NAN;
    a.mfcc_mean[3] = NAN;
    sm__timbre_analyze(&a);
    assert_all_scores(&a);

    base(&a, 1e9);
    a.attack_ms = -5.0;
    a.spectral[SM_SPEC_FLUX].mean = 1e30;
    a.spectral[SM_SPEC_FLUX].std = INFINITY;
    a.spectral[SM_SPEC_FLATNESS].mean = 7.0;
    for (int k = 0; k < SM_MFCC_COUNT; k++)
        a.mfcc_mean[k] = 1e6 * (k % 2 ? 1.0 : -1.0);
    sm__timbre_analyze(&a);
    assert_all_scores(&a);
    assert_true(a.brightness >= 100.0);

    base(&a, -3.0);
    sm__timbre_analyze(&a);
    assert_all_scores(&a);
}

/* ---- End to end. ---- */

static void analyze_tone(double hz, sm_analysis *a)
{
    const int rate = 44100;
    size_t n = (size_t)rate;
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    tu_sine(x, n, hz, rate, 0.5);
    const char *p = tu_path("tone.wav");
    assert_int_equal(tu_write(p, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
    free(x);
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    assert_non_null(an);
    sm_analysis_init(a);
    assert_int_equal(sm_analyzer_run(an, p, a, &err), SM_OK);
    sm_analyzer_free(an);
    remove(p);
}

static void test_timbre__rendered_low_and_high_tones(void **state)
{
    (void)state;
    sm_analysis lo;
    sm_analysis hi;
    analyze_tone(60.0, &lo);
    analyze_tone(3000.0, &hi);
    assert_all_scores(&lo);
    assert_all_scores(&hi);
    assert_true(hi.brightness > lo.brightness + 40.0);
    assert_true(lo.depth > hi.depth + 40.0);
    assert_true(lo.boominess > hi.boominess + 20.0);
    sm_analysis_release(&lo);
    sm_analysis_release(&hi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timbre__brightness_monotonic_in_centroid),
        cmocka_unit_test(test_timbre__band_shares_follow_the_spectrum),
        cmocka_unit_test(test_timbre__hardness_falls_with_attack),
        cmocka_unit_test(test_timbre__roughness_rises_with_noise),
        cmocka_unit_test(test_timbre__nan_and_extreme_inputs_are_clamped),
        cmocka_unit_test(test_timbre__rendered_low_and_high_tones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
