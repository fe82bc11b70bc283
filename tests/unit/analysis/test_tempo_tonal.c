/* Tempo of tonal loops whose attacks are too slow for the onset envelope:
 * MELODY LEVEL in src/analysis/tempo.c (sm__tempo_analyze_ex). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include "analysis/frame.h"
#include "analysis/onset.h"
#include "analysis/tempo.h"
#include "tempo_synth.h"

/* A melody over chords: each bar (4 beats of beat s) has chords[bar] (MIDI
 * notes, soft), and the melody plays note j (MIDI mel[j], loud) from beat
 * at[j] to the next (at[nmel] ends the last). Bowed (struck false): every
 * tone swells in over 0.15 s and puts nothing in the mel bands, so the onset
 * envelope sees no attacks, and the chords are held for the bar. Struck:
 * every tone rises at once in the mel bands and decays (0.3 s), and the
 * chords are struck on beats 1 and 3. The RMS stays up to the end
 * (tail_gain scales the last 10 %). Runs the tempo module with a->has_key set
 * as key says (run_line: set, as the analyzer does for a sound with a key). */
static void run_line_key(const int (*chords)[3], int bars, const int *mel, const double *at,
                         int nmel, double beat, double tail_gain, bool struck, bool key,
                         sm_analysis *a)
{
    double seconds = 4.0 * bars * beat;
    size_t n = (size_t)(seconds * SM_AN_FPS) + 1;
    struct sm__onset o;
    sm__onset_init(&o);
    float mel_bands[SM_AN_NMEL];
    float *mag = calloc(SM_AN_NBINS, sizeof(float));
    float *rms = calloc(n, sizeof(float));
    assert_non_null(mag);
    assert_non_null(rms);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SM_AN_FPS;
        double g = t > 0.9 * seconds ? tail_gain : 1.0;
        memset(mag, 0, SM_AN_NBINS * sizeof(float));
        for (size_t b = 0; b < SM_AN_NMEL; b++)
            mel_bands[b] = 1e-8f;
        int bar = (int)(t / (4.0 * beat));
        /* The chords: held (bowed), or struck on beats 1 and 3. */
        double db = fmod(t, (struck ? 2.0 : 4.0) * beat);
        double sw = struck ? 0.3 * exp(-db / 0.3) : (db < 0.15 ? db / 0.15 : 1.0);
        for (int v = 0; v < 3 && bar < bars; v++)
            add_partial(mag, 440.0 * pow(2.0, (chords[bar][v] - 69) / 12.0), 6.0 * sw * g);
        if (struck && bar < bars) {
            for (size_t b = 3; b < 49; b++)
                mel_bands[b] += (float)(sw * g);
        }
        for (int j = 0; j < nmel; j++) {
            double d = t - at[j] * beat + 0.5 / SM_AN_FPS;
            if (d < 0.0 || t >= at[j + 1] * beat)
                continue;
            double sm = struck ? exp(-d / 0.3) : (d < 0.15 ? d / 0.15 : 1.0);
            double hz = 440.0 * pow(2.0, (mel[j] - 69) / 12.0);
            add_partial(mag, hz, 20.0 * sm * g);
            add_partial(mag, 2.0 * hz, 8.0 * sm * g);
            if (struck) {
                for (size_t b = 3; b < 49; b++)
                    mel_bands[b] += (float)(sm * g);
            }
        }
        struct sm__frame f = {.index = i, .mel = mel_bands, .mag = mag};
        assert_int_equal(sm__onset_process(&o, &f), 0);
        rms[i] = (float)(0.05 * g);
    }
    free(mag);
    tempo_run(&o, rms, n, seconds, key, a);
}

static void run_line(const int (*chords)[3], int bars, const int *mel, const double *at,
                     int nmel, double beat, double tail_gain, bool struck, sm_analysis *a)
{
    run_line_key(chords, bars, mel, at, nmel, beat, tail_gain, struck, true, a);
}

/* C, Am, F, G: one chord a bar. */
static const int chords4[4][3] = {{48, 52, 55}, {45, 48, 52}, {41, 45, 48}, {43, 47, 50}};

/* A 4-bar melody in the rhythm rh (lengths in eighth notes, summing to a
 * bar, 0-terminated) into mel and at (note starts in beats; at[n] is the
 * end): chord tones and steps between them. Returns the number of notes. */
static int melody2(int *mel, double *at, int cap, const int *rh, const int *rh2);
static int melody(int *mel, double *at, int cap, const int *rh)
{
    return melody2(mel, at, cap, rh, rh);
}

/* As melody, the odd bars in the rhythm rh2. */
static int melody2(int *mel, double *at, int cap, const int *rh, const int *rh2)
{
    static const int line[4][8] = {{72, 74, 76, 79, 76, 74, 72, 74},
                                   {76, 72, 69, 71, 72, 76, 74, 72},
                                   {77, 76, 74, 72, 69, 72, 74, 77},
                                   {79, 77, 74, 71, 74, 76, 74, 79}};
    int n = 0;
    double t = 0.0;
    for (int b = 0; b < 4; b++) {
        const int *r = b % 2 ? rh2 : rh;
        for (int j = 0; r[j] > 0 && n < cap; j++) {
            mel[n] = line[b][j % 8];
            at[n++] = t;
            t += r[j] / 2.0;
        }
    }
    at[n] = t;
    return n;
}

/* MELODY LEVEL: a bowed melody in quarter notes and eighths (a quarter, two
 * eighths, two quarters a bar) at 132 BPM over one chord every other bar. The
 * onset envelope has no attacks (no tempo) and the chords change only twice
 * (TWO CHANGES), but the melody phrase (20 note changes, sounding to the
 * end) scored on all its evidence gives 132, a loop. */
static void test_tempo_tonal__bowed_melody_gets_its_tempo(void **state)
{
    (void)state;
    static const int rh[] = {2, 1, 1, 2, 2, 0};
    static const int chords[4][3] = {{48, 52, 55}, {48, 52, 55}, {43, 47, 50}, {43, 47, 50}};
    int mel[40];
    double at[41];
    int nmel = melody(mel, at, 40, rh);
    sm_analysis a;
    run_line(chords, 4, mel, at, nmel, 60.0 / 132.0, 1.0, false, &a);
    expect_tempo(&a, 132.0, 0.1);
    assert_true(a.loop);
    assert_non_null(strstr(a.loop_evidence, "note changes"));
    sm_analysis_release(&a);
}

/* A melody rests on beats: keys struck in a 3-3-2 figure (on 1, the "and"
 * of 2 and on 4) and a 4-2-2 one (on 1, 3 and 4) in turn at 120 BPM, over
 * chords struck on 1 and 3. Only 5 of every 8 beats carry an onset, under
 * the 3 of 4 that a drum loop's beat needs, while every half note does; for
 * a tonal loop the salience decides among all levels, and it is 120, not 60. */
static void test_tempo_tonal__melody_rests_on_beats(void **state)
{
    (void)state;
    static const int rh[] = {3, 3, 2, 0};
    static const int rh2[] = {4, 2, 2, 0};
    int mel[40];
    double at[41];
    int nmel = melody2(mel, at, 40, rh, rh2);
    sm_analysis a;
    run_line(chords4, 4, mel, at, nmel, 0.5, 1.0, true, &a);
    expect_tempo(&a, 120.0, 0.1);
    assert_true(a.loop);
    sm_analysis_release(&a);
}

/* TWICE AS FAST ONLY BY A CLEAR MARGIN: keys struck in half notes and in a
 * 3-3-2 figure in turn at 90 BPM, over chords struck on 1 and 3, one chord a
 * bar. The melody moves the chroma at the half-bars too, so the "bar lines"
 * of 180 (every half bar) carry somewhat more change against their
 * half-bars than the bar lines of 90 do, but not 1.5 times more: 90. */
static void test_tempo_tonal__melody_at_half_bars_is_not_twice_as_fast(void **state)
{
    (void)state;
    static const int halves[] = {4, 4, 0};
    static const int fig[] = {3, 3, 2, 0};
    int mel[40];
    double at[41];
    int nmel = melody2(mel, at, 40, halves, fig);
    sm_analysis a;
    run_line(chords4, 4, mel, at, nmel, 60.0 / 90.0, 1.0, true, &a);
    expect_tempo(&a, 90.0, 0.1);
    assert_true(a.loop);
    sm_analysis_release(&a);
}

/* The phrase guard: the first melody fading to -26 dB over its last 10 %
 * does not sound to its end (not a loop), and a line of 8 half notes has too
 * few note changes for a phrase: neither gets a tempo from its notes. */
static void test_tempo_tonal__melody_level_only_for_phrases(void **state)
{
    (void)state;
    static const int rh[] = {2, 1, 1, 2, 2, 0};
    static const int halves[] = {4, 4, 0};
    int mel[40];
    double at[41];
    int nmel = melody(mel, at, 40, rh);
    double beat = 60.0 / 132.0;
    sm_analysis a;
    run_line(chords4, 4, mel, at, nmel, beat, 0.05, false, &a);
    if (a.has_tempo)
        fail_msg("a fading line got %.1f BPM: %s", a.bpm, a.loop_evidence);
    sm_analysis_release(&a);
    nmel = melody(mel, at, 40, halves);
    run_line(chords4, 4, mel, at, nmel, beat, 1.0, false, &a);
    if (a.has_tempo && strstr(a.loop_evidence, "note changes"))
        fail_msg("8 notes got %.1f BPM: %s", a.bpm, a.loop_evidence);
    sm_analysis_release(&a);
}

/* A SOUND WITHOUT A KEY HAS NO TWO-CHORD LOOP: two held chords over two bars
 * are a loop at 100 BPM for a sound with a key, but two novelty peaks half a
 * sound apart are what any drifting keyless sound (a noise riser) shows, so
 * without a key they give no tempo; four changes still do. */
static void test_tempo_tonal__two_chords_need_a_key(void **state)
{
    (void)state;
    static const int two[2][3] = {{48, 52, 55}, {41, 45, 48}};
    static const double none[1] = {8.0};
    double beat = 0.6; /* 100 BPM */
    sm_analysis a;
    run_line_key(two, 2, NULL, none, 0, beat, 1.0, false, true, &a);
    expect_tempo(&a, 100.0, 0.1);
    sm_analysis_release(&a);
    run_line_key(two, 2, NULL, none, 0, beat, 1.0, false, false, &a);
    if (a.has_tempo)
        fail_msg("a keyless two-chord sound got %.1f BPM: %s", a.bpm, a.loop_evidence);
    sm_analysis_release(&a);
    run_line_key(chords4, 4, NULL, none, 0, beat, 1.0, false, false, &a);
    expect_tempo(&a, 100.0, 0.1);
    sm_analysis_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tempo_tonal__bowed_melody_gets_its_tempo),
        cmocka_unit_test(test_tempo_tonal__melody_level_only_for_phrases),
        cmocka_unit_test(test_tempo_tonal__melody_rests_on_beats),
        cmocka_unit_test(test_tempo_tonal__melody_at_half_bars_is_not_twice_as_fast),
        cmocka_unit_test(test_tempo_tonal__two_chords_need_a_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
