/* Fundamental frequency of tonal one-shots (YIN).
 *
 * x: the first n samples (up to SM_AN_PITCH_SECONDS) of the file, mono at
 * SM_AN_RATE. Reads a->loop, a->onsets / a->n_onsets (the first onset marks the
 * attack; without onsets the attack is where |x| first reaches 5 % of its peak).
 * Writes has_note, note_hz, note_midi, note_cents and note_confidence.
 *
 * Method: skip SM__PITCH_SKIP_MS after the attack, find where the sound has decayed
 * 30 dB below its loudest part, and run YIN on up to SM__PITCH_WINDOWS windows spread
 * over that steady part. Each window integrates SM__PITCH_WLEN samples (93 ms, 1.9
 * periods of E0, the lowest note of a 5-string bass and of deep 808s) over lags up
 * to the period of SM__PITCH_FMIN (19 Hz, so E0 at -50 cents still fits). A window
 * counts when YIN finds a period (cumulative mean normalised difference <= 0.5).
 * The note then needs at least 5 % of the median window's energy in bands around
 * harmonics 1..3 of that f0 (this rejects chords, whose common period has no
 * energy of its own: sustained pad chords score under 0.2 %). The share is
 * measured on the window's spectrum (one more FFT with the YIN plan) after
 * removing the mean and straight-line drift, since a DC offset (plucked-string
 * models, cheap recorders) is energy at no harmonic; each band is +-max(2.5 bins,
 * 2 %) and at most half of f0 wide, so detuned unison voices (supersaws,
 * ensembles) count, which one exact frequency would miss. The note is the periodicity-weighted
 * median of the counted windows; the confidence is the periodicity summed over the
 * windows that agree with it (within 50 cents) divided by the windows that had
 * sound, so noise, drums, chords and glides score low. has_note needs confidence
 * >= SM__PITCH_MIN_CONFIDENCE. Loops, noise and chords: has_note false, note_hz,
 * note_cents NaN, note_midi -1; note_confidence is always set (0..1).
 *
 * The difference function is computed with FFTW (r2c / c2r, 4096 points for the
 * standard window): three FFTs per window instead of the 2048 x 803 multiply-adds
 * of the direct sum. Measured: a whole YIN window takes 21 us, the direct sum alone
 * 270 us even in its vectorised order. Plans are made once per size, under a lock,
 * with FFTW_ESTIMATE, and executed on per-call buffers (new-array execute).
 * Cost of sm__pitch_analyze on 2 s: about 110 us (one core, 5 windows, idle machine;
 * the harmonic-share FFT adds one 4096-point r2c, about 10 us).
 * The public helper sm_note_name lives in pitch.c too. */
#ifndef SM_ANALYSIS_PITCH_H
#define SM_ANALYSIS_PITCH_H

#include <stddef.h>

#include <samplemind/analysis.h>

#define SM__PITCH_FMIN 19.0
#define SM__PITCH_FMAX 4200.0
#define SM__PITCH_WLEN 2048
#define SM__PITCH_WINDOWS 5
#define SM__PITCH_SKIP_MS 40.0
#define SM__PITCH_MIN_CONFIDENCE 0.5

/* Returns 0, or -1 when out of memory (a is then left with has_note false). */
int sm__pitch_analyze(const float *x, size_t n, sm_analysis *a);

/* Plain YIN over x: f0 in Hz between fmin and fmax, 0 when aperiodic (no lag with
 * a cumulative-mean-normalised difference below 0.5) or when x is too short (fewer
 * than 3 periods of fmax), or -1 when out of memory. The integration window is
 * n minus the largest lag, and the largest lag is the period of fmin or n / 3,
 * whichever is smaller. *periodicity (may be NULL) gets 1 - the cumulative mean
 * normalised difference at the chosen lag (0..1; 0 on failure). Exposed for tests. */
double sm__pitch_yin(const float *x, size_t n, double rate, double fmin, double fmax,
                     double *periodicity);

#endif
