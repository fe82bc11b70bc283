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
 * Octave checks, per window:
 * - up: when harmonic 2 dominates (a formant on it: vocals on F3 read F4; a
 *   pluck near the middle of the string) half the period already dips below
 *   YIN's threshold. If the difference at twice the chosen lag is under 0.2 of
 *   the chosen dip's interpolated floor (and that floor is >= 0.01), the period
 *   is twice the lag. Only from lag 40 on (f0 <= 551 Hz): at shorter lags a
 *   half-sample misalignment of the integer lag alone inflates the chosen dip
 *   that much (8 development seeds, about 10,700 windows of 2147 notes: at lag
 *   >= 40 no correct window trips it at 0.2, one at 0.3; 10 of the 12 octave-up
 *   windows trip it at 0.1, 11 at 0.2).
 * - down: at short periods YIN's integer lags miss a fractional period (C7 is
 *   10.5 samples) and two periods win (bright keys and synths at C7 read C6).
 *   Each window's spectrum (one more FFT with the YIN plan) is checked: if
 *   harmonics 1..10 of f0 hold >= 80 % of its energy but the odd ones < 1 % of
 *   that, the waveform repeats twice per period and the note is 2 f0. The 80 %
 *   keeps cymbals, whose odd bands can be empty by chance, from moving (on
 *   10 development seeds the drums-with-a-note count is unchanged from 0.7 to
 *   0.9 and the note errors from 0.2 to 0.9; octave-down windows score 0.0000,
 *   correct notes >= 0.03 except one inharmonic FM bell).
 * The note then needs at least 5 % of the energy in bands around harmonics 1..3
 * of its f0, as the median over the windows that agree with the note (this
 * rejects chords, whose common period has no energy of its own: sustained pad
 * chords score under 0.6 % on 1500 development pads; the median and not one
 * window, because an FM tone's early windows can hold their energy in high
 * sidebands, fundamental under 1 %, until the index decays). The share is
 * measured on the same per-window spectrum after removing the mean and
 * straight-line drift, since a DC offset (plucked-string models, cheap
 * recorders) is energy at no harmonic; each band is +-max(2.5 bins, 2 %) and at
 * most half of f0 wide, so detuned unison voices (supersaws, ensembles) count,
 * which one exact frequency would miss. The note is the periodicity-weighted
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
 * Cost of sm__pitch_analyze on 2 s: about 110 us (one core, 5 windows, idle machine)
 * plus one 4096-point r2c per window for the spectral checks (about 10 us each).
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
