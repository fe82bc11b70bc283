/* Onset strength envelope (one value per frame) and onset picking.
 *
 * Strength: half-wave rectified difference of log mel band powers between
 * consecutive frames, summed over bands. Picking: adaptive threshold over the
 * envelope, then each onset is refined on the fine RMS envelope (2.9 ms) to
 * the start of its rise, so onset times are accurate to a few milliseconds
 * although frames are 23 ms apart.
 *
 * Two more per-frame signals for tempo (same pass, a few adds per frame):
 *  - band[SM__ONSET_LOW / HIGH]: the same strength restricted to the mel
 *    bands below ~150 Hz (kick) and above 5 kHz (hats), each the mean rise
 *    over its bands;
 *  - band[SM__ONSET_SNARE]: a snare detector (onset.c): the rise of the
 *    amplitude summed over 1-5 kHz, weighted by its share of that rise and
 *    the rise of the amplitude below ~130 Hz (kick), in amplitude units
 *    (only ratios within one file are meaningful);
 *  - chroma_nov: chroma-flux novelty, the cosine distance between the mean
 *    chroma (80 Hz..2 kHz folded into 12 pitch classes) of the SM__ONSET_NOV_W
 *    frames before a frame and of the SM__ONSET_NOV_W frames from it on. Value i
 *    belongs to frame i; it is known SM__ONSET_NOV_W - 1 frames later, so the
 *    last SM__ONSET_NOV_W - 1 frames of a file have none (chroma_nov.n is
 *    odf.n - (SM__ONSET_NOV_W - 1), or 0). Frames without a spectrum (f->mag
 *    NULL) count as silence;
 *  - note_nov: note-change strength, the same chroma over SM__ONSET_NOTE_W
 *    frames (35 ms) either side of a frame: the half-wave rectified rise of
 *    the newer window's pitch-class profile (unit length) over the older
 *    one's, in 0..1. A pitch class that enters (a melody's next note, a new
 *    chord) scores, a note that fades into the accompaniment does not, and a
 *    level change (a swell, a tremolo) does not. Value i belongs to frame i
 *    and note_nov.n is odf.n - (SM__ONSET_NOTE_W - 1), or 0. */
#ifndef SM_ANALYSIS_ONSET_H
#define SM_ANALYSIS_ONSET_H

#include "analysis/frame.h"
#include "util/vec.h"

#define SM__ONSET_LOW 0
#define SM__ONSET_SNARE 1
#define SM__ONSET_HIGH 2
#define SM__ONSET_NBANDS 3
/* Mel bands 0..2 (centres up to 154 Hz) are low, 49..63 (from 5 kHz) high. */
#define SM__ONSET_LOW_END 3
#define SM__ONSET_HIGH_FIRST 49
/* The snare detector reads mel bands 19..48 (centres 1.0-4.7 kHz) against
 * the kick's bands 0..1 (centres 51 and 102 Hz, below a snare's body). */
#define SM__ONSET_SNARE_FIRST 19
#define SM__ONSET_KICK_END 2
/* Novelty half-window: 24 frames, 0.56 s. */
#define SM__ONSET_NOV_W 24
/* Note-change half-window: 3 frames, 35 ms (shorter than an eighth note up to
 * 300 BPM). */
#define SM__ONSET_NOTE_W 3

struct sm__onset {
    struct sm__fvec odf; /* strength per frame */
    struct sm__fvec band[SM__ONSET_NBANDS];
    struct sm__fvec chroma_nov;
    struct sm__fvec note_nov;
    float prev[SM_AN_NMEL];
    int have_prev;
    /* Chroma of the last 2 * SM__ONSET_NOV_W frames (a ring) and the number
     * of frames seen. */
    float ring[2 * SM__ONSET_NOV_W][12];
    float head[12]; /* summed chroma of the first SM__ONSET_NOV_W frames */
    float first_db[SM_AN_NMEL]; /* log mel powers of frame 0 */
    size_t frames;
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
/* The novelty of frame 0 when the sound is played as a seamless loop: the
 * cosine distance between the chroma of its last and first SM__ONSET_NOV_W
 * frames (0 for input shorter than 2 * SM__ONSET_NOV_W frames). */
float sm__onset_wrap_novelty(const struct sm__onset *o);
/* Frame 0's strength as the sound plays as a seamless loop: the rise from the
 * last frame (after the file's end) to frame 0, in odf units, into *odf, and
 * per band into band[SM__ONSET_NBANDS]. Both frames see half a window of audio
 * (the file's first and last SM_AN_NFFT / 2 samples), so a steady sound that
 * loops without a seam gives ~0. All 0 when no frame was seen. */
void sm__onset_wrap_rise(const struct sm__onset *o, float *odf, float *band);
int sm__onset_pick(const struct sm__onset *o, const float *fine, size_t n_fine,
                   struct sm__fvec *times);

#endif
