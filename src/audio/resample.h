/* Streaming mono resampler to the analysis rate (libsoxr), internal.
 *
 * soxr compensates its own filter delay, so output sample i is input time
 * i / out_rate: resampling does not shift onsets. When the rates are equal the
 * input is passed through untouched. */
#ifndef SM_AUDIO_RESAMPLE_H
#define SM_AUDIO_RESAMPLE_H

#include <stddef.h>

struct sm__resampler;

/* New resampler from in_rate to out_rate, or NULL with *why (may be NULL) set to
 * a static text: NULL when out of memory, else soxr's reason. */
struct sm__resampler *sm__resampler_new(double in_rate, double out_rate, const char **why);
void sm__resampler_free(struct sm__resampler *r);
/* Forget all state: ready for a fresh signal at the same rates. Returns 0 or -1. */
int sm__resampler_reset(struct sm__resampler *r);

/* Output callback: n samples at the output rate (borrowed for the call). */
typedef void (*sm__resample_fn)(const float *y, size_t n, void *userdata);

/* Feed n input samples. Returns 0, or -1 when soxr fails. */
int sm__resampler_process(struct sm__resampler *r, const float *x, size_t n,
                          sm__resample_fn fn, void *userdata);
/* End of input: drain what soxr holds. Returns 0 or -1. */
int sm__resampler_finish(struct sm__resampler *r, sm__resample_fn fn, void *userdata);

#endif
