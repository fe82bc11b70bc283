/* Chroma with tuning: a fine pitch-class histogram (10 cents a bin) accumulated
 * per frame, energy-weighted; at the end the tuning offset is estimated from the
 * histogram and the 12 pitch classes are folded around it.
 *
 * Per frame that is not silent (sm__stft_is_silent), every spectral peak (a bin
 * above both neighbours) between 55 Hz and 5 kHz is placed at its interpolated
 * frequency (the exact Hann-window ratio of the peak bin and its larger
 * neighbour) and its main-lobe energy (the power of the peak bin and its two
 * neighbours) is split linearly between the two nearest fine bins. The weight is
 * the peak's magnitude (the sum of the three magnitudes), not its power: power
 * lets the loudest note (often the bass or the melody) outweigh the rest of the
 * harmony, while key finding needs every sounding pitch class; on the generated
 * set magnitude weighting makes the key profile fit the right pitch set more
 * often (dev seeds, Temperley profile: 82.5 -> 85.0 % exact before any mode
 * decision). Placing
 * peaks, not bins, matters: the FFT bins are 10.8 Hz apart, which is 330 cents at
 * 55 Hz and still 42 cents at 440 Hz, so mapping bins would smear one note over
 * neighbouring pitch classes and bias the tuning by tens of cents. The position
 * comes from a per-bin table of log2 plus a short series, never a log per bin.
 *
 * At finish the histogram is folded onto one semitone (10 fine bins); the tuning
 * is the peak of that fold refined by the centroid of it and its two neighbours
 * (above the fold's minimum), in cents from A440, -50..50. The 12 classes (C = 0)
 * then sum the fine bins within +-50 cents of each tuned note (bins on a boundary
 * are split) and are divided by the largest. No counted energy (silence) gives
 * all zeros and tuning 0.
 *
 * A second histogram holds the same peaks of the first SM__CHROMA_START_FRAMES
 * frames that are not silent (about 1.5 s from where the sound starts, shorter
 * than one bar at up to 160 BPM): the opening chord. sm__chroma_start folds it
 * like the main one; the key uses it to tell a key from its relative (see key.h).
 * Per frame this costs one comparison and, for those first frames, two more adds
 * per peak.
 */
#ifndef SM_ANALYSIS_CHROMA_H
#define SM_ANALYSIS_CHROMA_H

#include <samplemind/analysis.h>

#include "analysis/frame.h"

#define SM_CHROMA_FINE 120
/* 64 hops of 512 samples at 22,050 Hz: 1.49 s. */
#define SM__CHROMA_START_FRAMES 64

struct sm__chroma {
    double fine[SM_CHROMA_FINE]; /* bin j is centred on pitch class j / 10 (C = 0), 10-cent steps */
    double start[SM_CHROMA_FINE]; /* the same, over the first SM__CHROMA_START_FRAMES frames */
    double total;
    size_t frames;               /* frames counted (not silent) */
};

void sm__chroma_init(struct sm__chroma *c);
void sm__chroma_process(struct sm__chroma *c, const struct sm__frame *f);
/* Writes a->chroma[] (max-normalised; zeros for silence) and a->tuning_cents. */
void sm__chroma_finish(const struct sm__chroma *c, sm_analysis *a);
/* The opening chroma (max-normalised, C = 0; zeros for silence), folded with
 * a->tuning_cents as written by sm__chroma_finish (call that first). */
void sm__chroma_start(const struct sm__chroma *c, const sm_analysis *a,
                      double out[SM_CHROMA_COUNT]);

#endif
