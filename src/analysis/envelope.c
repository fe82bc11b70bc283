#include "analysis/envelope.h"

#include <math.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "analysis/frame.h"

void sm__envelope_times(const float *fine, size_t n, sm_analysis *a)
{
    a->attack_ms = NAN;
    a->decay_ms = NAN;
    float peak = 0.0f;
    for (size_t i = 0; i < n; i++)
        peak = fine[i] > peak ? fine[i] : peak;
    if (!(peak > 1e-5f))
        return; /* below -100 dBFS: silence */

    size_t first = 0;
    while (first < n && fine[first] < 0.1f * peak)
        first++;
    size_t end = first + (size_t)(3.0 * SM_AN_FINE_RATE);
    if (end > n)
        end = n;
    float local = 0.0f;
    size_t at = first;
    for (size_t i = first; i < end; i++) {
        if (fine[i] > local) {
            local = fine[i];
            at = i;
        }
    }
    size_t start = 0;
    while (start < at && fine[start] < 0.1f * local)
        start++;
    size_t top = start;
    while (top < at && fine[top] < 0.9f * local)
        top++;
    const double ms = 1000.0 / SM_AN_FINE_RATE;
    a->attack_ms = (double)(top - start) * ms;

    for (size_t i = at; i < n; i++) {
        if (fine[i] < 0.1f * local) {
            a->decay_ms = (double)(i - at) * ms;
            break;
        }
    }
}

void sm__waveform_init(struct sm__waveform *w, size_t points, int64_t declared_frames)
{
    memset(w, 0, sizeof(*w));
    w->points = points ? points : SM_WAVEFORM_DEFAULT_POINTS;
    if (declared_frames > 0)
        w->gran = (size_t)((declared_frames + (int64_t)w->points - 1) / (int64_t)w->points);
    else
        w->gran = 1024;
    if (!w->gran)
        w->gran = 1;
    w->cur_min = 0.0f;
    w->cur_max = 0.0f;
}

void sm__waveform_release(struct sm__waveform *w)
{
    sm__fvec_release(&w->mm);
}

int sm__waveform_process(struct sm__waveform *w, float *const *ch, int channels, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t take = w->gran - w->cur_n;
        if (take > n - off)
            take = n - off;
        float lo = ch[0][off];
        float hi = lo;
        for (int c = 0; c < channels; c++) {
            const float *x = ch[c] + off;
            for (size_t i = 0; i < take; i++) {
                lo = x[i] < lo ? x[i] : lo;
                hi = x[i] > hi ? x[i] : hi;
            }
        }
        if (w->cur_n == 0) {
            w->cur_min = lo;
            w->cur_max = hi;
        } else {
            w->cur_min = lo < w->cur_min ? lo : w->cur_min;
            w->cur_max = hi > w->cur_max ? hi : w->cur_max;
        }
        w->cur_n += take;
        off += take;
        if (w->cur_n == w->gran) {
            if (sm__fvec_push(&w->mm, w->cur_min) || sm__fvec_push(&w->mm, w->cur_max))
                return -1;
            w->cur_n = 0;
        }
    }
    return 0;
}

static float clamp1(float v)
{
    return v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
}

int sm__waveform_finish(struct sm__waveform *w, sm_analysis *a)
{
    if (w->cur_n) {
        if (sm__fvec_push(&w->mm, w->cur_min) || sm__fvec_push(&w->mm, w->cur_max))
            return -1;
        w->cur_n = 0;
    }
    size_t have = w->mm.n / 2;
    size_t out = have < w->points ? have : w->points;
    float *p = sm_malloc(2 * (out ? out : 1) * sizeof(float));
    if (!p)
        return -1;
    for (size_t b = 0; b < out; b++) {
        size_t from = b * have / out;
        size_t to = (b + 1) * have / out;
        float lo = w->mm.v[2 * from];
        float hi = w->mm.v[2 * from + 1];
        for (size_t i = from + 1; i < to; i++) {
            lo = w->mm.v[2 * i] < lo ? w->mm.v[2 * i] : lo;
            hi = w->mm.v[2 * i + 1] > hi ? w->mm.v[2 * i + 1] : hi;
        }
        p[2 * b] = clamp1(lo);
        p[2 * b + 1] = clamp1(hi);
    }
    a->peaks = p;
    a->n_peaks = out;
    return 0;
}
