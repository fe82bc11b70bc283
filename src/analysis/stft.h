/* Streaming STFT at SM_AN_RATE: mono samples in, one sm__frame per hop out.
 *
 * FFTW single-precision r2c of SM_AN_NFFT points with a periodic Hann window
 * (w[i] = 0.5 - 0.5 cos(2 pi i / N)), hop SM_AN_HOP, centred frames: the input is
 * zero-padded by SM_AN_NFFT / 2 at the start and, at finish, at the end, so n
 * samples give exactly 1 + n / SM_AN_HOP frames (librosa center=True, but zero
 * padding). The spectrum is not scaled: for a full-scale sine the peak magnitude
 * is about N / 4.
 *
 * The plan is made once per object with FFTW_ESTIMATE under a process-wide lock
 * (the FFTW planner is not thread-safe) and reused for every file. Memory is
 * constant: a fixed sliding buffer holds the samples of the frames not yet out,
 * whatever the block sizes fed to sm__stft_process (1 sample to any length).
 *
 *     struct sm__stft *s = sm__stft_new();
 *     sm__stft_process(s, x, n, on_frame, ctx);   // any number of times
 *     sm__stft_finish(s, on_frame, ctx);          // the object is reset after
 *     sm__stft_free(s);
 *
 * An object is not thread-safe; make one per thread.
 */
#ifndef SM_ANALYSIS_STFT_H
#define SM_ANALYSIS_STFT_H

#include "analysis/frame.h"

/* A frame whose rms is at or below this (-70 dBFS) counts as silent: the
 * descriptor means and std (MFCC, spectral, chroma) skip it. */
#define SM__STFT_SILENT_RMS 3.16227766e-4

struct sm__stft;

/* New STFT, or NULL when out of memory. Free with sm__stft_free. Thread-safe. */
struct sm__stft *sm__stft_new(void);
/* Free \p s and its plan; NULL is fine. Thread-safe (plans die under the lock). */
void sm__stft_free(struct sm__stft *s);
/* Forget any buffered samples; the next sample is time 0. */
void sm__stft_reset(struct sm__stft *s);
/* Feed n samples; calls fn for each frame that became complete. The frame and
 * its arrays are borrowed for the duration of the call; frame.mel is NULL. */
void sm__stft_process(struct sm__stft *s, const float *x, size_t n, sm__frame_fn fn,
                      void *userdata);
/* End of input: zero-pad and emit the remaining frames (1 + total / hop in all),
 * then reset, so the object is ready for the next file. */
void sm__stft_finish(struct sm__stft *s, sm__frame_fn fn, void *userdata);

/* The process-wide FFTW planner lock. Every module that makes or destroys an
 * FFTW plan must hold it (fftw_plan_* and fftw_destroy_plan are not thread-safe;
 * fftw_execute is). */
void sm__stft_plan_lock(void);
void sm__stft_plan_unlock(void);

/* True when frame \p f is silent (rms <= SM__STFT_SILENT_RMS). */
static inline int sm__stft_is_silent(const struct sm__frame *f)
{
    return !(f->rms > SM__STFT_SILENT_RMS);
}

#endif
