/* Musical key from the energy-weighted chroma against major and minor profiles.
 *
 * Reads a->chroma, a->spectral (flatness), a->duration. Writes has_key,
 * key_tonic, key_mode, key_confidence. Drums and noise: has_key false with a low
 * confidence rather than a guess. The public name helpers sm_key_name and
 * sm_key_camelot live in key.c too. */
#ifndef SM_ANALYSIS_KEY_H
#define SM_ANALYSIS_KEY_H

#include <samplemind/analysis.h>

void sm__key_analyze(sm_analysis *a);

#endif
