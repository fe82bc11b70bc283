/* True peak (ITU-R BS.1770-4 Annex 2) and sample peak, internal.
 *
 * The interpolator is libebur128's: a 49-tap Hann-windowed sinc split into
 * polyphase branches, 4x oversampling below 96 kHz, 2x below 192 kHz, none above,
 * so our figures match libebur128 and ffmpeg's ebur128 filter. It runs in float
 * and skips whole blocks that provably cannot raise the peak: no interpolated value
 * can exceed (max |x| in the filter's reach) * (L1 norm of a branch). On real audio
 * nearly every block is skipped once the loud part has been seen, which makes true
 * peak about as cheap as sample peak; the result is exact all the same. */
#ifndef SM_ANALYSIS_TRUEPEAK_H
#define SM_ANALYSIS_TRUEPEAK_H

#include <stddef.h>

#include <samplemind/audio.h>

#define SM__TP_TAPS 49
#define SM__TP_BLOCK 256
#define SM__TP_MAXLEN 25 /* taps per branch at 2x */
/* Planar input must have this many writable floats before each channel's data:
 * the meter puts the previous block's last samples there. */
#define SM__TP_HISTORY 32
_Static_assert(SM__TP_HISTORY >= SM__TP_MAXLEN, "history must hold a branch");

struct sm__truepeak {
    int channels;
    int factor;                         /* 1, 2 or 4 */
    int len;                            /* taps per branch */
    float h[4][SM__TP_MAXLEN];          /* branch f, tap k applies to x[n - k] */
    float gain;                         /* the largest branch L1 norm */
    float peak;                         /* true peak so far, linear */
    float sample_peak;                  /* sample peak so far, linear */
    float *hist;                        /* per channel: the last len samples seen */
};

/* Returns 0, or -1 when out of memory or channels is out of range. */
int sm__truepeak_init(struct sm__truepeak *tp, int rate, int channels);
void sm__truepeak_release(struct sm__truepeak *tp);
/* Feed n frames of planar audio: ch[c] points at channel c's samples, with
 * SM__TP_HISTORY writable floats before it (they are overwritten). */
void sm__truepeak_process(struct sm__truepeak *tp, float *const *ch, size_t n);
/* Flush; afterwards tp->peak and tp->sample_peak are final. */
void sm__truepeak_finish(struct sm__truepeak *tp);

#endif
