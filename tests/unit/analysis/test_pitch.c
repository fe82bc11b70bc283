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
#include "analysis/frame.h"
#include "analysis/pitch.h"
#include "testutil.h"

#define RATE SM_AN_RATE
#define TWO_S ((size_t)(SM_AN_PITCH_SECONDS * SM_AN_RATE))

/* An empty result with the fields pitch reads set to "one-shot, no onsets". */
static void blank(sm_analysis *a)
{
    sm_analysis_init(a);
    a->loop = false;
    a->onsets = NULL;
    a->n_onsets = 0;
}

static float *alloc_x(size_t n)
{
    float *x = calloc(n ? n : 1, sizeof(float));
    assert_non_null(x);
    return x;
}

/* Sum of harmonics 1..nh of f0 with amplitude 1/k (a band-limited saw), peak amp. */
static void saw(float *x, size_t n, double f0, int nh, double amp)
{
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE;
        double v = 0.0;
        for (int k = 1; k <= nh && k * f0 < RATE / 2; k++)
            v += sin(2.0 * M_PI * k * f0 * t) / k;
        x[i] = (float)(amp * 0.55 * v);
    }
}

static void assert_note(const sm_analysis *a, int midi, double cents, double tol)
{
    assert_true(a->has_note);
    assert_int_equal(a->note_midi, midi);
    assert_true(fabs(a->note_cents - cents) <= tol);
    assert_true(a->note_cents >= -50.0 && a->note_cents <= 50.0);
    double hz = 440.0 * pow(2.0, ((double)midi + cents / 100.0 - 69.0) / 12.0);
    assert_true(fabs(a->note_hz - hz) <= hz * 0.003);
    assert_true(a->note_confidence >= SM__PITCH_MIN_CONFIDENCE);
    assert_true(a->note_confidence <= 1.0);
}

static void assert_no_note(const sm_analysis *a)
{
    assert_false(a->has_note);
    assert_true(isnan(a->note_hz));
    assert_true(isnan(a->note_cents));
    assert_int_equal(a->note_midi, -1);
    assert_true(a->note_confidence >= 0.0 && a->note_confidence < SM__PITCH_MIN_CONFIDENCE);
}

static void sine_note(double hz, int midi, double cents, double tol)
{
    float *x = alloc_x(TWO_S);
    tu_sine(x, TWO_S, hz, RATE, 0.5);
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, midi, cents, tol);
    free(x);
}

static void test_pitch__sine_440_is_a4(void **state)
{
    (void)state;
    sine_note(440.0, 69, 0.0, 3.0);
}

static void test_pitch__sub_bass_e1(void **state)
{
    (void)state;
    sine_note(41.2034, 28, 0.0, 3.0);
    /* The bottom of the range: A0 and B0. */
    sine_note(27.5, 21, 0.0, 3.0);
    sine_note(30.8677, 23, 0.0, 3.0);
}

static void test_pitch__below_a0_down_to_e0(void **state)
{
    (void)state;
    /* The lowest notes of a 5-string bass and of 808s: E0 (20.6 Hz) to G#0. */
    sine_note(20.6017, 16, 0.0, 3.0);
    sine_note(23.1247, 18, 0.0, 3.0);
    sine_note(25.9565, 20, 0.0, 3.0);
    /* A saw on E0 (harmonics at 41, 62 Hz ...) is still E0, not E1. */
    float *x = alloc_x(TWO_S);
    saw(x, TWO_S, 20.6017, 60, 0.8);
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 16, 0.0, 5.0);
    free(x);
}

static void test_pitch__dc_offset_and_drift_do_not_hide_the_note(void **state)
{
    (void)state;
    /* A decaying A#4 pluck riding on a DC offset twice its amplitude and a slow
     * ramp (as a plucked-string model or a cheap recorder leaves): the offset is
     * energy at no harmonic and must not make the note look like a chord. */
    float *x = alloc_x(TWO_S);
    saw(x, TWO_S, 466.1638, 8, 0.2);
    for (size_t i = 0; i < TWO_S; i++) {
        double t = (double)i / RATE;
        x[i] = (float)((double)x[i] * exp(-t / 0.6) + 0.4 + 0.05 * t);
    }
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 70, 0.0, 3.0);
    /* A pure offset alone is no note. */
    for (size_t i = 0; i < TWO_S; i++)
        x[i] = 0.5f;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_no_note(&a);
    free(x);
}

static void test_pitch__detuned_unison_high_note(void **state)
{
    (void)state;
    /* A detuned-unison G#6: two saws 25 cents either side (each partial is split
     * +-25 cents away from the note, where one exact frequency sees nothing). */
    float *x = alloc_x(TWO_S);
    float *v = alloc_x(TWO_S);
    static const double detune[2] = {-25.0, 25.0};
    for (int i = 0; i < 2; i++) {
        saw(v, TWO_S, 1661.219 * pow(2.0, detune[i] / 1200.0), 6, 0.3);
        for (size_t j = 0; j < TWO_S; j++)
            x[j] += v[j];
    }
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 92, 0.0, 10.0);
    free(v);
    free(x);
}

static void test_pitch__weak_low_partials(void **state)
{
    (void)state;
    /* A bright E2 (like a low piano or organ note): partials 1..12, the first three
     * well below the rest, so they hold only 7 % of the energy. Still E2, not a
     * chord's common period. */
    float *x = alloc_x(TWO_S);
    for (size_t j = 0; j < TWO_S; j++) {
        double t = (double)j / RATE;
        double v = 0.08 * sin(2.0 * M_PI * 82.4069 * t);
        v += 0.1 * sin(2.0 * M_PI * 82.4069 * 2.0 * t);
        v += 0.1 * sin(2.0 * M_PI * 82.4069 * 3.0 * t);
        for (int k = 4; k <= 12; k++)
            v += 0.2 * sin(2.0 * M_PI * 82.4069 * k * t + 0.7 * k);
        x[j] = (float)(0.3 * v);
    }
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 40, 0.0, 3.0);
    free(x);
}

static void test_pitch__a6(void **state)
{
    (void)state;
    sine_note(1760.0, 93, 0.0, 3.0);
    sine_note(4186.01, 108, 0.0, 3.0); /* C8, the top of the range */
}

static void test_pitch__cents_sharp_and_flat(void **state)
{
    (void)state;
    sine_note(440.0 * pow(2.0, 30.0 / 1200.0), 69, 30.0, 3.0);
    sine_note(261.6256 * pow(2.0, -20.0 / 1200.0), 60, -20.0, 3.0);
    /* 45 cents sharp of G1, a sub-bass note. */
    sine_note(48.9994 * pow(2.0, 45.0 / 1200.0), 31, 45.0, 3.0);
}

static void test_pitch__saw_55_is_a1_not_an_octave_off(void **state)
{
    (void)state;
    float *x = alloc_x(TWO_S);
    saw(x, TWO_S, 55.0, 40, 0.8);
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 33, 0.0, 3.0);
    /* A stronger second harmonic than fundamental still names the fundamental. */
    for (size_t i = 0; i < TWO_S; i++) {
        double t = (double)i / RATE;
        x[i] = (float)(0.3 * sin(2.0 * M_PI * 110.0 * t) + 0.5 * sin(2.0 * M_PI * 220.0 * t) +
                       0.2 * sin(2.0 * M_PI * 330.0 * t));
    }
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 45, 0.0, 3.0);
    free(x);
}

/* Sum of sines at harmonics 1..nh of f0 with amplitudes amp[0 .. nh), from t0 s on. */
static void partials(float *x, size_t n, double f0, const double *amp, int nh, double t0)
{
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE;
        double v = 0.0;
        if (t >= t0)
            for (int k = 1; k <= nh; k++)
                v += amp[k - 1] * sin(2.0 * M_PI * k * f0 * t + 0.7 * k);
        x[i] += (float)v;
    }
}

static void test_pitch__formant_on_harmonic_2_is_not_an_octave_up(void **state)
{
    (void)state;
    /* F3 sung on a vowel whose first formant sits on harmonic 2: the fundamental
     * 20 dB and harmonic 3 14 dB below it. Half the period already dips under YIN's
     * threshold (the odd harmonics are the only difference), the full period dips
     * far deeper: F3, not F4. */
    static const double amp[5] = {0.05, 0.5, 0.1, 0.04, 0.02};
    float *x = alloc_x(TWO_S);
    partials(x, TWO_S, 174.6141, amp, 5, 0.0);
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 53, 0.0, 3.0);
    /* The same check through the plain YIN entry point. */
    double per = 0.0;
    double f0 = sm__pitch_yin(x, 8192, RATE, 40.0, 2000.0, &per);
    assert_true(fabs(f0 - 174.6141) < 1.0);
    free(x);
}

static void test_pitch__c7_is_not_an_octave_down(void **state)
{
    (void)state;
    /* A bright C7 (harmonics 1..5 equally loud; period 10.5 samples at the
     * analysis rate): no integer lag lands on one period, two periods land on 21
     * samples, where YIN finds its dip. No energy at the odd harmonics of C6
     * says the note is C7. */
    static const double amp[5] = {0.3, 0.3, 0.3, 0.3, 0.3};
    float *x = alloc_x(TWO_S);
    partials(x, TWO_S, 2093.005, amp, 5, 0.0);
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 96, 0.0, 5.0);
    free(x);
}

static void test_pitch__fm_tone_with_late_fundamental(void **state)
{
    (void)state;
    /* A2 whose first 0.8 s hold their energy in harmonics 4..10 (a high FM index)
     * and whose fundamental shows only later, when the index has decayed (first 4
     * cents flat, then from 1.2 s 4 cents sharp). The windows agree on A2; the
     * median pitch is one of the early windows, but the median of the windows'
     * harmonic shares is a late one: a note, not a chord. */
    static const double high[10] = {0.01, 0.01, 0.01, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3};
    static const double low[3] = {0.6, 0.3, 0.1};
    float *x = alloc_x(TWO_S);
    size_t a1 = (size_t)(0.8 * RATE);
    size_t a2 = (size_t)(1.2 * RATE);
    partials(x, a1, 110.0, high, 10, 0.0);
    partials(x + a1, a2 - a1, 110.0 * pow(2.0, -4.0 / 1200.0), low, 3, 0.0);
    partials(x + a2, TWO_S - a2, 110.0 * pow(2.0, 4.0 / 1200.0), low, 3, 0.0);
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 45, 0.0, 8.0);
    free(x);
}

static void test_pitch__decaying_pluck(void **state)
{
    (void)state;
    /* D3 (146.83 Hz): 12 harmonics, higher ones decaying faster, a noisy 5 ms
     * attack, starting after 0.3 s of silence; the onset is given. */
    size_t n = TWO_S;
    float *x = alloc_x(n);
    double f0 = 146.8324;
    size_t at = (size_t)(0.3 * RATE);
    for (size_t i = at; i < n; i++) {
        double t = (double)(i - at) / RATE;
        double v = 0.0;
        for (int k = 1; k <= 12; k++)
            v += exp(-t * (2.0 + 1.5 * k)) * sin(2.0 * M_PI * k * f0 * t + 0.3 * k) / k;
        x[i] = (float)(0.6 * v);
    }
    tu_click(x, n, RATE, 0.3, 0.5);
    float onset = 0.3f;
    sm_analysis a;
    blank(&a);
    a.onsets = &onset;
    a.n_onsets = 1;
    assert_int_equal(sm__pitch_analyze(x, n, &a), 0);
    assert_note(&a, 50, 0.0, 3.0);
    /* Without the onset the attack is found from the level. */
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, n, &a), 0);
    assert_note(&a, 50, 0.0, 3.0);
    free(x);
}

static void test_pitch__808_with_pitch_drop(void **state)
{
    (void)state;
    /* An 808-style G1 (49 Hz): the pitch falls from about 3x in the first 30 ms,
     * then the sine decays over about a second. */
    size_t n = TWO_S;
    float *x = alloc_x(n);
    double f0 = 48.9994;
    double phase = 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE;
        double f = f0 * (1.0 + 2.0 * exp(-t / 0.01));
        phase += 2.0 * M_PI * f / RATE;
        x[i] = (float)(0.9 * exp(-t / 0.6) * sin(phase));
    }
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, n, &a), 0);
    assert_note(&a, 31, 0.0, 5.0);
    free(x);
}

static void test_pitch__noise_has_no_note(void **state)
{
    (void)state;
    float *x = alloc_x(TWO_S);
    tu_noise(x, TWO_S, 0.5, 7);
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_no_note(&a);
    /* A snare-like burst: noise with a fast decay and clicks. */
    for (size_t i = 0; i < TWO_S; i++)
        x[i] *= (float)exp(-(double)i / (0.08 * RATE));
    tu_click(x, TWO_S, RATE, 0.0, 0.9);
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_no_note(&a);
    free(x);
}

static void test_pitch__chord_has_no_note(void **state)
{
    (void)state;
    /* C major triad, C4 E4 G4, equal temperament, equal levels. */
    static const double hz[3] = {261.6256, 329.6276, 391.9954};
    float *x = alloc_x(TWO_S);
    for (size_t i = 0; i < TWO_S; i++) {
        double v = 0.0;
        for (int k = 0; k < 3; k++)
            v += sin(2.0 * M_PI * hz[k] * (double)i / RATE);
        x[i] = (float)(0.3 * v);
    }
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_no_note(&a);
    free(x);
}

static void test_pitch__loop_silence_and_bad_input(void **state)
{
    (void)state;
    float *x = alloc_x(TWO_S);
    tu_sine(x, TWO_S, 440.0, RATE, 0.5);
    sm_analysis a;
    blank(&a);
    a.loop = true;
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_no_note(&a);
    blank(&a);
    memset(x, 0, TWO_S * sizeof(float));
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_no_note(&a);
    blank(&a);
    assert_int_equal(sm__pitch_analyze(NULL, 100, &a), 0);
    assert_no_note(&a);
    assert_int_equal(sm__pitch_analyze(x, 0, &a), 0);
    assert_no_note(&a);
    assert_int_equal(sm__pitch_analyze(x, 10, NULL), 0);
    /* NaN samples do not leak into the result. */
    tu_sine(x, TWO_S, 440.0, RATE, 0.5);
    for (size_t i = 0; i < TWO_S; i += 1000)
        x[i] = NAN;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_false(isnan(a.note_confidence));
    if (a.has_note)
        assert_false(isnan(a.note_hz));
    /* An onset past the end of the buffer. */
    tu_sine(x, TWO_S, 440.0, RATE, 0.5);
    float onset = 5.0f;
    blank(&a);
    a.onsets = &onset;
    a.n_onsets = 1;
    assert_int_equal(sm__pitch_analyze(x, TWO_S, &a), 0);
    assert_note(&a, 69, 0.0, 3.0);
    free(x);
}

static void test_pitch__very_short_input(void **state)
{
    (void)state;
    /* 0.05 s of A4 (less than one analysis window) still names it. */
    size_t n = (size_t)(0.05 * RATE);
    float *x = alloc_x(n);
    tu_sine(x, n, 440.0, RATE, 0.5);
    sm_analysis a;
    blank(&a);
    assert_int_equal(sm__pitch_analyze(x, n, &a), 0);
    assert_note(&a, 69, 0.0, 5.0);
    /* Tiny inputs give no note and no crash. */
    for (size_t m = 1; m < 40; m += 3) {
        blank(&a);
        assert_int_equal(sm__pitch_analyze(x, m, &a), 0);
        assert_no_note(&a);
    }
    free(x);
}

static void test_pitch__yin_direct(void **state)
{
    (void)state;
    float *x = alloc_x(8192);
    tu_sine(x, 4096, 440.0, RATE, 0.5);
    double per = -1.0;
    double f = sm__pitch_yin(x, 4096, RATE, 27.5, 4200.0, &per);
    assert_true(fabs(f - 440.0) < 0.5);
    assert_true(per > 0.95 && per <= 1.0);
    /* Another rate. */
    tu_sine(x, 8192, 100.0, 48000.0, 0.5);
    f = sm__pitch_yin(x, 8192, 48000.0, 50.0, 1000.0, NULL);
    assert_true(fabs(f - 100.0) < 0.2);
    /* Noise is aperiodic. */
    tu_noise(x, 4096, 0.5, 3);
    f = sm__pitch_yin(x, 4096, RATE, 27.5, 4200.0, &per);
    assert_true(f < 0.5 && f > -0.5);
    assert_true(per < 0.5);
    /* Wrong parameters. */
    assert_true(sm__pitch_yin(NULL, 4096, RATE, 27.5, 4200.0, &per) < 0.5);
    assert_true(per < 0.5);
    assert_true(sm__pitch_yin(x, 4096, 0.0, 27.5, 4200.0, NULL) < 0.5);
    assert_true(sm__pitch_yin(x, 4096, RATE, 500.0, 100.0, NULL) < 0.5);
    assert_true(sm__pitch_yin(x, 4096, RATE, 0.0, 100.0, NULL) < 0.5);
    assert_true(sm__pitch_yin(x, 4, RATE, 27.5, 4200.0, NULL) < 0.5);
    free(x);
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

static void test_pitch__out_of_memory(void **state)
{
    (void)state;
    float *x = alloc_x(TWO_S);
    tu_sine(x, TWO_S, 440.0, RATE, 0.5);
    sm_analysis a;
    blank(&a);
    fail_after = 0;
    sm_set_allocator(failing_malloc, failing_realloc, failing_calloc, free);
    int rc = sm__pitch_analyze(x, TWO_S, &a);
    double f = sm__pitch_yin(x, 4096, RATE, 27.5, 4200.0, NULL);
    sm_set_allocator(NULL, NULL, NULL, NULL);
    assert_int_equal(rc, -1);
    assert_no_note(&a);
    assert_true(f < -0.5);
    free(x);
}

static void test_pitch__note_names(void **state)
{
    (void)state;
    char buf[8];
    assert_string_equal(sm_note_name(0, buf, sizeof(buf)), "C-1");
    assert_string_equal(sm_note_name(30, buf, sizeof(buf)), "F#1");
    assert_string_equal(sm_note_name(60, buf, sizeof(buf)), "C4");
    assert_string_equal(sm_note_name(69, buf, sizeof(buf)), "A4");
    assert_string_equal(sm_note_name(127, buf, sizeof(buf)), "G9");
    assert_string_equal(sm_note_name(21, buf, sizeof(buf)), "A0");
    assert_string_equal(sm_note_name(-1, buf, sizeof(buf)), "?");
    assert_string_equal(sm_note_name(128, buf, sizeof(buf)), "?");
    /* A short buffer is truncated, never overrun. */
    char small[3] = {'x', 'x', 'x'};
    assert_ptr_equal(sm_note_name(61, small, 2), small);
    assert_string_equal(small, "C");
    assert_null(sm_note_name(61, NULL, 8));
}

/* End to end: notes rendered at 44.1 kHz stereo, written to a file and run through
 * the whole pipeline (decode, resample, onsets, loop detection, pitch). */

#define E2E_RATE 44100

static void analyze_file(const float *mono, size_t n, sm_analysis *a)
{
    float *st = malloc(2 * n * sizeof(float));
    assert_non_null(st);
    tu_interleave(mono, n, 2, st);
    const char *path = tu_path("pitch.wav");
    assert_int_equal(tu_write(path, st, n, 2, E2E_RATE, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
    free(st);
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    assert_non_null(an);
    sm_analysis_init(a);
    assert_int_equal(sm_analyzer_run(an, path, a, &err), SM_OK);
    sm_analyzer_free(an);
    remove(path);
}

static void test_pitch__end_to_end_notes(void **state)
{
    (void)state;
    size_t n = 2 * E2E_RATE;
    float *x = calloc(n, sizeof(float));
    assert_non_null(x);
    sm_analysis a;

    /* A2 pluck: 6 harmonics at 1/k^2 after 0.25 s of silence, 1.5 s decay. */
    size_t at = E2E_RATE / 4;
    for (size_t i = at; i < n; i++) {
        double t = (double)(i - at) / E2E_RATE;
        double v = 0.0;
        for (int k = 1; k <= 6; k++)
            v += sin(2.0 * M_PI * k * 110.0 * t) / (k * k);
        x[i] = (float)(0.6 * (1.0 - exp(-t / 0.005)) * exp(-t / 1.5) * v);
    }
    analyze_file(x, n, &a);
    assert_note(&a, 45, 0.0, 3.0);
    sm_analysis_release(&a);

    /* An 808-style G1 with its pitch drop. */
    double phase = 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / E2E_RATE;
        phase += 2.0 * M_PI * 48.9994 * (1.0 + 2.0 * exp(-t / 0.01)) / E2E_RATE;
        x[i] = (float)(0.9 * exp(-t / 0.6) * sin(phase));
    }
    analyze_file(x, n, &a);
    assert_note(&a, 31, 0.0, 5.0);
    sm_analysis_release(&a);

    /* A4 15 cents flat, 1 s; E1 sine, 1 s. */
    tu_sine(x, E2E_RATE, 440.0 * pow(2.0, -15.0 / 1200.0), E2E_RATE, 0.5);
    analyze_file(x, E2E_RATE, &a);
    assert_note(&a, 69, -15.0, 3.0);
    sm_analysis_release(&a);
    tu_sine(x, E2E_RATE, 41.2034, E2E_RATE, 0.7);
    analyze_file(x, E2E_RATE, &a);
    assert_note(&a, 28, 0.0, 3.0);
    sm_analysis_release(&a);
    free(x);
}

static void test_pitch__end_to_end_no_note(void **state)
{
    (void)state;
    size_t n = 2 * E2E_RATE;
    float *x = calloc(n, sizeof(float));
    assert_non_null(x);
    sm_analysis a;
    tu_noise(x, n, 0.5, 5);
    analyze_file(x, n, &a);
    assert_no_note(&a);
    sm_analysis_release(&a);
    /* C major triad, piano-like. */
    static const double hz[3] = {261.6256, 329.6276, 391.9954};
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / E2E_RATE;
        double v = 0.0;
        for (int c = 0; c < 3; c++)
            for (int k = 1; k <= 6; k++)
                v += sin(2.0 * M_PI * k * hz[c] * t) / (k * k);
        x[i] = (float)(0.25 * exp(-t / 1.5) * v);
    }
    analyze_file(x, n, &a);
    assert_no_note(&a);
    sm_analysis_release(&a);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pitch__sine_440_is_a4),
        cmocka_unit_test(test_pitch__sub_bass_e1),
        cmocka_unit_test(test_pitch__below_a0_down_to_e0),
        cmocka_unit_test(test_pitch__dc_offset_and_drift_do_not_hide_the_note),
        cmocka_unit_test(test_pitch__detuned_unison_high_note),
        cmocka_unit_test(test_pitch__weak_low_partials),
        cmocka_unit_test(test_pitch__a6),
        cmocka_unit_test(test_pitch__cents_sharp_and_flat),
        cmocka_unit_test(test_pitch__saw_55_is_a1_not_an_octave_off),
        cmocka_unit_test(test_pitch__formant_on_harmonic_2_is_not_an_octave_up),
        cmocka_unit_test(test_pitch__c7_is_not_an_octave_down),
        cmocka_unit_test(test_pitch__fm_tone_with_late_fundamental),
        cmocka_unit_test(test_pitch__decaying_pluck),
        cmocka_unit_test(test_pitch__808_with_pitch_drop),
        cmocka_unit_test(test_pitch__noise_has_no_note),
        cmocka_unit_test(test_pitch__chord_has_no_note),
        cmocka_unit_test(test_pitch__loop_silence_and_bad_input),
        cmocka_unit_test(test_pitch__very_short_input),
        cmocka_unit_test(test_pitch__yin_direct),
        cmocka_unit_test(test_pitch__out_of_memory),
        cmocka_unit_test(test_pitch__note_names),
        cmocka_unit_test(test_pitch__end_to_end_notes),
        cmocka_unit_test(test_pitch__end_to_end_no_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
