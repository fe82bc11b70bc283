/* Spectral shape descriptors per frame, reported as mean and std over frames:
 * centroid, bandwidth, roll-off (85 %), flatness, flux, zero-crossing rate, RMS,
 * and contrast in SM_CONTRAST_BANDS octave bands. */
#ifndef SM_ANALYSIS_SPECTRAL_H
#define SM_ANALYSIS_SPECTRAL_H

#include <samplemind/analysis.h>

#include "analysis/frame.h"

struct sm__spectral {
    struct sm__running d[SM_SPEC_COUNT];
    struct sm__running contrast[SM_CONTRAST_BANDS];
    float prev_mag[SM_AN_NBINS]; /* for flux */
    int have_prev;
};

void sm__spectral_init(struct sm__spectral *s);
void sm__spectral_process(struct sm__spectral *s, const struct sm__frame *f);
/* Writes a->spectral[] and a->contrast[] (NaN when no frame was counted). */
void sm__spectral_finish(const struct sm__spectral *s, sm_analysis *a);

#endif
