/* Pitched instruments, one note at a time, plus FX sweeps. Five engines cover
 * every category: subtractive (detuned band-limited saws or pulses through a
 * state-variable low-pass with envelopes), FM (two operators), additive
 * (organ drawbars, a stiff-string piano), Karplus-Strong (guitar) and formant
 * synthesis (vocal). Parameters are drawn per timbre so that all notes of one
 * file share a sound but files differ. */
#include "gen.h"

#include <math.h>
#include <string.h>

#define GEN_MAXV  8
#define GEN_BLOCK 32

/* Timbre variants per category. */
enum {
    BASS_SAW,
    BASS_SQUARE,
    BASS_808,
    BASS_FM,
    BASS_N
};
enum {
    SYNTH_SUPERSAW,
    SYNTH_PLUCK,
    SYNTH_SQUARE,
    SYNTH_N
};
enum {
    KEYS_EP,
    KEYS_BELL,
    KEYS_ORGAN,
    KEYS_PIANO,
    KEYS_N
};
enum {
    GUITAR_ACOUSTIC,
    GUITAR_ELECTRIC,
    GUITAR_MUTED,
    GUITAR_N
};

/* ---- Envelopes ------------------------------------------------------------ */

/* Linear attack, exponential decay to sustain, exponential release after the
 * gate. All times in seconds; decay and release are time constants. */
struct adsr {
    float env;
    float a_inc;
    float dk;
    float sus;
    float rk;
    size_t gate_n;
    size_t i;
    int stage;
};

static float tc_mul(float tau, int rate)
{
    if (!(tau > 1e-5f)) {
        return 0.0f;
    }
    return expf(-1.0f / (tau * (float)rate));
}

static void adsr_init(struct adsr *e, const struct gen_timbre *t, float gate, int rate)
{
    float a = t->attack > 0.0005f ? t->attack : 0.0005f;
    e->env = 0.0f;
    e->a_inc = 1.0f / (a * (float)rate);
    e->dk = tc_mul(t->decay, rate);
    e->sus = t->sustain;
    e->rk = tc_mul(t->release, rate);
    e->gate_n = (size_t)(gate * (float)rate);
    e->i = 0;
    e->stage = 0;
}

static inline float adsr_next(struct adsr *e)
{
    if (e->stage < 3 && e->i >= e->gate_n) {
        e->stage = 3;
    }
    if (e->stage == 0) {
        e->env += e->a_inc;
        if (e->env >= 1.0f) {
            e->env = 1.0f;
            e->stage = 1;
        }
    } else if (e->stage == 1) {
        e->env = e->sus + (e->env - e->sus) * e->dk;
    } else {
        e->env *= e->rk;
    }
    e->i++;
    return e->env;
}

static size_t note_frames(const struct gen_timbre *t, float gate, int rate, size_t n)
{
    float f = (gate + sm__gen_timbre_tail(t)) * (float)rate;
    if (f >= (float)n) {
        return n;
    }
    return (size_t)f;
}

/* ---- Timbres ------------------------------------------------------------- */

void sm__gen_timbre_random(struct gen_timbre *t, int cat, int variant, struct gen_rng *rng)
{
    memset(t, 0, sizeof(*t));
    t->cat = cat;
    t->voices = 1;
    t->cutoff = 4.0f;
    t->reso = 0.7f;
    t->attack = 0.005f;
    t->decay = 0.3f;
    t->sustain = 0.7f;
    t->release = 0.1f;
    t->fdecay = 0.2f;
    t->bright = gen_rng_unit(rng);
    t->width = gen_rng_range(rng, 0.2f, 0.8f);
    switch (cat) {
        case GEN_BASS:
            t->variant = variant >= 0 ? variant % BASS_N : gen_rng_int(rng, BASS_N);
            t->voices = 1 + gen_rng_int(rng, 2);
            t->detune = gen_rng_range(rng, 3.0f, 12.0f);
            t->cutoff = gen_rng_range(rng, 1.5f, 4.0f);
            t->env_amt = gen_rng_range(rng, 2.0f, 14.0f);
            t->reso = gen_rng_range(rng, 0.7f, 3.0f);
            t->fdecay = gen_rng_range(rng, 0.05f, 0.4f);
            t->attack = gen_rng_range(rng, 0.002f, 0.01f);
            t->decay = gen_rng_range(rng, 0.2f, 0.8f);
            t->sustain = gen_rng_range(rng, 0.4f, 0.9f);
            t->release = gen_rng_range(rng, 0.03f, 0.12f);
            t->drive = gen_rng_range(rng, 0.0f, 0.5f);
            t->width = 0.0f;
            if (t->variant == BASS_808) {
                t->decay = gen_rng_range(rng, 0.4f, 1.5f);
                t->sustain = 0.0f;
                t->release = 0.08f;
                t->drive = gen_rng_range(rng, 0.0f, 0.9f);
                t->env_amt = gen_rng_range(rng, 0.0f, 7.0f);
                t->fdecay = gen_rng_range(rng, 0.02f, 0.06f);
            } else if (t->variant == BASS_FM) {
                t->env_amt = gen_rng_range(rng, 1.0f, 4.0f);
                t->cutoff = (float)(1 + gen_rng_int(rng, 2));
                t->fdecay = gen_rng_range(rng, 0.05f, 0.3f);
            }
            break;
        case GEN_SYNTH:
            t->variant = variant >= 0 ? variant % SYNTH_N : gen_rng_int(rng, SYNTH_N);
            t->voices = 3 + gen_rng_int(rng, 5);
            t->detune = gen_rng_range(rng, 6.0f, 28.0f);
            t->cutoff = gen_rng_range(rng, 3.0f, 10.0f);
            t->env_amt = gen_rng_range(rng, 1.0f, 8.0f);
            t->reso = gen_rng_range(rng, 0.7f, 2.5f);
            t->fdecay = gen_rng_range(rng, 0.1f, 0.6f);
            t->attack = gen_rng_range(rng, 0.003f, 0.05f);
            t->decay = gen_rng_range(rng, 0.2f, 1.0f);
            t->sustain = gen_rng_range(rng, 0.55f, 0.95f);
            t->release = gen_rng_range(rng, 0.05f, 0.3f);
            t->drive = gen_rng_range(rng, 0.0f, 0.4f);
            t->vib_rate = gen_rng_range(rng, 4.5f, 6.5f);
            t->vib_depth = gen_rng_range(rng, 0.0f, 0.25f);
            if (t->variant == SYNTH_PLUCK) {
                t->voices = 2 + gen_rng_int(rng, 2);
                t->detune = gen_rng_range(rng, 4.0f, 12.0f);
                t->cutoff = gen_rng_range(rng, 1.2f, 3.0f);
                t->env_amt = gen_rng_range(rng, 8.0f, 30.0f);
                t->fdecay = gen_rng_range(rng, 0.04f, 0.25f);
                t->decay = gen_rng_range(rng, 0.15f, 0.6f);
                t->sustain = 0.0f;
                t->release = gen_rng_range(rng, 0.05f, 0.2f);
                t->vib_depth = 0.0f;
            } else if (t->variant == SYNTH_SQUARE) {
                t->voices = 1 + gen_rng_int(rng, 2);
                t->detune = gen_rng_range(rng, 2.0f, 8.0f);
                t->bright = gen_rng_range(rng, 0.25f, 0.5f);
            }
            break;
        case GEN_PAD:
            t->voices = 4 + gen_rng_int(rng, 4);
            t->detune = gen_rng_range(rng, 6.0f, 22.0f);
            t->cutoff = gen_rng_range(rng, 1.5f, 5.0f);
            t->env_amt = gen_rng_range(rng, 0.0f, 2.0f);
            t->reso = gen_rng_range(rng, 0.6f, 1.8f);
            t->fdecay = gen_rng_range(rng, 0.5f, 2.0f);
            t->attack = gen_rng_range(rng, 0.3f, 1.5f);
            t->decay = gen_rng_range(rng, 0.5f, 2.0f);
            t->sustain = gen_rng_range(rng, 0.75f, 1.0f);
            t->release = gen_rng_range(rng, 0.3f, 1.0f);
            t->vib_rate = gen_rng_range(rng, 0.1f, 0.5f);
            t->width = gen_rng_range(rng, 0.5f, 1.0f);
            break;
        case GEN_KEYS:
            t->variant = variant >= 0 ? variant % KEYS_N : gen_rng_int(rng, KEYS_N);
            t->attack = 0.001f;
            t->decay = gen_rng_range(rng, 0.8f, 2.5f);
            t->sustain = 0.0f;
            t->release = gen_rng_range(rng, 0.08f, 0.25f);
            t->env_amt = gen_rng_range(rng, 1.0f, 3.5f);
            t->fdecay = gen_rng_range(rng, 0.15f, 0.8f);
            t->cutoff = (float)(2 + gen_rng_int(rng, 4));
            t->vib_rate = gen_rng_range(rng, 3.0f, 6.0f);
            t->vib_depth = gen_rng_chance(rng, 0.4f) ? gen_rng_range(rng, 0.1f, 0.4f) : 0.0f;
            if (t->variant == KEYS_ORGAN) {
                t->attack = 0.005f;
                t->sustain = 1.0f;
                t->decay = 1.0f;
                t->release = gen_rng_range(rng, 0.03f, 0.1f);
            } else if (t->variant == KEYS_PIANO) {
                t->decay = gen_rng_range(rng, 1.5f, 4.0f);
                t->reso = gen_rng_range(rng, 0.5f, 4.0f);
            }
            break;
        case GEN_GUITAR:
            t->variant = variant >= 0 ? variant % GUITAR_N : gen_rng_int(rng, GUITAR_N);
            t->decay = gen_rng_range(rng, 1.5f, 5.0f);
            t->release = gen_rng_range(rng, 0.05f, 0.15f);
            t->cutoff = gen_rng_range(rng, 0.3f, 0.5f);
            t->drive = 0.0f;
            t->reso = gen_rng_range(rng, 0.1f, 0.3f);
            if (t->variant == GUITAR_ELECTRIC) {
                t->drive = gen_rng_range(rng, 0.3f, 1.0f);
            } else if (t->variant == GUITAR_MUTED) {
                t->decay = gen_rng_range(rng, 0.15f, 0.4f);
                t->cutoff = 0.5f;
            }
            break;
        case GEN_STRINGS:
            t->voices = 3 + gen_rng_int(rng, 4);
            t->detune = gen_rng_range(rng, 3.0f, 10.0f);
            t->cutoff = gen_rng_range(rng, 3.0f, 7.0f);
            t->env_amt = gen_rng_range(rng, 0.0f, 2.0f);
            t->reso = gen_rng_range(rng, 0.6f, 1.2f);
            t->fdecay = gen_rng_range(rng, 0.3f, 1.0f);
            t->attack = gen_rng_range(rng, 0.08f, 0.6f);
            t->decay = 1.0f;
            t->sustain = 1.0f;
            t->release = gen_rng_range(rng, 0.15f, 0.6f);
            t->vib_rate = gen_rng_range(rng, 4.5f, 6.2f);
            t->vib_depth = gen_rng_range(rng, 0.08f, 0.22f);
            t->width = gen_rng_range(rng, 0.4f, 1.0f);
            break;
        case GEN_BRASS:
            t->voices = 1 + gen_rng_int(rng, 3);
            t->detune = gen_rng_range(rng, 2.0f, 9.0f);
            t->cutoff = gen_rng_range(rng, 1.5f, 3.0f);
            t->env_amt = gen_rng_range(rng, 3.0f, 9.0f);
            t->reso = gen_rng_range(rng, 0.6f, 1.4f);
            t->fdecay = gen_rng_range(rng, 0.15f, 0.6f);
            t->attack = gen_rng_range(rng, 0.02f, 0.07f);
            t->decay = gen_rng_range(rng, 0.2f, 0.6f);
            t->sustain = gen_rng_range(rng, 0.65f, 0.9f);
            t->release = gen_rng_range(rng, 0.06f, 0.2f);
            t->drive = gen_rng_range(rng, 0.0f, 0.4f);
            t->vib_rate = gen_rng_range(rng, 4.5f, 6.0f);
            t->vib_depth = gen_rng_range(rng, 0.05f, 0.2f);
            break;
        case GEN_VOCAL:
        default:
            t->cat = GEN_VOCAL;
            t->vowel = gen_rng_int(rng, 5);
            t->attack = gen_rng_range(rng, 0.04f, 0.15f);
            t->decay = 1.0f;
            t->sustain = 1.0f;
            t->release = gen_rng_range(rng, 0.06f, 0.2f);
            t->vib_rate = gen_rng_range(rng, 4.8f, 6.2f);
            t->vib_depth = gen_rng_range(rng, 0.15f, 0.5f);
            t->reso = gen_rng_range(rng, 0.02f, 0.08f);
            break;
    }
}

float sm__gen_timbre_tail(const struct gen_timbre *t)
{
    if (t->cat == GEN_GUITAR) {
        return 9.2f * t->release + 0.05f;
    }
    return 9.2f * t->release;
}

/* ---- Subtractive engine ------------------------------------------------- */

static void render_sub(float *l, float *r, size_t n, int rate, const struct gen_timbre *t,
                       float freq, float gate, float amp, struct gen_rng *rng)
{
    size_t len = note_frames(t, gate, rate, n);
    int nv = t->voices < 1 ? 1 : (t->voices > GEN_MAXV ? GEN_MAXV : t->voices);
    int pulse = (t->cat == GEN_SYNTH && t->variant == SYNTH_SQUARE) ||
                (t->cat == GEN_BASS && t->variant == BASS_SQUARE);
    int brass = t->cat == GEN_BRASS;
    int strings = t->cat == GEN_STRINGS;
    int pad = t->cat == GEN_PAD;
    float pw = pulse ? 0.25f + 0.25f * t->bright : 0.5f;
    float ratio[GEN_MAXV];
    float gl[GEN_MAXV];
    float gr[GEN_MAXV];
    float ph[GEN_MAXV];
    float inc[GEN_MAXV];
    float vph[GEN_MAXV];
    float sub_ph = 0.0f;
    float sub = t->cat == GEN_BASS ? 0.5f : 0.0f;
    float fk = tc_mul(t->fdecay, rate);
    float ak = tc_mul(0.02f + 0.03f * t->bright, rate);
    float fenv = 1.0f;
    float rise = 1.0f;
    float vnorm = 1.0f / sqrtf((float)nv);
    float dg = 1.0f + 4.0f * t->drive;
    float dnorm = 1.0f / gen_softclip(dg);
    float inv_rate = 1.0f / (float)rate;
    struct gen_svf fl;
    struct gen_svf fr;
    struct adsr env;
    size_t i = 0;
    int v;
    adsr_init(&env, t, gate, rate);
    sm__gen_svf_reset(&fl);
    sm__gen_svf_reset(&fr);
    for (v = 0; v < nv; v++) {
        float pos = nv > 1 ? 2.0f * (float)v / (float)(nv - 1) - 1.0f : 0.0f;
        float pan = r ? pos * t->width : 0.0f;
        ratio[v] = exp2f(pos * t->detune / 1200.0f);
        gl[v] = cosf((pan + 1.0f) * GEN_PI * 0.25f) * 1.41421356f;
        gr[v] = sinf((pan + 1.0f) * GEN_PI * 0.25f) * 1.41421356f;
        ph[v] = gen_rng_unit(rng);
        vph[v] = gen_rng_unit(rng);
    }
    while (i < len) {
        size_t end = i + GEN_BLOCK < len ? i + GEN_BLOCK : len;
        float tsec = (float)i * inv_rate;
        float vramp = tsec < 0.35f ? tsec / 0.35f : 1.0f;
        float fe;
        float fc;
        float scoop = brass ? -0.4f * rise : 0.0f;
        for (v = 0; v < nv; v++) {
            float vib = 0.0f;
            if (t->vib_depth > 0.0f && !pad) {
                float vp = strings ? vph[v] : 0.0f;
                float vr = t->vib_rate * (strings ? 1.0f + 0.05f * (float)v : 1.0f);
                vib = t->vib_depth * vramp * gen_sin01(gen_wrap(vr * tsec + vp));
            }
            inc[v] = freq * ratio[v] * exp2f((vib + scoop) / 12.0f) * inv_rate;
            if (inc[v] > 0.45f) {
                inc[v] = 0.45f;
            }
        }
        fe = brass ? (1.0f - rise) * (0.35f + 0.65f * fenv) : fenv;
        fc = freq * (t->cutoff + t->env_amt * fe);
        if (pad) {
            fc *= 1.0f + 0.3f * gen_sin01(gen_wrap(t->vib_rate * tsec + vph[0]));
        }
        if (fc > 16000.0f) {
            fc = 16000.0f;
        }
        sm__gen_svf_set(&fl, fc, t->reso, rate);
        sm__gen_svf_set(&fr, fc, t->reso, rate);
        for (; i < end; i++) {
            float sl = 0.0f;
            float sr = 0.0f;
            float e = adsr_next(&env);
            float s;
            for (v = 0; v < nv; v++) {
                ph[v] += inc[v];
                if (ph[v] >= 1.0f) {
                    ph[v] -= 1.0f;
                }
                s = pulse ? gen_pulse(ph[v], inc[v], pw) : gen_saw(ph[v], inc[v]);
                sl += gl[v] * s;
                sr += gr[v] * s;
            }
            sl *= vnorm;
            sr *= vnorm;
            if (sub > 0.0f) {
                sub_ph = gen_wrap(sub_ph + inc[0]);
                s = sub * gen_sin01(sub_ph);
                sl += s;
                sr += s;
            }
            fenv *= fk;
            rise *= ak;
            if (r) {
                gen_svf_run(&fl, sl);
                gen_svf_run(&fr, sr);
                l[i] += amp * e * gen_softclip(fl.lp * dg) * dnorm;
                r[i] += amp * e * gen_softclip(fr.lp * dg) * dnorm;
            } else {
                gen_svf_run(&fl, 0.5f * (sl + sr));
                l[i] += amp * e * gen_softclip(fl.lp * dg) * dnorm;
            }
        }
    }
}

/* ---- 808 bass: a sine with a short downward glide and saturation -------- */

static void render_808(float *l, float *r, size_t n, int rate, const struct gen_timbre *t,
                       float freq, float gate, float amp)
{
    size_t len = note_frames(t, gate, rate, n);
    float gk = tc_mul(t->fdecay, rate);
    float glide = 1.0f;
    float ph = 0.0f;
    float dg = 1.0f + 4.0f * t->drive;
    float dnorm = 1.0f / gen_softclip(dg);
    float inv_rate = 1.0f / (float)rate;
    struct adsr env;
    size_t i;
    adsr_init(&env, t, gate, rate);
    for (i = 0; i < len; i++) {
        float f = freq * (1.0f + (exp2f(t->env_amt / 12.0f) - 1.0f) * glide);
        float y;
        float e = adsr_next(&env);
        ph = gen_wrap(ph + f * inv_rate);
        y = gen_softclip(gen_sin01(ph) * dg) * dnorm * e * amp;
        l[i] += y;
        if (r) {
            r[i] += y;
        }
        glide *= gk;
    }
}

/* ---- FM: electric piano, mallet/bell, FM bass ----------------------------- */

static void render_fm(float *l, float *r, size_t n, int rate, const struct gen_timbre *t,
                      float freq, float gate, float amp, struct gen_rng *rng)
{
    size_t len = note_frames(t, gate, rate, n);
    float mratio = t->cutoff;
    float idx0 = t->env_amt;
    float idx1 = 0.15f * t->bright;
    float ik = tc_mul(t->fdecay, rate);
    float tk = tc_mul(0.03f, rate);
    float ienv = 1.0f;
    float tenv = 0.3f * t->bright;
    float cph = 0.0f;
    float mph = 0.0f;
    float tph = 0.0f;
    float inv_rate = 1.0f / (float)rate;
    float pan = r ? gen_rng_range(rng, -0.3f, 0.3f) : 0.0f;
    float gl = r ? cosf((pan + 1.0f) * GEN_PI * 0.25f) * 1.41421356f : 1.0f;
    float gr = r ? sinf((pan + 1.0f) * GEN_PI * 0.25f) * 1.41421356f : 1.0f;
    float trem_rate = t->vib_rate;
    float trem = t->cat == GEN_KEYS && t->variant == KEYS_EP ? 0.5f * t->vib_depth : 0.0f;
    float cinc = freq * inv_rate;
    struct adsr env;
    struct gen_timbre tt = *t;
    size_t i;
    if (t->cat == GEN_KEYS && t->variant == KEYS_EP) {
        mratio = 1.0f;
    }
    /* Higher notes die away faster, as on real instruments. */
    tt.decay = t->decay * powf(261.6f / freq, 0.35f);
    adsr_init(&env, &tt, gate, rate);
    for (i = 0; i < len; i++) {
        float e = adsr_next(&env);
        float idx = idx1 + idx0 * ienv;
        float m;
        float y;
        mph += cinc * mratio;
        if (mph >= 1.0f) {
            mph -= 1.0f;
        }
        tph += cinc * 14.0f;
        if (tph >= 1.0f) {
            tph -= 1.0f;
        }
        m = gen_sin01(mph) * idx + gen_sin01(tph) * tenv;
        cph += cinc;
        if (cph >= 1.0f) {
            cph -= 1.0f;
        }
        y = gen_sin01(gen_wrap(cph + m * 0.5f));
        if (trem > 0.0f) {
            y *= 1.0f - trem * (0.5f + 0.5f * gen_sin01(gen_wrap(trem_rate * (float)i * inv_rate)));
        }
        y *= e * amp;
        l[i] += gl * y;
        if (r) {
            r[i] += gr * y;
        }
        ienv *= ik;
        tenv *= tk;
    }
}

/* ---- Additive: drawbar organ and a stiff-string piano -------------------- */

#define GEN_NPART 10

static void render_additive(float *l, float *r, size_t n, int rate, const struct gen_timbre *t,
                            float freq, float gate, float amp, struct gen_rng *rng)
{
    static const float organ_h[6] = {1.0f, 2.0f, 3.0f, 4.0f, 6.0f, 8.0f};
    size_t len = note_frames(t, gate, rate, n);
    int piano = t->variant == KEYS_PIANO;
    int np = piano ? GEN_NPART : 6;
    float inc[GEN_NPART];
    float ph[GEN_NPART];
    float a[GEN_NPART];
    float k[GEN_NPART];
    float inv_rate = 1.0f / (float)rate;
    float bstiff = piano ? 0.0001f * t->reso : 0.0f;
    float hk = tc_mul(0.01f, rate);
    float henv = piano ? 0.3f : 0.0f;
    float norm = 0.0f;
    float rel = 1.0f;
    float rk = tc_mul(t->release, rate);
    float att = 0.0f;
    float att_inc = 1.0f / (0.003f * (float)rate);
    float pdecay = t->decay * powf(261.6f / freq, 0.4f);
    size_t gate_n = (size_t)(gate * (float)rate);
    struct gen_svf hf;
    size_t i;
    int p;
    for (p = 0; p < np; p++) {
        float h = piano ? (float)(p + 1) : organ_h[p];
        float f = freq * h * (piano ? sqrtf(1.0f + bstiff * h * h) : 1.0f);
        inc[p] = f * inv_rate;
        ph[p] = gen_rng_unit(rng);
        if (f > 0.45f * (float)rate) {
            a[p] = 0.0f;
        } else if (piano) {
            a[p] = powf(1.0f / h, 1.6f - 0.8f * t->bright);
        } else {
            a[p] = p == 0 ? 1.0f : gen_rng_range(rng, 0.0f, 0.8f);
        }
        /* Piano partials decay faster the higher they are; organ ones do not. */
        k[p] = piano ? tc_mul(pdecay / (1.0f + 0.5f * (float)p), rate) : 1.0f;
        norm += a[p];
    }
    norm = 1.0f / (norm > 0.0f ? norm : 1.0f);
    sm__gen_svf_set(&hf, 2500.0f + 2000.0f * t->bright, 0.7f, rate);
    sm__gen_svf_reset(&hf);
    for (i = 0; i < len; i++) {
        float y = 0.0f;
        for (p = 0; p < np; p++) {
            ph[p] += inc[p];
            if (ph[p] >= 1.0f) {
                ph[p] -= 1.0f;
            }
            y += a[p] * gen_sin01(ph[p]);
            a[p] *= k[p];
        }
        y *= norm;
        if (henv > 1e-4f) {
            gen_svf_run(&hf, gen_rng_noise(rng));
            y += henv * hf.bp;
            henv *= hk;
        }
        if (att < 1.0f) {
            att += att_inc;
            y *= att < 1.0f ? att : 1.0f;
        }
        if (i >= gate_n) {
            y *= rel;
            rel *= rk;
        }
        y *= amp;
        l[i] += y;
        if (r) {
            r[i] += y;
        }
    }
}

/* ---- Karplus-Strong guitar ---------------------------------------------- */

#define GEN_KS_LEN 4096

static void render_guitar(float *l, float *r, size_t n, int rate, const struct gen_timbre *t,
                          float freq, float gate, float amp, struct gen_rng *rng)
{
    float line[GEN_KS_LEN];
    size_t len = note_frames(t, gate, rate, n);
    float s = t->cutoff;
    float delay = (float)rate / freq - s;
    float g;
    float prev = 0.0f;
    float dg = 1.0f + 6.0f * t->drive;
    float dnorm = 1.0f / gen_softclip(dg);
    size_t gate_n = (size_t)(gate * (float)rate);
    size_t w = 0;
    size_t excite;
    struct gen_svf ex;
    struct gen_svf body;
    struct gen_svf cab;
    size_t i;
    if (delay < 2.0f) {
        delay = 2.0f;
    }
    if (delay > (float)(GEN_KS_LEN - 2)) {
        delay = (float)(GEN_KS_LEN - 2);
    }
    /* Loop gain per sample so the note falls 60 dB in t->decay seconds. */
    g = powf(0.001f, 1.0f / (t->decay * freq));
    memset(line, 0, sizeof(line));
    excite = (size_t)delay;
    sm__gen_svf_set(&ex, freq * (3.0f + 12.0f * t->bright), 0.6f, rate);
    sm__gen_svf_reset(&ex);
    sm__gen_svf_set(&body, 110.0f + 100.0f * t->reso, 1.2f, rate);
    sm__gen_svf_reset(&body);
    sm__gen_svf_set(&cab, 3500.0f, 0.8f, rate);
    sm__gen_svf_reset(&cab);
    for (i = 0; i < len; i++) {
        float rp = (float)w - delay;
        float fi;
        float frac;
        size_t i0;
        size_t i1;
        float d;
        float y;
        float in = 0.0f;
        if (rp < 0.0f) {
            rp += (float)GEN_KS_LEN;
        }
        fi = floorf(rp);
        frac = rp - fi;
        i0 = (size_t)fi % GEN_KS_LEN;
        i1 = (i0 + 1) % GEN_KS_LEN;
        d = line[i0] * (1.0f - frac) + line[i1] * frac;
        if (i < excite) {
            gen_svf_run(&ex, gen_rng_noise(rng));
            in = ex.lp;
        }
        y = (1.0f - s) * d + s * prev;
        prev = d;
        y *= g;
        if (i >= gate_n) {
            y *= 0.995f;
        }
        line[w] = in + y;
        w = (w + 1) % GEN_KS_LEN;
        y = line[(w + GEN_KS_LEN - 1) % GEN_KS_LEN];
        gen_svf_run(&body, y);
        y = y + 0.5f * body.bp;
        if (t->drive > 0.0f) {
            gen_svf_run(&cab, gen_softclip(y * dg) * dnorm);
            y = cab.lp;
        }
        y *= amp * 1.5f;
        l[i] += y;
        if (r) {
            r[i] += y;
        }
    }
}

/* ---- Formant vocal ------------------------------------------------------ */

/* F1..F5 (Hz), level (dB) and bandwidth (Hz) of a, e, i, o, u for a male
 * (bass) and a female (soprano) voice. */
static const float vf[2][5][5] = {
    {{600, 1040, 2250, 2450, 2750}, {400, 1620, 2400, 2800, 3100}, {250, 1750, 2600, 3050, 3340},
     {400, 750, 2400, 2600, 2900}, {350, 600, 2400, 2675, 2950}},
    {{800, 1150, 2900, 3900, 4950}, {350, 2000, 2800, 3600, 4950}, {270, 2140, 2950, 3900, 4950},
     {450, 800, 2830, 3800, 4950}, {325, 700, 2700, 3800, 4950}}};
static const float vdb[2][5][5] = {
    {{0, -7, -9, -9, -20}, {0, -12, -9, -12, -18}, {0, -30, -16, -22, -28},
     {0, -11, -21, -20, -40}, {0, -20, -32, -28, -36}},
    {{0, -6, -32, -20, -50}, {0, -20, -15, -40, -56}, {0, -12, -26, -26, -44},
     {0, -11, -22, -22, -50}, {0, -16, -35, -40, -60}}};
static const float vbw[2][5][5] = {
    {{60, 70, 110, 120, 130}, {40, 80, 100, 120, 120}, {60, 90, 100, 120, 120},
     {40, 80, 100, 120, 120}, {40, 80, 100, 120, 120}},
    {{80, 90, 120, 130, 140}, {60, 100, 120, 150, 200}, {60, 90, 100, 120, 120},
     {70, 80, 100, 130, 135}, {50, 60, 170, 180, 200}}};

static void render_vocal(float *l, float *r, size_t n, int rate, const struct gen_timbre *t,
                         float freq, float gate, float amp, struct gen_rng *rng)
{
    size_t len = note_frames(t, gate, rate, n);
    int voice = freq < 190.0f ? 0 : 1;
    int vw = t->vowel % 5;
    struct gen_svf fmt[5];
    float fg[5];
    float inv_rate = 1.0f / (float)rate;
    float ph = 0.0f;
    float lp = 0.0f;
    float lpa = 1.0f - expf(-GEN_TAU * 1200.0f * inv_rate);
    float jitter = 0.0f;
    float vph = gen_rng_unit(rng);
    struct adsr env;
    size_t i = 0;
    int k;
    adsr_init(&env, t, gate, rate);
    for (k = 0; k < 5; k++) {
        float fc = vf[voice][vw][k];
        float q = fc / vbw[voice][vw][k];
        sm__gen_svf_set(&fmt[k], fc, q, rate);
        sm__gen_svf_reset(&fmt[k]);
        /* The band-pass output peaks at Q; k = 1/Q normalises it to unity. */
        fg[k] = sm__gen_db(vdb[voice][vw][k]) * fmt[k].k;
    }
    while (i < len) {
        size_t end = i + GEN_BLOCK < len ? i + GEN_BLOCK : len;
        float tsec = (float)i * inv_rate;
        float vramp = tsec < 0.3f ? tsec / 0.3f : 1.0f;
        float vib = t->vib_depth * vramp * gen_sin01(gen_wrap(t->vib_rate * tsec + vph));
        float inc;
        jitter = 0.98f * jitter + 0.02f * gen_rng_noise(rng) * 0.3f;
        inc = freq * exp2f((vib + jitter * 0.1f) / 12.0f) * inv_rate;
        for (; i < end; i++) {
            float e = adsr_next(&env);
            float src;
            float y = 0.0f;
            ph += inc;
            if (ph >= 1.0f) {
                ph -= 1.0f;
            }
            /* Glottal source: a falling band-limited ramp, tilted by a one-pole
             * low-pass, plus a little breath. */
            src = -gen_saw(ph, inc);
            lp += lpa * (src - lp);
            src = lp + t->reso * gen_rng_noise(rng);
            for (k = 0; k < 5; k++) {
                gen_svf_run(&fmt[k], src);
                y += fg[k] * fmt[k].bp;
            }
            y = (y * 2.0f + 0.15f * lp) * e * amp;
            l[i] += y;
            if (r) {
                r[i] += y;
            }
        }
    }
}

void sm__gen_note_render(float *l, float *r, size_t n, int rate, const struct gen_timbre *t,
                         float freq, float gate, float amp, struct gen_rng *rng)
{
    if (!(freq > 1.0f) || n == 0) {
        return;
    }
    switch (t->cat) {
        case GEN_BASS:
            if (t->variant == BASS_808) {
                render_808(l, r, n, rate, t, freq, gate, amp);
            } else if (t->variant == BASS_FM) {
                render_fm(l, r, n, rate, t, freq, gate, amp, rng);
            } else {
                render_sub(l, r, n, rate, t, freq, gate, amp, rng);
            }
            break;
        case GEN_KEYS:
            if (t->variant == KEYS_ORGAN || t->variant == KEYS_PIANO) {
                render_additive(l, r, n, rate, t, freq, gate, amp, rng);
            } else {
                render_fm(l, r, n, rate, t, freq, gate, amp, rng);
            }
            break;
        case GEN_GUITAR:
            render_guitar(l, r, n, rate, t, freq, gate, amp, rng);
            break;
        case GEN_VOCAL:
            render_vocal(l, r, n, rate, t, freq, gate, amp, rng);
            break;
        default:
            render_sub(l, r, n, rate, t, freq, gate, amp, rng);
            break;
    }
}

/* ---- FX ------------------------------------------------------------------ */

enum {
    FX_RISER,
    FX_DOWNSWEEP,
    FX_NOISE_SWEEP,
    FX_ZAP,
    FX_IMPACT,
    FX_N
};

void sm__gen_fx_render(float *l, float *r, size_t n, int rate, int variant, float amp,
                       struct gen_rng *rng)
{
    int v = variant >= 0 ? variant % FX_N : gen_rng_int(rng, FX_N);
    float inv_rate = 1.0f / (float)rate;
    float dur = (float)n * inv_rate;
    float f0 = 0.0f;
    float f1 = 0.0f;
    float ph = 0.0f;
    float tau = gen_rng_range(rng, 0.05f, 0.4f);
    float k;
    float env = 1.0f;
    float tone = gen_rng_range(rng, 0.0f, 0.6f);
    float q = gen_rng_range(rng, 0.8f, 4.0f);
    struct gen_svf fl;
    struct gen_svf fr;
    size_t i = 0;
    switch (v) {
        case FX_RISER:
            f0 = gen_rng_range(rng, 150.0f, 400.0f);
            f1 = gen_rng_range(rng, 4000.0f, 10000.0f);
            break;
        case FX_DOWNSWEEP:
            f0 = gen_rng_range(rng, 800.0f, 3000.0f);
            f1 = gen_rng_range(rng, 35.0f, 90.0f);
            tone = 1.0f;
            tau = dur * 0.35f;
            break;
        case FX_NOISE_SWEEP:
            f0 = gen_rng_range(rng, 6000.0f, 14000.0f);
            f1 = gen_rng_range(rng, 150.0f, 600.0f);
            tone = 0.0f;
            tau = dur * 0.5f;
            break;
        case FX_ZAP:
            f0 = gen_rng_range(rng, 1500.0f, 5000.0f);
            f1 = gen_rng_range(rng, 60.0f, 200.0f);
            tone = 1.0f;
            tau = gen_rng_range(rng, 0.04f, 0.15f);
            break;
        case FX_IMPACT:
        default:
            f0 = gen_rng_range(rng, 70.0f, 120.0f);
            f1 = gen_rng_range(rng, 28.0f, 45.0f);
            tone = 0.7f;
            tau = gen_rng_range(rng, 0.3f, 0.9f);
            break;
    }
    k = tc_mul(tau, rate);
    sm__gen_svf_reset(&fl);
    sm__gen_svf_reset(&fr);
    while (i < n) {
        size_t end = i + GEN_BLOCK < n ? i + GEN_BLOCK : n;
        float x = (float)i / (float)n;
        float shape = v == FX_ZAP || v == FX_IMPACT ? 1.0f - expf(-(float)i * inv_rate /
                                                                  (tau * 0.3f))
                                                    : x;
        float f = f0 * powf(f1 / f0, shape);
        float inc = f * inv_rate;
        if (inc > 0.45f) {
            inc = 0.45f;
        }
        sm__gen_svf_set(&fl, f, q, rate);
        sm__gen_svf_set(&fr, f * 1.03f, q, rate);
        for (; i < end; i++) {
            float e;
            float s;
            float yl;
            float yr;
            ph += inc;
            if (ph >= 1.0f) {
                ph -= 1.0f;
            }
            if (v == FX_RISER) {
                float xx = (float)i / (float)n;
                e = xx * xx;
            } else {
                e = env;
                env *= k;
            }
            s = v == FX_ZAP ? gen_pulse(ph, inc, 0.5f) * 0.5f : gen_sin01(ph);
            gen_svf_run(&fl, gen_rng_noise(rng));
            gen_svf_run(&fr, gen_rng_noise(rng));
            if (v == FX_NOISE_SWEEP) {
                yl = fl.lp;
                yr = fr.lp;
            } else {
                yl = fl.bp;
                yr = fr.bp;
            }
            yl = (tone * s + (1.0f - tone) * yl * 2.0f) * e * amp;
            yr = (tone * s + (1.0f - tone) * yr * 2.0f) * e * amp;
            if (r) {
                l[i] += yl;
                r[i] += yr;
            } else {
                l[i] += 0.5f * (yl + yr);
            }
        }
    }
    /* Every FX ends in silence, without a click. */
    for (i = 0; i < n && i < (size_t)(0.01f * (float)rate); i++) {
        float g = (float)i / (0.01f * (float)rate);
        l[n - 1 - i] *= g;
        if (r) {
            r[n - 1 - i] *= g;
        }
    }
}
