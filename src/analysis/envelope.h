/* Envelope timing and waveform peaks (internal).
 *
 * Attack is the 10 %-to-90 % rise time of the first event's RMS envelope (the
 * loudest point within 3 s of the first moment the sound reaches 10 % of its
 * overall peak); decay is the time from that peak until the envelope falls 20 dB
 * below it. Both use the fine envelope (RMS per SM_AN_FINE_HOP samples, 2.9 ms). */
#ifndef SM_ANALYSIS_ENVELOPE_H
#define SM_ANALYSIS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <samplemind/analysis.h>

#include "util/vec.h"

/* Writes a->attack_ms and a->decay_ms (NaN when undefined). */
void sm__envelope_times(const float *fine, size_t n, sm_analysis *a);

/* Min/max pairs over interleaved frames, reduced to at most `points` pairs. */
struct sm__waveform {
    size_t points;
    size_t gran;        /* frames per accumulated pair */
    size_t cur_n;
    float cur_min;
    float cur_max;
    struct sm__fvec mm; /* min, max, min, max, ... */
};

void sm__waveform_init(struct sm__waveform *w, size_t points, int64_t declared_frames);
void sm__waveform_release(struct sm__waveform *w);
/* Feed n frames of planar audio (ch[c] is channel c). Returns 0, or -1 when out
 * of memory. */
int sm__waveform_process(struct sm__waveform *w, float *const *ch, int channels, size_t n);
/* Moves the peaks into a->peaks / a->n_peaks. Returns 0 or -1. */
int sm__waveform_finish(struct sm__waveform *w, sm_analysis *a);

#endif
