#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/analysis.h>
#include "analysis/chroma.h"
#include "analysis/stft.h"
#include "testutil.h"

static void on_frame(const struct sm__frame *f, void *userdata)
{
    sm__chroma_process(userdata, f);
}

/* Chroma of x into a; the opening chroma into start (may be NULL). */
static void analyse_start(const float *x, size_t n, sm_analysis *a, double *start)
{
    struct sm__chroma c;
    sm__chroma_init(&c);
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    sm__stft_process(s, x, n, on_frame, &c);
    sm__stft_finish(s, on_frame, &c);
    sm__stft_free(s);
    sm__chroma_finish(&c, a);
    if (start)
        sm__chroma_start(&c, a, start);
}

static void analyse(const float *x, size_t n, sm_analysis *a)
{
    analyse_start(x, n, a, NULL);
}

/* The frequency of MIDI note `midi` detuned by `cents`, at A440. */
static double note_hz(int midi, double cents)
{
    return 440.0 * pow(2.0, ((double)midi - 69.0 + cents / 100.0) / 12.0);
}

/* Adds a note with `harmonics` partials of amplitude amp / h. */
static void add_note(float *x, size_t n, double hz, double amp, int harmonics)
{
    float *tmp = malloc(sizeof(float) * n);
    for (int h = 1; h <= harmonics; h++) {
        tu_sine(tmp, n, hz * h, SM_AN_RATE, amp / h);
        for (size_t i = 0; i < n; i++)
            x[i] += tmp[i];
    }
    free(tmp);
}

static size_t argmax(const double *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        if (v[i] > v[best])
            best = i;
    }
    return best;
}

static void test_chroma__a440_is_class_9(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = calloc(n, sizeof(float));
    add_note(x, n, 440.0, 0.5, 1);
    sm_analysis a;
    analyse(x, n, &a);
    assert_int_equal(argmax(a.chroma, SM_CHROMA_COUNT), 9);
    assert_true(fabs(a.chroma[9] - 1.0) < 1e-12);
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++) {
        assert_true(a.chroma[i] >= 0.0);
        if (i != 9)
            assert_true(a.chroma[i] < 0.05);
    }
    assert_true(fabs(a.tuning_cents) < 3.0);
    free(x);
}

static void test_chroma__c_major_triad_ranks_c_e_g(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = calloc(n, sizeof(float));
    /* C4, E4, G4 with a few harmonics each. */
    add_note(x, n, note_hz(60, 0.0), 0.2, 3);
    add_note(x, n, note_hz(64, 0.0), 0.2, 3);
    add_note(x, n, note_hz(67, 0.0), 0.2, 3);
    sm_analysis a;
    analyse(x, n, &a);
    double third = 1.0;
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++) {
        if (i == 0 || i == 4 || i == 7) {
            if (a.chroma[i] < third)
                third = a.chroma[i];
        }
    }
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++) {
        if (i != 0 && i != 4 && i != 7)
            assert_true(a.chroma[i] < third);
    }
    /* The tempered third and fifth are within 14 cents of the harmonics, so the
     * tuning stays near 0. */
    assert_true(fabs(a.tuning_cents) < 5.0);
    free(x);
}

static void test_chroma__detuned_notes_give_the_tuning(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = malloc(sizeof(float) * n);
    static const int midi[] = {69, 69, 60, 45, 76};
    static const double cents[] = {30.0, -30.0, -20.0, 15.0, 45.0};
    static const int harmonics[] = {1, 1, 3, 5, 1};
    for (size_t i = 0; i < sizeof(midi) / sizeof(midi[0]); i++) {
        memset(x, 0, sizeof(float) * n);
        add_note(x, n, note_hz(midi[i], cents[i]), 0.3, harmonics[i]);
        sm_analysis a;
        analyse(x, n, &a);
        assert_true(fabs(a.tuning_cents - cents[i]) < 5.0);
        assert_int_equal(argmax(a.chroma, SM_CHROMA_COUNT), (size_t)(midi[i] % 12));
    }
    free(x);
}

static void test_chroma__silence_gives_zeros(void **state)
{
    (void)state;
    const size_t n = 10000;
    float *x = calloc(n, sizeof(float));
    sm_analysis a;
    a.tuning_cents = NAN;
    analyse(x, n, &a);
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++)
        assert_true(fabs(a.chroma[i]) < 1e-300);
    assert_true(fabs(a.tuning_cents) < 1e-300);
    /* Below the -70 dBFS gate, and no input at all. */
    tu_sine(x, n, 440.0, SM_AN_RATE, tu_db(-85.0));
    analyse(x, n, &a);
    assert_true(fabs(a.chroma[9]) < 1e-300);
    analyse(x, 0, &a);
    assert_true(fabs(a.tuning_cents) < 1e-300);
    free(x);
}

static void test_chroma__noise_is_finite_and_spread(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = malloc(sizeof(float) * n);
    tu_noise(x, n, 0.5, 47);
    sm_analysis a;
    analyse(x, n, &a);
    double lo = 1.0;
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++) {
        assert_true(isfinite(a.chroma[i]));
        if (a.chroma[i] < lo)
            lo = a.chroma[i];
    }
    assert_true(fabs(a.chroma[argmax(a.chroma, SM_CHROMA_COUNT)] - 1.0) < 1e-12);
    /* White noise has energy in every class: within an octave a semitone spans
     * 2^(k / 12) more hertz than the one k below, so the lowest class has
     * about half the highest's energy (the octave's fold point depends on the
     * estimated tuning). */
    assert_true(lo > 0.35);
    assert_true(isfinite(a.tuning_cents));
    assert_true(a.tuning_cents >= -50.0 && a.tuning_cents < 50.0);
    free(x);
}

static void test_chroma__weights_peaks_by_magnitude(void **state)
{
    (void)state;
    /* A4 and an E5 20 dB quieter: by magnitude E is a tenth of A (by power it
     * would be a hundredth and a quiet chord tone would all but vanish). */
    const size_t n = SM_AN_RATE;
    float *x = calloc(n, sizeof(float));
    add_note(x, n, 440.0, 0.5, 1);
    add_note(x, n, note_hz(76, 0.0), 0.05, 1);
    sm_analysis a;
    analyse(x, n, &a);
    assert_int_equal(argmax(a.chroma, SM_CHROMA_COUNT), 9);
    assert_true(a.chroma[4] > 0.07 && a.chroma[4] < 0.14);
    free(x);
}

static void test_chroma__start_holds_the_opening_chord(void **state)
{
    (void)state;
    /* 0.5 s of silence, 2 s of C major (C4 E4 G4), then 3 s of F major (F4 A4
     * C5): the opening chroma is the C major triad, the whole-file chroma has F
     * and A too. */
    const size_t lead = SM_AN_RATE / 2;
    const size_t first = 2 * SM_AN_RATE;
    const size_t n = lead + first + 3 * SM_AN_RATE;
    float *x = calloc(n, sizeof(float));
    static const int c_major[3] = {60, 64, 67};
    static const int f_major[3] = {65, 69, 72};
    for (int i = 0; i < 3; i++) {
        add_note(x + lead, first, note_hz(c_major[i], 0.0), 0.2, 3);
        add_note(x + lead + first, n - lead - first, note_hz(f_major[i], 0.0), 0.2, 3);
    }
    sm_analysis a;
    double start[SM_CHROMA_COUNT];
    analyse_start(x, n, &a, start);
    assert_true(a.chroma[5] > 0.5 && a.chroma[9] > 0.5);
    assert_true(fabs(start[argmax(start, SM_CHROMA_COUNT)] - 1.0) < 1e-12);
    assert_true(start[0] > 0.5 && start[4] > 0.5 && start[7] > 0.5);
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++) {
        assert_true(start[i] >= 0.0);
        if (i != 0 && i != 4 && i != 7 && i != 2 && i != 11)
            assert_true(start[i] < 0.1);
    }
    /* Silence: zeros, also with a NaN tuning. */
    memset(x, 0, n * sizeof(float));
    analyse_start(x, n, &a, start);
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++)
        assert_true(fabs(start[i]) < 1e-300);
    struct sm__chroma c;
    sm__chroma_init(&c);
    a.tuning_cents = NAN;
    sm__chroma_start(&c, &a, start);
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++)
        assert_true(fabs(start[i]) < 1e-300);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chroma__a440_is_class_9),
        cmocka_unit_test(test_chroma__c_major_triad_ranks_c_e_g),
        cmocka_unit_test(test_chroma__detuned_notes_give_the_tuning),
        cmocka_unit_test(test_chroma__silence_gives_zeros),
        cmocka_unit_test(test_chroma__noise_is_finite_and_spread),
        cmocka_unit_test(test_chroma__weights_peaks_by_magnitude),
        cmocka_unit_test(test_chroma__start_holds_the_opening_chord),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
