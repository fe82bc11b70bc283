/* Musical key: chroma against rotated key profiles, names, Camelot codes, parsing.
 * See key.h for the method and the choice of profiles. */
#include "analysis/key.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define N_FAMILIES 3

/* Profiles with index 0 = tonic, as published (the scale does not matter, the
 * correlation removes it). */
static const double major_profiles[N_FAMILIES][12] = {
    /* Krumhansl and Kessler (1982), probe-tone ratings. */
    {6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88},
    /* Temperley (1999), "What's key for key?". */
    {5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0},
    /* EDMA, Faraldo, Gomez, Jorda and Herrera (2016), electronic dance music. */
    {0.16519551, 0.04749026, 0.08293076, 0.06687112, 0.09994645, 0.09274123,
     0.05294487, 0.13159476, 0.05218986, 0.07443653, 0.06940723, 0.0642515},
};

static const double minor_profiles[N_FAMILIES][12] = {
    {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17},
    {5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0},
    {0.17235348, 0.05336489, 0.0761009, 0.10043649, 0.05621498, 0.08527853,
     0.0497915, 0.13451001, 0.07458916, 0.05003023, 0.09187879, 0.05545106},
};

static const char *const pitch_names[12] = {"C", "C#", "D", "D#", "E", "F",
                                            "F#", "G", "G#", "A", "A#", "B"};

/* The confidence parts: a score margin of MARGIN_FULL or more counts fully; a
 * chroma coefficient of variation below CV_NONE counts nothing and above CV_FULL
 * fully; a mean spectral flatness below FLAT_TONAL counts as tonal and above
 * FLAT_NOISE as noise. Flatness is the pipeline's (power spectrum, 22,050 Hz): about
 * 0.000-0.01 for notes and chords, 0.02 for music over loud drums, 0.08 for a kick
 * and snare loop, 0.18 for white noise, 0.2 for clicks. */
#define MARGIN_FULL 0.20
#define CV_NONE 0.10
#define CV_FULL 0.40
#define FLAT_TONAL 0.02
#define FLAT_NOISE 0.10

static double clamp01(double x)
{
    if (!(x > 0.0))
        return 0.0;
    if (x > 1.0)
        return 1.0;
    return x;
}

/* Centre profile p and scale it to unit norm, into q. */
static void normalise_profile(const double p[12], double q[12])
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
    for (int i = 0; i < 12; i++)
        q[i] /= norm;
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
    double c[12];
    double var = 0.0;
    for (int i = 0; i < 12; i++) {
        c[i] = a->chroma[i] - mean;
        var += c[i] * c[i];
    }
    double cn = sqrt(var);
    /* Silence or a perfectly flat chroma: nothing to correlate. */
    if (!(mean > 1e-9) || !(cn > 1e-9 * mean)) {
        set_no_key(a, 0.0);
        return;
    }

    /* Pearson correlation: the centred chroma over its norm, dotted with each
     * centred unit-norm profile rotated to the tonic; averaged over the families. */
    /* Two periods, so that a rotation is a plain offset. */
    double c2[24];
    for (int i = 0; i < 12; i++) {
        c2[i] = c[i] / cn;
        c2[i + 12] = c2[i];
    }
    double prof[2][N_FAMILIES][12];
    for (int f = 0; f < N_FAMILIES; f++) {
        normalise_profile(major_profiles[f], prof[0][f]);
        normalise_profile(minor_profiles[f], prof[1][f]);
    }
    double score[24];
    for (int k = 0; k < 24; k++) {
        int tonic = k % 12;
        double s = 0.0;
        for (int f = 0; f < N_FAMILIES; f++) {
            const double *q = prof[k < 12 ? 0 : 1][f];
            const double *ct = c2 + tonic;
            for (int i = 0; i < 12; i++)
                s += ct[i] * q[i];
        }
        score[k] = s / N_FAMILIES;
    }
    int best = 0;
    for (int k = 1; k < 24; k++)
        if (score[k] > score[best])
            best = k;
    /* The relative key (A minor for C major) shares the pitch set, so it is often
     * close behind; mistaking it costs little (same Camelot number). The margin is
     * half over the second-best key of all, half over the second best apart from
     * the relative, so a clear pitch set with an unclear mode is a key of middling
     * confidence, while an unclear pitch set (one note, a fifth) is none. */
    int relative = best < 12 ? 12 + (best + 9) % 12 : (best - 12 + 3) % 12;
    double second = -1.0;
    double second_other = -1.0;
    for (int k = 0; k < 24; k++) {
        if (k == best)
            continue;
        if (score[k] > second)
            second = score[k];
        if (k != relative && score[k] > second_other)
            second_other = score[k];
    }
    double margin = 0.5 * clamp01((score[best] - second) / MARGIN_FULL) +
                    0.5 * clamp01((score[best] - second_other) / MARGIN_FULL);
    double cv = sqrt(var / 12.0) / mean;
    double peak = clamp01((cv - CV_NONE) / (CV_FULL - CV_NONE));
    double flat = a->spectral[SM_SPEC_FLATNESS].mean;
    double tonal = 1.0;
    if (isfinite(flat))
        tonal = clamp01((FLAT_NOISE - flat) / (FLAT_NOISE - FLAT_TONAL));
    /* A poor fit to every profile is not a key either. */
    double fit = clamp01(score[best] / 0.5);
    double conf = margin * peak * tonal * fit;

    if (conf < SM__KEY_MIN_CONFIDENCE) {
        set_no_key(a, conf);
        return;
    }
    a->has_key = true;
    a->key_tonic = best % 12;
    a->key_mode = best < 12 ? SM_MODE_MAJOR : SM_MODE_MINOR;
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
