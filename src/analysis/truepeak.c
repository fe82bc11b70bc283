#include "analysis/truepeak.h"

#include <math.h>
#include <string.h>

#include <samplemind/alloc.h>

/* Samples of one channel live in ch_buf(tp, c)[0 .. len + SM__TP_BLOCK): the last
 * len - 1 samples of the previous block (history), then up to a block of new ones. */
static float *ch_buf(struct sm__truepeak *tp, int c)
{
    return tp->buf + (size_t)c * (size_t)(tp->len + SM__TP_BLOCK);
}

int sm__truepeak_init(struct sm__truepeak *tp, int rate, int channels)
{
    memset(tp, 0, sizeof(*tp));
    if (channels < 1 || channels > SM_MAX_CHANNELS)
        return -1;
    tp->channels = channels;
    tp->factor = rate < 96000 ? 4 : rate < 192000 ? 2 : 1;
    tp->len = (SM__TP_TAPS + tp->factor - 1) / tp->factor;
    if (tp->factor > 1) {
        double l1[4] = {0};
        for (int j = 0; j < SM__TP_TAPS; j++) {
            double m = (double)j - (SM__TP_TAPS - 1) / 2.0;
            double c = fabs(m) < 1e-6 ? 1.0 : sin(m * M_PI / tp->factor) / (m * M_PI / tp->factor);
            c *= 0.5 * (1.0 - cos(2.0 * M_PI * j / (SM__TP_TAPS - 1)));
            tp->h[j % tp->factor][j / tp->factor] = (float)c;
            l1[j % tp->factor] += fabs(c);
        }
        for (int f = 1; f < tp->factor; f++)
            if (l1[f] > (double)tp->gain)
                tp->gain = (float)l1[f];
    }
    tp->buf = sm_calloc((size_t)channels * (size_t)(tp->len + SM__TP_BLOCK), sizeof(float));
    return tp->buf ? 0 : -1;
}

void sm__truepeak_release(struct sm__truepeak *tp)
{
    sm_free(tp->buf);
    tp->buf = NULL;
}

static float max_abs(const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        m = a > m ? a : m;
    }
    return m;
}

/* Interpolate the block held in b (history + n new samples) and raise tp->peak. */
static void run_block(struct sm__truepeak *tp, const float *b, size_t n)
{
    const int len = tp->len;
    const float *x = b + len; /* x[i - k] reaches back into the history */
    float acc[SM__TP_BLOCK];
    for (int f = 1; f < tp->factor; f++) {
        memset(acc, 0, n * sizeof(float));
        for (int k = 0; k < len; k++) {
            const float h = tp->h[f][k];
            const float *xs = x - k;
            for (size_t i = 0; i < n; i++)
                acc[i] += h * xs[i];
        }
        float m = max_abs(acc, n);
        if (m > tp->peak)
            tp->peak = m;
    }
}

static void flush_block(struct sm__truepeak *tp)
{
    size_t n = tp->fill;
    if (!n)
        return;
    const int len = tp->len;
    for (int c = 0; c < tp->channels; c++) {
        float *b = ch_buf(tp, c);
        float sp = max_abs(b + len, n);
        if (sp > tp->sample_peak)
            tp->sample_peak = sp;
        if (sp > tp->peak)
            tp->peak = sp;
        if (tp->factor > 1) {
            float reach = max_abs(b + 1, (size_t)len - 1 + n);
            if (reach * tp->gain > tp->peak)
                run_block(tp, b, n);
        }
        /* Keep the last len samples as the next block's history. */
        memmove(b, b + n, (size_t)len * sizeof(float));
    }
    tp->fill = 0;
}

void sm__truepeak_process(struct sm__truepeak *tp, const float *x, size_t frames)
{
    const int ch = tp->channels;
    const int len = tp->len;
    while (frames > 0) {
        size_t take = SM__TP_BLOCK - tp->fill;
        if (take > frames)
            take = frames;
        for (int c = 0; c < ch; c++) {
            float *dst = ch_buf(tp, c) + len + tp->fill;
            const float *src = x + c;
            for (size_t i = 0; i < take; i++)
                dst[i] = src[i * (size_t)ch];
        }
        tp->fill += take;
        x += take * (size_t)ch;
        frames -= take;
        if (tp->fill == SM__TP_BLOCK)
            flush_block(tp);
    }
}

void sm__truepeak_finish(struct sm__truepeak *tp)
{
    flush_block(tp);
    /* Let the filter ring out over len zeros, as libebur128's delay line does. */
    const int len = tp->len;
    for (int c = 0; c < tp->channels; c++)
        memset(ch_buf(tp, c) + len, 0, (size_t)len * sizeof(float));
    tp->fill = (size_t)len;
    float sp = tp->sample_peak;
    flush_block(tp);
    tp->sample_peak = sp;
}
