/* Musical key: chroma against rotated key profiles, names, Camelot codes, parsing.
 * See key.h for the method and the choice of profiles. */
#include "analysis/key.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Profiles with index 0 = tonic (the scale does not matter, the correlation removes
 * it): Temperley (1999), "What's key for key?", with the minor profile's two
 * sevenths set equal (see key.h). */
static const double major_profile[12] = {5.0, 2.0, 3.5, 2.0, 4.5, 4.0,
                                         2.0, 4.5, 2.0, 3.5, 1.5, 4.0};
static const double minor_profile[12] = {5.0, 2.0, 3.5, 4.5, 2.0, 4.0,
                                         2.0, 4.5, 3.5, 2.0, 3.0, 3.0};
/* Tonic triads, for the opening chord. */
static const double major_triad[12] = {1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0};
static const double minor_triad[12] = {1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
/* Weight of each triad tone's twelfth (its third harmonic, seven classes up) in
 * the opening-chord templates (see key.h). */
#define START_TWELFTH 0.15

static const char *const pitch_names[12] = {"C", "C#", "D", "D#", "E", "F",
                                            "F#", "G", "G#", "A", "A#", "B"};

/* The confidence parts: a lead of the chosen key over the runner-up of DECIDED_FULL
 * or more counts fully (none at all leaves DECIDED_MIN of the confidence); a best
 * profile fit below FIT_NONE counts nothing and above FIT_FULL fully; a chroma
 * coefficient of variation below CV_NONE counts nothing and above CV_FULL
 * fully; a mean spectral flatness below FLAT_TONAL counts as tonal and above
 * FLAT_NOISE as noise. Flatness is the pipeline's (power spectrum, 22,050 Hz): about
 * 0.000-0.01 for notes and chords, 0.02 for music over loud drums, 0.08 for a kick
 * and snare loop, 0.18 for white noise, 0.2 for clicks. */
#define DECIDED_FULL 0.20
#define DECIDED_MIN 0.60
#define FIT_NONE 0.55
#define FIT_FULL 0.90
#define CV_NONE 0.10
#define CV_FULL 0.40
#define FLAT_TONAL 0.02
#define FLAT_NOISE 0.10
/* Weight of the opening chord's fit to a key's tonic triad against the whole-file
 * profile fit (both correlations, -1..1). */
#define START_WEIGHT 1.0

static double clamp01(double x)
{
    if (!(x > 0.0))
        return 0.0;
    if (x > 1.0)
        return 1.0;
    return x;
}

/* Centre p and scale it to unit norm, into q; returns 0 when p is flat, empty or
 * not finite (q is then all zeros). */
static int normalise(const double p[12], double q[12])
{
    double mean = 0.0;
    for (int i = 0; i < 12; i++)
        mean += p[i];
    mean /= 12.0;
    double norm = 0.0;
    for (int i = 0; i < 12; i++) {
        q[i] = p[i] - mean;
        norm += q[i] * q[i];
    }
    norm = sqrt(norm);
    if (!(norm > 1e-9 * (fabs(mean) + 1e-300)) || !isfinite(norm)) {
        for (int i = 0; i < 12; i++)
            q[i] = 0.0;
        return 0;
    }
    for (int i = 0; i < 12; i++)
        q[i] /= norm;
    return 1;
}

/* Pearson correlation of the normalised chroma c with the normalised profiles
 * maj and min rotated to each tonic: score[0..11] major, score[12..23] minor. */
static void correlate(const double c[12], const double maj[12], const double min[12],
                      double score[24])
{
    for (int k = 0; k < 24; k++) {
        const double *q = k < 12 ? maj : min;
        int tonic = k % 12;
        double s = 0.0;
        for (int i = 0; i < 12; i++)
            s += c[(tonic + i) % 12] * q[i];
        score[k] = s;
    }
}

/* A chord template with each tone's twelfth added at START_TWELFTH: what a
 * chord of harmonic tones puts into a chroma (the second and fourth harmonics
 * are the tone's own class; the third is the strongest one in another). */
static void with_twelfths(const double t[12], double out[12])
{
    for (int i = 0; i < 12; i++)
        out[i] = t[i] + START_TWELFTH * t[(i + 5) % 12];
}

static void set_no_key(sm_analysis *a, double confidence)
{
    a->has_key = false;
    a->key_tonic = -1;
    a->key_mode = SM_MODE_MAJOR;
    a->key_confidence = confidence;
}

void sm__key_analyze(sm_analysis *a)
{
    sm__key_analyze_start(a, NULL);
}

void sm__key_analyze_start(sm_analysis *a, const double start[12])
{
    if (!a)
        return;
    double mean = 0.0;
    for (int i = 0; i < 12; i++) {
        if (!isfinite(a->chroma[i]) || a->chroma[i] < 0.0) {
            set_no_key(a, 0.0);
            return;
        }
        mean += a->chroma[i];
    }
    mean /= 12.0;
    double var = 0.0;
    for (int i = 0; i < 12; i++)
        var += (a->chroma[i] - mean) * (a->chroma[i] - mean);
    double c[12];
    /* Silence or a perfectly flat chroma: nothing to correlate. */
    if (!(mean > 1e-9) || !normalise(a->chroma, c)) {
        set_no_key(a, 0.0);
        return;
    }
    double pmaj[12];
    double pmin[12];
    normalise(major_profile, pmaj);
    normalise(minor_profile, pmin);
    double score[24];
    correlate(c, pmaj, pmin, score);
    int best = 0;
    for (int k = 1; k < 24; k++)
        if (score[k] > score[best])
            best = k;

    /* Each key: the whole-file profile fit plus how well the opening chord matches
     * its tonic triad (progressions, loops and melodies start on the tonic far more
     * often than on any other chord). This decides between the key and its
     * relative (same pitch set) as well as between keys a fifth apart (a pitch set
     * with the fourth or the seventh missing fits both). */
    double total[24];
    memcpy(total, score, sizeof(total));
    double s[12];
    if (start && normalise(start, s)) {
        double hmaj[12];
        double hmin[12];
        with_twelfths(major_triad, hmaj);
        with_twelfths(minor_triad, hmin);
        double tmaj[12];
        double tmin[12];
        normalise(hmaj, tmaj);
        normalise(hmin, tmin);
        double st[24];
        correlate(s, tmaj, tmin, st);
        for (int k = 0; k < 24; k++)
            total[k] += START_WEIGHT * st[k];
    }
    int key = 0;
    for (int k = 1; k < 24; k++)
        if (total[k] > total[key])
            key = k;
    /* The lead over the runner-up, whichever key that is. */
    double runner = -INFINITY;
    for (int k = 0; k < 24; k++)
        if (k != key && total[k] > runner)
            runner = total[k];
    double d = total[key] - runner;

    double cv = sqrt(var / 12.0) / mean;
    double peak = clamp01((cv - CV_NONE) / (CV_FULL - CV_NONE));
    double flat = a->spectral[SM_SPEC_FLATNESS].mean;
    double tonal = 1.0;
    if (isfinite(flat))
        tonal = clamp01((FLAT_NOISE - flat) / (FLAT_NOISE - FLAT_TONAL));
    /* A poor fit to every profile is not a key: drums, kicks and noise. */
    double fit = clamp01((score[best] - FIT_NONE) / (FIT_FULL - FIT_NONE));
    /* A close runner-up (the relative, the key a fifth away, the parallel) lowers
     * the confidence but never below DECIDED_MIN of it: a melody over soft chords
     * often fits a neighbouring key almost as well and is still right most of
     * the time. */
    double decided = clamp01(d / DECIDED_FULL);
    double conf = fit * peak * tonal * (DECIDED_MIN + (1.0 - DECIDED_MIN) * decided);
    if (conf < SM__KEY_MIN_CONFIDENCE) {
        set_no_key(a, conf);
        return;
    }
    a->has_key = true;
    a->key_tonic = key % 12;
    a->key_mode = key < 12 ? SM_MODE_MAJOR : SM_MODE_MINOR;
    a->key_confidence = conf;
}

/* Names and Camelot codes. */

static int norm_tonic(int tonic)
{
    return ((tonic % 12) + 12) % 12;
}

int sm__key_camelot_number(int tonic, int mode)
{
    int major_tonic = norm_tonic(tonic);
    if (mode == SM_MODE_MINOR)
        major_tonic = (major_tonic + 3) % 12;
    /* C major is 8B and each step of the wheel is a fifth (7 semitones). */
    return (major_tonic * 7 + 7) % 12 + 1;
}

char *sm_key_name(int tonic, int mode, char *buf, size_t size)
{
    if (!buf || !size)
        return buf;
    snprintf(buf, size, "%s %s", pitch_names[norm_tonic(tonic)],
             mode == SM_MODE_MINOR ? "minor" : "major");
    return buf;
}

char *sm_key_camelot(int tonic, int mode, char *buf, size_t size)
{
    if (!buf || !size)
        return buf;
    snprintf(buf, size, "%d%c", sm__key_camelot_number(tonic, mode),
             mode == SM_MODE_MINOR ? 'A' : 'B');
    return buf;
}

/* The tonic of Camelot number num (1..12) and mode. */
static int camelot_tonic(int num, int mode)
{
    /* Inverse of num = 7 t + 8 (mod 12): t = 7 (num - 8) (mod 12), since 7 * 7 = 49 = 1. */
    int major_tonic = ((7 * (num - 8)) % 12 + 12) % 12;
    if (mode == SM_MODE_MINOR)
        return (major_tonic + 9) % 12;
    return major_tonic;
}

void sm__key_compatible(int tonic, int mode, int out_tonic[4], int out_mode[4])
{
    int m = mode == SM_MODE_MINOR ? SM_MODE_MINOR : SM_MODE_MAJOR;
    int other = m == SM_MODE_MINOR ? SM_MODE_MAJOR : SM_MODE_MINOR;
    int num = sm__key_camelot_number(tonic, m);
    out_tonic[0] = norm_tonic(tonic);
    out_mode[0] = m;
    out_tonic[1] = camelot_tonic(num, other);
    out_mode[1] = other;
    out_tonic[2] = camelot_tonic(num % 12 + 1, m);
    out_mode[2] = m;
    out_tonic[3] = camelot_tonic((num + 10) % 12 + 1, m);
    out_mode[3] = m;
}

/* Parsing. */

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static int lower(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A' + 'a';
    return ch;
}

/* If s starts with word (lower case), case-insensitively, return the rest. */
static const char *match_word(const char *s, const char *word)
{
    while (*word) {
        if (lower((unsigned char)*s) != (unsigned char)*word)
            return NULL;
        s++;
        word++;
    }
    return s;
}

static int parse_camelot(const char *s, int *tonic, int *mode)
{
    int num = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 3) {
        num = num * 10 + (*s - '0');
        s++;
        digits++;
    }
    if (num < 1 || num > 12)
        return -1;
    s = skip_spaces(s);
    int letter = lower((unsigned char)*s);
    if (letter != 'a' && letter != 'b')
        return -1;
    s = skip_spaces(s + 1);
    if (*s)
        return -1;
    *mode = letter == 'a' ? SM_MODE_MINOR : SM_MODE_MAJOR;
    *tonic = camelot_tonic(num, *mode);
    return 0;
}

int sm__key_parse(const char *s, int *tonic, int *mode)
{
    static const int letter_pc[7] = {9, 11, 0, 2, 4, 5, 7}; /* a b c d e f g */
    if (!s || !tonic || !mode)
        return -1;
    s = skip_spaces(s);
    if (*s >= '0' && *s <= '9')
        return parse_camelot(s, tonic, mode);
    int letter = lower((unsigned char)*s);
    if (letter < 'a' || letter > 'g')
        return -1;
    int pc = letter_pc[letter - 'a'];
    s++;
    /* Accidentals: '#', UTF-8 sharp (E2 99 AF), 'b' (lower case only), flat (E2 99 AD). */
    const char *rest = NULL;
    if (*s == '#') {
        pc++;
        s++;
    } else if ((rest = match_word(s, "\xe2\x99\xaf")) != NULL) {
        pc++;
        s = rest;
    } else if (*s == 'b') {
        pc--;
        s++;
    } else if ((rest = match_word(s, "\xe2\x99\xad")) != NULL) {
        pc--;
        s = rest;
    }
    s = skip_spaces(s);
    int m = SM_MODE_MAJOR;
    if (*s) {
        /* Longest words first. */
        static const struct {
            const char *word;
            int mode;
        } modes[] = {
            {"major", SM_MODE_MAJOR}, {"minor", SM_MODE_MINOR}, {"maj", SM_MODE_MAJOR},
            {"min", SM_MODE_MINOR},   {"m", SM_MODE_MINOR},
        };
        size_t i;
        for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
            rest = match_word(s, modes[i].word);
            if (rest && !*skip_spaces(rest))
                break;
        }
        if (i == sizeof(modes) / sizeof(modes[0]))
            return -1;
        m = modes[i].mode;
    }
    *tonic = norm_tonic(pc);
    *mode = m;
    return 0;
}
