/* Mel filterbank (SM_AN_NMEL triangular bands, Slaney-style, 0..11025 Hz) and MFCC. */
#ifndef SM_ANALYSIS_MEL_H
#define SM_ANALYSIS_MEL_H

#include <samplemind/analysis.h>

#include "analysis/frame.h"

struct sm__mel;

/* The filterbank is immutable after creation and may be shared by threads. */
const struct sm__mel *sm__mel_get(void);
/* mel[SM_AN_NMEL] = filterbank applied to power[SM_AN_NBINS]. */
void sm__mel_apply(const struct sm__mel *m, const float *power, float *mel);

/* MFCC accumulator: DCT-II of log mel energies, 13 coefficients, mean and std. */
struct sm__mfcc {
    struct sm__running c[SM_MFCC_COUNT];
};

void sm__mfcc_init(struct sm__mfcc *m);
void sm__mfcc_process(struct sm__mfcc *m, const struct sm__frame *f);
/* Writes a->mfcc_mean and a->mfcc_std (NaN when no frame was counted). */
void sm__mfcc_finish(const struct sm__mfcc *m, sm_analysis *a);

#endif
