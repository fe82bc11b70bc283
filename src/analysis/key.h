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
 *  2. The tonic. Each key's total is its profile score plus START_WEIGHT (1.0) x
 *     the correlation of the opening chroma (sm__chroma_start: about the first
 *     1.5 s of sound, the first chord) with the key's tonic triad, and the best
 *     total wins. Progressions, loops and melodies start on the tonic chord far
 *     more often than on any other, which the whole-file profile cannot see: it
 *     decides between a key and its relative (same pitch set) and between keys
 *     a fifth apart (a melody or progression that leaves out the fourth or the
 *     seventh fits both pitch sets). NULL, silent, flat or NaN opening chroma:
 *     only the profile decides. The triad templates carry each tone's twelfth
 *     (third harmonic, seven classes up) at START_TWELFTH (0.15): a chord of
 *     harmonic tones puts it into the chroma, and in a bright timbre (guitar,
 *     pad) a minor chord's fifth, also the root's twelfth, becomes its loudest
 *     class, so that the plain relative-major triad (whose third it is) fitted
 *     the opening as well. On the 3,828 key-labelled development files (full
 *     seeds 2-7, progression-and-melody seeds 11-80) 175 -> 159 wrong; 0.1
 *     gave 164, 0.2 160, 0.3 169; adding the fifth harmonic (a major third,
 *     0.1-0.2) on top: 167-178.
 * Measured on the generator's labelled sets (key exact on the 48 progressions and
 * melodies of each development set: full seeds 2-7 and 30 progression-and-melody
 * seeds, 1,728 files): the earlier rules (the opening chord only between a key
 * and its relative, the earlier confidence) 90.3 %; the opening chord against
 * every key with the confidence below 95.0 % (see docs/accuracy.md).
 *
 * Confidence = fit x peakiness x tonality x (DECIDED_MIN + (1 - DECIDED_MIN) x
 * decided), each 0..1:
 *   fit        the best profile score from FIT_NONE (0.55: nothing) to FIT_FULL
 *              (0.9): drums, kicks and noise fit no profile well, which is what
 *              keeps them without a key,
 *   peakiness  from the spread of the chroma (its coefficient of variation),
 *   tonality   from the mean spectral flatness (1 for tonal spectra, 0 for noise),
 *   decided    the chosen key's lead in total over the runner-up (whichever key
 *              that is) over DECIDED_FULL (0.2). A close runner-up only lowers
 *              the confidence to DECIDED_MIN (0.6) of it: a melody over soft
 *              chords often fits the keys around it almost as well and is still
 *              right most of the time (the earlier product of a pitch-set margin
 *              and a mode margin could quarter it, and took the key away from
 *              about 2 % of the tonal files, most of them right).
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
