/* Mel filterbank (SM_AN_NMEL triangular bands, Slaney-style, 0..11025 Hz) and MFCC.
 *
 * The filterbank matches librosa.filters.mel(sr=22050, n_fft=2048, n_mels=64,
 * fmin=0, fmax=11025, htk=False, norm="slaney"): Slaney's mel scale (linear below
 * 1 kHz, logarithmic above), band edges evenly spaced in mel, each triangle scaled
 * to unit area in Hz. It is stored sparsely (first bin and weights of each band).
 *
 * MFCC: the orthonormal DCT-II of 10 log10(max(mel, 1e-10)) (no top_db clipping),
 * first SM_MFCC_COUNT coefficients, accumulated as mean and population std over
 * frames that are not silent (sm__stft_is_silent).
 */
#ifndef SM_ANALYSIS_MEL_H
#define SM_ANALYSIS_MEL_H

#include <samplemind/analysis.h>

#include "analysis/frame.h"

struct sm__mel;

/* The process-wide filterbank, built on first use (pthread_once). It is
 * immutable and may be shared by threads. \return borrowed, never NULL. */
const struct sm__mel *sm__mel_get(void);
/* mel[SM_AN_NMEL] = filterbank applied to power[SM_AN_NBINS]. */
void sm__mel_apply(const struct sm__mel *m, const float *power, float *mel);
/* Band \p band's first FFT bin and number of bins with a non-zero weight; the
 * weights go to *weights (borrowed). \return the number of bins (0 for a bad band). */
size_t sm__mel_band(const struct sm__mel *m, size_t band, size_t *first,
                    const float **weights);

/* MFCC accumulator: DCT-II of log mel energies, 13 coefficients, mean and std. */
struct sm__mfcc {
    struct sm__running c[SM_MFCC_COUNT];
};

void sm__mfcc_init(struct sm__mfcc *m);
/* Adds frame \p f unless it is silent. Uses f->mel, or computes it from
 * f->power when f->mel is NULL. */
void sm__mfcc_process(struct sm__mfcc *m, const struct sm__frame *f);
/* The coefficients of one frame's mel powers (mel[SM_AN_NMEL]) into c[SM_MFCC_COUNT]. */
void sm__mfcc_compute(const float *mel, float *c);
/* Writes a->mfcc_mean and a->mfcc_std (NaN when no frame was counted). */
void sm__mfcc_finish(const struct sm__mfcc *m, sm_analysis *a);

#endif
