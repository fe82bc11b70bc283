#include "analysis/truepeak.h"

#include <math.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "util/simd.h"

int sm__truepeak_init(struct sm__truepeak *tp, int rate, int channels)
{
    memset(tp, 0, sizeof(*tp));
    if (channels < 1 || channels > SM_MAX_CHANNELS)
        return -1;
    tp->channels = channels;
    tp->factor = rate < 96000 ? 4 : rate < 192000 ? 2 : 1;
    /* Taps per branch; without oversampling there is nothing to interpolate. */
    tp->len = tp->factor > 1 ? (SM__TP_TAPS + tp->factor - 1) / tp->factor : 1;
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
    tp->hist = sm_calloc((size_t)channels * (size_t)tp->len, sizeof(float));
    return tp->hist ? 0 : -1;
}

void sm__truepeak_release(struct sm__truepeak *tp)
{
    sm_free(tp->hist);
    tp->hist = NULL;
}

SM__HOT static float max_abs(const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        m = a > m ? a : m;
    }
    return m;
}

/* Interpolate x[0..n) (x[-len+1..-1] hold the samples before) and raise the peak. */
SM__HOT static void interpolate(struct sm__truepeak *tp, const float *x, size_t n)
{
    const int len = tp->len;
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

static void run_channel(struct sm__truepeak *tp, float *x, size_t n, float *hist)
{
    const size_t len = (size_t)tp->len;
    memcpy(x - len, hist, len * sizeof(float));
    float sp = max_abs(x, n);
    if (sp > tp->sample_peak)
        tp->sample_peak = sp;
    if (sp > tp->peak)
        tp->peak = sp;
    /* The first outputs also reach back into the previous block's samples. */
    float hp = max_abs(x - (len - 1), len - 1);
    float bound = (sp > hp ? sp : hp) * tp->gain;
    if (tp->factor > 1 && bound > tp->peak) {
        for (size_t off = 0; off < n; off += SM__TP_BLOCK) {
            size_t b = n - off < SM__TP_BLOCK ? n - off : SM__TP_BLOCK;
            /* No output of this block can exceed its reach times the gain. */
            float reach = max_abs(x + off - (len - 1), len - 1 + b);
            if (reach * tp->gain > tp->peak)
                interpolate(tp, x + off, b);
        }
    }
    if (n >= len) {
        memcpy(hist, x + n - len, len * sizeof(float));
    } else {
        memmove(hist, hist + n, (len - n) * sizeof(float));
        memcpy(hist + len - n, x, n * sizeof(float));
    }
}

void sm__truepeak_process(struct sm__truepeak *tp, float *const *ch, size_t n)
{
    if (!n)
        return;
    for (int c = 0; c < tp->channels; c++)
        run_channel(tp, ch[c], n, tp->hist + (size_t)c * (size_t)tp->len);
}

void sm__truepeak_finish(struct sm__truepeak *tp)
{
    /* Let the filter ring out over len zeros, as libebur128's delay line does. */
    float buf[SM__TP_HISTORY + SM__TP_MAXLEN];
    float sp = tp->sample_peak;
    for (int c = 0; c < tp->channels; c++) {
        memset(buf, 0, sizeof(buf));
        float *x = buf + SM__TP_HISTORY;
        run_channel(tp, x, (size_t)tp->len, tp->hist + (size_t)c * (size_t)tp->len);
    }
    tp->sample_peak = sp;
}
