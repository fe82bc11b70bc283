#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <sndfile.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include "analysis/frame.h"
#include "analysis/onset.h"
#include "analysis/tempo.h"
#include "tempo_synth.h"
#include "testutil.h"

/* Deterministic uniform numbers in 0..1. */
static double rnd(unsigned *s)
{
    unsigned v = *s;
    v ^= v << 13;
    v ^= v >> 17;
    v ^= v << 5;
    *s = v;
    return (double)v / 4294967295.0;
}

/* A synthetic sound described the way the pipeline hands it to the tempo module:
 * onset strength per frame, refined onset times, RMS per frame. */
struct synth {
    float *odf;
    size_t n;
    float onsets[8192];
    size_t n_onsets;
    float *rms;
};

struct click_opts {
    double seconds;
    double bpm;
    double first;       /* time of the first click */
    double stop;        /* no clicks at or after this time (0 = none) */
    double jitter_ms;   /* uniform +- */
    double noise;       /* random strength added to every frame */
    const double *accents; /* strength pattern, repeating */
    int n_accents;
    unsigned seed;
};

static void synth_clicks(struct synth *s, const struct click_opts *c)
{
    s->n = (size_t)(c->seconds * SM_AN_FPS) + 1;
    s->odf = calloc(s->n, sizeof(float));
    s->rms = calloc(s->n, sizeof(float));
    assert_non_null(s->odf);
    assert_non_null(s->rms);
    s->n_onsets = 0;
    unsigned seed = c->seed ? c->seed : 7u;
    for (size_t i = 0; i < s->n; i++) {
        s->odf[i] = (float)(c->noise * rnd(&seed));
        s->rms[i] = 0.001f;
    }
    double period = 60.0 / c->bpm;
    for (int k = 0;; k++) {
        double t = c->first + k * period + (rnd(&seed) * 2.0 - 1.0) * c->jitter_ms * 1e-3;
        if (t < 0.0)
            t = 0.0;
        if (t >= c->seconds || (c->stop > 0.0 && t >= c->stop))
            break;
        double amp = c->n_accents ? c->accents[k % c->n_accents] : 1.0;
        /* The odf peaks in the first frame that sees the click, 0-1.5 frames early. */
        long f = (long)floor(t * SM_AN_FPS - 1.5 * rnd(&seed));
        f = f < 0 ? 0 : f;
        if ((size_t)f < s->n)
            s->odf[f] += (float)(10.0 * amp);
        if ((size_t)f + 1 < s->n)
            s->odf[f + 1] += (float)(3.0 * amp);
        for (size_t j = 0; j < 8 && (size_t)f + j < s->n; j++)
            s->rms[(size_t)f + j] += (float)(0.3 * amp * exp(-(double)j / 2.0));
        if (s->n_onsets < 8192)
            s->onsets[s->n_onsets++] = (float)t;
    }
}

static void synth_free(struct synth *s)
{
    free(s->odf);
    free(s->rms);
    s->odf = NULL;
    s->rms = NULL;
}

/* The analysis fields the pipeline sets before sm__tempo_analyze. */
static void fill(sm_analysis *a, struct synth *s, double duration)
{
    sm_analysis_init(a);
    a->duration = duration;
    a->onsets = s->onsets;
    a->n_onsets = s->n_onsets;
    a->rms_env = s->rms;
    a->n_rms_env = s->n;
}

/* Detach the borrowed arrays and free what the module allocated. */
static void unfill(sm_analysis *a)
{
    a->onsets = NULL;
    a->n_onsets = 0;
    a->rms_env = NULL;
    a->n_rms_env = 0;
    sm_analysis_release(a);
}

static double run_clicks(const struct click_opts *c, sm_analysis *a)
{
    struct synth s;
    synth_clicks(&s, c);
    fill(a, &s, c->seconds);
    assert_int_equal(sm__tempo_analyze(s.odf, s.n, a), 0);
    a->onsets = NULL;
    a->n_onsets = 0;
    a->rms_env = NULL;
    a->n_rms_env = 0;
    synth_free(&s);
    return a->bpm;
}

static void assert_bpm_near(double got, double want, double rel)
{
    if (!(fabs(got / want - 1.0) <= rel))
        fail_msg("bpm %.2f, want %.2f (+-%.1f %%)", got, want, rel * 100.0);
}

static void test_tempo__click_tracks_within_2_percent(void **state)
{
    (void)state;
    static const double bpms[] = {60, 90, 120, 128, 140, 174, 200};
    static const double downbeat[] = {1.0, 0.7, 0.8, 0.7};
    for (size_t i = 0; i < sizeof(bpms) / sizeof(bpms[0]); i++) {
        struct click_opts c = {.seconds = 25.1, .bpm = bpms[i], .first = 0.37,
                               .jitter_ms = 8.0, .noise = 0.8, .accents = downbeat,
                               .n_accents = 4, .seed = 11u + (unsigned)i};
        sm_analysis a;
        double bpm = run_clicks(&c, &a);
        assert_true(a.has_tempo);
        assert_bpm_near(bpm, bpms[i], 0.02);
        /* One decimal. */
        assert_true(fabs(bpm * 10.0 - round(bpm * 10.0)) < 1e-6);
        assert_true(a.bpm_confidence >= 0.5 && a.bpm_confidence <= 1.0);
        /* Beats follow the clicks: about one per click, on the clicks. */
        double want_beats = (25.1 - 0.37) * bpms[i] / 60.0;
        assert_true(fabs((double)a.n_beats - want_beats) <= 0.1 * want_beats + 1.0);
        assert_non_null(a.beats);
        double period = 60.0 / bpms[i];
        size_t on_grid = 0;
        for (size_t k = 0; k < a.n_beats; k++) {
            double ph = fmod((double)a.beats[k] - 0.37 + 0.5 * period, period) - 0.5 * period;
            if (fabs(ph) < 0.03)
                on_grid++;
            if (k > 0)
                assert_true(a.beats[k] > a.beats[k - 1]);
        }
        assert_true((double)on_grid >= 0.9 * (double)a.n_beats);
        /* 25.1 s is not within 4 % of a whole number of beats at any of these tempos. */
        assert_false(a.loop);
        sm_analysis_release(&a);
    }
}

static void test_tempo__half_double_rule(void **state)
{
    (void)state;
    sm_analysis a;
    /* A uniform pulse is reported at its own rate, however fast or slow. */
    struct click_opts fast = {.seconds = 15.1, .bpm = 200.0, .first = 0.2, .jitter_ms = 3.0,
                              .noise = 0.3, .seed = 3u};
    assert_bpm_near(run_clicks(&fast, &a), 200.0, 0.01);
    assert_int_equal(a.n_bpm_alternatives, 1);
    assert_bpm_near(a.bpm_alternatives[0], 100.0, 0.01);
    sm_analysis_release(&a);

    struct click_opts slow = {.seconds = 20.3, .bpm = 60.0, .first = 0.5, .jitter_ms = 3.0,
                              .noise = 0.3, .seed = 4u};
    assert_bpm_near(run_clicks(&slow, &a), 60.0, 0.01);
    assert_int_equal(a.n_bpm_alternatives, 1);
    assert_bpm_near(a.bpm_alternatives[0], 120.0, 0.01);
    sm_analysis_release(&a);

    /* A fast strong/weak alternation is the slower, accented beat... */
    static const double alt[] = {1.0, 0.4};
    struct click_opts fast_alt = {.seconds = 15.1, .bpm = 180.0, .first = 0.2,
                                  .jitter_ms = 3.0, .noise = 0.3, .accents = alt,
                                  .n_accents = 2, .seed = 5u};
    assert_bpm_near(run_clicks(&fast_alt, &a), 90.0, 0.01);
    /* Half of 90 is below 50 BPM: the only alternative is double. */
    assert_int_equal(a.n_bpm_alternatives, 1);
    assert_bpm_near(a.bpm_alternatives[0], 180.0, 0.01);
    sm_analysis_release(&a);

    /* ...but at or below 140 BPM the same alternation stays at its own rate. */
    struct click_opts mid_alt = fast_alt;
    mid_alt.bpm = 120.0;
    assert_bpm_near(run_clicks(&mid_alt, &a), 120.0, 0.01);
    sm_analysis_release(&a);

    /* A uniform fast pulse at 180 stays at 180. */
    struct click_opts fast_uni = fast_alt;
    fast_uni.accents = NULL;
    fast_uni.n_accents = 0;
    assert_bpm_near(run_clicks(&fast_uni, &a), 180.0, 0.01);
    sm_analysis_release(&a);
}

static void test_tempo__loop_length_refines_bpm(void **state)
{
    (void)state;
    sm_analysis a;
    /* Four bars of 4/4 cut to exactly 8.0 s; the audio says 119.5 BPM. */
    static const double bar[] = {1.0, 0.6, 0.8, 0.6};
    struct click_opts c = {.seconds = 8.0, .bpm = 119.5, .first = 0.0, .jitter_ms = 2.0,
                           .noise = 0.3, .accents = bar, .n_accents = 4, .seed = 21u};
    double bpm = run_clicks(&c, &a);
    assert_true(a.has_tempo);
    assert_true(a.loop);
    assert_true(fabs(bpm - 120.0) < 1e-9);
    assert_true(a.loop_confidence > 0.5 && a.loop_confidence <= 1.0);
    assert_non_null(strstr(a.loop_evidence, "16 beats"));
    sm_analysis_release(&a);

    /* Triple meter: four bars of 3/4 at 90 BPM = 12 beats in 8.0 s; audio 90.8. */
    static const double waltz[] = {1.0, 0.6, 0.6};
    struct click_opts w = {.seconds = 8.0, .bpm = 90.8, .first = 0.0, .jitter_ms = 2.0,
                           .noise = 0.3, .accents = waltz, .n_accents = 3, .seed = 22u};
    bpm = run_clicks(&w, &a);
    assert_true(a.loop);
    assert_true(fabs(bpm - 90.0) < 1e-9);
    sm_analysis_release(&a);

    /* One bar of 4/4 at 128 BPM (1.875 s). */
    struct click_opts one = {.seconds = 1.875, .bpm = 128.0, .first = 0.0, .jitter_ms = 1.0,
                             .noise = 0.2, .accents = bar, .n_accents = 4, .seed = 23u};
    bpm = run_clicks(&one, &a);
    assert_true(a.has_tempo);
    assert_true(a.loop);
    assert_true(fabs(bpm - 128.0) < 1e-9);
    sm_analysis_release(&a);

    /* The same 8.0 s whose clicks stop after 4 s (a decaying tail) is no loop, and
     * then the measured tempo is reported as it is. */
    struct click_opts half = c;
    half.stop = 4.0;
    bpm = run_clicks(&half, &a);
    assert_true(a.has_tempo);
    assert_false(a.loop);
    assert_bpm_near(bpm, 119.5, 0.01);
    assert_non_null(strstr(a.loop_evidence, "not a loop"));
    sm_analysis_release(&a);

    /* A length that is no whole number of beats (8.0 s at 112 BPM = 14.9 beats). */
    struct click_opts odd = c;
    odd.bpm = 112.0;
    bpm = run_clicks(&odd, &a);
    assert_false(a.loop);
    assert_bpm_near(bpm, 112.0, 0.01);
    sm_analysis_release(&a);
}

/* Loops choose among whole numbers of beats: the BPM is exactly 60 * k / length. */
static void test_tempo__loop_tempo_is_a_whole_number_of_beats(void **state)
{
    (void)state;
    static const double bar[] = {1.0, 0.6, 0.8, 0.6};
    static const struct {
        double bpm;
        int bars;
    } cases[] = {{190.0, 1}, {67.0, 2}, {143.0, 4}, {88.0, 4}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double seconds = cases[i].bars * 240.0 / cases[i].bpm;
        /* The audio drifts 0.6 % from the grid; the length decides. */
        struct click_opts c = {.seconds = seconds, .bpm = cases[i].bpm * 1.006, .first = 0.0,
                               .jitter_ms = 3.0, .noise = 0.3, .accents = bar,
                               .n_accents = 4, .seed = 31u + (unsigned)i};
        sm_analysis a;
        double bpm = run_clicks(&c, &a);
        if (!a.loop || !(fabs(bpm - cases[i].bpm) < 1e-9))
            fail_msg("%.0f BPM, %d bars: got %.2f BPM, loop %d (%s)", cases[i].bpm,
                     cases[i].bars, bpm, (int)a.loop, a.loop_evidence);
        char want[32];
        snprintf(want, sizeof(want), "%d beats", 4 * cases[i].bars);
        assert_non_null(strstr(a.loop_evidence, want));
        assert_true(a.bpm_confidence > 0.0 && a.bpm_confidence <= 1.0);
        assert_true(a.n_beats >= (size_t)(3 * cases[i].bars));
        sm_analysis_release(&a);
    }
}

/* The loop's level: beats must be sounded (3 of every 4 carry an onset), and
 * among sounded levels the metrical salience decides. */
static void test_tempo__loop_level_rule(void **state)
{
    (void)state;
    sm_analysis a;
    /* Quarter notes at 67 BPM over 2 bars: 134 BPM would leave every other beat
     * silent, so the loop is 8 beats at 67, not 16 at 134. */
    struct click_opts slow = {.seconds = 8.0 * 60.0 / 67.0, .bpm = 67.0, .first = 0.0,
                              .jitter_ms = 2.0, .noise = 0.2, .seed = 41u};
    assert_true(fabs(run_clicks(&slow, &a) - 67.0) < 1e-9);
    assert_true(a.loop);
    sm_analysis_release(&a);

    /* Strong beats with weak 8th notes between them (1, 0.3) at 100 BPM: both 100
     * and 200 are sounded; the accented level is the more salient one. */
    static const double eighths[] = {1.0, 0.3};
    struct click_opts e = {.seconds = 4.8, .bpm = 200.0, .first = 0.0, .jitter_ms = 2.0,
                           .noise = 0.2, .accents = eighths, .n_accents = 2, .seed = 42u};
    assert_true(fabs(run_clicks(&e, &a) - 100.0) < 1e-9);
    assert_true(a.loop);
    assert_int_equal(a.n_bpm_alternatives, 2);
    sm_analysis_release(&a);

    /* Two hits in 2 s that ring to the end are no loop and have no tempo. */
    size_t n = (size_t)(2.0 * SM_AN_FPS) + 1;
    float *odf = calloc(n, sizeof(float));
    float *rms = calloc(n, sizeof(float));
    assert_non_null(odf);
    assert_non_null(rms);
    for (size_t i = 0; i < n; i++)
        rms[i] = 0.3f;
    odf[0] = 10.0f;
    odf[30] = 10.0f;
    float on[2] = {0.0f, 30.0f / (float)SM_AN_FPS};
    sm_analysis_init(&a);
    a.duration = 2.0;
    a.onsets = on;
    a.n_onsets = 2;
    a.rms_env = rms;
    a.n_rms_env = n;
    assert_int_equal(sm__tempo_analyze(odf, n, &a), 0);
    assert_false(a.loop);
    assert_false(a.has_tempo);
    unfill(&a);
    free(odf);
    free(rms);
}

/* Three against four: a one-bar loop of quarter notes with two louder
 * accents at 4/3 and 8/3 of a beat (the bar cut in three, a 3-against-4
 * figure). The free pulse locks to the three equal beats in the bar, 3/4 of
 * the tempo; the loop holds a whole number of them, so they are one of the
 * loop's own levels, which the salience weighed, not a disagreement that
 * would leave the loop without a tempo. */
static void test_tempo__three_against_four_agrees(void **state)
{
    (void)state;
    static const double bpms[] = {102.0, 150.0, 188.0};
    for (size_t i = 0; i < sizeof(bpms) / sizeof(bpms[0]); i++) {
        double beat = 60.0 / bpms[i];
        double dur = 4.0 * beat;
        struct synth sy;
        sy.n = (size_t)(dur * SM_AN_FPS) + 1;
        sy.odf = calloc(sy.n, sizeof(float));
        sy.rms = calloc(sy.n, sizeof(float));
        assert_non_null(sy.odf);
        assert_non_null(sy.rms);
        sy.n_onsets = 0;
        for (size_t f = 0; f < sy.n; f++)
            sy.rms[f] = 0.05f;
        for (int j = 0; j < 6; j++) {
            double at = j < 4 ? j * beat : (j - 3) * 4.0 / 3.0 * beat;
            double amp = j < 4 ? 0.6 : 0.8;
            size_t f = (size_t)floor(at * SM_AN_FPS);
            sy.odf[f] += (float)(10.0 * amp);
            sy.odf[f + 1] += (float)(3.0 * amp);
            sy.onsets[sy.n_onsets++] = (float)at;
        }
        sm_analysis a;
        fill(&a, &sy, dur);
        assert_int_equal(sm__tempo_analyze(sy.odf, sy.n, &a), 0);
        assert_true(a.has_tempo);
        assert_true(a.loop);
        assert_bpm_near(a.bpm, bpms[i], 0.001);
        unfill(&a);
        synth_free(&sy);
    }
}

static void test_tempo__one_shot_has_no_tempo(void **state)
{
    (void)state;
    /* A single hit at 10 ms that decays over 1.5 s. */
    size_t n = (size_t)(1.5 * SM_AN_FPS);
    float *odf = calloc(n, sizeof(float));
    float *rms = calloc(n, sizeof(float));
    assert_non_null(odf);
    assert_non_null(rms);
    unsigned seed = 5u;
    for (size_t i = 0; i < n; i++) {
        odf[i] = (float)(0.2 * rnd(&seed));
        rms[i] = (float)(0.5 * exp(-(double)i / 8.0));
    }
    odf[0] = 12.0f;
    odf[1] = 4.0f;
    float onset = 0.01f;
    sm_analysis a;
    sm_analysis_init(&a);
    a.duration = 1.5;
    a.onsets = &onset;
    a.n_onsets = 1;
    a.rms_env = rms;
    a.n_rms_env = n;
    a.decay_ms = 200.0;
    assert_int_equal(sm__tempo_analyze(odf, n, &a), 0);
    assert_false(a.has_tempo);
    assert_true(isnan(a.bpm));
    assert_null(a.beats);
    assert_int_equal(a.n_beats, 0);
    assert_int_equal(a.n_bpm_alternatives, 0);
    assert_false(a.loop);
    assert_true(a.loop_confidence >= 0.5 && a.loop_confidence <= 1.0);
    assert_true(a.bpm_confidence >= 0.0 && a.bpm_confidence < 0.25);
    assert_non_null(strstr(a.loop_evidence, "one-shot"));
    unfill(&a);
    free(odf);
    free(rms);
}

static void test_tempo__silence_and_tiny_inputs(void **state)
{
    (void)state;
    sm_analysis a;
    /* Silence: 5 s of zeros. */
    size_t n = (size_t)(5.0 * SM_AN_FPS);
    float *z = calloc(n, sizeof(float));
    assert_non_null(z);
    sm_analysis_init(&a);
    a.duration = 5.0;
    assert_int_equal(sm__tempo_analyze(z, n, &a), 0);
    assert_false(a.has_tempo);
    assert_true(isnan(a.bpm));
    assert_true(isnan(a.bpm_confidence));
    assert_false(a.loop);
    assert_null(a.beats);
    sm_analysis_release(&a);

    /* A single click in 3 s. */
    z[40] = 10.0f;
    z[41] = 3.0f;
    sm_analysis_init(&a);
    a.duration = 3.0;
    assert_int_equal(sm__tempo_analyze(z, n, &a), 0);
    assert_false(a.has_tempo);
    assert_true(isnan(a.bpm));
    assert_false(a.loop);
    sm_analysis_release(&a);

    /* 0.05 s: three frames. */
    sm_analysis_init(&a);
    a.duration = 0.05;
    assert_int_equal(sm__tempo_analyze(z + 39, 3, &a), 0);
    assert_false(a.has_tempo);
    assert_false(a.loop);
    assert_true(strlen(a.loop_evidence) > 0);
    sm_analysis_release(&a);

    /* Nothing at all. */
    sm_analysis_init(&a);
    assert_int_equal(sm__tempo_analyze(NULL, 0, &a), 0);
    assert_false(a.has_tempo);
    assert_true(isnan(a.bpm));
    sm_analysis_release(&a);
    free(z);
}

static void test_tempo__noise_is_arhythmic(void **state)
{
    (void)state;
    /* Random onsets (exponential gaps, mean 0.25 s) of random strength. */
    for (unsigned seed = 1; seed <= 5; seed++) {
        size_t n = (size_t)(20.0 * SM_AN_FPS);
        float *odf = calloc(n, sizeof(float));
        assert_non_null(odf);
        unsigned s = seed * 7919u;
        double t = 0.1;
        while (t < 20.0) {
            size_t f = (size_t)(t * SM_AN_FPS);
            if (f < n)
                odf[f] += (float)(2.0 + 8.0 * rnd(&s));
            t += -0.25 * log(1e-9 + rnd(&s));
        }
        for (size_t i = 0; i < n; i++)
            odf[i] += (float)(0.5 * rnd(&s));
        sm_analysis a;
        sm_analysis_init(&a);
        a.duration = 20.0;
        assert_int_equal(sm__tempo_analyze(odf, n, &a), 0);
        if (a.has_tempo)
            fail_msg("seed %u: noise got %.1f BPM, confidence %.2f", seed, a.bpm,
                     a.bpm_confidence);
        assert_true(a.bpm_confidence < 0.25);
        assert_false(a.loop);
        sm_analysis_release(&a);
        free(odf);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_tempo__long_input_stays_correct(void **state)
{
    (void)state;
    static const double bar[] = {1.0, 0.6, 0.8, 0.6};
    /* 10 minutes at 128 BPM with human jitter. */
    struct click_opts c = {.seconds = 600.0, .bpm = 128.0, .first = 0.1, .jitter_ms = 10.0,
                           .noise = 1.0, .accents = bar, .n_accents = 4, .seed = 99u};
    struct synth s;
    synth_clicks(&s, &c);
    sm_analysis a;
    fill(&a, &s, c.seconds);
    double t0 = now();
    assert_int_equal(sm__tempo_analyze(s.odf, s.n, &a), 0);
    double t_long = now() - t0;
    assert_true(a.has_tempo);
    assert_bpm_near(a.bpm, 128.0, 0.005);
    double want = 599.9 * 128.0 / 60.0;
    assert_true(fabs((double)a.n_beats - want) < 0.02 * want);
    unfill(&a);
    synth_free(&s);

    /* 10 s for comparison. */
    struct click_opts c10 = c;
    c10.seconds = 10.0;
    synth_clicks(&s, &c10);
    fill(&a, &s, c10.seconds);
    t0 = now();
    int reps = 20;
    for (int i = 0; i < reps; i++)
        assert_int_equal(sm__tempo_analyze(s.odf, s.n, &a), 0);
    double t_short = (now() - t0) / reps;
    assert_bpm_near(a.bpm, 128.0, 0.02);
    unfill(&a);
    synth_free(&s);
    print_message("sm__tempo_analyze: %.3f ms per 10 s, %.2f ms per 10 min\n", t_short * 1e3,
                  t_long * 1e3);
}

static void test_tempo__nonfinite_input_is_safe(void **state)
{
    (void)state;
    struct click_opts c = {.seconds = 10.3, .bpm = 100.0, .first = 0.1, .noise = 0.5,
                           .seed = 8u};
    struct synth s;
    synth_clicks(&s, &c);
    s.odf[3] = NAN;
    s.odf[50] = INFINITY;
    s.odf[51] = -INFINITY;
    s.odf[77] = -5.0f;
    sm_analysis a;
    fill(&a, &s, NAN);
    assert_int_equal(sm__tempo_analyze(s.odf, s.n, &a), 0);
    assert_true(a.has_tempo);
    assert_bpm_near(a.bpm, 100.0, 0.02);
    assert_true(isfinite(a.bpm_confidence));
    for (size_t i = 0; i < a.n_beats; i++)
        assert_true(isfinite(a.beats[i]));
    unfill(&a);
    synth_free(&s);
}

static int fail_after;
static void *failing_malloc(size_t n)
{
    return fail_after-- > 0 ? malloc(n) : NULL;
}
static void *failing_realloc(void *p, size_t n)
{
    return fail_after-- > 0 ? realloc(p, n) : NULL;
}
static void *failing_calloc(size_t c, size_t n)
{
    return fail_after-- > 0 ? calloc(c, n) : NULL;
}

static void test_tempo__out_of_memory_fails_cleanly(void **state)
{
    (void)state;
    struct click_opts c = {.seconds = 8.0, .bpm = 120.0, .noise = 0.3, .seed = 9u};
    struct synth s;
    synth_clicks(&s, &c);
    int failures = 0;
    for (int k = 0; k < 12; k++) {
        sm_analysis a;
        fill(&a, &s, 8.0);
        fail_after = k;
        sm_set_allocator(failing_malloc, failing_realloc, failing_calloc, free);
        int rc = sm__tempo_analyze(s.odf, s.n, &a);
        sm_set_allocator(NULL, NULL, NULL, NULL);
        if (rc != 0) {
            failures++;
            assert_int_equal(rc, -1);
            assert_null(a.beats);
            assert_false(a.has_tempo);
        } else {
            assert_true(a.has_tempo);
        }
        unfill(&a);
    }
    assert_true(failures > 0);
    synth_free(&s);
}

/* ---- End to end: rendered audio through sm_analyzer_run ------------------- */

/* Render mono audio at 44.1 kHz into a float WAV and analyze it. */
static void analyze_rendered(const float *x, size_t n, const char *name, sm_analysis *a)
{
    const char *path = tu_path(name);
    assert_int_equal(tu_write(path, x, n, 1, 44100, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    assert_non_null(an);
    sm_analysis_init(a);
    if (sm_analyzer_run(an, path, a, &err) != SM_OK)
        fail_msg("%s: %s", name, err.msg);
    sm_analyzer_free(an);
    remove(path);
}

static void test_tempo__rendered_click_loop(void **state)
{
    (void)state;
    /* Four bars at 120 BPM, exactly 8.0 s, accented downbeats. */
    size_t n = 8 * 44100;
    float *x = calloc(n, sizeof(float));
    assert_non_null(x);
    for (int k = 0; k < 16; k++)
        tu_click(x, n, 44100.0, 0.5 * k, k % 4 == 0 ? 0.9 : 0.5);
    sm_analysis a;
    analyze_rendered(x, n, "loop120.wav", &a);
    assert_true(a.has_tempo);
    assert_true(a.loop);
    assert_true(fabs(a.bpm - 120.0) < 1e-9);
    assert_int_equal(a.n_onsets, 16);
    for (size_t k = 0; k < a.n_onsets; k++) {
        if (fabs((double)a.onsets[k] - 0.5 * (double)k) > 0.012)
            fail_msg("onset %zu at %.4f s, click at %.3f s", k, (double)a.onsets[k],
                     0.5 * (double)k);
    }
    assert_true(a.n_beats >= 15 && a.n_beats <= 16);
    for (size_t k = 0; k < a.n_beats; k++) {
        double ph = fmod((double)a.beats[k] + 0.25, 0.5) - 0.25;
        assert_true(fabs(ph) < 0.012);
    }
    sm_analysis_release(&a);
    free(x);
}

static void test_tempo__rendered_click_tracks(void **state)
{
    (void)state;
    static const double bpms[] = {60, 90, 128, 140, 174, 200};
    size_t n = (size_t)(10.3 * 44100);
    float *x = calloc(n, sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < sizeof(bpms) / sizeof(bpms[0]); i++) {
        memset(x, 0, n * sizeof(float));
        tu_noise(x, n, tu_db(-50.0), 5u + (unsigned)i);
        for (int k = 0;; k++) {
            double t = 0.2 + k * 60.0 / bpms[i];
            if (t >= 10.3)
                break;
            tu_click(x, n, 44100.0, t, 0.7);
        }
        sm_analysis a;
        analyze_rendered(x, n, "clicks.wav", &a);
        assert_true(a.has_tempo);
        assert_bpm_near(a.bpm, bpms[i], 0.02);
        sm_analysis_release(&a);
    }
    free(x);
}

static void test_tempo__rendered_one_shot_and_silence(void **state)
{
    (void)state;
    /* A noise hit decaying over 1.5 s (time constant 150 ms), starting at 0. */
    size_t n = (size_t)(1.5 * 44100);
    float *x = calloc(n, sizeof(float));
    assert_non_null(x);
    tu_noise(x, n, 0.8, 77u);
    for (size_t i = 0; i < n; i++)
        x[i] *= (float)exp(-(double)i / (0.15 * 44100.0));
    sm_analysis a;
    analyze_rendered(x, n, "hit.wav", &a);
    assert_false(a.has_tempo);
    assert_true(isnan(a.bpm));
    assert_false(a.loop);
    assert_int_equal(a.n_onsets, 1);
    assert_true((double)a.onsets[0] < 0.012);
    sm_analysis_release(&a);

    memset(x, 0, n * sizeof(float));
    analyze_rendered(x, n, "silence.wav", &a);
    assert_false(a.has_tempo);
    assert_false(a.loop);
    assert_int_equal(a.n_onsets, 0);
    assert_int_equal(a.n_beats, 0);
    sm_analysis_release(&a);
    free(x);
}

/* ---- Band envelopes and chord changes (sm__tempo_analyze_ex) ---------------- */

/* A drum hit as the mel spectrum sees it: a decaying burst in one band range. */
struct hit {
    double t;
    int role;   /* 0 kick (mel bands 0..2), 1 snare (3..48), 2 hat (49..63) */
    double amp;
};

/* Runs the onset module over hand-made mel frames holding the hits (each
 * decays with a 40 ms time constant over a -100 dB floor), with a flat RMS
 * envelope, and then the tempo module on the whole onset state. */
static void run_hits_on(const struct hit *h, size_t nh, double seconds, float hat_floor,
                        sm_analysis *a);
static void run_hits(const struct hit *h, size_t nh, double seconds, sm_analysis *a)
{
    run_hits_on(h, nh, seconds, 1e-8f, a);
}

/* As run_hits, over a steady hiss of hat_floor in the hat bands (a soft hat
 * then rises less than a loud one). */
static void run_hits_on(const struct hit *h, size_t nh, double seconds, float hat_floor,
                        sm_analysis *a)
{
    size_t n = (size_t)(seconds * SM_AN_FPS) + 1;
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    float *rms = calloc(n, sizeof(float));
    assert_non_null(rms);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SM_AN_FPS;
        for (size_t b = 0; b < SM_AN_NMEL; b++)
            mel[b] = b >= 49 ? hat_floor : 1e-8f;
        for (size_t k = 0; k < nh; k++) {
            double d = t - h[k].t + 0.5 / SM_AN_FPS;
            if (d < 0.0)
                continue;
            float v = (float)(h[k].amp * exp(-d / 0.04));
            size_t lo = h[k].role == 0 ? 0 : (h[k].role == 1 ? 3 : 49);
            size_t hi = h[k].role == 0 ? 3 : (h[k].role == 1 ? 49 : SM_AN_NMEL);
            for (size_t b = lo; b < hi; b++)
                mel[b] += v;
        }
        struct sm__frame f = {.index = i, .mel = mel};
        assert_int_equal(sm__onset_process(&o, &f), 0);
        rms[i] = 0.05f;
    }
    assert_int_equal(o.band[SM__ONSET_HIGH].n, n);
    tempo_run(&o, rms, n, seconds, false, a);
}

/* bars of 4/4 at bpm: kick on beats 1 and 3 of every 4 beats at the pattern's
 * own beat, snare on 2 and 4, hats every hat_div-th of a beat. */
static size_t pattern(struct hit *h, size_t cap, double bpm, int beats, int snare_every,
                      int hat_div)
{
    double beat = 60.0 / bpm;
    size_t n = 0;
    for (int j = 0; j < beats; j++) {
        double t = j * beat;
        if (j % (2 * snare_every) == 0 && n < cap)
            h[n++] = (struct hit){t, 0, 1.0};
        if (j % (2 * snare_every) == snare_every && n < cap)
            h[n++] = (struct hit){t, 1, 1.0};
        for (int q = 0; q < hat_div && n < cap; q++)
            h[n++] = (struct hit){t + q * beat / hat_div, 2, 1.0};
    }
    return n;
}

static void test_tempo__half_time_reported_at_the_hats_tempo(void **state)
{
    (void)state;
    struct hit h[256];
    sm_analysis a;
    /* Half-time at 140 BPM: kick on 1, snare on 3 of two bars, eighth hats. */
    size_t nh = pattern(h, 256, 140.0, 8, 2, 2);
    run_hits(h, nh, 8 * 60.0 / 140.0, &a);
    assert_true(a.has_tempo);
    assert_true(a.loop);
    assert_bpm_near(a.bpm, 140.0, 0.001);
    sm_analysis_release(&a);
    /* The same kick and snare times with eighth hats at half the rate: a
     * backbeat (snare on 2 and 4) at 70 BPM. */
    nh = pattern(h, 256, 70.0, 4, 1, 2);
    run_hits(h, nh, 4 * 60.0 / 70.0, &a);
    assert_true(a.has_tempo);
    assert_bpm_near(a.bpm, 70.0, 0.001);
    sm_analysis_release(&a);
    /* A backbeat at 170 BPM with eighth hats stays at 170 (not 85). */
    nh = pattern(h, 256, 170.0, 8, 1, 2);
    run_hits(h, nh, 8 * 60.0 / 170.0, &a);
    assert_true(a.has_tempo);
    assert_bpm_near(a.bpm, 170.0, 0.001);
    sm_analysis_release(&a);
}

static void test_tempo__sixteenth_hats_keep_the_snare_on_3(void **state)
{
    (void)state;
    struct hit h[256];
    sm_analysis a;
    /* Half-time at 75 BPM with sixteenth-note hats: kick on 1, snare on 3.
     * Read as eighth-note hats at 150 the snare would fall once every 8
     * beats, which is neither a backbeat nor half-time: 75 is reported. */
    size_t nh = pattern(h, 256, 75.0, 8, 2, 4);
    run_hits(h, nh, 8 * 60.0 / 75.0, &a);
    assert_true(a.has_tempo);
    assert_true(a.loop);
    assert_bpm_near(a.bpm, 75.0, 0.001);
    sm_analysis_release(&a);
}

/* A pad: each bar holds a chord (three tones and a bass root, two harmonics
 * each), fading in over 0.3 s with a 5 Hz, 30 % tremolo, and no onsets in the
 * mel envelope. chords: MIDI notes, 4 per bar. */
static void run_pad(const int (*chords)[4], int bars, double bpm, sm_analysis *a)
{
    double bar = 240.0 / bpm;
    double seconds = bars * bar;
    size_t n = (size_t)(seconds * SM_AN_FPS) + 1;
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    float *mag = calloc(SM_AN_NBINS, sizeof(float));
    float *rms = calloc(n, sizeof(float));
    assert_non_null(mag);
    assert_non_null(rms);
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 1e-4f;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SM_AN_FPS;
        int b = (int)floor(t / bar);
        b = b < bars ? b : bars - 1;
        double in = t - b * bar;
        double env = (in < 0.3 ? in / 0.3 : 1.0) * (1.0 + 0.3 * sin(2.0 * M_PI * 5.0 * t));
        memset(mag, 0, SM_AN_NBINS * sizeof(float));
        for (int v = 0; v < 4; v++) {
            double hz = 440.0 * pow(2.0, (chords[b][v] - 69) / 12.0);
            add_partial(mag, hz, 20.0 * env);
            add_partial(mag, 2.0 * hz, 8.0 * env);
        }
        struct sm__frame f = {.index = i, .mel = mel, .mag = mag};
        assert_int_equal(sm__onset_process(&o, &f), 0);
        rms[i] = (float)(0.05 * env);
    }
    free(mag);
    tempo_run(&o, rms, n, seconds, false, a);
}

static void test_tempo__pad_chord_changes_give_the_tempo(void **state)
{
    (void)state;
    /* C - Am - F - G, voice-led, over the root. */
    static const int prog[4][4] = {{60, 64, 67, 48}, {60, 64, 69, 45}, {60, 65, 69, 41},
                                   {59, 62, 67, 43}};
    static const double bpms[] = {75.0, 96.0, 128.0};
    for (size_t i = 0; i < sizeof(bpms) / sizeof(bpms[0]); i++) {
        sm_analysis a;
        run_pad(prog, 4, bpms[i], &a);
        if (!a.has_tempo)
            fail_msg("no tempo at %.0f BPM: %s", bpms[i], a.loop_evidence);
        assert_bpm_near(a.bpm, bpms[i], 0.001);
        assert_true(a.loop);
        assert_true(a.n_beats >= 15);
        assert_true(a.bpm_confidence > 0.0 && a.bpm_confidence <= 1.0);
        sm_analysis_release(&a);
    }
}

static void test_tempo__held_chord_has_no_tempo(void **state)
{
    (void)state;
    static const int same[4][4] = {{60, 64, 67, 48}, {60, 64, 67, 48}, {60, 64, 67, 48},
                                   {60, 64, 67, 48}};
    sm_analysis a;
    /* The bars re-attack (fade in again) but the chord never changes. */
    run_pad(same, 4, 100.0, &a);
    assert_false(a.has_tempo);
    assert_true(isnan(a.bpm));
    assert_int_equal(a.n_beats, 0);
    sm_analysis_release(&a);
    /* No input at all. */
    sm_analysis_init(&a);
    assert_int_equal(sm__tempo_analyze_ex(NULL, &a), 0);
    assert_false(a.has_tempo);
    sm_analysis_release(&a);
}

/* Four-on-the-floor with one kick masked (a fill): a house bar at 67 BPM
 * with a kick on 7 of 8 beats, snare on 2 and 4, an open hat on every
 * off-beat and softer closed sixteenths is still 67 (the kick marks the
 * beat), not a half-time pattern at 134 with eighth hats. */
static void test_tempo__four_on_the_floor_survives_a_masked_kick(void **state)
{
    (void)state;
    struct hit h[256];
    size_t nh = 0;
    double beat = 60.0 / 67.0;
    for (int j = 0; j < 8; j++) {
        double t = j * beat;
        if (j != 5)
            h[nh++] = (struct hit){t, 0, 1.0};
        if (j % 2 == 1)
            h[nh++] = (struct hit){t, 1, 1.0};
        for (int q = 0; q < 4; q++)
            h[nh++] = (struct hit){t + q * beat / 4.0, 2, q == 2 ? 1.0 : 0.25};
    }
    sm_analysis a;
    run_hits_on(h, nh, 8 * beat, 0.05f, &a);
    expect_tempo(&a, 67.0, 0.1);
    assert_true(a.loop);
    sm_analysis_release(&a);
}

/* Fast backbeats with eighth-note hats keep their tempo (170-200 BPM, where
 * an eighth of a beat is under 2 frames and the hats on the beat and the
 * half-beat spread into the 32nd-note positions; these clean hits do not
 * leak enough to tell the 32nd-note resolution limit from the old one, which
 * was measured on the generated sets instead). */
static void test_tempo__fast_backbeat_keeps_its_tempo(void **state)
{
    (void)state;
    static const double bpms[] = {170.0, 185.0, 200.0};
    struct hit h[256];
    for (size_t i = 0; i < sizeof(bpms) / sizeof(bpms[0]); i++) {
        sm_analysis a;
        size_t nh = pattern(h, 256, bpms[i], 16, 1, 2);
        run_hits(h, nh, 16 * 60.0 / bpms[i], &a);
        expect_tempo(&a, bpms[i], 0.001 * bpms[i]);
        sm_analysis_release(&a);
    }
}

/* Eighth-note hats are not quarter notes: a breakbeat at 93 BPM (kick on 1
 * and the "and" of 3, snare on 2 and 4, hats on every eighth, the ones on the
 * beat louder) whose kick spills into the snare's band. At 186 BPM the
 * snares fall on 3 (half-time) and the hats on every beat with nothing
 * between: the hats would be quarter notes there, while at 93 they sound
 * the half-beats, so 93 is the beat. */
static void test_tempo__eighth_hats_are_not_quarter_notes(void **state)
{
    (void)state;
    static const double bpms[] = {80.0, 93.0, 97.0};
    for (size_t i = 0; i < sizeof(bpms) / sizeof(bpms[0]); i++) {
        struct hit h[256];
        size_t nh = 0;
        double beat = 60.0 / bpms[i];
        for (int j = 0; j < 8; j++) {
            double t = j * beat;
            if (j % 4 == 0) {
                h[nh++] = (struct hit){t, 0, 1.0};
                h[nh++] = (struct hit){t, 1, 0.7};
            }
            if (j % 4 == 2) {
                h[nh++] = (struct hit){t + 0.5 * beat, 0, 0.85};
                h[nh++] = (struct hit){t + 0.5 * beat, 1, 0.6};
            }
            if (j % 2 == 1)
                h[nh++] = (struct hit){t, 1, j % 4 == 1 ? 1.0 : 0.7};
            h[nh++] = (struct hit){t, 2, 1.0};
            h[nh++] = (struct hit){t + 0.5 * beat, 2, 0.1};
        }
        sm_analysis a;
        run_hits_on(h, nh, 8 * beat, 0.05f, &a);
        expect_tempo(&a, bpms[i], 0.001 * bpms[i]);
        assert_true(a.loop);
        sm_analysis_release(&a);
    }
}

/* Half-time with accented eighth-note hats: kick on 1, snare on 3, hats on
 * every eighth, the ones on the beat louder, and the kick reaching into the
 * snare's band. At half the tempo the same hits are a backbeat (snare on 2
 * and 4) with sixteenth-note hats, the louder ones on its half-beats: the
 * snare cannot tell the two apart, the hats must, so the finer subdivisions
 * weigh 2.5x the half-beat (convention 2; at 1x, 170 BPM went to 85). */
static void test_tempo__half_time_with_accented_eighth_hats(void **state)
{
    (void)state;
    static const double bpms[] = {110.0, 130.0, 150.0, 170.0, 190.0};
    for (size_t i = 0; i < sizeof(bpms) / sizeof(bpms[0]); i++) {
        struct hit h[256];
        size_t nh = 0;
        double beat = 60.0 / bpms[i];
        for (int j = 0; j < 8; j++) {
            double t = j * beat;
            if (j % 4 == 0) {
                h[nh++] = (struct hit){t, 0, 1.0};
                h[nh++] = (struct hit){t, 1, 1.0};
            }
            if (j % 4 == 2)
                h[nh++] = (struct hit){t, 1, 0.5};
            h[nh++] = (struct hit){t, 2, 1.0};
            h[nh++] = (struct hit){t + 0.5 * beat, 2, 0.3};
        }
        sm_analysis a;
        run_hits_on(h, nh, 8 * beat, 0.05f, &a);
        expect_tempo(&a, bpms[i], 0.001 * bpms[i]);
        assert_true(a.loop);
        sm_analysis_release(&a);
    }
}

/* Swing moves the sixteenths as it moves the eighths: hats on swung
 * sixteenths (the second and fourth sixteenth of each beat late by a
 * sixteenth of a beat) count as sixteenths, as straight ones do. A backbeat
 * at 70 BPM with sixteenth hats is read as half-time at 140 with eighth hats
 * (convention 2), swung or not; without the swung positions the swung hats
 * went unseen at 70, which then looked like a backbeat with eighth hats. */
static void test_tempo__swung_sixteenths_count(void **state)
{
    (void)state;
    for (int swing = 0; swing < 2; swing++) {
        struct hit h[256];
        size_t nh = 0;
        double beat = 60.0 / 70.0;
        for (int j = 0; j < 8; j++) {
            double t = j * beat;
            h[nh++] = (struct hit){t, j % 2 == 0 ? 0 : 1, 1.0};
            for (int q = 0; q < 4; q++) {
                double at = q * 0.25 + (q % 2 == 1 && swing ? 1.0 / 12.0 : 0.0);
                h[nh++] = (struct hit){t + at * beat, 2, 1.0};
            }
        }
        sm_analysis a;
        run_hits_on(h, nh, 8 * beat, 0.05f, &a);
        expect_tempo(&a, 140.0, 0.14);
        assert_true(a.loop);
        sm_analysis_release(&a);
    }
}

/* ---- Tonal loops: struck chords and melodies (sm__tempo_analyze_ex) -------- */

/* A struck or swelling tone event: MIDI notes (up to 4, -1 = none) from t for
 * len seconds at amplitude amp. */
struct tone {
    double t, len, amp;
    int notes[4];
};

/* Renders tone events into hand-made frames (mel: a mid-band burst at each
 * struck onset; mag: two harmonics per note) and runs the tempo module with
 * a->has_key set, as the analyzer does for a sound with a key. attack: fade-in
 * time in seconds (0.005 = struck, 0.15 = bowed); decay: time constant of a
 * struck tone (0 = held). tail_gain scales the last 10 % of the file. */
static void run_tones(const struct tone *ev, size_t nev, double seconds, double attack,
                      double decay, double tail_gain, sm_analysis *a)
{
    size_t n = (size_t)(seconds * SM_AN_FPS) + 1;
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    float *mag = calloc(SM_AN_NBINS, sizeof(float));
    float *rms = calloc(n, sizeof(float));
    assert_non_null(mag);
    assert_non_null(rms);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SM_AN_FPS;
        double g = t > 0.9 * seconds ? tail_gain : 1.0;
        double level = 0.0;
        memset(mag, 0, SM_AN_NBINS * sizeof(float));
        for (size_t b = 0; b < SM_AN_NMEL; b++)
            mel[b] = 1e-8f;
        for (size_t k = 0; k < nev; k++) {
            double d = t - ev[k].t + 0.5 / SM_AN_FPS;
            if (d < 0.0 || d > ev[k].len)
                continue;
            double env = ev[k].amp * g * (d < attack ? d / attack : 1.0) *
                         (decay > 0.0 ? exp(-d / decay) : 1.0);
            for (int v = 0; v < 4; v++) {
                if (ev[k].notes[v] < 0)
                    continue;
                double hz = 440.0 * pow(2.0, (ev[k].notes[v] - 69) / 12.0);
                add_partial(mag, hz, 20.0 * env);
                add_partial(mag, 2.0 * hz, 8.0 * env);
            }
            /* Struck tones rise in the mel bands; swelling ones are left
             * out of them (a bowed line registers no onsets). */
            for (size_t b = 3; b < 49 && attack < 0.05; b++)
                mel[b] += (float)env;
            level += env;
        }
        struct sm__frame f = {.index = i, .mel = mel, .mag = mag};
        assert_int_equal(sm__onset_process(&o, &f), 0);
        rms[i] = (float)(0.05 * (level > 1e-3 ? level : 1e-3));
    }
    free(mag);
    tempo_run(&o, rms, n, seconds, true, a);
}

static const int prog4[4][4] = {{60, 64, 67, 48}, {57, 60, 64, 45}, {53, 57, 60, 41},
                                {55, 59, 62, 43}};

/* 32 strikes of prog4 on the eighth notes of beat seconds, a chord for every
 * per_chord strikes; the strikes on the beat at on_amp, the others at 1. */
static size_t eighth_chords(struct tone *ev, double beat, int per_chord, double on_amp)
{
    for (int j = 0; j < 32; j++) {
        const int *c = prog4[(j / per_chord) % 4];
        ev[j] = (struct tone){j * beat / 2.0, beat / 2.0, j % 2 ? 1.0 : on_amp,
                              {c[0], c[1], c[2], c[3]}};
    }
    return 32;
}

/* HARMONIC RHYTHM: keys struck evenly on every eighth note at 70 BPM with one
 * chord per 4/4 bar. The even strikes make 140 BPM the onset pulse, but at
 * 140 the chords change on every other bar line only, so it is twice too
 * fast: 70 is reported. */
static void test_tempo__harmonic_rhythm_halves_the_level(void **state)
{
    (void)state;
    double beat = 60.0 / 70.0;
    struct tone ev[64];
    size_t nev = eighth_chords(ev, beat, 8, 1.0);
    sm_analysis a;
    run_tones(ev, nev, 16 * beat, 0.005, 0.0, 1.0, &a);
    expect_tempo(&a, 70.0, 0.1);
    assert_true(a.loop);
    sm_analysis_release(&a);
    /* The same strikes with a chord change on every bar line at 140 (every
     * half bar at 70) stay at 140. */
    nev = eighth_chords(ev, beat, 4, 1.0);
    run_tones(ev, nev, 16 * beat, 0.005, 0.0, 1.0, &a);
    expect_tempo(&a, 140.0, 0.1);
    sm_analysis_release(&a);
}

/* Struck keys (5 ms attack, 0.1 s decay) with a key: a loop at bpm. */
static void expect_struck_loop(const struct tone *ev, size_t nev, double seconds, double bpm)
{
    sm_analysis a;
    run_tones(ev, nev, seconds, 0.005, 0.1, 1.0, &a);
    expect_tempo(&a, bpm, 0.1);
    assert_true(a.loop);
    sm_analysis_release(&a);
}

/* Syncopated comping under a slow harmonic rhythm: keys struck on every
 * eighth note at 80 BPM, the strikes on the "and" louder than those on the
 * beat, with one chord a bar. The salience winner is the eighth-note level
 * (160); the harmonic rhythm halves it to 80, whose strongest strikes are the
 * off-beats. Its beats are every other beat of the aligned eighth-note level
 * and its bar lines (where the chords change) start the loop, so it is a loop
 * at 80, not the eighth-note level that the free pulse would give. */
static void test_tempo__halved_level_keeps_the_bar_lines(void **state)
{
    (void)state;
    double beat = 60.0 / 80.0;
    struct tone ev[64];
    size_t nev = eighth_chords(ev, beat, 8, 0.4);
    expect_struck_loop(ev, nev, 16 * beat, 80.0);
}

/* Chord changes witness a loop level: keys struck in a 3-3-3-3-4 sixteenth
 * figure (on 1, the "a" of 1, the "and" of 2, the "e" of 3 and on 4) at
 * 96 BPM with one chord a bar. The free pulse is the dotted eighth (128 BPM,
 * 4:3 to the beat), not a metrical level of the loop; the chord changes on
 * the bar lines of 96 say that is the level, and it is a loop at 96. */
static void test_tempo__chord_changes_witness_the_level(void **state)
{
    (void)state;
    static const double at[5] = {0.0, 0.75, 1.5, 2.25, 3.0};
    double beat = 60.0 / 96.0;
    struct tone ev[32];
    size_t nev = 0;
    for (int b = 0; b < 4; b++) {
        const int *c = prog4[b];
        for (int j = 0; j < 5; j++)
            ev[nev++] = (struct tone){(4 * b + at[j]) * beat, (j < 4 ? 0.75 : 1.0) * beat, 1.0,
                                      {c[0], c[1], c[2], c[3]}};
    }
    expect_struck_loop(ev, nev, 16 * beat, 96.0);
}

/* Triple to duple by the chord changes: keys struck in quarter-note triplets
 * (3 strikes every 2 beats, the one on the beat louder) at 118 BPM, one chord
 * a bar. Only the triplet level (24 beats in the loop, 177 BPM) has a strike
 * on every beat, but its "bar lines" (every 4 triplets) do not carry the
 * chord changes, while those of 16 beats do: 118. */
static void test_tempo__triplet_strikes_keep_the_bars(void **state)
{
    (void)state;
    double beat = 60.0 / 118.0;
    struct tone ev[32];
    size_t nev = 0;
    for (int j = 0; j < 24; j++) {
        const int *c = prog4[j / 6];
        ev[nev++] = (struct tone){j * beat * 2.0 / 3.0, beat * 2.0 / 3.0, j % 3 ? 0.5 : 1.0,
                                  {c[0], c[1], c[2], c[3]}};
    }
    expect_struck_loop(ev, nev, 16 * beat, 118.0);
}

/* START ON A BEAT: a strummed loop at 100 BPM whose up-strums on the
 * off-beats ring as loud as the down-strums on the beats: the off-beat pulse
 * is about as strong as the on-beat one, and the loop, cut at a beat, is
 * still accepted at its exact length tempo. */
static void test_tempo__syncopated_loop_starts_on_a_beat(void **state)
{
    (void)state;
    double beat = 0.6;
    struct tone ev[64];
    size_t nev = 0;
    for (int j = 0; j < 16; j++) {
        const int *c = prog4[(j / 4) % 4];
        ev[nev++] = (struct tone){j * beat, beat / 2.0, 0.9, {c[0], c[1], c[2], c[3]}};
        ev[nev++] =
            (struct tone){(j + 0.5) * beat, beat / 2.0, 1.0, {c[0], c[1], c[2], c[3]}};
    }
    sm_analysis a;
    run_tones(ev, nev, 16 * beat, 0.005, 0.15, 1.0, &a);
    expect_tempo(&a, 100.0, 1e-9);
    assert_true(a.loop);
    sm_analysis_release(&a);
}

/* A melody in two phrases: a bowed line of 16 beats at 128 BPM over a bass
 * note in octaves, whose first two bars circle one triad and the last two
 * another a tritone away. Its bar-long chroma changes most where the phrases
 * meet, so the chord changes find 2 of them (a 2-bar chord loop at 64 BPM);
 * a melody (at least 12 note changes) goes by its note changes first, which
 * give the beat: 128. */
static void test_tempo__two_phrase_melody_goes_by_its_notes(void **state)
{
    (void)state;
    static const int phrase[2][5] = {{48, 60, 64, 67, 64}, {54, 66, 70, 73, 70}};
    double beat = 60.0 / 128.0;
    struct tone ev[16];
    for (int j = 0; j < 16; j++) {
        const int *p = phrase[j / 8];
        ev[j] = (struct tone){j * beat, beat + 0.03, 1.0, {p[0], p[0] + 12, p[1 + j % 4], -1}};
    }
    sm_analysis a;
    run_tones(ev, 16, 16 * beat, 0.1, 0.0, 1.0, &a);
    expect_tempo(&a, 128.0, 0.2);
    assert_non_null(strstr(a.loop_evidence, "note changes"));
    sm_analysis_release(&a);
}

/* NOTE CHANGES and the phrase guard: a bowed line (notes swell in over
 * 0.1 s, no attacks) of eighth notes at 120 BPM that rocks between two pitch
 * classes (so the bar-long chroma never changes and the chord pass finds
 * nothing) gets its tempo from its note changes; six beats of it (11
 * changes) are too short a phrase, and the full line fading to
 * -26 dB over its last 10 % is not a loop: neither gets a tempo. */
static void test_tempo__note_changes_only_for_phrases(void **state)
{
    (void)state;
    double beat = 0.5;
    struct tone ev[32];
    for (int j = 0; j < 32; j++)
        ev[j] = (struct tone){j * beat / 2.0, beat / 2.0 + 0.03, 1.0,
                              {j % 2 ? 67 : 60, -1, -1, -1}};
    sm_analysis a;
    run_tones(ev, 32, 16 * beat, 0.1, 0.0, 1.0, &a);
    expect_tempo(&a, 120.0, 0.1);
    assert_non_null(strstr(a.loop_evidence, "note changes"));
    sm_analysis_release(&a);
    /* Six beats of it: 11 note changes. */
    run_tones(ev, 12, 6 * beat, 0.1, 0.0, 1.0, &a);
    if (a.has_tempo)
        fail_msg("12 notes got %.1f BPM: %s", a.bpm, a.loop_evidence);
    sm_analysis_release(&a);
    /* The last 10 % at -26 dB: it does not sound to its end. */
    run_tones(ev, 32, 16 * beat, 0.1, 0.0, 0.05, &a);
    if (a.has_tempo)
        fail_msg("a fading line got %.1f BPM: %s", a.bpm, a.loop_evidence);
    sm_analysis_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tempo__click_tracks_within_2_percent),
        cmocka_unit_test(test_tempo__half_double_rule),
        cmocka_unit_test(test_tempo__loop_length_refines_bpm),
        cmocka_unit_test(test_tempo__loop_tempo_is_a_whole_number_of_beats),
        cmocka_unit_test(test_tempo__loop_level_rule),
        cmocka_unit_test(test_tempo__three_against_four_agrees),
        cmocka_unit_test(test_tempo__one_shot_has_no_tempo),
        cmocka_unit_test(test_tempo__silence_and_tiny_inputs),
        cmocka_unit_test(test_tempo__noise_is_arhythmic),
        cmocka_unit_test(test_tempo__long_input_stays_correct),
        cmocka_unit_test(test_tempo__nonfinite_input_is_safe),
        cmocka_unit_test(test_tempo__out_of_memory_fails_cleanly),
        cmocka_unit_test(test_tempo__rendered_click_loop),
        cmocka_unit_test(test_tempo__rendered_click_tracks),
        cmocka_unit_test(test_tempo__rendered_one_shot_and_silence),
        cmocka_unit_test(test_tempo__half_time_reported_at_the_hats_tempo),
        cmocka_unit_test(test_tempo__sixteenth_hats_keep_the_snare_on_3),
        cmocka_unit_test(test_tempo__pad_chord_changes_give_the_tempo),
        cmocka_unit_test(test_tempo__held_chord_has_no_tempo),
        cmocka_unit_test(test_tempo__four_on_the_floor_survives_a_masked_kick),
        cmocka_unit_test(test_tempo__fast_backbeat_keeps_its_tempo),
        cmocka_unit_test(test_tempo__eighth_hats_are_not_quarter_notes),
        cmocka_unit_test(test_tempo__swung_sixteenths_count),
        cmocka_unit_test(test_tempo__half_time_with_accented_eighth_hats),
        cmocka_unit_test(test_tempo__harmonic_rhythm_halves_the_level),
        cmocka_unit_test(test_tempo__halved_level_keeps_the_bar_lines),
        cmocka_unit_test(test_tempo__chord_changes_witness_the_level),
        cmocka_unit_test(test_tempo__triplet_strikes_keep_the_bars),
        cmocka_unit_test(test_tempo__syncopated_loop_starts_on_a_beat),
        cmocka_unit_test(test_tempo__note_changes_only_for_phrases),
        cmocka_unit_test(test_tempo__two_phrase_melody_goes_by_its_notes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
