/* Music on top of the sound sources: note and key names, drum loops in five
 * styles, chord progressions with voice leading, melodies, and one-shots. */
#include "gen.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <samplemind/alloc.h>

static const char *const pc_names[12] = {"C",  "C#", "D",  "D#", "E",  "F",
                                         "F#", "G",  "G#", "A",  "A#", "B"};

static const char *const cat_names[GEN_NCAT] = {
    "kick", "snare", "clap",  "hihat_closed", "hihat_open", "cymbal",  "tom",   "percussion",
    "bass", "synth", "pad",   "keys",         "guitar",     "strings", "brass", "vocal",
    "fx"};

static const char *const pattern_names[GEN_NPAT] = {"four", "break", "trap", "half", "shuffle"};

const char *sm__gen_pc_name(int pc)
{
    return pc_names[((pc % 12) + 12) % 12];
}

void sm__gen_note_name(int midi, char *buf, size_t size)
{
    int octave = (midi >= 0 ? midi / 12 : (midi - 11) / 12) - 1;
    snprintf(buf, size, "%s%d", sm__gen_pc_name(midi), octave);
}

void sm__gen_key_name(int tonic, int minor, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s", sm__gen_pc_name(tonic), minor ? "minor" : "major");
}

const char *sm__gen_cat_name(int cat)
{
    if (cat < 0 || cat >= GEN_NCAT) {
        return "";
    }
    return cat_names[cat];
}

const char *sm__gen_pattern_name(int pattern)
{
    if (pattern < 0 || pattern >= GEN_NPAT) {
        return "";
    }
    return pattern_names[pattern];
}

size_t sm__gen_bar_frames(double bpm, int bars, int rate)
{
    double f = (double)bars * 4.0 * 60.0 * (double)rate / bpm;
    return (size_t)(f + 0.5);
}

/* Add ext onto a, wrapping every frame past a's end back to its start. */
static void fold_into(struct gen_audio *a, const struct gen_audio *ext)
{
    size_t start;
    int c;
    if (a->frames == 0) {
        return;
    }
    for (start = 0; start < ext->frames; start += a->frames) {
        size_t m = ext->frames - start < a->frames ? ext->frames - start : a->frames;
        for (c = 0; c < a->channels; c++) {
            float *dst = a->ch[c];
            const float *src = ext->ch[c] + start;
            size_t i;
            for (i = 0; i < m; i++) {
                dst[i] += src[i];
            }
        }
    }
}

/* ---- Drum loops ----------------------------------------------------------- */


struct hit {
    double at;
    int part;
    float vel;
    size_t len;
    int choke;
};

#define GEN_MAXHITS 1024

struct loop_ctx {
    struct hit hits[GEN_MAXHITS];
    int nhits;
};

static void add_hit(struct loop_ctx *c, double at, int part, float vel)
{
    if (c->nhits < GEN_MAXHITS && vel > 0.0f) {
        c->hits[c->nhits].at = at;
        c->hits[c->nhits].part = part;
        c->hits[c->nhits].vel = vel;
        c->nhits++;
    }
}

/* Fill one bar of hits; step is a 16th in seconds, t0 the bar start. */
static void pattern_bar(struct loop_ctx *c, int pattern, double t0, double step, float swing,
                        int last_bar, int use_clap, int hat16, struct gen_rng *rng)
{
    int s;
    int back = use_clap ? KIT_CLAP : KIT_SNARE;
    for (s = 0; s < 16; s++) {
        double at = t0 + step * s;
        float hum = gen_rng_range(rng, 0.85f, 1.0f);
        if (s % 4 == 2) {
            at += step * (double)swing;
        }
        switch (pattern) {
            case GEN_PAT_FOUR:
                if (s % 4 == 0) {
                    add_hit(c, at, KIT_KICK, 1.0f);
                }
                if (s == 4 || s == 12) {
                    add_hit(c, at, back, 0.9f * hum);
                }
                if (s % 4 == 2) {
                    add_hit(c, at, hat16 == 2 ? KIT_OPEN : KIT_HAT, 0.8f * hum);
                } else if (hat16 && s % 2 == 1) {
                    add_hit(c, at, KIT_HAT, 0.45f * hum);
                } else if (hat16 == 1 && s % 4 == 0) {
                    add_hit(c, at, KIT_HAT, 0.5f * hum);
                }
                if ((s == 3 || s == 11 || s == 14) && gen_rng_chance(rng, 0.3f)) {
                    add_hit(c, at, KIT_PERC, 0.6f * hum);
                }
                break;
            case GEN_PAT_BREAK:
                if (s == 0 || s == 10 || (s == 2 && gen_rng_chance(rng, 0.6f)) ||
                    (s == 11 && gen_rng_chance(rng, 0.4f))) {
                    add_hit(c, at, KIT_KICK, s == 0 ? 1.0f : 0.85f * hum);
                }
                if (s == 4 || s == 12) {
                    add_hit(c, at, KIT_SNARE, 0.95f * hum);
                } else if ((s == 7 || s == 9 || s == 15) && gen_rng_chance(rng, 0.5f)) {
                    add_hit(c, at, KIT_SNARE, 0.3f * hum);
                }
                if (s % 2 == 0) {
                    add_hit(c, at, s == 14 && gen_rng_chance(rng, 0.3f) ? KIT_OPEN : KIT_HAT,
                            (s % 4 == 0 ? 0.75f : 0.55f) * hum);
                }
                break;
            case GEN_PAT_TRAP:
                if (s == 0 || (s == 3 && gen_rng_chance(rng, 0.5f)) ||
                    (s == 10 && gen_rng_chance(rng, 0.7f)) ||
                    (s == 13 && gen_rng_chance(rng, 0.3f))) {
                    add_hit(c, at, KIT_KICK, 1.0f);
                }
                if (s == 8) {
                    add_hit(c, at, back, 1.0f);
                }
                if (s % 2 == 0 || hat16) {
                    int roll = gen_rng_chance(rng, 0.12f) ? 2 + gen_rng_int(rng, 2) : 1;
                    int k;
                    for (k = 0; k < roll; k++) {
                        add_hit(c, at + step * (double)k / roll, KIT_HAT,
                                (k == 0 ? 0.7f : 0.45f) * hum);
                    }
                }
                if (s == 14 && gen_rng_chance(rng, 0.3f)) {
                    add_hit(c, at, KIT_OPEN, 0.6f);
                }
                break;
            case GEN_PAT_HALF:
                if (s == 0 || (s == 6 && gen_rng_chance(rng, 0.5f)) ||
                    (s == 11 && gen_rng_chance(rng, 0.5f))) {
                    add_hit(c, at, KIT_KICK, 1.0f);
                }
                if (s == 8) {
                    add_hit(c, at, KIT_SNARE, 1.0f);
                    if (use_clap) {
                        add_hit(c, at, KIT_CLAP, 0.6f);
                    }
                }
                if (s % 2 == 0) {
                    add_hit(c, at, KIT_HAT, (s % 4 == 0 ? 0.7f : 0.5f) * hum);
                }
                if (s == 14 && gen_rng_chance(rng, 0.4f)) {
                    add_hit(c, at, KIT_PERC, 0.5f);
                }
                break;
            case GEN_PAT_SHUFFLE:
            default:
                if (s == 0 || s == 8 || (s == 10 && gen_rng_chance(rng, 0.6f))) {
                    add_hit(c, at, KIT_KICK, 1.0f);
                }
                if (s == 4 || s == 12) {
                    add_hit(c, at, KIT_SNARE, 0.95f * hum);
                } else if (s == 14 && gen_rng_chance(rng, 0.4f)) {
                    add_hit(c, at, KIT_SNARE, 0.3f);
                }
                if (s % 2 == 0) {
                    add_hit(c, at, KIT_HAT, (s % 4 == 0 ? 0.75f : 0.5f) * hum);
                }
                break;
        }
    }
    if (last_bar && gen_rng_chance(rng, 0.35f)) {
        /* A fill on the last beat: toms or a snare roll. */
        int tom = gen_rng_chance(rng, 0.5f);
        for (s = 12; s < 16; s++) {
            add_hit(c, t0 + step * s, tom ? KIT_TOM : KIT_SNARE, 0.5f + 0.1f * (float)(s - 12));
        }
    }
}

/* Round-robin renders per kit part: hats and snares alternate between two
 * takes so repeated hits are not bit-identical, as on a sampler. */
#define GEN_TAKES 2

int sm__gen_drum_loop(struct gen_audio *a, int pattern, double bpm, int bars,
                      struct gen_rng *rng)
{
    return sm__gen_drum_loop_kit(a, pattern, bpm, bars, NULL, rng);
}

int sm__gen_drum_loop_kit(struct gen_audio *a, int pattern, double bpm, int bars,
                          const struct gen_kit *ext_kit, struct gen_rng *rng)
{
    struct gen_drum kit[KIT_N];
    float pan[KIT_N];
    float *take[KIT_N][GEN_TAKES];
    size_t take_len[KIT_N];
    int used[KIT_N];
    struct loop_ctx *ctx;
    struct gen_audio ext = GEN_AUDIO_INIT;
    size_t total = a->frames;
    size_t tail = (size_t)a->rate * 2;
    size_t fade = (size_t)a->rate / 500;
    double step = 15.0 / bpm;
    float swing = 0.0f;
    int use_clap = gen_rng_chance(rng, 0.5f);
    int hat16 = gen_rng_int(rng, 3);
    int b;
    int h;
    int k;
    int rc = -1;
    memset(take, 0, sizeof(take));
    memset(used, 0, sizeof(used));
    ctx = sm_malloc(sizeof(*ctx));
    if (!ctx || sm__gen_audio_reserve(&ext, total + tail, a->channels, a->rate)) {
        goto done;
    }
    ctx->nhits = 0;
    for (b = 0; b < KIT_N; b++) {
        static const int cats[KIT_N] = {GEN_KICK,     GEN_SNARE, GEN_CLAP, GEN_HAT_CLOSED,
                                        GEN_HAT_OPEN, GEN_PERC,  GEN_TOM};
        sm__gen_drum_random(&kit[b], cats[b], rng);
        pan[b] = 0.0f;
    }
    if (pattern == GEN_PAT_TRAP) {
        /* Trap kicks are long 808 booms. */
        kit[KIT_KICK].tone_decay = gen_rng_range(rng, 0.2f, 0.45f);
        kit[KIT_KICK].ratio = gen_rng_range(rng, 1.8f, 3.0f);
    } else if (kit[KIT_KICK].tone_decay > 0.3f) {
        kit[KIT_KICK].tone_decay = 0.3f;
    }
    pan[KIT_CLAP] = gen_rng_range(rng, -0.15f, 0.15f);
    pan[KIT_HAT] = gen_rng_range(rng, -0.4f, 0.4f);
    pan[KIT_OPEN] = pan[KIT_HAT];
    pan[KIT_PERC] = gen_rng_range(rng, -0.6f, 0.6f);
    pan[KIT_TOM] = gen_rng_range(rng, -0.3f, 0.3f);
    if (pattern == GEN_PAT_SHUFFLE) {
        swing = gen_rng_range(rng, 0.55f, 0.7f);
    } else if (pattern != GEN_PAT_FOUR && gen_rng_chance(rng, 0.3f)) {
        swing = gen_rng_range(rng, 0.05f, 0.2f);
    }
    for (b = 0; b < bars; b++) {
        pattern_bar(ctx, pattern, step * 16.0 * b, step, swing, bars > 1 && b == bars - 1,
                    use_clap, hat16, rng);
    }
    /* Work out how long each hit sounds: its natural length, or until the
     * next hat hit chokes it, as on a real hi-hat. */
    memset(take_len, 0, sizeof(take_len));
    for (h = 0; h < ctx->nhits; h++) {
        struct hit *ht = &ctx->hits[h];
        int part = ht->part;
        size_t at = (size_t)(ht->at * (double)a->rate + 0.5);
        size_t len = (size_t)(sm__gen_drum_length(&kit[part]) * (float)a->rate);
        int n2;
        if (len > tail) {
            len = tail;
        }
        ht->choke = 0;
        if (part == KIT_HAT || part == KIT_OPEN) {
            for (n2 = 0; n2 < ctx->nhits; n2++) {
                const struct hit *o = &ctx->hits[n2];
                size_t oat = (size_t)(o->at * (double)a->rate + 0.5);
                if ((o->part == KIT_HAT || o->part == KIT_OPEN) && oat > at && oat - at < len) {
                    len = oat - at;
                    ht->choke = 1;
                }
            }
        }
        if (ext_kit && ext_kit->len[part] < len) {
            len = ext_kit->len[part];
        }
        ht->len = len;
        used[part] = 1;
        if (len > take_len[part]) {
            take_len[part] = len;
        }
    }
    /* Render each part that is played once (twice for hats and snares), only
     * as long as its longest hit needs. */
    for (b = 0; b < KIT_N; b++) {
        int takes = b == KIT_HAT || b == KIT_SNARE ? GEN_TAKES : 1;
        if (!used[b] || ext_kit) {
            continue;
        }
        for (k = 0; k < takes; k++) {
            take[b][k] = sm_calloc(take_len[b] > 0 ? take_len[b] : 1, sizeof(float));
            if (!take[b][k]) {
                goto done;
            }
            sm__gen_drum_render(take[b][k], take_len[b], a->rate, &kit[b], 1.0f, rng);
        }
    }
    for (h = 0; h < ctx->nhits; h++) {
        const struct hit *ht = &ctx->hits[h];
        int part = ht->part;
        size_t at = (size_t)(ht->at * (double)a->rate + 0.5);
        const float *x;
        if (ext_kit) {
            x = ext_kit->take[part];
        } else {
            x = take[part][h % GEN_TAKES] ? take[part][h % GEN_TAKES] : take[part][0];
        }
        if (!x) {
            continue;
        }
        sm__gen_audio_add_panned(&ext, at, x, ht->len, pan[part], ht->vel * ht->vel,
                                 ht->choke ? fade : 0);
    }
    /* Fold everything past the loop end back onto its start, so the loop is
     * seamless and exactly bars long. */
    fold_into(a, &ext);
    rc = 0;
done:
    for (b = 0; b < KIT_N; b++) {
        for (k = 0; k < GEN_TAKES; k++) {
            sm_free(take[b][k]);
        }
    }
    sm__gen_audio_release(&ext);
    sm_free(ctx);
    return rc;
}

/* ---- Harmony ---------------------------------------------------------------- */

static const int major_scale[7] = {0, 2, 4, 5, 7, 9, 11};
static const int minor_scale[7] = {0, 2, 3, 5, 7, 8, 10};

/* Progressions as scale degrees (0-based); 7 + d marks a harmonic-minor
 * (major) chord on degree d. */
static const int major_progs[5][4] = {
    {0, 4, 5, 3}, /* I-V-vi-IV */
    {0, 3, 4, 0}, /* I-IV-V-I */
    {0, 5, 3, 4}, /* I-vi-IV-V */
    {0, 3, 5, 4}, /* I-IV-vi-V */
    {0, 2, 3, 4}, /* I-iii-IV-V */
};
static const int minor_progs[5][4] = {
    {0, 5, 2, 6},  /* i-VI-III-VII */
    {0, 3, 4, 0},  /* i-iv-v-i */
    {0, 3, 11, 0}, /* i-iv-V-i */
    {0, 6, 5, 6},  /* i-VII-VI-VII */
    {0, 5, 3, 11}, /* i-VI-iv-V */
};

struct chord {
    int pcs[3];
    int root;
};

static void make_chord(struct chord *ch, int tonic, int minor, int deg)
{
    const int *sc = minor ? minor_scale : major_scale;
    int harm = deg >= 7;
    int d = deg % 7;
    int k;
    for (k = 0; k < 3; k++) {
        int idx = d + 2 * k;
        int pc = sc[idx % 7] + 12 * (idx / 7);
        ch->pcs[k] = tonic + pc;
    }
    if (harm) {
        /* Raise the third: the leading tone of harmonic minor. */
        ch->pcs[1] += 1;
    }
    ch->root = ch->pcs[0] % 12;
}

/* Voice the triad (3 notes) closest to prev (3 notes), within 52..76. */
static void voice_chord(const struct chord *ch, const int *prev, int *out)
{
    int best = 1 << 30;
    int inv;
    int oct;
    for (inv = 0; inv < 3; inv++) {
        for (oct = 3; oct <= 6; oct++) {
            int v[3];
            int k;
            int cost = 0;
            for (k = 0; k < 3; k++) {
                v[k] = ch->pcs[(inv + k) % 3] % 12 + 12 * oct;
                if (k > 0) {
                    while (v[k] <= v[k - 1]) {
                        v[k] += 12;
                    }
                }
            }
            if (v[0] < 52 || v[2] > 76) {
                continue;
            }
            for (k = 0; k < 3; k++) {
                cost += v[k] > prev[k] ? v[k] - prev[k] : prev[k] - v[k];
            }
            if (cost < best) {
                best = cost;
                memcpy(out, v, sizeof(v));
            }
        }
    }
}

static int bass_note(int pc)
{
    return 36 + ((pc % 12) + 12) % 12;
}

struct prog {
    struct chord ch[4];
    int voice[4][3];
};

static void plan_progression(struct prog *p, int tonic, int minor, struct gen_rng *rng)
{
    const int *degs = minor ? minor_progs[gen_rng_int(rng, 5)] : major_progs[gen_rng_int(rng, 5)];
    int prev[3] = {60, 64, 67};
    int k;
    for (k = 0; k < 4; k++) {
        make_chord(&p->ch[k], tonic, minor, degs[k]);
        voice_chord(&p->ch[k], prev, p->voice[k]);
        memcpy(prev, p->voice[k], sizeof(prev));
    }
}

/* Render into an extended buffer, then fold the tail onto the start. */
struct render_buf {
    struct gen_audio ext;
    size_t total;
};

static int rb_open(struct render_buf *rb, const struct gen_audio *a)
{
    struct gen_audio init = GEN_AUDIO_INIT;
    rb->ext = init;
    rb->total = a->frames;
    return sm__gen_audio_reserve(&rb->ext, a->frames + (size_t)a->rate * 4, a->channels, a->rate);
}

static void rb_note(struct render_buf *rb, double at, const struct gen_timbre *t, int midi,
                    double gate, float amp, struct gen_rng *rng)
{
    size_t pos = (size_t)(at * (double)rb->ext.rate + 0.5);
    if (pos >= rb->ext.frames) {
        return;
    }
    sm__gen_note_render(rb->ext.ch[0] + pos, rb->ext.channels > 1 ? rb->ext.ch[1] + pos : NULL,
                        rb->ext.frames - pos, rb->ext.rate, t, sm__gen_midi_hz((float)midi),
                        (float)gate, amp, rng);
}

static void rb_close(struct render_buf *rb, struct gen_audio *a)
{
    fold_into(a, &rb->ext);
    sm__gen_audio_release(&rb->ext);
}

/* Strum the chord on a guitar: a bass string then the triad, staggered. */
static void strum(struct render_buf *rb, double at, const struct gen_timbre *t,
                  const struct prog *p, int k, int up, double gate, float amp,
                  struct gen_rng *rng)
{
    int notes[5];
    int j;
    double gap = (double)gen_rng_range(rng, 0.006f, 0.016f);
    notes[0] = bass_note(p->ch[k].root) + 12 * (bass_note(p->ch[k].root) < 40);
    notes[1] = notes[0] + 7;
    notes[2] = p->voice[k][0];
    notes[3] = p->voice[k][1];
    notes[4] = p->voice[k][2];
    for (j = 0; j < 5; j++) {
        int n = up ? 4 - j : j;
        if (up && n < 2) {
            continue;
        }
        rb_note(rb, at + gap * j, t, notes[n], gate, amp * (up ? 0.7f : 1.0f), rng);
    }
}

static const int keys_rhythms[4][5] = {
    {0, 3, 6, -1, -1},
    {0, 2, 4, 6, -1},
    {0, 4, -1, -1, -1},
    {0, 3, 4, 6, -1},
};
static const int strum_pattern[8] = {1, 0, 1, 2, 0, 2, 1, 2};

int sm__gen_progression(struct gen_audio *a, int tonic, int minor, int cat, double bpm,
                        int bars, struct gen_rng *rng)
{
    struct prog p;
    struct gen_timbre t;
    struct render_buf rb;
    double bar = 240.0 / bpm;
    double e8 = bar / 8.0;
    int rhythm = gen_rng_int(rng, 4);
    int arp = gen_rng_int(rng, 3);
    int b;
    int j;
    plan_progression(&p, tonic, minor, rng);
    sm__gen_timbre_random(&t, cat, cat == GEN_SYNTH ? 1 : -1, rng);
    if (rb_open(&rb, a)) {
        sm__gen_audio_release(&rb.ext);
        return -1;
    }
    for (b = 0; b < bars; b++) {
        int k = b % 4;
        double t0 = bar * b;
        switch (cat) {
            case GEN_KEYS:
                for (j = 0; j < 5 && keys_rhythms[rhythm][j] >= 0; j++) {
                    int s = keys_rhythms[rhythm][j];
                    int next = j + 1 < 5 && keys_rhythms[rhythm][j + 1] >= 0
                                   ? keys_rhythms[rhythm][j + 1]
                                   : 8;
                    int v;
                    for (v = 0; v < 3; v++) {
                        rb_note(&rb, t0 + e8 * s, &t, p.voice[k][v], e8 * (next - s) * 0.9,
                                0.22f, rng);
                    }
                    if (s == 0 || s == 4) {
                        rb_note(&rb, t0 + e8 * s, &t, bass_note(p.ch[k].root), e8 * 3.5, 0.3f,
                                rng);
                    }
                }
                break;
            case GEN_SYNTH:
                for (j = 0; j < 16; j++) {
                    static const int up[8] = {0, 1, 2, 3, 4, 5, 4, 3};
                    int idx = arp == 0 ? j % 6 : (arp == 1 ? 5 - j % 6 : up[j % 8]);
                    int note = p.voice[k][idx % 3] + 12 * (idx / 3);
                    rb_note(&rb, t0 + e8 * 0.5 * j, &t, note, e8 * 0.4, 0.3f, rng);
                }
                rb_note(&rb, t0, &t, bass_note(p.ch[k].root), bar * 0.9, 0.3f, rng);
                break;
            case GEN_GUITAR:
                for (j = 0; j < 8; j++) {
                    if (strum_pattern[j] > 0) {
                        strum(&rb, t0 + e8 * j, &t, &p, k, strum_pattern[j] == 2, e8 * 1.8,
                              0.2f, rng);
                    }
                }
                break;
            default:
                /* Pads and strings hold the chord for the bar, over a bass root. */
                for (j = 0; j < 3; j++) {
                    rb_note(&rb, t0, &t, p.voice[k][j], bar * 0.97, 0.2f, rng);
                }
                rb_note(&rb, t0, &t, bass_note(p.ch[k].root) + (cat == GEN_PAD ? 12 : 0),
                        bar * 0.97, 0.2f, rng);
                break;
        }
    }
    rb_close(&rb, a);
    return 0;
}

/* Melody rhythms in eighths, each summing to one bar. */
static const int mel_rhythms[6][6] = {
    {2, 2, 2, 2, 0, 0}, {3, 3, 2, 0, 0, 0}, {1, 1, 2, 2, 2, 0},
    {4, 2, 2, 0, 0, 0}, {2, 1, 1, 4, 0, 0}, {3, 1, 2, 2, 0, 0},
};

/* Nearest chord tone to midi. */
static int nearest_chord_tone(const struct chord *ch, int midi)
{
    int best = midi;
    int bd = 100;
    int k;
    int o;
    for (k = 0; k < 3; k++) {
        for (o = -1; o <= 1; o++) {
            int cand = ch->pcs[k] % 12 + 12 * (midi / 12 + o);
            int d = cand > midi ? cand - midi : midi - cand;
            if (d < bd) {
                bd = d;
                best = cand;
            }
        }
    }
    return best;
}

/* Move n scale steps from midi (which is in the scale). */
static int scale_step(int tonic, int minor, int midi, int n)
{
    const int *sc = minor ? minor_scale : major_scale;
    int dir = n > 0 ? 1 : -1;
    while (n != 0) {
        int k;
        int in = 0;
        midi += dir;
        for (k = 0; k < 7; k++) {
            if ((midi - tonic - sc[k]) % 12 == 0) {
                in = 1;
            }
        }
        if (in) {
            n -= dir;
        }
    }
    return midi;
}

int sm__gen_melody(struct gen_audio *a, int tonic, int minor, int cat, double bpm, int bars,
                   struct gen_rng *rng)
{
    struct prog p;
    struct gen_timbre t;
    struct render_buf rb;
    double bar = 240.0 / bpm;
    double e8 = bar / 8.0;
    int lo = cat == GEN_VOCAL ? 57 : 62;
    int hi = cat == GEN_VOCAL ? 76 : 84;
    int cur = tonic % 12 + 72;
    int b;
    int j;
    int percussive = cat == GEN_KEYS || cat == GEN_GUITAR || cat == GEN_SYNTH;
    plan_progression(&p, tonic, minor, rng);
    sm__gen_timbre_random(&t, cat, -1, rng);
    if (rb_open(&rb, a)) {
        sm__gen_audio_release(&rb.ext);
        return -1;
    }
    while (cur > hi) {
        cur -= 12;
    }
    while (cur < lo) {
        cur += 12;
    }
    for (b = 0; b < bars; b++) {
        int k = b % 4;
        const int *rh = mel_rhythms[gen_rng_int(rng, 6)];
        int pos = 0;
        double t0 = bar * b;
        int v;
        /* Soft accompaniment on the same instrument. */
        for (v = 0; v < 3; v++) {
            int note = p.voice[k][v] - 12 * (p.voice[k][v] > 64);
            rb_note(&rb, t0, &t, note, percussive ? bar * 0.45 : bar * 0.97, 0.1f, rng);
            if (percussive) {
                rb_note(&rb, t0 + bar * 0.5, &t, note, bar * 0.45, 0.08f, rng);
            }
        }
        rb_note(&rb, t0, &t, bass_note(p.ch[k].root) + 12, bar * 0.9, 0.12f, rng);
        for (j = 0; j < 6 && rh[j] > 0; j++) {
            int last = b == bars - 1 && (j + 1 >= 6 || rh[j + 1] == 0);
            if (last) {
                /* End on the tonic. */
                cur = nearest_chord_tone(&p.ch[0], cur);
                cur = tonic % 12 + 12 * (cur / 12);
                if (cur < lo) {
                    cur += 12;
                }
            } else if (pos == 0 || pos == 4) {
                cur = nearest_chord_tone(&p.ch[k], cur);
            } else {
                int stepn = gen_rng_int(rng, 5) - 2;
                if (stepn == 0) {
                    stepn = 1;
                }
                cur = scale_step(tonic % 12, minor, cur, stepn);
            }
            while (cur > hi) {
                cur -= 12;
            }
            while (cur < lo) {
                cur += 12;
            }
            rb_note(&rb, t0 + e8 * pos, &t, cur, e8 * rh[j] * 0.85, 0.35f, rng);
            pos += rh[j];
        }
    }
    rb_close(&rb, a);
    return 0;
}

/* ---- One-shots ---------------------------------------------------------- */

float sm__gen_oneshot_seconds(int cat, struct gen_rng *rng)
{
    static const float lo[GEN_NCAT] = {0.4f, 0.3f, 0.3f, 0.12f, 0.5f, 2.0f, 0.5f, 0.2f, 0.8f,
                                       0.8f, 2.5f, 1.5f, 1.5f,  2.0f, 1.0f, 1.0f, 1.0f};
    static const float hi[GEN_NCAT] = {1.2f, 0.8f, 0.7f, 0.3f, 1.5f, 4.0f, 1.5f, 0.8f, 2.0f,
                                       2.5f, 5.0f, 3.0f, 3.0f, 4.0f, 2.5f, 2.5f, 4.0f};
    if (cat < 0 || cat >= GEN_NCAT) {
        return 1.0f;
    }
    return gen_rng_range(rng, lo[cat], hi[cat]);
}

void sm__gen_oneshot(struct gen_audio *a, int cat, int midi, int minor, struct gen_rng *rng)
{
    float *l = a->ch[0];
    float *r = a->channels > 1 ? a->ch[1] : NULL;
    size_t n = a->frames;
    float dur = (float)n / (float)a->rate;
    if (cat <= GEN_PERC) {
        struct gen_drum d;
        sm__gen_drum_random(&d, cat, rng);
        if (r && (cat == GEN_CLAP || cat == GEN_HAT_CLOSED || cat == GEN_HAT_OPEN ||
                  cat == GEN_CYMBAL || cat == GEN_PERC)) {
            /* Noisy sounds: each side gets its own noise, which is a wide image. */
            struct gen_rng r2 = *rng;
            r2.s = sm__gen_hash(r2.s, 7);
            sm__gen_drum_render(l, n, a->rate, &d, 0.8f, rng);
            sm__gen_drum_render(r, n, a->rate, &d, 0.8f, &r2);
        } else {
            sm__gen_drum_render(l, n, a->rate, &d, 0.8f, rng);
            if (r) {
                memcpy(r, l, n * sizeof(float));
            }
        }
    } else if (cat == GEN_FX) {
        sm__gen_fx_render(l, r, n, a->rate, -1, 0.8f, rng);
    } else {
        struct gen_timbre t;
        float gate;
        sm__gen_timbre_random(&t, cat, -1, rng);
        gate = dur - sm__gen_timbre_tail(&t);
        if (gate < dur * 0.5f) {
            gate = dur * 0.5f;
        }
        if (cat == GEN_PAD) {
            int third = minor ? 3 : 4;
            sm__gen_note_render(l, r, n, a->rate, &t, sm__gen_midi_hz((float)midi), gate, 0.3f,
                                rng);
            sm__gen_note_render(l, r, n, a->rate, &t, sm__gen_midi_hz((float)(midi + third)),
                                gate, 0.3f, rng);
            sm__gen_note_render(l, r, n, a->rate, &t, sm__gen_midi_hz((float)(midi + 7)), gate,
                                0.3f, rng);
            sm__gen_note_render(l, r, n, a->rate, &t, sm__gen_midi_hz((float)(midi + 12)), gate,
                                0.2f, rng);
        } else {
            sm__gen_note_render(l, r, n, a->rate, &t, sm__gen_midi_hz((float)midi), gate, 0.6f,
                                rng);
        }
    }
    sm__gen_audio_fade_out(a, (size_t)(0.005f * (float)a->rate));
}
