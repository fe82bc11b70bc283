/* Drum and percussion one-shots: kick, snare, clap, hats, cymbal, tom and
 * hand percussion, each drawn with varied parameters (see docs/generator.md). */
#include "gen.h"

#include <math.h>

/* Percussion variants. */
enum {
    PERC_WOODBLOCK,
    PERC_CONGA,
    PERC_SHAKER,
    PERC_COWBELL,
    PERC_TAMBOURINE,
    PERC_CLAVE,
    PERC_N
};

/* Per-sample multiplier of an exponential decay with time constant tau (s). */
static float decay_mul(float tau, int rate)
{
    if (!(tau > 1e-5f)) {
        return 0.0f;
    }
    return expf(-1.0f / (tau * (float)rate));
}

/* Frames until an exponential with time constant tau reaches -60 dB. */
static size_t tail_frames(float tau, int rate, size_t n)
{
    float f = tau * 6.91f * (float)rate;
    if (f >= (float)n) {
        return n;
    }
    return (size_t)f;
}

void sm__gen_drum_random(struct gen_drum *d, int cat, struct gen_rng *rng)
{
    d->cat = cat;
    d->variant = 0;
    d->count = 1;
    d->pitch = 100.0f;
    d->ratio = 1.0f;
    d->sweep = 0.02f;
    d->decay = 0.1f;
    d->tone_decay = 0.1f;
    d->noise = 0.0f;
    d->tone = 5000.0f;
    d->reso = 0.7f;
    d->click = 0.0f;
    d->drive = 0.0f;
    d->spacing = 0.01f;
    switch (cat) {
        case GEN_KICK:
            d->variant = gen_rng_int(rng, 4);
            d->pitch = gen_rng_range(rng, 42.0f, 65.0f);
            d->ratio = gen_rng_range(rng, 3.0f, 7.0f);
            d->sweep = gen_rng_range(rng, 0.012f, 0.05f);
            d->tone_decay = gen_rng_range(rng, 0.06f, 0.22f);
            d->click = gen_rng_range(rng, 0.05f, 0.5f);
            d->drive = gen_rng_range(rng, 0.0f, 0.4f);
            d->noise = gen_rng_range(rng, 0.0f, 0.15f);
            d->decay = gen_rng_range(rng, 0.01f, 0.04f);
            d->tone = gen_rng_range(rng, 2000.0f, 8000.0f);
            if (d->variant == 1) {
                /* A long 808-style boom. */
                d->tone_decay = gen_rng_range(rng, 0.25f, 0.6f);
                d->ratio = gen_rng_range(rng, 1.6f, 3.0f);
                d->click = gen_rng_range(rng, 0.0f, 0.15f);
            } else if (d->variant == 2) {
                /* A hard, distorted techno kick. */
                d->drive = gen_rng_range(rng, 0.5f, 1.0f);
                d->tone_decay = gen_rng_range(rng, 0.1f, 0.3f);
            }
            break;
        case GEN_SNARE:
            d->variant = gen_rng_int(rng, 3);
            d->pitch = gen_rng_range(rng, 150.0f, 260.0f);
            d->ratio = gen_rng_range(rng, 1.45f, 1.8f);
            d->sweep = gen_rng_range(rng, 0.005f, 0.03f);
            d->tone_decay = gen_rng_range(rng, 0.03f, 0.09f);
            d->decay = gen_rng_range(rng, 0.05f, 0.2f);
            d->noise = gen_rng_range(rng, 0.45f, 0.9f);
            d->tone = gen_rng_range(rng, 1500.0f, 6500.0f);
            d->reso = gen_rng_range(rng, 0.5f, 1.5f);
            d->click = gen_rng_range(rng, 0.0f, 0.3f);
            d->drive = gen_rng_range(rng, 0.0f, 0.5f);
            if (d->variant == 2) {
                /* A tight rimshot-like snare. */
                d->decay *= 0.5f;
                d->noise *= 0.6f;
                d->pitch *= 1.4f;
            }
            break;
        case GEN_CLAP:
            d->count = 3 + gen_rng_int(rng, 3);
            d->spacing = gen_rng_range(rng, 0.006f, 0.014f);
            d->decay = gen_rng_range(rng, 0.06f, 0.3f);
            d->tone = gen_rng_range(rng, 800.0f, 2400.0f);
            d->reso = gen_rng_range(rng, 0.8f, 2.5f);
            d->sweep = gen_rng_range(rng, 0.002f, 0.005f);
            d->drive = gen_rng_range(rng, 0.0f, 0.4f);
            d->noise = 1.0f;
            break;
        case GEN_HAT_CLOSED:
        case GEN_HAT_OPEN:
            d->variant = gen_rng_int(rng, 2);
            d->pitch = gen_rng_range(rng, 1.0f, 2.3f);
            d->noise = gen_rng_range(rng, 0.2f, 0.8f);
            d->tone = gen_rng_range(rng, 7000.0f, 11500.0f);
            d->reso = gen_rng_range(rng, 0.6f, 1.6f);
            d->drive = gen_rng_range(rng, 0.0f, 0.3f);
            if (cat == GEN_HAT_CLOSED) {
                d->decay = gen_rng_range(rng, 0.008f, 0.035f);
            } else {
                d->decay = gen_rng_range(rng, 0.12f, 0.45f);
            }
            break;
        case GEN_CYMBAL:
            d->variant = gen_rng_int(rng, 2);
            d->pitch = gen_rng_range(rng, 1.2f, 2.6f);
            d->noise = gen_rng_range(rng, 0.4f, 0.85f);
            d->tone = gen_rng_range(rng, 3500.0f, 7000.0f);
            d->reso = 0.7f;
            d->decay = gen_rng_range(rng, 0.35f, 1.0f);
            d->tone_decay = gen_rng_range(rng, 0.2f, 0.8f);
            d->ratio = gen_rng_range(rng, 2.0f, 3.2f);
            if (d->variant == 1) {
                /* A ride: less wash, a clear bell and a ping. */
                d->noise *= 0.5f;
                d->decay *= 0.8f;
            }
            break;
        case GEN_TOM:
            d->pitch = gen_rng_range(rng, 75.0f, 320.0f);
            d->ratio = gen_rng_range(rng, 1.2f, 1.9f);
            d->sweep = gen_rng_range(rng, 0.03f, 0.12f);
            d->tone_decay = gen_rng_range(rng, 0.1f, 0.4f);
            d->noise = gen_rng_range(rng, 0.05f, 0.3f);
            d->decay = gen_rng_range(rng, 0.01f, 0.05f);
            d->tone = gen_rng_range(rng, 1000.0f, 4000.0f);
            d->drive = gen_rng_range(rng, 0.0f, 0.3f);
            break;
        case GEN_PERC:
        default:
            d->cat = GEN_PERC;
            d->variant = gen_rng_int(rng, PERC_N);
            d->drive = gen_rng_range(rng, 0.0f, 0.2f);
            switch (d->variant) {
                case PERC_WOODBLOCK:
                    d->pitch = gen_rng_range(rng, 700.0f, 2200.0f);
                    d->ratio = gen_rng_range(rng, 2.5f, 3.0f);
                    d->tone_decay = gen_rng_range(rng, 0.012f, 0.045f);
                    d->noise = gen_rng_range(rng, 0.05f, 0.25f);
                    d->decay = 0.004f;
                    d->tone = d->pitch * 1.5f;
                    break;
                case PERC_CONGA:
                    d->pitch = gen_rng_range(rng, 170.0f, 420.0f);
                    d->ratio = gen_rng_range(rng, 1.05f, 1.25f);
                    d->sweep = gen_rng_range(rng, 0.01f, 0.04f);
                    d->tone_decay = gen_rng_range(rng, 0.06f, 0.2f);
                    d->noise = gen_rng_range(rng, 0.1f, 0.5f);
                    d->decay = gen_rng_range(rng, 0.005f, 0.02f);
                    d->tone = gen_rng_range(rng, 1500.0f, 4000.0f);
                    break;
                case PERC_SHAKER:
                    d->count = 1 + gen_rng_int(rng, 3);
                    d->spacing = gen_rng_range(rng, 0.06f, 0.14f);
                    d->sweep = gen_rng_range(rng, 0.01f, 0.04f);
                    d->decay = gen_rng_range(rng, 0.03f, 0.08f);
                    d->tone = gen_rng_range(rng, 4000.0f, 9000.0f);
                    d->reso = gen_rng_range(rng, 0.7f, 2.0f);
                    d->noise = 1.0f;
                    break;
                case PERC_COWBELL:
                    d->pitch = gen_rng_range(rng, 480.0f, 620.0f);
                    d->ratio = gen_rng_range(rng, 1.45f, 1.52f);
                    d->tone_decay = gen_rng_range(rng, 0.05f, 0.2f);
                    d->tone = d->pitch * 1.6f;
                    d->reso = 1.5f;
                    break;
                case PERC_TAMBOURINE:
                    d->count = 1 + gen_rng_int(rng, 2);
                    d->spacing = gen_rng_range(rng, 0.05f, 0.1f);
                    d->pitch = gen_rng_range(rng, 1.8f, 2.8f);
                    d->decay = gen_rng_range(rng, 0.06f, 0.2f);
                    d->tone = gen_rng_range(rng, 6000.0f, 10000.0f);
                    d->noise = gen_rng_range(rng, 0.3f, 0.7f);
                    d->reso = 1.0f;
                    break;
                case PERC_CLAVE:
                default:
                    d->pitch = gen_rng_range(rng, 1800.0f, 2800.0f);
                    d->ratio = 1.0f;
                    d->tone_decay = gen_rng_range(rng, 0.015f, 0.04f);
                    d->noise = 0.0f;
                    break;
            }
            break;
    }
}

float sm__gen_drum_length(const struct gen_drum *d)
{
    float tau = d->decay > d->tone_decay ? d->decay : d->tone_decay;
    float extra = (float)(d->count - 1) * d->spacing;
    switch (d->cat) {
        case GEN_KICK:
        case GEN_TOM:
            tau = d->tone_decay;
            break;
        case GEN_CLAP:
        case GEN_HAT_CLOSED:
        case GEN_HAT_OPEN:
            tau = d->decay;
            break;
        default:
            break;
    }
    return extra + 0.005f + tau * 6.91f;
}

/* Drive: a soft clipper whose output level stays comparable. */
static float drive_gain(float drive)
{
    return 1.0f + 5.0f * drive;
}

static void render_kick(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                        struct gen_rng *rng)
{
    size_t m = tail_frames(d->tone_decay, rate, n);
    float dt = 1.0f / (float)rate;
    float pk = decay_mul(d->sweep, rate);
    float ak = decay_mul(d->tone_decay, rate);
    float nk = decay_mul(d->decay, rate);
    float ck = decay_mul(0.0015f, rate);
    float penv = 1.0f;
    float aenv = 1.0f;
    float nenv = 1.0f;
    float cenv = 1.0f;
    float ph = 0.0f;
    float dg = drive_gain(d->drive);
    float norm = 1.0f / gen_softclip(dg);
    float hold = 0.004f * (float)rate;
    float f0 = d->pitch;
    float f1 = d->pitch * d->ratio;
    struct gen_svf hp;
    size_t i;
    sm__gen_svf_set(&hp, d->tone, 0.7f, rate);
    sm__gen_svf_reset(&hp);
    for (i = 0; i < m; i++) {
        float f = f0 + (f1 - f0) * penv;
        float y;
        float nz = gen_rng_noise(rng);
        ph = gen_wrap(ph + f * dt);
        y = gen_sin01(ph) * aenv;
        gen_svf_run(&hp, nz);
        y += d->click * cenv * hp.hp + d->noise * nenv * hp.bp;
        y = gen_softclip(y * dg) * norm;
        out[i] += amp * y;
        penv *= pk;
        if ((float)i > hold) {
            aenv *= ak;
        }
        nenv *= nk;
        cenv *= ck;
    }
}

static void render_snare(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                         struct gen_rng *rng)
{
    float tau = d->decay > d->tone_decay ? d->decay : d->tone_decay;
    size_t m = tail_frames(tau, rate, n);
    float dt = 1.0f / (float)rate;
    float pk = decay_mul(d->sweep, rate);
    float tk = decay_mul(d->tone_decay, rate);
    float nk = decay_mul(d->decay, rate);
    float ck = decay_mul(0.002f, rate);
    float penv = 1.0f;
    float tenv = 1.0f;
    float nenv = 1.0f;
    float cenv = 1.0f;
    float ph1 = 0.0f;
    float ph2 = 0.25f;
    float dg = drive_gain(d->drive);
    float norm = 1.0f / gen_softclip(dg);
    struct gen_svf bp;
    struct gen_svf hp;
    size_t i;
    sm__gen_svf_set(&bp, d->tone, d->reso, rate);
    sm__gen_svf_reset(&bp);
    sm__gen_svf_set(&hp, 400.0f, 0.7f, rate);
    sm__gen_svf_reset(&hp);
    for (i = 0; i < m; i++) {
        float f = d->pitch * (1.0f + 0.5f * penv);
        float nz = gen_rng_noise(rng);
        float tone;
        float y;
        ph1 = gen_wrap(ph1 + f * dt);
        ph2 = gen_wrap(ph2 + f * d->ratio * dt);
        tone = (gen_sin01(ph1) + 0.6f * gen_sin01(ph2)) * tenv;
        gen_svf_run(&bp, nz);
        gen_svf_run(&hp, nz);
        y = (1.0f - d->noise) * tone +
            d->noise * nenv * (1.2f * bp.bp + 0.5f * hp.hp) + d->click * cenv * nz;
        out[i] += amp * gen_softclip(y * dg) * norm;
        penv *= pk;
        tenv *= tk;
        nenv *= nk;
        cenv *= ck;
    }
}

static void render_clap(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                        struct gen_rng *rng)
{
    size_t gap = (size_t)(d->spacing * (float)rate);
    size_t last = gap * (size_t)(d->count - 1);
    size_t m = last + tail_frames(d->decay, rate, n);
    float bk = decay_mul(d->sweep, rate);
    float tk = decay_mul(d->decay, rate);
    float benv = 1.0f;
    float tenv = 1.0f;
    float dg = drive_gain(d->drive);
    float norm = 1.0f / gen_softclip(dg);
    struct gen_svf bp;
    struct gen_svf hp;
    size_t i;
    if (m > n) {
        m = n;
    }
    sm__gen_svf_set(&bp, d->tone, d->reso, rate);
    sm__gen_svf_reset(&bp);
    sm__gen_svf_set(&hp, d->tone * 2.5f, 0.7f, rate);
    sm__gen_svf_reset(&hp);
    for (i = 0; i < m; i++) {
        float env;
        float y;
        if (gap > 0 && i < last && i % gap == 0) {
            benv = 1.0f;
        }
        if (i >= last) {
            env = benv > tenv * 0.8f ? benv : tenv * 0.8f;
            tenv *= tk;
        } else {
            env = benv;
        }
        benv *= bk;
        gen_svf_run(&bp, gen_rng_noise(rng));
        gen_svf_run(&hp, bp.bp);
        y = env * (bp.bp * 1.5f + 0.3f * hp.hp);
        out[i] += amp * gen_softclip(y * dg) * norm;
    }
}

/* The TR-808 metallic cluster: six square waves at inharmonic ratios. */
static const float metal_hz[6] = {205.3f, 304.4f, 369.6f, 522.7f, 540.0f, 800.0f};

static void render_metal(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                         struct gen_rng *rng)
{
    size_t m = tail_frames(d->decay, rate, n);
    float ak = decay_mul(d->decay, rate);
    float aenv = 1.0f;
    float inc[6];
    float ph[6];
    float dg = drive_gain(d->drive);
    float norm = 1.0f / gen_softclip(dg);
    struct gen_svf bp;
    struct gen_svf hp;
    size_t i;
    int k;
    for (k = 0; k < 6; k++) {
        inc[k] = metal_hz[k] * d->pitch / (float)rate;
        ph[k] = gen_rng_unit(rng);
    }
    sm__gen_svf_set(&bp, d->tone, d->reso, rate);
    sm__gen_svf_reset(&bp);
    sm__gen_svf_set(&hp, d->tone * 0.7f, 0.7f, rate);
    sm__gen_svf_reset(&hp);
    for (i = 0; i < m; i++) {
        float sq = 0.0f;
        float y;
        for (k = 0; k < 6; k++) {
            ph[k] += inc[k];
            if (ph[k] >= 1.0f) {
                ph[k] -= 1.0f;
            }
            sq += ph[k] < 0.5f ? 1.0f : -1.0f;
        }
        y = (1.0f - d->noise) * sq * (1.0f / 6.0f) + d->noise * gen_rng_noise(rng);
        gen_svf_run(&bp, y);
        gen_svf_run(&hp, bp.bp + 0.3f * y);
        y = hp.hp * aenv;
        if (d->variant == 1 && d->cat != GEN_PERC) {
            /* A softer attack: the stick lands on a pre-ringing plate. */
            y *= (float)i < 0.002f * (float)rate ? (float)i / (0.002f * (float)rate) : 1.0f;
        }
        out[i] += amp * gen_softclip(y * dg * 2.0f) * norm;
        aenv *= ak;
    }
}

static void render_cymbal(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                          struct gen_rng *rng)
{
    size_t m = tail_frames(d->decay, rate, n);
    float wk = decay_mul(d->decay, rate);
    float bk = decay_mul(d->tone_decay, rate);
    float fk = decay_mul(0.05f, rate);
    float wenv = 1.0f;
    float benv = 1.0f;
    float fenv = 1.0f;
    float inc[6];
    float ph[6];
    float pinc[4];
    float pph[4];
    float bell = d->variant == 1 ? 0.35f : 0.12f;
    struct gen_svf hp;
    struct gen_svf bp;
    size_t i;
    int k;
    for (k = 0; k < 6; k++) {
        inc[k] = metal_hz[k] * d->pitch * 1.7f / (float)rate;
        ph[k] = gen_rng_unit(rng);
    }
    for (k = 0; k < 4; k++) {
        /* Bell partials: inharmonic sines above a bell fundamental. */
        pinc[k] = 420.0f * d->pitch * (1.0f + (float)k * d->ratio * 0.61f) / (float)rate;
        pph[k] = 0.0f;
    }
    sm__gen_svf_set(&hp, d->tone, 0.6f, rate);
    sm__gen_svf_reset(&hp);
    sm__gen_svf_set(&bp, d->tone * 1.8f, 0.9f, rate);
    sm__gen_svf_reset(&bp);
    for (i = 0; i < m; i++) {
        float sq = 0.0f;
        float pb = 0.0f;
        float y;
        float nz = gen_rng_noise(rng);
        for (k = 0; k < 6; k++) {
            ph[k] += inc[k];
            if (ph[k] >= 1.0f) {
                ph[k] -= 1.0f;
            }
            sq += ph[k] < 0.5f ? 1.0f : -1.0f;
        }
        for (k = 0; k < 4; k++) {
            pph[k] += pinc[k];
            if (pph[k] >= 1.0f) {
                pph[k] -= 1.0f;
            }
            pb += gen_sin01(pph[k]) * (1.0f / (float)(k + 1));
        }
        y = (1.0f - d->noise) * sq * (1.0f / 6.0f) + d->noise * nz;
        gen_svf_run(&hp, y);
        gen_svf_run(&bp, nz);
        y = hp.hp * wenv * (0.7f + 0.6f * fenv) + 0.4f * bp.bp * fenv + bell * pb * benv;
        out[i] += amp * y;
        wenv *= wk;
        benv *= bk;
        fenv *= fk;
    }
}

static void render_tom(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                       struct gen_rng *rng)
{
    size_t m = tail_frames(d->tone_decay, rate, n);
    float dt = 1.0f / (float)rate;
    float pk = decay_mul(d->sweep, rate);
    float ak = decay_mul(d->tone_decay, rate);
    float a2k = decay_mul(d->tone_decay * 0.4f, rate);
    float nk = decay_mul(d->decay, rate);
    float penv = 1.0f;
    float aenv = 1.0f;
    float a2env = 1.0f;
    float nenv = 1.0f;
    float ph1 = 0.0f;
    float ph2 = 0.0f;
    float dg = drive_gain(d->drive);
    float norm = 1.0f / gen_softclip(dg);
    struct gen_svf bp;
    size_t i;
    sm__gen_svf_set(&bp, d->tone, 0.8f, rate);
    sm__gen_svf_reset(&bp);
    for (i = 0; i < m; i++) {
        float f = d->pitch * (1.0f + (d->ratio - 1.0f) * penv);
        float y;
        ph1 = gen_wrap(ph1 + f * dt);
        ph2 = gen_wrap(ph2 + f * 1.5f * dt);
        gen_svf_run(&bp, gen_rng_noise(rng));
        y = gen_sin01(ph1) * aenv + 0.3f * gen_sin01(ph2) * a2env + d->noise * bp.bp * nenv;
        out[i] += amp * gen_softclip(y * dg) * norm;
        penv *= pk;
        aenv *= ak;
        a2env *= a2k;
        nenv *= nk;
    }
}

/* Woodblock, conga, cowbell, clave: a few decaying partials plus a noise tick. */
static void render_tonal_perc(float *out, size_t n, int rate, const struct gen_drum *d,
                              float amp, struct gen_rng *rng)
{
    size_t m = tail_frames(d->tone_decay, rate, n);
    float dt = 1.0f / (float)rate;
    float pk = decay_mul(d->sweep, rate);
    float ak = decay_mul(d->tone_decay, rate);
    float a2k = decay_mul(d->tone_decay * 0.6f, rate);
    float nk = decay_mul(d->decay > 0.001f ? d->decay : 0.004f, rate);
    float penv = 1.0f;
    float aenv = 1.0f;
    float a2env = 1.0f;
    float nenv = 1.0f;
    float ph1 = 0.0f;
    float ph2 = 0.0f;
    float dg = drive_gain(d->drive);
    float norm = 1.0f / gen_softclip(dg);
    int square = d->variant == PERC_COWBELL;
    struct gen_svf bp;
    struct gen_svf nbp;
    size_t i;
    sm__gen_svf_set(&bp, d->tone, d->reso, rate);
    sm__gen_svf_reset(&bp);
    sm__gen_svf_set(&nbp, d->variant == PERC_CONGA ? d->tone : d->pitch * 1.5f, 1.0f, rate);
    sm__gen_svf_reset(&nbp);
    for (i = 0; i < m; i++) {
        float bend = d->variant == PERC_CONGA ? 1.0f + (d->ratio - 1.0f) * penv : 1.0f;
        float f = d->pitch * bend;
        float y;
        ph1 = gen_wrap(ph1 + f * dt);
        if (square) {
            ph2 = gen_wrap(ph2 + f * d->ratio * dt);
            y = (ph1 < 0.5f ? 1.0f : -1.0f) + (ph2 < 0.5f ? 0.8f : -0.8f);
            gen_svf_run(&bp, y);
            y = 1.5f * bp.bp * aenv;
        } else {
            float r2 = d->variant == PERC_CONGA ? 1.6f : d->ratio;
            ph2 = gen_wrap(ph2 + f * r2 * dt);
            y = gen_sin01(ph1) * aenv + 0.35f * gen_sin01(ph2) * a2env;
        }
        gen_svf_run(&nbp, gen_rng_noise(rng));
        y += d->noise * nbp.bp * nenv * 2.0f;
        out[i] += amp * gen_softclip(y * dg) * norm;
        penv *= pk;
        aenv *= ak;
        a2env *= a2k;
        nenv *= nk;
    }
}

/* Shaker: bursts of band-passed noise with a short swell. */
static void render_shaker(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                          struct gen_rng *rng)
{
    size_t gap = (size_t)(d->spacing * (float)rate);
    size_t att = (size_t)(d->sweep * (float)rate) + 1;
    size_t one = att + tail_frames(d->decay, rate, n);
    float k = decay_mul(d->decay, rate);
    struct gen_svf bp;
    int h;
    sm__gen_svf_set(&bp, d->tone, d->reso, rate);
    for (h = 0; h < d->count; h++) {
        size_t start = gap * (size_t)h;
        float env = 1.0f;
        float lvl = h == 0 ? 1.0f : 0.6f + 0.3f * gen_rng_unit(rng);
        size_t i;
        sm__gen_svf_reset(&bp);
        for (i = 0; i < one && start + i < n; i++) {
            float e;
            if (i < att) {
                e = (float)i / (float)att;
            } else {
                e = env;
                env *= k;
            }
            gen_svf_run(&bp, gen_rng_noise(rng));
            out[start + i] += amp * lvl * e * bp.bp * 1.5f;
        }
    }
}

void sm__gen_drum_render(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                         struct gen_rng *rng)
{
    switch (d->cat) {
        case GEN_KICK:
            render_kick(out, n, rate, d, amp, rng);
            break;
        case GEN_SNARE:
            render_snare(out, n, rate, d, amp, rng);
            break;
        case GEN_CLAP:
            render_clap(out, n, rate, d, amp, rng);
            break;
        case GEN_HAT_CLOSED:
        case GEN_HAT_OPEN:
            render_metal(out, n, rate, d, amp, rng);
            break;
        case GEN_CYMBAL:
            render_cymbal(out, n, rate, d, amp, rng);
            break;
        case GEN_TOM:
            render_tom(out, n, rate, d, amp, rng);
            break;
        default:
            if (d->variant == PERC_SHAKER) {
                render_shaker(out, n, rate, d, amp, rng);
            } else if (d->variant == PERC_TAMBOURINE) {
                size_t gap = (size_t)(d->spacing * (float)rate);
                int h;
                for (h = 0; h < d->count; h++) {
                    size_t at = gap * (size_t)h;
                    if (at < n) {
                        render_metal(out + at, n - at, rate, d, amp * (h == 0 ? 1.0f : 0.6f),
                                     rng);
                    }
                }
            } else {
                render_tonal_perc(out, n, rate, d, amp, rng);
            }
            break;
    }
}
