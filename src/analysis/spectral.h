/* Spectral shape descriptors per frame, reported as mean and std over frames:
 * centroid, bandwidth, roll-off (85 %), flatness, flux, zero-crossing rate, RMS,
 * and contrast in SM_CONTRAST_BANDS octave bands.
 *
 * Per frame (k over all SM_AN_NBINS bins, f_k = sm__bin_hz(k), M magnitude,
 * P power):
 * - centroid  = sum f_k M_k / sum M_k (Hz), as librosa;
 * - bandwidth = sqrt(sum M_k (f_k - centroid)^2 / sum M_k) (Hz), librosa p = 2;
 * - rolloff   = f_k of the first bin where the cumulative POWER reaches 85 % of
 *               the frame's energy (librosa accumulates magnitude instead);
 * - flatness  = geometric / arithmetic mean of max(P, 1e-10), 0..1, as librosa
 *               (the logarithms use a polynomial log2 accurate to 1e-7);
 * - flux      = L2 norm of max(0, m_t - m_{t-1}) where m is the magnitude
 *               spectrum divided by its sum (L1); not defined for the first frame;
 * - zcr       = sign changes between consecutive samples over the SM_AN_HOP
 *               samples centred on the frame, divided by SM_AN_HOP (0 counts as
 *               positive, as librosa);
 * - rms       = the frame's rms;
 * - contrast  = librosa's spectral_contrast(fmin=200, n_bands=6, quantile=0.02) on
 *               magnitudes: octave bands from 200 Hz (band 0 is 0..200 Hz, band 6
 *               runs to Nyquist), 10 log10(peak / valley) where peak and valley
 *               are the means of the top and bottom max(1, rint(2 % of the band's
 *               bins)) magnitudes, found exactly. librosa's top_db clipping of the
 *               whole file's peaks and valleys is not applied.
 * Mean and population std are taken over frames that are not silent
 * (sm__stft_is_silent); every value is NaN when no frame counted.
 */
#ifndef SM_ANALYSIS_SPECTRAL_H
#define SM_ANALYSIS_SPECTRAL_H

#include <samplemind/analysis.h>

#include "analysis/frame.h"

struct sm__spectral {
    struct sm__running d[SM_SPEC_COUNT];
    struct sm__running contrast[SM_CONTRAST_BANDS];
    float prev_mag[SM_AN_NBINS]; /* for flux: the previous L1-normalised magnitudes */
    int have_prev;
};

void sm__spectral_init(struct sm__spectral *s);
void sm__spectral_process(struct sm__spectral *s, const struct sm__frame *f);
/* Writes a->spectral[] and a->contrast[] (NaN when no frame was counted). */
void sm__spectral_finish(const struct sm__spectral *s, sm_analysis *a);

/* One frame's descriptors, indexed by enum sm_spectral_id (flux is computed
 * against \p prev, the previous frame's L1-normalised magnitudes, or NaN when
 * prev is NULL), and its contrast[SM_CONTRAST_BANDS]. Does not gate silence. If
 * \p next_prev is not NULL it receives this frame's normalised magnitudes (it
 * may be the same array as prev). */
void sm__spectral_frame(const struct sm__frame *f, const float *prev, float *next_prev,
                        double *d, double *contrast);

#endif
