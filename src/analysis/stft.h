/* Streaming STFT at SM_AN_RATE: mono samples in, one sm__frame per hop out.
 *
 * FFTW single-precision r2c, Hann window, plans made once per object under a
 * global lock (the FFTW planner is not thread-safe) and reused for every file.
 */
#ifndef SM_ANALYSIS_STFT_H
#define SM_ANALYSIS_STFT_H

#include "analysis/frame.h"

struct sm__stft;

/* New STFT, or NULL when out of memory. */
struct sm__stft *sm__stft_new(void);
void sm__stft_free(struct sm__stft *s);
/* Forget any buffered samples; the next sample is time 0. */
void sm__stft_reset(struct sm__stft *s);
/* Feed n samples; calls fn for each frame that became complete. */
void sm__stft_process(struct sm__stft *s, const float *x, size_t n, sm__frame_fn fn,
                      void *userdata);
/* End of input: zero-pad and emit the remaining frames (1 + total / hop in all). */
void sm__stft_finish(struct sm__stft *s, sm__frame_fn fn, void *userdata);

#endif
