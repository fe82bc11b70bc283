/* The last stage, over the finished descriptors: instrument category, timbre
 * scalars and the similarity embedding. Each reads only sm_analysis fields. */
#ifndef SM_ANALYSIS_CLASSIFY_H
#define SM_ANALYSIS_CLASSIFY_H

#include <samplemind/analysis.h>

/* Writes category, category_confidence, runner_up and evidence. Audio decides;
 * words in a->path may add evidence, and the evidence text says which did. */
void sm__category_analyze(sm_analysis *a);
/* Writes brightness, warmth, hardness, depth, roughness, boominess (0..100). */
void sm__timbre_analyze(sm_analysis *a);
/* Writes embedding (sm_malloc'd), embedding_dim, embedding_version.
 * Returns 0, or -1 when out of memory. */
int sm__embedding_compute(sm_analysis *a);

#endif
