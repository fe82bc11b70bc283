#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <samplemind/alloc.h>
#include "analysis/frame.h"
#include "analysis/onset.h"
#include "util/vec.h"
#include "testutil.h"

/* Run the onset module over mono signal x at SM_AN_RATE the way the pipeline does:
 * frames centred on i * hop (zero padded), a hand-made mel spectrum per frame (the
 * Hann-windowed frame energy shaped by a fixed, falling band profile, which is
 * what a broadband click gives), and the fine RMS envelope per 64 samples. */
static void detect(const float *x, size_t n, struct sm__fvec *times, struct sm__onset *o)
{
    sm__onset_init(o);
    size_t frames = 1 + n / SM_AN_HOP;
    float mel[SM_AN_NMEL];
    for (size_t i = 0; i < frames; i++) {
        long c = (long)(i * SM_AN_HOP);
        double e = 0.0;
        for (long d = -SM_AN_NFFT / 2; d < SM_AN_NFFT / 2; d++) {
            long at = c + d;
            if (at < 0 || at >= (long)n)
                continue;
            double w = 0.5 + 0.5 * cos(M_PI * (double)d / (SM_AN_NFFT / 2));
            double v = w * (double)x[at];
            e += v * v;
        }
        for (size_t b = 0; b < SM_AN_NMEL; b++)
            mel[b] = (float)(e * 50.0 / (1.0 + (double)b / 8.0));
        struct sm__frame f = {.index = i, .mel = mel};
        assert_int_equal(sm__onset_process(o, &f), 0);
    }
    assert_int_equal(o->odf.n, frames);
    size_t nf = (n + SM_AN_FINE_HOP - 1) / SM_AN_FINE_HOP;
    float *fine = calloc(nf ? nf : 1, sizeof(float));
    assert_non_null(fine);
    for (size_t j = 0; j < nf; j++) {
        double s = 0.0;
        size_t k = 0;
        for (; k < SM_AN_FINE_HOP && j * SM_AN_FINE_HOP + k < n; k++) {
            double v = x[j * SM_AN_FINE_HOP + k];
            s += v * v;
        }
        fine[j] = (float)sqrt(s / (double)k);
    }
    assert_int_equal(sm__onset_pick(o, fine, nf, times), 0);
    free(fine);
}

static float *signal(double seconds, size_t *n)
{
    *n = (size_t)(seconds * SM_AN_RATE);
    float *x = calloc(*n, sizeof(float));
    assert_non_null(x);
    return x;
}

static void test_onset__clicks_refined_within_12_ms(void **state)
{
    (void)state;
    static const double at[] = {0.25, 0.61, 0.903, 1.37, 1.52, 2.111, 2.5, 2.66, 3.2, 3.33};
    static const double amp[] = {0.9, 0.3, 0.6, 0.2, 0.8, 0.5, 0.9, 0.4, 0.1, 0.7};
    size_t nc = sizeof(at) / sizeof(at[0]);
    size_t n;
    float *x = signal(4.0, &n);
    tu_noise(x, n, tu_db(-60.0), 3u);
    for (size_t i = 0; i < nc; i++)
        tu_click(x, n, SM_AN_RATE, at[i], amp[i]);
    struct sm__fvec t = SM__FVEC_INIT;
    struct sm__onset o;
    detect(x, n, &t, &o);
    assert_int_equal(t.n, nc);
    double sum = 0.0;
    for (size_t i = 0; i < nc; i++) {
        double err = (double)t.v[i] - at[i];
        if (fabs(err) > 0.012)
            fail_msg("click at %.3f s found at %.4f s", at[i], (double)t.v[i]);
        sum += fabs(err);
    }
    assert_true(sum / (double)nc <= 0.005);
    sm__fvec_release(&t);
    sm__onset_release(&o);
    free(x);
}

static void test_onset__tone_and_time_zero(void **state)
{
    (void)state;
    size_t n;
    float *x = signal(2.0, &n);
    /* A click at time 0, then a 440 Hz tone with a 5 ms attack from 0.8 s to 1.6 s. */
    tu_click(x, n, SM_AN_RATE, 0.0, 0.8);
    size_t s0 = (size_t)(0.8 * SM_AN_RATE);
    size_t s1 = (size_t)(1.6 * SM_AN_RATE);
    for (size_t i = s0; i < s1; i++) {
        double t = (double)(i - s0) / SM_AN_RATE;
        double env = t < 0.005 ? t / 0.005 : 1.0;
        x[i] = (float)(0.5 * env * sin(2.0 * M_PI * 440.0 * t));
    }
    struct sm__fvec t = SM__FVEC_INIT;
    struct sm__onset o;
    detect(x, n, &t, &o);
    assert_int_equal(t.n, 2);
    assert_true(fabs((double)t.v[0]) <= 0.005);
    assert_true(fabs((double)t.v[1] - 0.8) <= 0.012);
    sm__fvec_release(&t);
    sm__onset_release(&o);
    free(x);
}

static void test_onset__silence_and_quiet_give_nothing(void **state)
{
    (void)state;
    size_t n;
    float *x = signal(2.0, &n);
    struct sm__fvec t = SM__FVEC_INIT;
    struct sm__onset o;
    detect(x, n, &t, &o);
    assert_int_equal(t.n, 0);
    for (size_t i = 0; i < o.odf.n; i++)
        assert_true(o.odf.v[i] >= 0.0f && o.odf.v[i] <= 0.0f);
    sm__onset_release(&o);

    /* Clicks at -80 dBFS are below the absolute floor. */
    for (int k = 0; k < 4; k++)
        tu_click(x, n, SM_AN_RATE, 0.3 + 0.4 * k, tu_db(-80.0));
    detect(x, n, &t, &o);
    assert_int_equal(t.n, 0);
    sm__onset_release(&o);

    /* Steady noise has no onsets after its start. */
    tu_noise(x, n, 0.3, 9u);
    detect(x, n, &t, &o);
    assert_int_equal(t.n, 1);
    assert_true((double)t.v[0] < 0.01);
    sm__fvec_release(&t);
    sm__onset_release(&o);
    free(x);
}

static void test_onset__single_click_short_input_and_gap(void **state)
{
    (void)state;
    struct sm__fvec t = SM__FVEC_INIT;
    struct sm__onset o;
    /* 0.05 s with one click at 10 ms. */
    size_t n;
    float *x = signal(0.05, &n);
    tu_click(x, n, SM_AN_RATE, 0.01, 0.5);
    detect(x, n, &t, &o);
    assert_int_equal(t.n, 1);
    assert_true(fabs((double)t.v[0] - 0.01) <= 0.012);
    sm__fvec_clear(&t);
    sm__onset_release(&o);
    free(x);

    /* Two clicks 10 ms apart are one onset; 150 ms apart they are two. */
    x = signal(1.0, &n);
    tu_click(x, n, SM_AN_RATE, 0.3, 0.5);
    tu_click(x, n, SM_AN_RATE, 0.31, 0.5);
    tu_click(x, n, SM_AN_RATE, 0.7, 0.5);
    tu_click(x, n, SM_AN_RATE, 0.85, 0.5);
    detect(x, n, &t, &o);
    assert_int_equal(t.n, 3);
    assert_true(fabs((double)t.v[0] - 0.3) <= 0.012);
    assert_true(fabs((double)t.v[1] - 0.7) <= 0.012);
    assert_true(fabs((double)t.v[2] - 0.85) <= 0.012);

    /* Without a fine envelope, onsets are frame times. */
    sm__fvec_clear(&t);
    assert_int_equal(sm__onset_pick(&o, NULL, 0, &t), 0);
    assert_int_equal(t.n, 3);
    for (size_t i = 0; i < t.n; i++) {
        double fr = (double)t.v[i] * SM_AN_RATE / SM_AN_HOP;
        assert_true(fabs(fr - round(fr)) < 1e-3);
    }
    sm__fvec_release(&t);
    sm__onset_release(&o);
    free(x);

    /* An empty envelope. */
    sm__onset_init(&o);
    assert_int_equal(sm__onset_pick(&o, NULL, 0, &t), 0);
    assert_int_equal(t.n, 0);
    sm__onset_release(&o);
}

static void test_onset__strength_values(void **state)
{
    (void)state;
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    struct sm__frame f = {.mel = mel};
    /* Floor-level first frame: no strength. */
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 0.0f;
    assert_int_equal(sm__onset_process(&o, &f), 0);
    /* Every band to 1.0 (0 dB) from the -100 dB floor: the rise counts 30 dB. */
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 1.0f;
    assert_int_equal(sm__onset_process(&o, &f), 0);
    /* Unchanged: 0. Up 20 dB: 20. Down: 0. */
    assert_int_equal(sm__onset_process(&o, &f), 0);
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 100.0f;
    assert_int_equal(sm__onset_process(&o, &f), 0);
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 0.01f;
    assert_int_equal(sm__onset_process(&o, &f), 0);
    /* A single tone moving up by one band: SuperFlux sees no onset. */
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = b == 20 ? 10.0f : 1e-6f;
    assert_int_equal(sm__onset_process(&o, &f), 0);
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = b == 21 ? 10.0f : 1e-6f;
    assert_int_equal(sm__onset_process(&o, &f), 0);
    /* NaN and infinity do not leak into the envelope. */
    mel[3] = NAN;
    mel[4] = INFINITY;
    assert_int_equal(sm__onset_process(&o, &f), 0);

    const float *v = o.odf.v;
    assert_int_equal(o.odf.n, 8);
    assert_float_equal(v[0], 0.0, 1e-6);
    assert_float_equal(v[1], 30.0, 0.01);
    assert_float_equal(v[2], 0.0, 1e-6);
    assert_float_equal(v[3], 20.0, 0.01);
    assert_float_equal(v[4], 0.0, 1e-6);
    /* Frame 5: band 20 rises 30 dB over the 0.01 (-20 dB) of the frame before:
     * some strength. */
    assert_true(v[5] > 0.0f);
    assert_float_equal(v[6], 0.0, 1e-6);
    assert_true(isfinite(v[7]) && v[7] >= 0.0f);
    sm__onset_release(&o);
    assert_null(o.odf.v);
    assert_int_equal(o.odf.n, 0);
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

static void test_onset__out_of_memory_is_reported(void **state)
{
    (void)state;
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 1.0f;
    struct sm__frame f = {.mel = mel};
    fail_after = 0;
    sm_set_allocator(failing_malloc, failing_realloc, failing_calloc, free);
    int rc = sm__onset_process(&o, &f);
    sm_set_allocator(NULL, NULL, NULL, NULL);
    assert_int_equal(rc, -1);
    assert_int_equal(o.odf.n, 0);
    assert_int_equal(sm__onset_process(&o, &f), 0);

    struct sm__fvec t = SM__FVEC_INIT;
    fail_after = 0;
    sm_set_allocator(failing_malloc, failing_realloc, failing_calloc, free);
    rc = sm__onset_pick(&o, NULL, 0, &t);
    sm_set_allocator(NULL, NULL, NULL, NULL);
    assert_int_equal(rc, -1);
    sm__fvec_release(&t);
    sm__onset_release(&o);
}

static void test_onset__per_frame_cost(void **state)
{
    (void)state;
    struct sm__onset o;
    sm__onset_init(&o);
    /* 16 prepared spectra (mel and FFT magnitudes, for the chroma novelty),
     * cycled, so only the module is timed. */
    static float mels[16][SM_AN_NMEL];
    static float mags[16][SM_AN_NBINS];
    unsigned s = 1u;
    for (size_t i = 0; i < 16; i++) {
        for (size_t k = 0; k < SM_AN_NMEL; k++) {
            s = s * 1664525u + 1013904223u;
            mels[i][k] = (float)(s >> 8) * 1e-4f;
        }
        for (size_t k = 0; k < SM_AN_NBINS; k++) {
            s = s * 1664525u + 1013904223u;
            mags[i][k] = (float)(s >> 8) * 1e-6f;
        }
    }
    size_t frames = 200000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (size_t i = 0; i < frames; i++) {
        struct sm__frame f = {.index = i, .mel = mels[i % 16], .mag = mags[i % 16]};
        assert_int_equal(sm__onset_process(&o, &f), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
                (double)frames;
    print_message("sm__onset_process: %.0f ns per frame\n", ns);
    assert_int_equal(o.odf.n, frames);
    assert_int_equal(o.band[SM__ONSET_HIGH].n, frames);
    assert_int_equal(o.chroma_nov.n, frames - (SM__ONSET_NOV_W - 1));
    sm__onset_release(&o);
}

static void test_onset__band_strengths_separate_roles(void **state)
{
    (void)state;
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    /* Frame 0: everything at -60 dB; frames 1, 2, 3: a 20 dB rise in the low,
     * mid (150 Hz..5 kHz) and high bands alone; frame 4: unchanged. */
    for (size_t i = 0; i < 5; i++) {
        for (size_t b = 0; b < SM_AN_NMEL; b++)
            mel[b] = 1e-6f;
        size_t lo = i == 1 ? 0 : (i == 2 ? SM__ONSET_LOW_END : SM__ONSET_HIGH_FIRST);
        size_t hi = i == 1 ? SM__ONSET_LOW_END : (i == 2 ? SM__ONSET_HIGH_FIRST : SM_AN_NMEL);
        if (i >= 1 && i <= 3) {
            for (size_t b = lo; b < hi; b++)
                mel[b] = 1e-4f;
        }
        struct sm__frame f = {.index = i, .mel = mel};
        assert_int_equal(sm__onset_process(&o, &f), 0);
    }
    const float *L = o.band[SM__ONSET_LOW].v;
    const float *S = o.band[SM__ONSET_SNARE].v;
    const float *H = o.band[SM__ONSET_HIGH].v;
    assert_int_equal(o.band[SM__ONSET_LOW].n, 5);
    assert_int_equal(o.band[SM__ONSET_SNARE].n, 5);
    /* A band's strength is the mean rise over its own bands. The SuperFlux
     * maximum filter lets the neighbouring band of the previous frame hide the
     * rise at a range's edge (frame 3 follows a rise just below it), so that
     * mean is a little under 20 dB. */
    assert_float_equal(L[1], 20.0f, 0.01f);
    assert_float_equal(H[1], 0.0f, 1e-6f);
    assert_float_equal(H[2], 0.0f, 1e-6f);
    assert_true(H[3] > 18.0f && H[3] <= 20.0f);
    assert_float_equal(L[4], 0.0f, 1e-6f);
    assert_float_equal(H[4], 0.0f, 1e-6f);
    /* The snare detector: the amplitude rise over 1-5 kHz (30 mel bands from
     * 1e-6 to 1e-4), nothing for the low and high rises or a steady frame. */
    float want = sqrtf(30.0f * 1e-4f) - sqrtf(30.0f * 1e-6f);
    assert_float_equal(S[2], want, 1e-4f * want);
    assert_float_equal(S[1], 0.0f, 1e-9f);
    assert_float_equal(S[3], 0.0f, 1e-9f);
    assert_float_equal(S[4], 0.0f, 1e-9f);
    /* The full strength is the mean rise over all mel bands. */
    assert_float_equal(o.odf.v[1], L[1] * SM__ONSET_LOW_END / SM_AN_NMEL, 1e-4f);
    assert_float_equal(o.odf.v[3], H[3] * (SM_AN_NMEL - SM__ONSET_HIGH_FIRST) / SM_AN_NMEL,
                       1e-4f);
    assert_true(o.odf.v[2] > 18.0f * (SM__ONSET_HIGH_FIRST - SM__ONSET_LOW_END) / SM_AN_NMEL);
    sm__onset_release(&o);
}

/* The snare detector tells a snare from a kick: the same 20 dB rise over
 * 1-5 kHz scores far less when it comes with the much larger amplitude rise
 * of a kick below 130 Hz (its click or its driven harmonics), as its share of
 * the two rises. */
static void test_onset__snare_detector_discounts_the_kick(void **state)
{
    (void)state;
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    /* Frames 1 (snare) and 3 (kick with a click) after steady frames. */
    for (size_t i = 0; i < 4; i++) {
        for (size_t b = 0; b < SM_AN_NMEL; b++)
            mel[b] = 1e-6f;
        if (i == 1 || i == 3) {
            for (size_t b = SM__ONSET_SNARE_FIRST; b < SM__ONSET_HIGH_FIRST; b++)
                mel[b] = 1e-4f;
        }
        if (i == 3) {
            for (size_t b = 0; b < SM__ONSET_KICK_END; b++)
                mel[b] = 0.1f;
        }
        struct sm__frame f = {.index = i, .mel = mel};
        assert_int_equal(sm__onset_process(&o, &f), 0);
    }
    const float *S = o.band[SM__ONSET_SNARE].v;
    float ds = sqrtf(30.0f * 1e-4f) - sqrtf(30.0f * 1e-6f);
    float dl = sqrtf(2.0f * 0.1f) - sqrtf(2.0f * 1e-6f);
    assert_float_equal(S[1], ds, 1e-4f * ds);
    assert_float_equal(S[3], ds * ds / (ds + dl), 1e-3f * ds);
    assert_true(S[3] < 0.15f * S[1]);
    sm__onset_release(&o);
}

/* mag[] of a chord: MIDI notes, each one partial on its nearest bin. */
static void chord_mag(float *mag, const int *notes, size_t n, float level)
{
    memset(mag, 0, SM_AN_NBINS * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        double hz = 440.0 * pow(2.0, (notes[i] - 69) / 12.0);
        long k = lround(hz * SM_AN_NFFT / SM_AN_RATE);
        mag[k] += level;
    }
}

static void test_onset__chroma_novelty_marks_chord_changes(void **state)
{
    (void)state;
    static const int c_major[] = {48, 60, 64, 67};
    static const int a_minor[] = {45, 60, 64, 69};
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    float mag[SM_AN_NBINS];
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 1e-4f;
    /* 80 frames of C major, then 80 of A minor, with a 4 Hz level wobble. */
    size_t n = 160;
    for (size_t i = 0; i < n; i++) {
        float level = 10.0f * (1.0f + 0.4f * sinf(2.0f * 3.14159265f * 4.0f * (float)i / 43.0f));
        chord_mag(mag, i < 80 ? c_major : a_minor, 4, level);
        struct sm__frame f = {.index = i, .mel = mel, .mag = mag};
        assert_int_equal(sm__onset_process(&o, &f), 0);
    }
    assert_int_equal(o.chroma_nov.n, n - (SM__ONSET_NOV_W - 1));
    const float *x = o.chroma_nov.v;
    size_t arg = 1;
    for (size_t i = 1; i < o.chroma_nov.n; i++)
        arg = x[i] > x[arg] ? i : arg;
    /* The change is at frame 80 and stands out; a held chord, whatever its
     * level, scores about nothing. */
    assert_true(arg >= 79 && arg <= 81);
    assert_true(x[80] > 0.2f);
    for (size_t i = 2 * SM__ONSET_NOV_W; i + SM__ONSET_NOV_W < 80; i++)
        assert_true(x[i] < 0.01f);
    /* Frame 0 rises out of silence; as a loop, A minor wraps into C major. */
    assert_true(x[0] > 0.5f);
    float wrap = sm__onset_wrap_novelty(&o);
    assert_float_equal(wrap, x[80], 0.05f);
    sm__onset_release(&o);

    /* Frames without a spectrum count as silence: novelty 0 throughout. */
    sm__onset_init(&o);
    for (size_t i = 0; i < 40; i++) {
        struct sm__frame f = {.index = i, .mel = mel};
        assert_int_equal(sm__onset_process(&o, &f), 0);
    }
    for (size_t i = 0; i < o.chroma_nov.n; i++)
        assert_float_equal(o.chroma_nov.v[i], 0.0f, 1e-6f);
    assert_float_equal(sm__onset_wrap_novelty(&o), 0.0f, 1e-6f);
    sm__onset_release(&o);

    /* Fewer frames than the window: no novelty yet, wrap novelty 0. */
    sm__onset_init(&o);
    chord_mag(mag, c_major, 4, 10.0f);
    for (size_t i = 0; i + 1 < SM__ONSET_NOV_W; i++) {
        struct sm__frame f = {.index = i, .mel = mel, .mag = mag};
        assert_int_equal(sm__onset_process(&o, &f), 0);
    }
    assert_int_equal(o.chroma_nov.n, 0);
    assert_float_equal(sm__onset_wrap_novelty(&o), 0.0f, 1e-6f);
    sm__onset_release(&o);
}

static void test_onset__note_changes_mark_new_pitch_classes(void **state)
{
    (void)state;
    /* A held C major chord under a melody E5 -> G5 -> G5 (held) -> B5 at frames
     * 0, 20, 40 and 60, with a slow swell: note changes show where a new pitch
     * class enters (20: G; 60: B), not where the note is held or the level moves. */
    static const int notes[4] = {76, 79, 79, 83};
    struct sm__onset o;
    sm__onset_init(&o);
    float mel[SM_AN_NMEL];
    float mag[SM_AN_NBINS];
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        mel[b] = 1e-4f;
    size_t n = 80;
    for (size_t i = 0; i < n; i++) {
        int chord[4] = {48, 52, 55, notes[i / 20]};
        chord_mag(mag, chord, 3, 2.0f);
        double hz = 440.0 * pow(2.0, (chord[3] - 69) / 12.0);
        mag[lround(hz * SM_AN_NFFT / SM_AN_RATE)] += 8.0f * (1.0f + 0.02f * (float)i);
        struct sm__frame f = {.index = i, .mel = mel, .mag = mag};
        assert_int_equal(sm__onset_process(&o, &f), 0);
    }
    assert_int_equal(o.note_nov.n, n - (SM__ONSET_NOTE_W - 1));
    const float *x = o.note_nov.v;
    assert_true(x[20] > 0.3f);
    assert_true(x[60] > 0.3f);
    assert_true(x[40] < 0.01f);
    for (size_t i = SM__ONSET_NOTE_W; i < n - (SM__ONSET_NOTE_W - 1); i++) {
        if (i + SM__ONSET_NOTE_W <= 20 || (i >= 20 + SM__ONSET_NOTE_W && i + SM__ONSET_NOTE_W <= 60))
            assert_true(x[i] < 0.01f);
    }
    /* Frame 0 enters out of silence. */
    assert_true(x[0] > 0.5f);
    sm__onset_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onset__clicks_refined_within_12_ms),
        cmocka_unit_test(test_onset__tone_and_time_zero),
        cmocka_unit_test(test_onset__silence_and_quiet_give_nothing),
        cmocka_unit_test(test_onset__single_click_short_input_and_gap),
        cmocka_unit_test(test_onset__strength_values),
        cmocka_unit_test(test_onset__out_of_memory_is_reported),
        cmocka_unit_test(test_onset__per_frame_cost),
        cmocka_unit_test(test_onset__band_strengths_separate_roles),
        cmocka_unit_test(test_onset__snare_detector_discounts_the_kick),
        cmocka_unit_test(test_onset__chroma_novelty_marks_chord_changes),
        cmocka_unit_test(test_onset__note_changes_mark_new_pitch_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
