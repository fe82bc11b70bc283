#include "audio/resample.h"

#include <soxr.h>

#include <samplemind/alloc.h>

#define OUT_CHUNK 4096

struct sm__resampler {
    soxr_t soxr; /* NULL when passing through */
    float out[OUT_CHUNK];
};

struct sm__resampler *sm__resampler_new(double in_rate, double out_rate, const char **why)
{
    if (why)
        *why = NULL;
    struct sm__resampler *r = sm_calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    if (in_rate > out_rate - 0.5 && in_rate < out_rate + 0.5)
        return r;
    soxr_error_t e = NULL;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    /* Low quality is ample for descriptors (>= 96 dB would be wasted on them),
     * and it keeps the pass cheap. */
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_LQ, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    r->soxr = soxr_create(in_rate, out_rate, 1, &e, &io, &q, &rt);
    if (e || !r->soxr) {
        if (why)
            *why = e ? e : "soxr_create failed";
        sm__resampler_free(r);
        return NULL;
    }
    return r;
}

void sm__resampler_free(struct sm__resampler *r)
{
    if (!r)
        return;
    if (r->soxr)
        soxr_delete(r->soxr);
    sm_free(r);
}

int sm__resampler_reset(struct sm__resampler *r)
{
    if (!r->soxr)
        return 0;
    return soxr_clear(r->soxr) ? -1 : 0;
}

int sm__resampler_process(struct sm__resampler *r, const float *x, size_t n,
                          sm__resample_fn fn, void *userdata)
{
    if (!r->soxr) {
        fn(x, n, userdata);
        return 0;
    }
    while (n > 0) {
        size_t used = 0;
        size_t made = 0;
        soxr_error_t e = soxr_process(r->soxr, x, n, &used, r->out, OUT_CHUNK, &made);
        if (e)
            return -1;
        if (made)
            fn(r->out, made, userdata);
        x += used;
        n -= used;
        if (!used && !made)
            return -1;
    }
    return 0;
}

int sm__resampler_finish(struct sm__resampler *r, sm__resample_fn fn, void *userdata)
{
    if (!r->soxr)
        return 0;
    for (;;) {
        size_t made = 0;
        soxr_error_t e = soxr_process(r->soxr, NULL, 0, NULL, r->out, OUT_CHUNK, &made);
        if (e)
            return -1;
        if (!made)
            return 0;
        fn(r->out, made, userdata);
    }
}
