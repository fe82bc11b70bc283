/* Tempo, beats and loop-or-one-shot, from the onset strength envelope.
 *
 * Reads a->duration, a->onsets, a->rms_env, a->decay_ms. Writes a->loop,
 * loop_confidence, loop_evidence; and has_tempo, bpm, bpm_confidence,
 * bpm_alternatives, beats (sm_malloc'd, owned by a) — or has_tempo false and
 * bpm NaN for one-shots and arhythmic sounds. For loops, the BPM is refined so
 * that the length is a whole number of beats when the audio agrees. */
#ifndef SM_ANALYSIS_TEMPO_H
#define SM_ANALYSIS_TEMPO_H

#include <samplemind/analysis.h>

#include "analysis/frame.h"

/* odf: n values at SM_AN_FPS. Returns 0, or -1 when out of memory. */
int sm__tempo_analyze(const float *odf, size_t n, sm_analysis *a);

#endif
