/* Musical key from the energy-weighted chroma against major and minor profiles.
 *
 * Reads a->chroma (max-normalised, C = 0, tuning folded in) and
 * a->spectral[SM_SPEC_FLATNESS].mean (NaN is fine: then it is not used). Writes
 * has_key, key_tonic, key_mode and key_confidence (always set, 0..1, also when
 * has_key is false). Drums and noise (flat chroma, a flat spectrum) give has_key
 * false with a low confidence rather than a guess; key_tonic is then -1 (as after
 * sm_analysis_init) and key_mode SM_MODE_MAJOR. duration and n_onsets are not used:
 * a chord one-shot has a key as much as a long progression does.
 *
 * Method (sm__key_analyze_start; sm__key_analyze is the same without the opening):
 *  1. Pitch set. Each of the 24 keys is scored by the Pearson correlation of the
 *     chroma with Temperley's (1999) profile rotated to the tonic. The minor
 *     profile has its two sevenths set equal (3.0 each; Temperley has 1.5 for the
 *     flat and 4.0 for the leading tone): pop, EDM and film music in minor use
 *     the natural minor's flat seventh (i-VII-VI-VII, i-VI-III-VII) as much as the
 *     harmonic minor's V, and the published profile pushed such progressions to
 *     the relative major. Temperley alone: averaging it with Krumhansl-Kessler and
 *     EDMA (the earlier method) moved many files to the key a fifth up, as those
 *     profiles weight the tonic and fifth so heavily that the dominant's pitch set
 *     wins. The best key and its relative share the pitch set.
 *  2. Major or minor. The relative pair is decided by d = score(major) -
 *     score(minor) + START_WEIGHT x (fit of the opening chroma to the major tonic
 *     triad - its fit to the minor tonic triad). The opening chroma
 *     (sm__chroma_start: about the first 1.5 s of sound) is the first chord:
 *     progressions, loops and melodies start on the tonic far more often than on
 *     the relative, which the profile fit alone cannot see. NULL, silent, flat or
 *     NaN opening chroma: only the profile decides.
 * Measured on the generator's labelled set (dev seeds 2-4, 234 files with a key):
 * 77 % exact before; the profile change alone 88 %; with the opening chord 95 %.
 *
 * Confidence = (0.5 + 0.5 margin) x mode x peakiness x tonality x fit, each 0..1:
 *   margin     from the best score minus the best key outside the relative pair
 *              (a melody over soft chords often fits the key a fifth away almost as
 *              well and is still right most of the time, so this halves at worst),
 *   mode       0.5 + 0.5 x |d| / MODE_FULL (an undecided major/minor halves it),
 *   peakiness  from the spread of the chroma (its coefficient of variation),
 *   tonality   from the mean spectral flatness (1 for tonal spectra, 0 for noise),
 *   fit        the best score from FIT_NONE (0.5: nothing) to FIT_FULL (0.9):
 *              drums, kicks and noise fit no profile well, which is what keeps
 *              them without a key (on the dev set 13 of 270 drum and fx one-shots
 *              and none of 30 drum loops get a key, against 47 and 13 before).
 * has_key is true when the confidence reaches SM__KEY_MIN_CONFIDENCE. Cost: about a
 * microsecond per file (24 keys x 12 classes, twice).
 *
 * Key names and Camelot codes: sm_key_name / sm_key_camelot (public, analysis.h)
 * live in key.c; names are spelled with sharps only (C C# D D# E F F# G G# A A# B).
 */
#ifndef SM_ANALYSIS_KEY_H
#define SM_ANALYSIS_KEY_H

#include <samplemind/analysis.h>

#define SM__KEY_MIN_CONFIDENCE 0.30

void sm__key_analyze(sm_analysis *a);
/* The same, with the opening chroma (sm__chroma_start; NULL or all zeros: not
 * used) as evidence between a key and its relative. */
void sm__key_analyze_start(sm_analysis *a, const double start[12]);

/* Parse a key written by a person: "Am", "A minor", "amin", "A min", "C#", "Db major",
 * "dbmaj", "F#m", "Bbm", "C" (no mode means major), or a Camelot code "8A", "8b",
 * "12B". Letters are case-insensitive; a lone "m" after the tonic means minor (so
 * "AM" is A minor too); a "b" right after the letter is a flat; '#', "♯" and "♭" are
 * accepted; spaces around the parts are ignored. "H", "13A", "" and trailing junk are
 * rejected. Writes *tonic (0 = C ... 11 = B) and *mode (enum sm_key_mode) only on
 * success. Returns 0, or -1 when s is not a key. */
int sm__key_parse(const char *s, int *tonic, int *mode);

/* The keys that mix harmonically with (tonic, mode), by the Camelot wheel:
 * out[0] the key itself, out[1] its relative (same number, other letter),
 * out[2] the next number (+1, a fifth up), out[3] the previous number (-1).
 * Example: A minor (8A) -> A minor, C major (8B), E minor (9A), D minor (7A).
 * tonic is taken modulo 12; a mode other than minor is read as major. */
void sm__key_compatible(int tonic, int mode, int out_tonic[4], int out_mode[4]);

/* The Camelot number 1..12 of a key (8 for C major and A minor). */
int sm__key_camelot_number(int tonic, int mode);

#endif
