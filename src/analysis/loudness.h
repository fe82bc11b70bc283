/* Loudness (ITU-R BS.1770-4 / EBU R128, Tech 3341 and 3342) and peaks, internal.
 *
 * Same filters, channel weights and gating as libebur128, which the tests use as
 * the reference, but computed differently: the K-weighted energy is summed once
 * per 100 ms sub-block, and momentary (4 sub-blocks), short-term (30), integrated
 * (gated 400 ms blocks at 100 ms steps) and loudness range (gated 3 s blocks at
 * 1 s steps, 10th to 95th percentile) all derive from that list. libebur128
 * re-sums the whole 400 ms or 3 s window on every momentary or short-term
 * reading, which at 10 readings a second cost more than the rest of the analysis.
 * Memory: 8 bytes per 100 ms of audio. */
#ifndef SM_ANALYSIS_LOUDNESS_H
#define SM_ANALYSIS_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

#include <samplemind/analysis.h>
#include <samplemind/audio.h>

#include "analysis/truepeak.h"

struct sm__biquad {
    double b0, b1, b2, a1, a2;
};

struct sm__loudness {
    struct sm__truepeak tp;
    struct sm__biquad pre;              /* high shelf */
    struct sm__biquad rlb;              /* high pass */
    double z[SM_MAX_CHANNELS][4];       /* filter state per channel */
    double weight[SM_MAX_CHANNELS];     /* channel weight (0 = unused) */
    int channels;
    int64_t rate;
    size_t step;                        /* frames per 100 ms sub-block */
    size_t pending;                     /* frames in the current sub-block */
    double acc;                         /* weighted energy of the current sub-block */
    double *sub;                        /* energy sum per finished sub-block */
    size_t n_sub;
    size_t cap_sub;
    int oom;
};

/* Returns 0, or -1 when out of memory or the format is out of range. */
int sm__loudness_init(struct sm__loudness *l, int rate, int channels);
void sm__loudness_release(struct sm__loudness *l);
/* Feed n frames of planar audio: ch[c] points at channel c's samples, with
 * SM__TP_HISTORY writable floats before each (see truepeak.h).
 * Returns 0, or -1 when out of memory. */
int sm__loudness_process(struct sm__loudness *l, float *const *ch, size_t n);
/* Fill the loudness and peak fields of a. */
void sm__loudness_finish(struct sm__loudness *l, sm_analysis *a);

#endif
