/* Tempo, beats and loop-or-one-shot, from the onset strength envelope.
 *
 * Reads a->duration (NaN or <= 0: taken from n), a->onsets (refined onset times;
 * may be NULL), a->rms_env (linear RMS per frame; may be NULL) and a->decay_ms.
 * Writes a->loop, loop_confidence (confidence in the decision made, 0.5..1),
 * loop_evidence (one line of text); and has_tempo, bpm (one decimal),
 * bpm_confidence (0..1: how periodic the sound is; NaN for silence or input too
 * short to tell), bpm_alternatives (half and double when in 50-220 BPM) and beats
 * (new array from sm_malloc, owned by a; sm_analysis_release frees it) — or
 * has_tempo false, bpm NaN and no beats for one-shots and arhythmic sounds. Any
 * beats array already in a is freed first. For loops, the BPM is refined so that
 * the length is a whole number of beats when the audio agrees. The half/double
 * rule and the loop rule are written at the top of tempo.c. */
#ifndef SM_ANALYSIS_TEMPO_H
#define SM_ANALYSIS_TEMPO_H

#include <samplemind/analysis.h>

#include "analysis/frame.h"

/* odf: n values at SM_AN_FPS (NULL with n 0 is fine). Returns 0, or -1 when out
 * of memory (then has_tempo is false and no beats are set). */
int sm__tempo_analyze(const float *odf, size_t n, sm_analysis *a);

struct sm__onset;
/* The same from the whole onset state: o->odf as odf above, plus its band
 * envelopes (drum roles for the loop level) and chroma novelty (a tempo from
 * chord changes when the envelope has none). o NULL is treated as no input. */
int sm__tempo_analyze_ex(const struct sm__onset *o, sm_analysis *a);

#endif
