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
 * Profiles: each of the 24 keys is scored by the mean of the Pearson correlations
 * of the chroma with three published profile pairs, rotated to the tonic:
 * Krumhansl-Kessler (probe-tone ratings, good for pop), Temperley (1999, corpus of
 * common-practice music, sharper minor) and EDMA (Faraldo et al. 2016, profiles
 * measured on electronic dance music, tonic-heavy). Averaging keeps the strengths
 * of each and damps the biases (KK's leaning to major, EDMA's to minor).
 *
 * Confidence = margin x peakiness x tonality x fit, each 0..1:
 *   margin     from the best score minus the second best key (half of it) and
 *              minus the second best apart from the relative key (the other half),
 *   peakiness  from the spread of the chroma (its coefficient of variation),
 *   tonality   from the mean spectral flatness (1 for tonal spectra, 0 for noise),
 *   fit        the best score itself (a poor fit to every profile is no key).
 * has_key is true when the confidence reaches SM__KEY_MIN_CONFIDENCE. Cost: under
 * a microsecond per file (24 keys x 3 profiles x 12 classes).
 *
 * Key names and Camelot codes: sm_key_name / sm_key_camelot (public, analysis.h)
 * live in key.c; names are spelled with sharps only (C C# D D# E F F# G G# A A# B).
 */
#ifndef SM_ANALYSIS_KEY_H
#define SM_ANALYSIS_KEY_H

#include <samplemind/analysis.h>

#define SM__KEY_MIN_CONFIDENCE 0.30

void sm__key_analyze(sm_analysis *a);

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
