/* The whole pipeline through sm_analyzer_run on generated files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sndfile.h>
#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include "testutil.h"

static const double click_times[] = {0.25, 0.61, 1.0, 1.37, 1.9, 2.3};
#define N_CLICKS (sizeof(click_times) / sizeof(click_times[0]))

static void run(const char *path, sm_analysis *a, const sm_analyzer_opts *opts)
{
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(opts, &err);
    assert_non_null(an);
    sm_analysis_init(a);
    sm_status rc = sm_analyzer_run(an, path, a, &err);
    if (rc != SM_OK)
        fprintf(stderr, "%s: %s\n", path, err.msg);
    assert_int_equal(rc, SM_OK);
    sm_analyzer_free(an);
}

/* Each click must be found within 12 ms whatever the file's rate: resampling to
 * the analysis rate must not move onsets. */
static void test_analyze__resampling_does_not_shift_onsets(void **state)
{
    (void)state;
    static const int rates[] = {8000, 22050, 44100, 48000, 96000};
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        const int rate = rates[r];
        const size_t n = (size_t)(2.6 * rate);
        float *x = calloc(n, sizeof(float));
        for (size_t k = 0; k < N_CLICKS; k++)
            tu_click(x, n, rate, click_times[k], 0.8);
        const char *path = tu_path("clicks.wav");
        assert_int_equal(tu_write(path, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
        sm_analysis a;
        run(path, &a, NULL);
        assert_int_equal(a.n_onsets, N_CLICKS);
        for (size_t k = 0; k < N_CLICKS; k++) {
            double d = fabs((double)a.onsets[k] - click_times[k]);
            if (d > 0.012)
                fprintf(stderr, "rate %d click %zu: %.4f vs %.4f\n", rate, k,
                        (double)a.onsets[k], click_times[k]);
            assert_true(d <= 0.012);
        }
        sm_analysis_release(&a);
        remove(path);
        free(x);
    }
}

/* Frames and duration are exact for every container the decoder reads. */
static void test_analyze__duration_exact_for_every_format(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int format;
    } fmts[] = {
        {"t.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
        {"t.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24},
        {"t.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
        {"t.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
    };
    const int rate = 48000;
    const size_t n = 48000 + 321;
    float *mono = malloc(n * sizeof(float));
    float *x = malloc(2 * n * sizeof(float));
    tu_sine(mono, n, 330.0, rate, 0.4);
    tu_interleave(mono, n, 2, x);
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        const char *path = tu_path(fmts[i].name);
        assert_int_equal(tu_write(path, x, n, 2, rate, fmts[i].format), 0);
        sm_analysis a;
        run(path, &a, NULL);
        assert_int_equal(a.frames, (int64_t)n);
        assert_true(fabs(a.duration - (double)n / rate) < 1e-9);
        assert_int_equal(a.sample_rate, rate);
        assert_int_equal(a.channels, 2);
        /* The tone is there, whatever the codec (the roll-off sits on it; the
         * centroid of a 1 s tone is pulled up by the cut edges). */
        assert_true(fabs(a.spectral[SM_SPEC_ROLLOFF].mean - 330.0) < 15.0);
        assert_true(a.sample_peak_dbfs < -7.0 && a.sample_peak_dbfs > -8.8);
        sm_analysis_release(&a);
        remove(path);
    }
    free(mono);
    free(x);
}

/* The waveform has the requested number of points, bounded by the signal. */
static void test_analyze__waveform_points_and_bounds(void **state)
{
    (void)state;
    const int rate = 44100;
    const size_t n = (size_t)rate * 3;
    float *x = malloc(n * sizeof(float));
    tu_sine(x, n, 100.0, rate, 0.5);
    for (size_t i = n / 2; i < n; i++)
        x[i] *= 0.25f; /* second half quieter */
    const char *path = tu_path("wave.wav");
    assert_int_equal(tu_write(path, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
    sm_analyzer_opts opts = {.waveform_points = 100};
    sm_analysis a;
    run(path, &a, &opts);
    assert_int_equal(a.n_peaks, 100);
    for (size_t i = 0; i < 100; i++) {
        float lo = a.peaks[2 * i];
        float hi = a.peaks[2 * i + 1];
        float want = i < 50 ? 0.5f : 0.125f;
        assert_true(hi > want - 0.01f && hi < want + 0.01f);
        assert_true(lo < -want + 0.01f && lo > -want - 0.01f);
    }
    /* RMS envelope: one value per 512 samples at 22,050 Hz. */
    size_t frames = 1 + (size_t)(3.0 * 22050) / 512;
    assert_true(a.n_rms_env >= frames - 1 && a.n_rms_env <= frames + 1);
    sm_analysis_release(&a);
    remove(path);
    free(x);
}

/* A one-shot that decays: attack short, decay measured; silence: both null. */
static void test_analyze__attack_and_decay(void **state)
{
    (void)state;
    const int rate = 44100;
    const size_t n = rate;
    float *x = calloc(n, sizeof(float));
    size_t start = rate / 10;
    for (size_t i = start; i < n; i++) {
        double t = (double)(i - start) / rate;
        double env = t < 0.01 ? t / 0.01 : exp(-(t - 0.01) / 0.1); /* 10 ms up, tau 100 ms */
        x[i] = (float)(0.7 * env * sin(2.0 * M_PI * 220.0 * t));
    }
    const char *path = tu_path("hit.wav");
    assert_int_equal(tu_write(path, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
    sm_analysis a;
    run(path, &a, NULL);
    /* 10 % to 90 % of a 10 ms linear rise is 8 ms (+- one 2.9 ms hop, + RMS smear). */
    assert_true(a.attack_ms > 3.0 && a.attack_ms < 16.0);
    /* -20 dB of an exp(-t/0.1) amplitude: 0.1 * ln(10) = 230 ms. */
    assert_true(a.decay_ms > 200.0 && a.decay_ms < 260.0);
    assert_int_equal(a.n_onsets, 1);
    assert_true(fabs((double)a.onsets[0] - 0.1) < 0.012);
    sm_analysis_release(&a);

    memset(x, 0, n * sizeof(float));
    assert_int_equal(tu_write(path, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
    run(path, &a, NULL);
    assert_true(isnan(a.attack_ms));
    assert_true(isnan(a.decay_ms));
    assert_false(a.has_tempo);
    assert_false(a.has_key);
    assert_false(a.has_note);
    sm_analysis_release(&a);
    remove(path);
    free(x);
}

static void test_analyze__rejects_wrong_params(void **state)
{
    (void)state;
    sm_error err = SM_ERROR_INIT;
    sm_analyzer_opts opts = {.waveform_points = (size_t)1 << 30};
    assert_null(sm_analyzer_new(&opts, &err));
    assert_int_equal(err.code, SM_EINVAL);
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    sm_analysis a;
    sm_analysis_init(&a);
    assert_int_equal(sm_analyzer_run(an, NULL, &a, &err), SM_EINVAL);
    assert_int_equal(sm_analyzer_run(NULL, "x.wav", &a, &err), SM_EINVAL);
    assert_int_equal(sm_analyzer_run(an, "/nonexistent/x.wav", &a, &err), SM_ENOENT);
    assert_string_equal(a.path, "/nonexistent/x.wav");
    sm_analysis_release(&a);
    sm_analyzer_free(an);
    sm_analyzer_free(NULL);
    sm_analysis_release(NULL);
}

/* Out of memory at every allocation of a full analysis: a clean error each time,
 * never a crash (ASan catches leaks and bad frees in that build). */
static long fail_at;
static long calls;
static void *oom_malloc(size_t n)
{
    return ++calls == fail_at ? NULL : malloc(n);
}
static void *oom_realloc(void *p, size_t n)
{
    return ++calls == fail_at ? NULL : realloc(p, n);
}
static void *oom_calloc(size_t c, size_t n)
{
    return ++calls == fail_at ? NULL : calloc(c, n);
}

static void test_analyze__survives_oom_anywhere(void **state)
{
    (void)state;
    const int rate = 22050;
    const size_t n = rate;
    float *x = calloc(n, sizeof(float));
    for (size_t k = 0; k < 4; k++)
        tu_click(x, n, rate, 0.1 + 0.2 * (double)k, 0.5);
    const char *path = tu_path("oom.wav");
    assert_int_equal(tu_write(path, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_16), 0);
    free(x);
    int failures = 0;
    for (fail_at = 1; fail_at < 400; fail_at++) {
        calls = 0;
        sm_set_allocator(oom_malloc, oom_realloc, oom_calloc, free);
        sm_error err = SM_ERROR_INIT;
        sm_analyzer *an = sm_analyzer_new(NULL, &err);
        sm_analysis a;
        sm_analysis_init(&a);
        sm_status rc = an ? sm_analyzer_run(an, path, &a, &err) : err.code;
        if (rc != SM_OK) {
            failures++;
            assert_int_equal(rc, SM_ENOMEM);
        }
        sm_analysis_release(&a);
        sm_analyzer_free(an);
        sm_set_allocator(NULL, NULL, NULL, NULL);
        if (calls < fail_at)
            break; /* every allocation has been failed once */
    }
    assert_true(failures > 10);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyze__resampling_does_not_shift_onsets),
        cmocka_unit_test(test_analyze__duration_exact_for_every_format),
        cmocka_unit_test(test_analyze__waveform_points_and_bounds),
        cmocka_unit_test(test_analyze__attack_and_decay),
        cmocka_unit_test(test_analyze__rejects_wrong_params),
        cmocka_unit_test(test_analyze__survives_oom_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
