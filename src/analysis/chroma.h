/* Chroma with tuning: a fine pitch-class histogram (10 cents a bin) accumulated
 * per frame, energy-weighted; at the end the tuning offset is estimated from the
 * histogram and the 12 pitch classes are folded around it. */
#ifndef SM_ANALYSIS_CHROMA_H
#define SM_ANALYSIS_CHROMA_H

#include <samplemind/analysis.h>

#include "analysis/frame.h"

#define SM_CHROMA_FINE 120

struct sm__chroma {
    double fine[SM_CHROMA_FINE]; /* bin j covers pitch class j / 10, in 10-cent steps */
    double total;
};

void sm__chroma_init(struct sm__chroma *c);
void sm__chroma_process(struct sm__chroma *c, const struct sm__frame *f);
/* Writes a->chroma[] (max-normalised; zeros for silence) and a->tuning_cents. */
void sm__chroma_finish(const struct sm__chroma *c, sm_analysis *a);

#endif
