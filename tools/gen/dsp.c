/* Signal-processing building blocks of sm-gen: hashing, buffers, filters,
 * levels, background noise and a small Schroeder reverb. */
#include "gen.h"

#include <math.h>
#include <string.h>

#include <samplemind/alloc.h>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define GEN_HAVE_SSE 1
#else
#define GEN_HAVE_SSE 0
#endif

void sm__gen_flush_denormals(void)
{
#if GEN_HAVE_SSE
    /* FTZ (bit 15) and DAZ (bit 6). */
    _mm_setcsr(_mm_getcsr() | 0x8040u);
#endif
}

uint64_t sm__gen_hash(uint64_t a, uint64_t b)
{
    uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void sm__gen_rng_seed(struct gen_rng *rng, uint64_t seed, uint64_t stream)
{
    uint64_t s = sm__gen_hash(sm__gen_hash(seed, 0x5EED), stream);
    if (s == 0) {
        s = 0x9E3779B97F4A7C15ULL;
    }
    rng->s = s;
}

float sm__gen_db(float db)
{
    return powf(10.0f, db / 20.0f);
}

float sm__gen_midi_hz(float midi)
{
    return 440.0f * exp2f((midi - 69.0f) / 12.0f);
}

void sm__gen_svf_set(struct gen_svf *f, float fc, float q, int rate)
{
    float nyq = 0.49f * (float)rate;
    if (fc < 10.0f) {
        fc = 10.0f;
    }
    if (fc > nyq) {
        fc = nyq;
    }
    if (q < 0.1f) {
        q = 0.1f;
    }
    f->g = tanf(GEN_PI * fc / (float)rate);
    f->k = 1.0f / q;
    f->a1 = 1.0f / (1.0f + f->g * (f->g + f->k));
    f->a2 = f->g * f->a1;
    f->a3 = f->g * f->a2;
}

void sm__gen_svf_reset(struct gen_svf *f)
{
    f->ic1 = 0.0f;
    f->ic2 = 0.0f;
    f->lp = 0.0f;
    f->bp = 0.0f;
    f->hp = 0.0f;
}

int sm__gen_audio_reserve(struct gen_audio *a, size_t frames, int channels, int rate)
{
    size_t need = frames > 0 ? frames : 1;
    int c;
    if (channels < 1 || channels > 2) {
        return -1;
    }
    if (need > a->cap) {
        for (c = 0; c < 2; c++) {
            float *p = sm_realloc(a->ch[c], need * sizeof(float));
            if (!p) {
                return -1;
            }
            a->ch[c] = p;
        }
        a->cap = need;
    }
    if (!a->ch[0]) {
        return -1;
    }
    a->frames = frames;
    a->channels = channels;
    a->rate = rate;
    memset(a->ch[0], 0, need * sizeof(float));
    if (channels == 2) {
        memset(a->ch[1], 0, need * sizeof(float));
    }
    return 0;
}

void sm__gen_audio_release(struct gen_audio *a)
{
    sm_free(a->ch[0]);
    sm_free(a->ch[1]);
    a->ch[0] = NULL;
    a->ch[1] = NULL;
    a->frames = 0;
    a->cap = 0;
    a->channels = 0;
    a->rate = 0;
}

float sm__gen_audio_peak(const struct gen_audio *a)
{
    float peak = 0.0f;
    int c;
    size_t i;
    for (c = 0; c < a->channels; c++) {
        const float *x = a->ch[c];
        for (i = 0; i < a->frames; i++) {
            float v = fabsf(x[i]);
            peak = v > peak ? v : peak;
        }
    }
    return peak;
}

void sm__gen_audio_normalize(struct gen_audio *a, float peak_db)
{
    float peak = sm__gen_audio_peak(a);
    float g;
    int c;
    size_t i;
    if (!(peak > 1e-9f)) {
        return;
    }
    g = sm__gen_db(peak_db) / peak;
    for (c = 0; c < a->channels; c++) {
        float *x = a->ch[c];
        for (i = 0; i < a->frames; i++) {
            x[i] *= g;
        }
    }
}

void sm__gen_audio_add_noise(struct gen_audio *a, float db, struct gen_rng *rng)
{
    /* Paul Kellet's economy pink filter over white noise; the RMS of the result
     * is about 0.12 for unit white noise, so scale for the requested RMS. */
    float g = sm__gen_db(db) / 0.12f;
    int c;
    size_t i;
    for (c = 0; c < a->channels; c++) {
        float *x = a->ch[c];
        float b0 = 0.0f;
        float b1 = 0.0f;
        float b2 = 0.0f;
        for (i = 0; i < a->frames; i++) {
            float w = gen_rng_noise(rng) * 0.577f;
            float p;
            b0 = 0.99765f * b0 + w * 0.0990460f;
            b1 = 0.96300f * b1 + w * 0.2965164f;
            b2 = 0.57000f * b2 + w * 1.0526913f;
            p = (b0 + b1 + b2 + w * 0.1848f) * 0.25f;
            x[i] += g * p;
        }
    }
}

void sm__gen_audio_fade_out(struct gen_audio *a, size_t n)
{
    int c;
    size_t i;
    if (n > a->frames) {
        n = a->frames;
    }
    if (n == 0) {
        return;
    }
    for (c = 0; c < a->channels; c++) {
        float *x = a->ch[c] + (a->frames - n);
        for (i = 0; i < n; i++) {
            x[i] *= (float)(n - i) / (float)n;
        }
    }
}

void sm__gen_audio_add_panned(struct gen_audio *a, size_t at, const float *x, size_t n,
                              float pan, float gain, size_t fade)
{
    float gl;
    float gr;
    size_t i;
    size_t fstart;
    if (at >= a->frames) {
        return;
    }
    if (n > a->frames - at) {
        n = a->frames - at;
    }
    if (fade > n) {
        fade = n;
    }
    fstart = n - fade;
    if (a->channels == 1) {
        gl = gain;
        gr = 0.0f;
    } else {
        /* Constant power, normalised so the centre is unity in each channel. */
        gl = gain * cosf((pan + 1.0f) * GEN_PI * 0.25f) * 1.41421356f;
        gr = gain * sinf((pan + 1.0f) * GEN_PI * 0.25f) * 1.41421356f;
    }
    for (i = 0; i < fstart; i++) {
        a->ch[0][at + i] += gl * x[i];
    }
    for (i = fstart; i < n; i++) {
        a->ch[0][at + i] += gl * x[i] * (float)(n - i) / (float)fade;
    }
    if (a->channels == 1) {
        return;
    }
    for (i = 0; i < fstart; i++) {
        a->ch[1][at + i] += gr * x[i];
    }
    for (i = fstart; i < n; i++) {
        a->ch[1][at + i] += gr * x[i] * (float)(n - i) / (float)fade;
    }
}

/* ---- Reverb -------------------------------------------------------------- */

#define GEN_NCOMB 4
#define GEN_NALLP 2

static const int comb_len[GEN_NCOMB] = {1116, 1188, 1277, 1356};
static const int allp_len[GEN_NALLP] = {556, 441};

struct rev_line {
    float *buf;
    int len;
    int pos;
    float store;
};

static void reverb_channel(float *x, size_t n, float *mem, int rate, int spread, float mix,
                           float fb, float damp)
{
    struct rev_line comb[GEN_NCOMB];
    struct rev_line allp[GEN_NALLP];
    float scale = (float)rate / 44100.0f;
    float *p = mem;
    int k;
    size_t i;
    for (k = 0; k < GEN_NCOMB; k++) {
        comb[k].len = (int)((float)(comb_len[k] + spread) * scale);
        comb[k].buf = p;
        comb[k].pos = 0;
        comb[k].store = 0.0f;
        memset(p, 0, (size_t)comb[k].len * sizeof(float));
        p += comb[k].len;
    }
    for (k = 0; k < GEN_NALLP; k++) {
        allp[k].len = (int)((float)(allp_len[k] + spread) * scale);
        allp[k].buf = p;
        allp[k].pos = 0;
        allp[k].store = 0.0f;
        memset(p, 0, (size_t)allp[k].len * sizeof(float));
        p += allp[k].len;
    }
    for (i = 0; i < n; i++) {
        float in = x[i] * 0.03f;
        float out = 0.0f;
        for (k = 0; k < GEN_NCOMB; k++) {
            struct rev_line *c = &comb[k];
            float y = c->buf[c->pos];
            c->store = y * (1.0f - damp) + c->store * damp;
            c->buf[c->pos] = in + c->store * fb;
            c->pos = c->pos + 1 < c->len ? c->pos + 1 : 0;
            out += y;
        }
        for (k = 0; k < GEN_NALLP; k++) {
            struct rev_line *ap = &allp[k];
            float b = ap->buf[ap->pos];
            ap->buf[ap->pos] = out + b * 0.5f;
            out = b - out;
            ap->pos = ap->pos + 1 < ap->len ? ap->pos + 1 : 0;
        }
        x[i] = x[i] * (1.0f - mix) + out * mix * 8.0f;
    }
}

int sm__gen_audio_reverb(struct gen_audio *a, float mix, float size, float damp)
{
    size_t total = 0;
    float *mem;
    int k;
    int c;
    float scale = (float)a->rate / 44100.0f;
    for (k = 0; k < GEN_NCOMB; k++) {
        total += (size_t)((float)(comb_len[k] + 23) * scale) + 1;
    }
    for (k = 0; k < GEN_NALLP; k++) {
        total += (size_t)((float)(allp_len[k] + 23) * scale) + 1;
    }
    mem = sm_malloc(total * sizeof(float));
    if (!mem) {
        return -1;
    }
    for (c = 0; c < a->channels; c++) {
        reverb_channel(a->ch[c], a->frames, mem, a->rate, c * 23, mix, 0.7f + 0.28f * size,
                       0.2f + 0.6f * damp);
    }
    sm_free(mem);
    return 0;
}
