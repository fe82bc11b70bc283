#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sndfile.h>

#include <samplemind/analysis.h>
#include "analysis/key.h"
#include "testutil.h"

/* An empty result with a tonal spectrum; the caller fills the chroma. */
static void blank(sm_analysis *a)
{
    sm_analysis_init(a);
    memset(a->chroma, 0, sizeof(a->chroma));
    a->duration = 2.0;
    a->spectral[SM_SPEC_FLATNESS].mean = 0.005;
}

static void assert_no_key(const sm_analysis *a, double max_confidence)
{
    assert_false(a->has_key);
    assert_int_equal(a->key_tonic, -1);
    assert_false(isnan(a->key_confidence));
    assert_true(a->key_confidence >= 0.0 && a->key_confidence < max_confidence);
}

static void set_chroma(sm_analysis *a, const double c[12], int rotate)
{
    double mx = 0.0;
    for (int i = 0; i < 12; i++)
        if (c[i] > mx)
            mx = c[i];
    for (int i = 0; i < 12; i++)
        a->chroma[(i + rotate) % 12] = c[i] / mx;
}

static unsigned rng = 1;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (double)rng / 4294967295.0;
}

/* Krumhansl-Kessler C major and C minor, as a chroma. */
static const double kk_major[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
                                    2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
static const double kk_minor[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
                                    2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

static void test_key__c_major_profile(void **state)
{
    (void)state;
    sm_analysis a;
    blank(&a);
    set_chroma(&a, kk_major, 0);
    sm__key_analyze(&a);
    assert_true(a.has_key);
    assert_int_equal(a.key_tonic, 0);
    assert_int_equal(a.key_mode, SM_MODE_MAJOR);
    assert_true(a.key_confidence >= SM__KEY_MIN_CONFIDENCE && a.key_confidence <= 1.0);
    char name[16];
    char cam[4];
    assert_string_equal(sm_key_name(a.key_tonic, a.key_mode, name, sizeof(name)), "C major");
    assert_string_equal(sm_key_camelot(a.key_tonic, a.key_mode, cam, sizeof(cam)), "8B");
}

static void test_key__a_minor_profile(void **state)
{
    (void)state;
    sm_analysis a;
    blank(&a);
    set_chroma(&a, kk_minor, 9);
    sm__key_analyze(&a);
    assert_true(a.has_key);
    assert_int_equal(a.key_tonic, 9);
    assert_int_equal(a.key_mode, SM_MODE_MINOR);
    char name[16];
    char cam[4];
    assert_string_equal(sm_key_name(a.key_tonic, a.key_mode, name, sizeof(name)), "A minor");
    assert_string_equal(sm_key_camelot(a.key_tonic, a.key_mode, cam, sizeof(cam)), "8A");
}

/* Synthetic chroma in C: what a progression, a triad or a melody in the key leaves. */
static void c_major_material(double c[12], int kind)
{
    memset(c, 0, 12 * sizeof(double));
    if (kind == 0) {
        /* Tonic triad. */
        c[0] = c[4] = c[7] = 1.0;
    } else if (kind == 1) {
        /* Scale with the tonic triad stressed. */
        static const double s[12] = {1, 0, .5, 0, .8, .5, 0, .8, 0, .5, 0, .4};
        memcpy(c, s, sizeof(s));
    } else {
        /* I - IV - V - I. */
        static const int ch[4][3] = {{0, 4, 7}, {5, 9, 0}, {7, 11, 2}, {0, 4, 7}};
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 3; k++)
                c[ch[i][k]] += 1.0;
    }
}

static void c_minor_material(double c[12], int kind)
{
    memset(c, 0, 12 * sizeof(double));
    if (kind == 0) {
        c[0] = c[3] = c[7] = 1.0;
    } else if (kind == 1) {
        /* Natural minor with the leading tone of the harmonic minor, triad stressed. */
        static const double s[12] = {1, 0, .5, .8, 0, .5, 0, .8, .5, 0, .3, .3};
        memcpy(c, s, sizeof(s));
    } else {
        /* i - iv - V - i. */
        static const int ch[4][3] = {{0, 3, 7}, {5, 8, 0}, {7, 11, 2}, {0, 3, 7}};
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 3; k++)
                c[ch[i][k]] += 1.0;
    }
}

static void test_key__all_24_keys_with_noise(void **state)
{
    (void)state;
    rng = 12345;
    for (int mode = 0; mode < 2; mode++) {
        for (int kind = 0; kind < 3; kind++) {
            double base[12];
            if (mode == SM_MODE_MAJOR)
                c_major_material(base, kind);
            else
                c_minor_material(base, kind);
            double mx = 0.0;
            for (int i = 0; i < 12; i++)
                mx = base[i] > mx ? base[i] : mx;
            for (int tonic = 0; tonic < 12; tonic++) {
                double c[12];
                /* Up to 15 % of the maximum added at random to every class. */
                for (int i = 0; i < 12; i++)
                    c[i] = base[i] / mx + 0.15 * uniform();
                sm_analysis a;
                blank(&a);
                set_chroma(&a, c, tonic);
                sm__key_analyze(&a);
                assert_true(a.has_key);
                assert_int_equal(a.key_tonic, tonic);
                assert_int_equal(a.key_mode, mode);
                assert_true(a.key_confidence >= SM__KEY_MIN_CONFIDENCE);
                assert_true(a.key_confidence <= 1.0);
            }
        }
    }
}

static void test_key__flat_chroma_has_no_key(void **state)
{
    (void)state;
    sm_analysis a;
    /* Exactly flat. */
    blank(&a);
    for (int i = 0; i < 12; i++)
        a.chroma[i] = 1.0;
    sm__key_analyze(&a);
    assert_no_key(&a, 0.05);
    /* Nearly flat (noise), even with a tonal-looking flatness value. */
    rng = 99;
    for (int trial = 0; trial < 20; trial++) {
        blank(&a);
        for (int i = 0; i < 12; i++)
            a.chroma[i] = 0.85 + 0.15 * uniform();
        sm__key_analyze(&a);
        assert_no_key(&a, 0.1);
    }
    /* A clear triad in a noise-flat spectrum (a drum loop with a tonal hit). */
    blank(&a);
    a.chroma[0] = a.chroma[4] = a.chroma[7] = 1.0;
    a.spectral[SM_SPEC_FLATNESS].mean = 0.2;
    sm__key_analyze(&a);
    assert_no_key(&a, 0.1);
    /* Flatness unknown (NaN) is ignored rather than poisoning the result. */
    a.spectral[SM_SPEC_FLATNESS].mean = NAN;
    sm__key_analyze(&a);
    assert_true(a.has_key);
    assert_int_equal(a.key_tonic, 0);
    assert_false(isnan(a.key_confidence));
}

static void test_key__ambiguous_material_is_not_a_key(void **state)
{
    (void)state;
    sm_analysis a;
    /* One pitch class (a kick, a single note): major or minor is a coin toss. */
    blank(&a);
    a.chroma[9] = 1.0;
    sm__key_analyze(&a);
    assert_no_key(&a, SM__KEY_MIN_CONFIDENCE);
    /* A power chord (no third). */
    blank(&a);
    a.chroma[0] = a.chroma[7] = 1.0;
    sm__key_analyze(&a);
    assert_no_key(&a, SM__KEY_MIN_CONFIDENCE);
}

/* Chord counts of a progression given as triads (root, third in semitones). */
static void progression(double c[12], const int (*chords)[2], int n, int tonic)
{
    memset(c, 0, 12 * sizeof(double));
    for (int i = 0; i < n; i++) {
        int r = (tonic + chords[i][0]) % 12;
        c[r] += 1.0;
        c[(r + chords[i][1]) % 12] += 1.0;
        c[(r + 7) % 12] += 1.0;
    }
}

static void triad(double c[12], int root, int third)
{
    memset(c, 0, 12 * sizeof(double));
    c[root % 12] = 1.0;
    c[(root + third) % 12] = 1.0;
    c[(root + 7) % 12] = 1.0;
}

/* The progression (triads as root, third) transposed by t, with an opening
 * triad (open_root, open_third): the key must be (tonic, mode). */
static void assert_progression_key(const int (*chords)[2], int n, int t, int open_root,
                                   int open_third, int tonic, int mode)
{
    double c[12];
    double start[12];
    progression(c, chords, n, t);
    triad(start, open_root, open_third);
    sm_analysis a;
    blank(&a);
    set_chroma(&a, c, 0);
    sm__key_analyze_start(&a, start);
    assert_true(a.has_key);
    assert_int_equal(a.key_tonic, tonic % 12);
    assert_int_equal(a.key_mode, mode);
}

static void test_key__opening_chord_decides_between_relatives(void **state)
{
    (void)state;
    /* i-VI-III-VII (Am F C G) and I-V-vi-IV (C G Am F) leave the same chroma;
     * the opening chord tells A minor from C major, in every transposition. */
    static const int chords[4][2] = {{0, 3}, {8, 4}, {3, 4}, {10, 4}};
    for (int t = 0; t < 12; t++) {
        assert_progression_key(chords, 4, t, t, 3, t, SM_MODE_MINOR);
        assert_progression_key(chords, 4, t, t + 3, 4, t + 3, SM_MODE_MAJOR);
    }
}

static void test_key__natural_minor_with_flat_seventh_is_minor(void **state)
{
    (void)state;
    /* i-iv-v-i in natural minor (the flat seventh, no leading tone) over a tonic
     * opening: minor, not the relative major, in every transposition. */
    static const int chords[4][2] = {{0, 3}, {5, 3}, {7, 3}, {0, 3}};
    for (int t = 0; t < 12; t++) {
        assert_progression_key(chords, 4, t, t, 3, t, SM_MODE_MINOR);
        /* Without the opening chord the profile alone still says minor. */
        double c[12];
        progression(c, chords, 4, t);
        sm_analysis a;
        blank(&a);
        set_chroma(&a, c, 0);
        sm__key_analyze(&a);
        assert_true(a.has_key);
        assert_int_equal(a.key_tonic, t);
        assert_int_equal(a.key_mode, SM_MODE_MINOR);
    }
}

static void test_key__opening_chord_decides_between_fifths(void **state)
{
    (void)state;
    /* I-iii-vi-V (C Em Am G) has no F and no F#: its chroma fits C major and
     * G major (E minor) about equally, and the profile alone leans to E minor.
     * The opening C chord names the tonic, in every transposition. */
    static const int chords[4][2] = {{0, 4}, {4, 3}, {9, 3}, {7, 4}};
    for (int t = 0; t < 12; t++)
        assert_progression_key(chords, 4, t, t, 4, t, SM_MODE_MAJOR);
}

/* A chord of harmonic tones (a plucked guitar, a bright pad): each tone adds its
 * twelfth (third harmonic, seven classes up) at amp. */
static void add_bright_triad(double c[12], int root, int third, double amp)
{
    const int tones[3] = {root, root + third, root + 7};
    for (int i = 0; i < 3; i++) {
        c[tones[i] % 12] += 1.0;
        c[(tones[i] + 7) % 12] += amp;
    }
}

static void test_key__bright_opening_chord_with_its_twelfths(void **state)
{
    (void)state;
    /* i-VI-III-VII (Cm Ab Eb Bb) in a timbre whose third harmonic is 0.7 of
     * the fundamental: the opening C minor chord's fifth G is also the root's
     * twelfth and the loudest class, so the plain Eb-major triad (Eb G Bb) fits
     * the opening as well as C minor's. The templates with the twelfths
     * (START_TWELFTH) keep C minor, in every transposition; without them the
     * key is the relative major. */
    static const int chords[4][2] = {{0, 3}, {8, 4}, {3, 4}, {10, 4}};
    for (int t = 0; t < 12; t++) {
        double c[12] = {0};
        double start[12] = {0};
        for (int i = 0; i < 4; i++)
            add_bright_triad(c, t + chords[i][0], chords[i][1], 0.7);
        add_bright_triad(start, t, 3, 0.7);
        sm_analysis a;
        blank(&a);
        set_chroma(&a, c, 0);
        sm__key_analyze_start(&a, start);
        assert_true(a.has_key);
        assert_int_equal(a.key_tonic, t);
        assert_int_equal(a.key_mode, SM_MODE_MINOR);
    }
}

static void test_key__close_runner_up_keeps_the_key(void **state)
{
    (void)state;
    /* A melody over soft chords in A minor (a generated keys file, chroma and
     * opening as measured, rotated to A = 0): it fits A minor best, with the keys
     * around it close behind. A close runner-up lowers the confidence but does not
     * take the key away. */
    static const double mel[12] = {0.89, 0.03, 0.90, 0.75, 0.18, 0.69,
                                   0.20, 0.48, 0.48, 0.35, 1.00, 0.07};
    static const double open[12] = {1.00, 0.04, 0.40, 0.32, 0.27, 0.30,
                                    0.07, 0.62, 0.01, 0.11, 0.54, 0.08};
    for (int t = 0; t < 12; t++) {
        sm_analysis a;
        blank(&a);
        a.spectral[SM_SPEC_FLATNESS].mean = 0.0001;
        double start[12];
        for (int i = 0; i < 12; i++) {
            a.chroma[(i + t) % 12] = mel[i];
            start[(i + t) % 12] = open[i];
        }
        sm__key_analyze_start(&a, start);
        assert_true(a.has_key);
        assert_int_equal(a.key_tonic, t);
        assert_int_equal(a.key_mode, SM_MODE_MINOR);
        assert_true(a.key_confidence < 0.9);
    }
}

static void test_key__unusable_opening_is_ignored(void **state)
{
    (void)state;
    double c[12];
    c_major_material(c, 2);
    sm_analysis ref;
    blank(&ref);
    set_chroma(&ref, c, 0);
    sm__key_analyze(&ref);
    assert_true(ref.has_key);
    /* NULL, all zeros (a silent start), flat and NaN give the chroma-only answer. */
    double starts[4][12];
    memset(starts, 0, sizeof(starts));
    for (int i = 0; i < 12; i++) {
        starts[2][i] = 0.5;
        starts[3][i] = NAN;
    }
    for (int k = -1; k < 4; k++) {
        sm_analysis a;
        blank(&a);
        set_chroma(&a, c, 0);
        sm__key_analyze_start(&a, k < 0 ? NULL : starts[k]);
        assert_true(a.has_key);
        assert_int_equal(a.key_tonic, ref.key_tonic);
        assert_int_equal(a.key_mode, ref.key_mode);
        assert_true(fabs(a.key_confidence - ref.key_confidence) < 1e-12);
    }
    sm__key_analyze_start(NULL, starts[0]);
}

static void test_key__poor_fit_is_not_a_key(void **state)
{
    (void)state;
    /* A kick's chroma: a swept sine leaves a few unrelated classes over a floor.
     * It fits no key profile well, so there is no key even though it is tonal. */
    static const double kick[12] = {1.0, 0.64, 0.58, 0.47, 0.28, 0.59,
                                    0.61, 0.42, 0.26, 0.50, 0.59, 0.61};
    for (int t = 0; t < 12; t++) {
        sm_analysis a;
        blank(&a);
        set_chroma(&a, kick, t);
        double start[12];
        memcpy(start, a.chroma, sizeof(start));
        sm__key_analyze_start(&a, start);
        assert_no_key(&a, SM__KEY_MIN_CONFIDENCE);
    }
}

static void test_key__silence_and_bad_values(void **state)
{
    (void)state;
    sm_analysis a;
    blank(&a);
    sm__key_analyze(&a);
    assert_no_key(&a, 1e-9);
    blank(&a);
    set_chroma(&a, kk_major, 0);
    a.chroma[3] = NAN;
    sm__key_analyze(&a);
    assert_no_key(&a, 1e-9);
    blank(&a);
    set_chroma(&a, kk_major, 0);
    a.chroma[5] = -1.0;
    sm__key_analyze(&a);
    assert_no_key(&a, 1e-9);
    sm__key_analyze(NULL);
}

/* The Camelot wheel as published: number, minor key, major key. */
static const struct {
    const char *code_a;
    const char *minor;
    const char *code_b;
    const char *major;
} wheel[12] = {
    {"1A", "G# minor", "1B", "B major"},   {"2A", "D# minor", "2B", "F# major"},
    {"3A", "A# minor", "3B", "C# major"},  {"4A", "F minor", "4B", "G# major"},
    {"5A", "C minor", "5B", "D# major"},   {"6A", "G minor", "6B", "A# major"},
    {"7A", "D minor", "7B", "F major"},    {"8A", "A minor", "8B", "C major"},
    {"9A", "E minor", "9B", "G major"},    {"10A", "B minor", "10B", "D major"},
    {"11A", "F# minor", "11B", "A major"}, {"12A", "C# minor", "12B", "E major"},
};

static void test_key__names_and_camelot_for_all_24(void **state)
{
    (void)state;
    static const char *const pcs[12] = {"C", "C#", "D", "D#", "E", "F",
                                        "F#", "G", "G#", "A", "A#", "B"};
    int seen = 0;
    for (int tonic = 0; tonic < 12; tonic++) {
        for (int mode = 0; mode < 2; mode++) {
            char name[16];
            char cam[4];
            char want[16];
            sm_key_name(tonic, mode, name, sizeof(name));
            snprintf(want, sizeof(want), "%s %s", pcs[tonic], mode ? "minor" : "major");
            assert_string_equal(name, want);
            sm_key_camelot(tonic, mode, cam, sizeof(cam));
            int found = 0;
            for (int w = 0; w < 12; w++) {
                if (!strcmp(mode ? wheel[w].minor : wheel[w].major, name)) {
                    assert_string_equal(cam, mode ? wheel[w].code_a : wheel[w].code_b);
                    assert_int_equal(sm__key_camelot_number(tonic, mode), w + 1);
                    found++;
                }
            }
            assert_int_equal(found, 1);
            seen++;
        }
    }
    assert_int_equal(seen, 24);
    /* Out-of-range tonics wrap; short buffers truncate. */
    char buf[16];
    assert_string_equal(sm_key_name(21, SM_MODE_MINOR, buf, sizeof(buf)), "A minor");
    assert_string_equal(sm_key_name(-3, SM_MODE_MINOR, buf, sizeof(buf)), "A minor");
    char small[3];
    assert_ptr_equal(sm_key_camelot(2, SM_MODE_MAJOR, small, sizeof(small)), small);
    assert_string_equal(small, "10");
    assert_null(sm_key_name(0, 0, NULL, 16));
}

static void assert_parses(const char *s, int tonic, int mode)
{
    int t = -1;
    int m = -1;
    if (sm__key_parse(s, &t, &m) != 0)
        fail_msg("\"%s\" did not parse", s);
    if (t != tonic || m != mode)
        fail_msg("\"%s\" parsed as %d/%d, want %d/%d", s, t, m, tonic, mode);
}

static void test_key__parse_accepts_common_forms(void **state)
{
    (void)state;
    assert_parses("Am", 9, SM_MODE_MINOR);
    assert_parses("A minor", 9, SM_MODE_MINOR);
    assert_parses("amin", 9, SM_MODE_MINOR);
    assert_parses("A min", 9, SM_MODE_MINOR);
    assert_parses("  a  MINOR ", 9, SM_MODE_MINOR);
    assert_parses("C#", 1, SM_MODE_MAJOR);
    assert_parses("C", 0, SM_MODE_MAJOR);
    assert_parses("Db major", 1, SM_MODE_MAJOR);
    assert_parses("dbmaj", 1, SM_MODE_MAJOR);
    assert_parses("F#m", 6, SM_MODE_MINOR);
    assert_parses("Bbm", 10, SM_MODE_MINOR);
    assert_parses("bb", 10, SM_MODE_MAJOR);
    assert_parses("Cb", 11, SM_MODE_MAJOR);
    assert_parses("E#", 5, SM_MODE_MAJOR);
    assert_parses("G\xe2\x99\xaf minor", 8, SM_MODE_MINOR);
    assert_parses("E\xe2\x99\xad", 3, SM_MODE_MAJOR);
    assert_parses("8A", 9, SM_MODE_MINOR);
    assert_parses("8b", 0, SM_MODE_MAJOR);
    assert_parses("1A", 8, SM_MODE_MINOR);
    assert_parses("1B", 11, SM_MODE_MAJOR);
    assert_parses("12a", 1, SM_MODE_MINOR);
    assert_parses(" 10 B ", 2, SM_MODE_MAJOR);
    /* Every name and code written by this module parses back to its key. */
    for (int tonic = 0; tonic < 12; tonic++) {
        for (int mode = 0; mode < 2; mode++) {
            char buf[16];
            assert_parses(sm_key_name(tonic, mode, buf, sizeof(buf)), tonic, mode);
            assert_parses(sm_key_camelot(tonic, mode, buf, sizeof(buf)), tonic, mode);
        }
    }
}

static void test_key__parse_rejects_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",    "   ", "H#",    "H",      "13A",   "0A",  "8C",   "8",
        "Ax",  "Am7", "A mi",  "minor",  "#A",    "C##", "8AA",  "100A",   "-1A",
        "A m m", "Cmajorx", "Z", "b#b", "8 A b", "\xe2\x99\xaf",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int t = 77;
        int m = 77;
        if (sm__key_parse(bad[i], &t, &m) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(t, 77);
        assert_int_equal(m, 77);
    }
    int t;
    int m;
    assert_int_equal(sm__key_parse(NULL, &t, &m), -1);
    assert_int_equal(sm__key_parse("Am", NULL, &m), -1);
    assert_int_equal(sm__key_parse("Am", &t, NULL), -1);
}

static void test_key__compatible_keys_follow_the_wheel(void **state)
{
    (void)state;
    int t[4];
    int m[4];
    /* A minor (8A): itself, C major (8B), E minor (9A), D minor (7A). */
    sm__key_compatible(9, SM_MODE_MINOR, t, m);
    assert_int_equal(t[0], 9);
    assert_int_equal(m[0], SM_MODE_MINOR);
    assert_int_equal(t[1], 0);
    assert_int_equal(m[1], SM_MODE_MAJOR);
    assert_int_equal(t[2], 4);
    assert_int_equal(m[2], SM_MODE_MINOR);
    assert_int_equal(t[3], 2);
    assert_int_equal(m[3], SM_MODE_MINOR);
    /* B major (1B): G# minor (1A), F# major (2B), E major (12B), across the wrap. */
    sm__key_compatible(11, SM_MODE_MAJOR, t, m);
    assert_int_equal(t[0], 11);
    assert_int_equal(t[1], 8);
    assert_int_equal(m[1], SM_MODE_MINOR);
    assert_int_equal(t[2], 6);
    assert_int_equal(m[2], SM_MODE_MAJOR);
    assert_int_equal(t[3], 4);
    assert_int_equal(m[3], SM_MODE_MAJOR);
    /* For every key, by the codes: same number other letter, and +-1 on the wheel. */
    for (int tonic = 0; tonic < 12; tonic++) {
        for (int mode = 0; mode < 2; mode++) {
            sm__key_compatible(tonic, mode, t, m);
            int num = sm__key_camelot_number(tonic, mode);
            assert_int_equal(sm__key_camelot_number(t[0], m[0]), num);
            assert_int_equal(sm__key_camelot_number(t[1], m[1]), num);
            assert_int_not_equal(m[1], mode);
            assert_int_equal(sm__key_camelot_number(t[2], m[2]), num % 12 + 1);
            assert_int_equal(sm__key_camelot_number(t[3], m[3]), (num + 10) % 12 + 1);
            assert_int_equal(m[2], mode);
            assert_int_equal(m[3], mode);
            /* A fifth up and a fifth down. */
            assert_int_equal(t[2], (tonic + 7) % 12);
            assert_int_equal(t[3], (tonic + 5) % 12);
        }
    }
}

/* End to end: audio rendered at 44.1 kHz stereo, written to a file and run through
 * the whole pipeline (decode, resample, STFT, chroma with tuning, key). */

#define E2E_RATE 44100

static double midi_hz(int midi)
{
    return 440.0 * pow(2.0, (midi - 69) / 12.0);
}

/* A piano-like tone: 6 harmonics at 1/k^2, 5 ms attack, 1.5 s decay. */
static void add_tone(float *x, size_t n, size_t at, size_t len, int midi, double amp)
{
    double f = midi_hz(midi);
    for (size_t i = 0; i < len && at + i < n; i++) {
        double t = (double)i / E2E_RATE;
        double env = (1.0 - exp(-t / 0.005)) * exp(-t / 1.5);
        double v = 0.0;
        for (int k = 1; k <= 6 && k * f < E2E_RATE / 2; k++)
            v += sin(2.0 * M_PI * k * f * t) / (k * k);
        x[at + i] += (float)(amp * env * v);
    }
}

/* Four chords of 2 s each (triads as MIDI notes), each with its root two octaves
 * down in the bass. */
static void render_progression(float *x, size_t n, const int chords[4][3], int transpose)
{
    size_t len = 2 * E2E_RATE;
    memset(x, 0, n * sizeof(float));
    for (int c = 0; c < 4; c++) {
        for (int k = 0; k < 3; k++)
            add_tone(x, n, (size_t)c * len, len, chords[c][k] + transpose, 0.2);
        add_tone(x, n, (size_t)c * len, len, chords[c][0] + transpose - 24, 0.25);
    }
}

static void analyze_file(const float *mono, size_t n, sm_analysis *a)
{
    float *st = malloc(2 * n * sizeof(float));
    assert_non_null(st);
    tu_interleave(mono, n, 2, st);
    const char *path = tu_path("key.wav");
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

static void assert_file_key(const sm_analysis *a, const char *name, const char *camelot)
{
    char buf[16];
    assert_true(a->has_key);
    assert_string_equal(sm_key_name(a->key_tonic, a->key_mode, buf, sizeof(buf)), name);
    assert_string_equal(sm_key_camelot(a->key_tonic, a->key_mode, buf, sizeof(buf)), camelot);
    assert_true(a->key_confidence >= SM__KEY_MIN_CONFIDENCE && a->key_confidence <= 1.0);
}

/* Render the progression transposed, analyse it and check its key. */
static void assert_rendered_key(float *x, size_t n, const int chords[4][3], int transpose,
                                const char *name, const char *camelot)
{
    sm_analysis a;
    render_progression(x, n, chords, transpose);
    analyze_file(x, n, &a);
    assert_file_key(&a, name, camelot);
    sm_analysis_release(&a);
}

static void test_key__end_to_end_progressions(void **state)
{
    (void)state;
    /* I - IV - V - I in C and i - iv - V - i in A minor (with the G# of E major). */
    static const int c_major[4][3] = {{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {60, 64, 67}};
    static const int a_minor[4][3] = {{57, 60, 64}, {62, 65, 69}, {64, 68, 71}, {57, 60, 64}};
    size_t n = 8 * E2E_RATE;
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    assert_rendered_key(x, n, c_major, 0, "C major", "8B");
    assert_rendered_key(x, n, a_minor, 0, "A minor", "8A");

    /* The same, a fourth up (D minor) and a minor third down (F# minor). */
    assert_rendered_key(x, n, a_minor, 5, "D minor", "7A");
    assert_rendered_key(x, n, a_minor, -3, "F# minor", "11A");
    assert_rendered_key(x, n, c_major, 7, "G major", "9B");

    /* A single C major chord, 2 s. */
    sm_analysis a;
    size_t m = 2 * E2E_RATE;
    memset(x, 0, n * sizeof(float));
    for (int k = 0; k < 3; k++)
        add_tone(x, m, 0, m, c_major[0][k], 0.3);
    analyze_file(x, m, &a);
    assert_file_key(&a, "C major", "8B");
    sm_analysis_release(&a);
    free(x);
}

static void test_key__end_to_end_opening_decides_between_fifths(void **state)
{
    (void)state;
    /* I-iii-vi-V, voice-led (C, Em, Am, G): no F or F#, so C major and G major
     * share the pitch set; the opening C chord decides. */
    static const int prog[4][3] = {{60, 64, 67}, {59, 64, 67}, {57, 60, 64}, {59, 62, 67}};
    size_t n = 8 * E2E_RATE;
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    assert_rendered_key(x, n, prog, 0, "C major", "8B");
    assert_rendered_key(x, n, prog, 2, "D major", "10B");
    assert_rendered_key(x, n, prog, -3, "A major", "11B");
    free(x);
}

static void test_key__end_to_end_noise_and_clicks_have_no_key(void **state)
{
    (void)state;
    size_t n = 4 * E2E_RATE;
    float *x = calloc(n, sizeof(float));
    assert_non_null(x);
    sm_analysis a;
    tu_noise(x, n, 0.5, 11);
    analyze_file(x, n, &a);
    assert_no_key(&a, SM__KEY_MIN_CONFIDENCE);
    sm_analysis_release(&a);
    memset(x, 0, n * sizeof(float));
    for (int b = 0; b < 8; b++)
        tu_click(x, n, E2E_RATE, 0.5 * b, 0.9);
    analyze_file(x, n, &a);
    assert_no_key(&a, SM__KEY_MIN_CONFIDENCE);
    sm_analysis_release(&a);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key__c_major_profile),
        cmocka_unit_test(test_key__a_minor_profile),
        cmocka_unit_test(test_key__all_24_keys_with_noise),
        cmocka_unit_test(test_key__flat_chroma_has_no_key),
        cmocka_unit_test(test_key__ambiguous_material_is_not_a_key),
        cmocka_unit_test(test_key__opening_chord_decides_between_relatives),
        cmocka_unit_test(test_key__natural_minor_with_flat_seventh_is_minor),
        cmocka_unit_test(test_key__opening_chord_decides_between_fifths),
        cmocka_unit_test(test_key__bright_opening_chord_with_its_twelfths),
        cmocka_unit_test(test_key__close_runner_up_keeps_the_key),
        cmocka_unit_test(test_key__unusable_opening_is_ignored),
        cmocka_unit_test(test_key__poor_fit_is_not_a_key),
        cmocka_unit_test(test_key__silence_and_bad_values),
        cmocka_unit_test(test_key__names_and_camelot_for_all_24),
        cmocka_unit_test(test_key__parse_accepts_common_forms),
        cmocka_unit_test(test_key__parse_rejects_garbage),
        cmocka_unit_test(test_key__compatible_keys_follow_the_wheel),
        cmocka_unit_test(test_key__end_to_end_progressions),
        cmocka_unit_test(test_key__end_to_end_opening_decides_between_fifths),
        cmocka_unit_test(test_key__end_to_end_noise_and_clicks_have_no_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
