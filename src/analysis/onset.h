/* Onset strength envelope (one value per frame) and onset picking.
 *
 * Strength: half-wave rectified difference of log mel band powers between
 * consecutive frames, summed over bands. Picking: adaptive threshold over the
 * envelope, then each onset is refined on the fine RMS envelope (2.9 ms) to
 * the start of its rise, so onset times are accurate to a few milliseconds
 * although frames are 23 ms apart. */
#ifndef SM_ANALYSIS_ONSET_H
#define SM_ANALYSIS_ONSET_H

#include "analysis/frame.h"
#include "util/vec.h"

struct sm__onset {
    struct sm__fvec odf; /* strength per frame */
    float prev[SM_AN_NMEL];
    int have_prev;
};

void sm__onset_init(struct sm__onset *o);
void sm__onset_release(struct sm__onset *o);
/* Append frame f's strength. Returns 0, or -1 when out of memory. */
int sm__onset_process(struct sm__onset *o, const struct sm__frame *f);
/* The strength to use for frame 0 of odf[n]. Frame 0 rises from assumed
 * silence, which exaggerates it when a file starts inside a sound: it counts as
 * at most the strongest later frame, but at least SM__ONSET_FIRST_MIN (dB per
 * band), so a hit at time 0 of a one-shot stays an onset. 0 when n is 0. */
#define SM__ONSET_FIRST_MIN 10.0f
float sm__onset_first(const float *odf, size_t n);
/* Onset times in seconds into times (appended). fine: RMS per SM_AN_FINE_HOP
 * samples. Returns 0, or -1 when out of memory. */
int sm__onset_pick(const struct sm__onset *o, const float *fine, size_t n_fine,
                   struct sm__fvec *times);

#endif
