/* Fundamental frequency of tonal one-shots (YIN).
 *
 * x: the first n samples (up to SM_AN_PITCH_SECONDS) of the file, mono at
 * SM_AN_RATE. Reads a->loop, a->onsets, a->rms_env. Writes has_note, note_hz,
 * note_midi, note_cents, note_confidence. Loops, noise and chords: has_note false.
 * The public helper sm_note_name lives in pitch.c too. */
#ifndef SM_ANALYSIS_PITCH_H
#define SM_ANALYSIS_PITCH_H

#include <stddef.h>

#include <samplemind/analysis.h>

/* Returns 0, or -1 when out of memory. */
int sm__pitch_analyze(const float *x, size_t n, sm_analysis *a);

/* Plain YIN over x: f0 in Hz between fmin and fmax, or 0 when aperiodic.
 * *periodicity (may be NULL) gets 1 - the cumulative-mean-normalised difference
 * at the chosen lag (0..1). Exposed for tests. */
double sm__pitch_yin(const float *x, size_t n, double rate, double fmin, double fmax,
                     double *periodicity);

#endif
