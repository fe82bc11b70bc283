#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>

#include <ebur128.h>
#include "analysis/loudness.h"
#include "analysis/truepeak.h"
#include "testutil.h"

static void measure(const float *x, size_t frames, int ch, int rate, sm_analysis *a)
{
    struct sm__loudness lo;
    assert_int_equal(sm__loudness_init(&lo, rate, ch), 0);
    /* Odd block sizes: results must not depend on how audio arrives. */
    size_t off = 0;
    size_t step = 1;
    float *planar = malloc((size_t)ch * (SM__TP_HISTORY + 5000) * sizeof(float));
    float *chan[SM_MAX_CHANNELS];
    for (int c = 0; c < ch; c++)
        chan[c] = planar + (size_t)c * (SM__TP_HISTORY + 5000) + SM__TP_HISTORY;
    while (off < frames) {
        size_t n = step < frames - off ? step : frames - off;
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < ch; c++)
                chan[c][i] = x[(off + i) * (size_t)ch + (size_t)c];
        assert_int_equal(sm__loudness_process(&lo, chan, n), 0);
        off += n;
        step = step * 3 + 7;
        if (step > 5000)
            step = 1;
    }
    free(planar);
    sm__loudness_finish(&lo, a);
    sm__loudness_release(&lo);
}

/* The reference: libebur128's own true peak, 4x oversampled, in double. */
static double reference_true_peak_db(const float *x, size_t frames, int ch, int rate)
{
    ebur128_state *st = ebur128_init((unsigned)ch, (unsigned long)rate, EBUR128_MODE_TRUE_PEAK);
    ebur128_add_frames_float(st, x, frames);
    double peak = 0.0;
    for (int c = 0; c < ch; c++) {
        double p;
        ebur128_true_peak(st, (unsigned)c, &p);
        peak = p > peak ? p : peak;
    }
    ebur128_destroy(&st);
    return 20.0 * log10(peak);
}

static void test_loudness__sine_minus_23_dbfs_reads_minus_23_lufs(void **state)
{
    (void)state;
    const int rate = 48000;
    const size_t frames = (size_t)rate * 10;
    float *mono = malloc(frames * sizeof(float));
    float *x = malloc(frames * 2 * sizeof(float));
    tu_sine(mono, frames, 1000.0, rate, tu_db(-23.0));
    tu_interleave(mono, frames, 2, x);
    sm_analysis a;
    sm_analysis_init(&a);
    measure(x, frames, 2, rate, &a);
    assert_true(fabs(a.integrated_lufs - -23.0) <= 0.1);
    assert_true(fabs(a.sample_peak_dbfs - -23.0) <= 0.01);
    assert_true(fabs(a.true_peak_dbtp - -23.0) <= 0.05);
    assert_true(fabs(a.momentary_max_lufs - -23.0) <= 0.1);
    assert_true(fabs(a.short_term_max_lufs - -23.0) <= 0.1);
    assert_true(a.range_lu >= 0.0 && a.range_lu < 0.2);
    assert_true(a.integrated_lufs < 0.0);
    assert_null(a.integrated_reason);
    free(mono);
    free(x);
}

static void test_loudness__true_peak_matches_libebur128(void **state)
{
    (void)state;
    static const int rates[] = {44100, 48000, 96000, 192000};
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        const int rate = rates[r];
        const size_t frames = (size_t)rate;
        float *x = malloc(frames * 2 * sizeof(float));
        /* Noise plus a sine at fs/4 sampled 45 degrees off its crests: the
         * samples sit 3 dB under the real peak. */
        tu_noise(x, frames * 2, 0.05, 7u + (unsigned)r);
        for (size_t i = 0; i < frames; i++) {
            double s = 0.5 * sin(M_PI / 2.0 * (double)i + M_PI / 4.0);
            x[2 * i] += (float)s;
            x[2 * i + 1] += (float)(0.3 * s);
        }
        sm_analysis a;
        sm_analysis_init(&a);
        measure(x, frames, 2, rate, &a);
        double ref = reference_true_peak_db(x, frames, 2, rate);
        assert_true(fabs(a.true_peak_dbtp - ref) < 0.05);
        if (rate < 192000)
            assert_true(a.true_peak_dbtp > a.sample_peak_dbfs + 1.5);
        free(x);
    }
}

/* libebur128 fed in 100 ms steps, reading the momentary and short-term maxima. */
static void reference(const float *x, size_t frames, int ch, int rate, double out[4])
{
    ebur128_state *st = ebur128_init((unsigned)ch, (unsigned long)rate,
                                     EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_M |
                                         EBUR128_MODE_S);
    size_t step = ((size_t)rate + 5) / 10;
    double m_max = -HUGE_VAL;
    double s_max = -HUGE_VAL;
    for (size_t off = 0; off + step <= frames; off += step) {
        ebur128_add_frames_float(st, x + off * (size_t)ch, step);
        double v;
        ebur128_loudness_momentary(st, &v);
        m_max = v > m_max ? v : m_max;
        if (off + step >= 30 * step) {
            ebur128_loudness_shortterm(st, &v);
            s_max = v > s_max ? v : s_max;
        }
    }
    ebur128_loudness_global(st, &out[0]);
    ebur128_loudness_range(st, &out[1]);
    out[2] = m_max;
    out[3] = s_max;
    ebur128_destroy(&st);
}

static void test_loudness__matches_libebur128_on_changing_levels(void **state)
{
    (void)state;
    static const struct {
        int rate;
        int ch;
    } cases[] = {{44100, 2}, {48000, 1}, {48000, 5}, {96000, 6}, {22050, 2}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const int rate = cases[k].rate;
        const int ch = cases[k].ch;
        const size_t frames = (size_t)rate * 20; /* a whole number of sub-blocks */
        float *x = malloc(frames * (size_t)ch * sizeof(float));
        tu_noise(x, frames * (size_t)ch, 1.0, 99u + (unsigned)k);
        for (size_t i = 0; i < frames; i++) {
            /* Level steps of 2 s between -40 and -6 dBFS, with a tone in it. */
            double level = tu_db(-40.0 + (double)((i / (size_t)(2 * rate)) * 37 % 35));
            double tone = sin(2.0 * M_PI * 220.0 * (double)i / rate);
            for (int c = 0; c < ch; c++) {
                float *v = &x[i * (size_t)ch + (size_t)c];
                *v = (float)(level * (0.3 * (double)*v + 0.6 * tone) * (1.0 - 0.1 * c));
            }
        }
        sm_analysis a;
        sm_analysis_init(&a);
        measure(x, frames, ch, rate, &a);
        double ref[4];
        reference(x, frames, ch, rate, ref);
        assert_true(fabs(a.integrated_lufs - ref[0]) < 0.01);
        assert_true(fabs(a.range_lu - ref[1]) < 0.01);
        assert_true(fabs(a.momentary_max_lufs - ref[2]) < 0.01);
        assert_true(fabs(a.short_term_max_lufs - ref[3]) < 0.01);
        assert_true(a.range_lu > 3.0);
        free(x);
    }
}

static void test_loudness__silence_is_null_with_reason(void **state)
{
    (void)state;
    const size_t frames = 44100 * 2;
    float *x = calloc(frames, sizeof(float));
    sm_analysis a;
    sm_analysis_init(&a);
    measure(x, frames, 1, 44100, &a);
    assert_true(isnan(a.integrated_lufs));
    assert_non_null(a.integrated_reason);
    assert_true(isnan(a.sample_peak_dbfs));
    assert_true(isnan(a.true_peak_dbtp));
    assert_true(isnan(a.momentary_max_lufs));
    assert_true(isnan(a.range_lu));
    free(x);
}

static void test_loudness__short_file_reports_momentary_max(void **state)
{
    (void)state;
    const size_t frames = 44100 / 5; /* 200 ms, under the 400 ms gate */
    float *x = malloc(frames * sizeof(float));
    tu_sine(x, frames, 1000.0, 44100.0, 0.5);
    sm_analysis a;
    sm_analysis_init(&a);
    measure(x, frames, 1, 44100, &a);
    assert_true(isnan(a.integrated_lufs));
    assert_non_null(a.integrated_reason);
    assert_true(isfinite(a.momentary_max_lufs));
    assert_true(a.momentary_max_lufs < -3.0 && a.momentary_max_lufs > -20.0);
    assert_true(fabs(a.sample_peak_dbfs - 20.0 * log10(0.5)) < 0.01);
    free(x);
}

static void test_truepeak__rejects_bad_channels(void **state)
{
    (void)state;
    struct sm__truepeak tp;
    assert_int_equal(sm__truepeak_init(&tp, 44100, 0), -1);
    assert_int_equal(sm__truepeak_init(&tp, 44100, SM_MAX_CHANNELS + 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loudness__sine_minus_23_dbfs_reads_minus_23_lufs),
        cmocka_unit_test(test_loudness__true_peak_matches_libebur128),
        cmocka_unit_test(test_loudness__matches_libebur128_on_changing_levels),
        cmocka_unit_test(test_loudness__silence_is_null_with_reason),
        cmocka_unit_test(test_loudness__short_file_reports_momentary_max),
        cmocka_unit_test(test_truepeak__rejects_bad_channels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
