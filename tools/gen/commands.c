/* The sm-gen commands: demo, labelled, library, long, tone and clicks. */
#include "gen.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <samplemind/alloc.h>

#define GEN_PATH_MAX 1024

/* ---- Argument parsing --------------------------------------------------- */

enum opt_kind {
    OPT_DOUBLE,
    OPT_INT,
    OPT_U64,
    OPT_STR,
    OPT_FLAG
};

struct opt {
    const char *name;
    enum opt_kind kind;
    void *dst;
};

static int parse_value(const char *cmd, const struct opt *o, const char *v)
{
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
        case OPT_DOUBLE: {
            double d = strtod(v, &end);
            if (errno || end == v || *end || !isfinite(d)) {
                break;
            }
            *(double *)o->dst = d;
            return 0;
        }
        case OPT_INT: {
            long l = strtol(v, &end, 10);
            if (errno || end == v || *end || l < -1000000000L || l > 1000000000L) {
                break;
            }
            *(int *)o->dst = (int)l;
            return 0;
        }
        case OPT_U64: {
            unsigned long long u;
            if (v[0] == '-') {
                break;
            }
            u = strtoull(v, &end, 0);
            if (errno || end == v || *end) {
                break;
            }
            *(uint64_t *)o->dst = (uint64_t)u;
            return 0;
        }
        case OPT_STR:
            *(const char **)o->dst = v;
            return 0;
        default:
            break;
    }
    fprintf(stderr, "sm-gen %s: bad value '%s' for --%s\n", cmd, v, o->name);
    return -1;
}

/* Split argv (after the command name) into npos positional arguments and
 * --name value / --name=value options. Returns 0 or -1 (message printed). */
static int parse_args(const char *cmd, int argc, char **argv, const char **pos, int npos,
                      const struct opt *opts, int nopt)
{
    int got = 0;
    int i;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            int k;
            int found = 0;
            for (k = 0; k < nopt; k++) {
                if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0) {
                    found = 1;
                    break;
                }
            }
            if (!found) {
                fprintf(stderr, "sm-gen %s: unknown option %s\n", cmd, a);
                return -1;
            }
            if (opts[k].kind == OPT_FLAG) {
                if (eq) {
                    fprintf(stderr, "sm-gen %s: --%s takes no value\n", cmd, opts[k].name);
                    return -1;
                }
                *(int *)opts[k].dst = 1;
                continue;
            }
            if (eq) {
                if (parse_value(cmd, &opts[k], eq + 1)) {
                    return -1;
                }
            } else {
                if (i + 1 >= argc) {
                    fprintf(stderr, "sm-gen %s: --%s needs a value\n", cmd, opts[k].name);
                    return -1;
                }
                i++;
                if (parse_value(cmd, &opts[k], argv[i])) {
                    return -1;
                }
            }
        } else {
            if (got >= npos) {
                fprintf(stderr, "sm-gen %s: unexpected argument '%s'\n", cmd, a);
                return -1;
            }
            pos[got++] = a;
        }
    }
    if (got < npos) {
        fprintf(stderr, "sm-gen %s: missing %s\n", cmd, npos == 1 ? "path" : "arguments");
        return -1;
    }
    return 0;
}

static int check_rate(const char *cmd, int rate)
{
    if (rate < 8000 || rate > 192000) {
        fprintf(stderr, "sm-gen %s: --rate %d must be within 8000..192000\n", cmd, rate);
        return -1;
    }
    return 0;
}

static int check_seconds(const char *cmd, double s, double max)
{
    if (!(s > 0.0) || s > max) {
        fprintf(stderr, "sm-gen %s: --seconds %g must be > 0 and <= %g\n", cmd, s, max);
        return -1;
    }
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int join_path(char *out, size_t size, const char *dir, const char *rel)
{
    int n = snprintf(out, size, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "sm-gen: path too long: %s/%s\n", dir, rel);
        return -1;
    }
    return 0;
}

/* ---- Worker pool ------------------------------------------------------------ */

struct pool;
typedef int (*pool_fn)(struct pool *p, size_t idx, struct gen_audio *buf);

struct pool {
    pthread_mutex_t lock;
    size_t next;
    size_t n;
    int failed;
    pool_fn fn;
    void *ctx;
};

static void *pool_worker(void *arg)
{
    struct pool *p = arg;
    struct gen_audio buf = GEN_AUDIO_INIT;
    sm__gen_flush_denormals();
    for (;;) {
        size_t idx;
        int stop;
        pthread_mutex_lock(&p->lock);
        idx = p->next++;
        stop = p->failed || idx >= p->n;
        pthread_mutex_unlock(&p->lock);
        if (stop) {
            break;
        }
        if (p->fn(p, idx, &buf)) {
            pthread_mutex_lock(&p->lock);
            p->failed = 1;
            pthread_mutex_unlock(&p->lock);
            break;
        }
    }
    sm__gen_audio_release(&buf);
    return NULL;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) {
        return 1;
    }
    return n > 16 ? 16 : (int)n;
}

/* Run fn for every index on nthreads threads. 0, or -1 when a job failed. */
static int pool_run(pool_fn fn, void *ctx, size_t n, int nthreads)
{
    struct pool p;
    pthread_t th[16];
    int started = 0;
    int k;
    if (nthreads < 1) {
        nthreads = 1;
    }
    if (nthreads > 16) {
        nthreads = 16;
    }
    pthread_mutex_init(&p.lock, NULL);
    p.next = 0;
    p.n = n;
    p.failed = 0;
    p.fn = fn;
    p.ctx = ctx;
    for (k = 1; k < nthreads; k++) {
        if (pthread_create(&th[k], NULL, pool_worker, &p) != 0) {
            break;
        }
        started++;
    }
    pool_worker(&p);
    for (k = 1; k <= started; k++) {
        pthread_join(th[k], NULL);
    }
    pthread_mutex_destroy(&p.lock);
    return p.failed ? -1 : 0;
}

/* ---- Shared finishing ------------------------------------------------------ */

struct finish {
    float level_db;
    float noise_db;
    float reverb;
};

static int finish_audio(struct gen_audio *a, const struct finish *f, struct gen_rng *rng)
{
    if (f->reverb > 0.0f) {
        if (sm__gen_audio_reverb(a, f->reverb, gen_rng_unit(rng), gen_rng_unit(rng))) {
            return -1;
        }
    }
    sm__gen_audio_normalize(a, f->level_db);
    if (f->noise_db > -200.0f) {
        sm__gen_audio_add_noise(a, f->noise_db, rng);
    }
    return 0;
}

/* ---- demo ------------------------------------------------------------------ */

static int demo_write(const char *dir, const char *name, struct gen_audio *a, int fmt)
{
    char path[GEN_PATH_MAX];
    if (join_path(path, sizeof(path), dir, name)) {
        return -1;
    }
    return sm__gen_write(path, a, fmt);
}

int sm__gen_cmd_demo(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t seed = 1;
    struct opt opts[] = {{"seed", OPT_U64, &seed}};
    struct gen_audio a = GEN_AUDIO_INIT;
    struct gen_rng rng;
    struct gen_drum d;
    struct gen_timbre t;
    const int rate = 44100;
    int rc = GEN_EXIT_IO;
    if (parse_args("demo", argc, argv, &dir, 1, opts, 1)) {
        return GEN_EXIT_USAGE;
    }
    if (sm__gen_mkdirs(dir)) {
        return GEN_EXIT_IO;
    }
    /* Kick: a punchy pitch-swept sine with a click. */
    sm__gen_rng_seed(&rng, seed, 1);
    sm__gen_drum_random(&d, GEN_KICK, &rng);
    d.variant = 0;
    d.pitch = 50.0f;
    d.ratio = 5.0f;
    d.tone_decay = 0.12f;
    d.drive = 0.15f;
    if (sm__gen_audio_reserve(&a, (size_t)(0.8 * rate), 1, rate)) {
        goto fail;
    }
    sm__gen_drum_render(a.ch[0], a.frames, rate, &d, 1.0f, &rng);
    sm__gen_audio_normalize(&a, -1.0f);
    if (demo_write(dir, "kick.wav", &a, GEN_WAV16)) {
        goto fail;
    }
    /* Snare. */
    sm__gen_rng_seed(&rng, seed, 2);
    sm__gen_drum_random(&d, GEN_SNARE, &rng);
    d.variant = 0;
    d.pitch = 190.0f;
    d.decay = 0.12f;
    if (sm__gen_audio_reserve(&a, (size_t)(0.6 * rate), 1, rate)) {
        goto fail;
    }
    sm__gen_drum_render(a.ch[0], a.frames, rate, &d, 1.0f, &rng);
    sm__gen_audio_normalize(&a, -1.0f);
    if (demo_write(dir, "snare.wav", &a, GEN_WAV16)) {
        goto fail;
    }
    /* Closed hi-hat. */
    sm__gen_rng_seed(&rng, seed, 3);
    sm__gen_drum_random(&d, GEN_HAT_CLOSED, &rng);
    d.decay = 0.03f;
    if (sm__gen_audio_reserve(&a, (size_t)(0.3 * rate), 1, rate)) {
        goto fail;
    }
    sm__gen_drum_render(a.ch[0], a.frames, rate, &d, 1.0f, &rng);
    sm__gen_audio_normalize(&a, -3.0f);
    if (demo_write(dir, "hihat.wav", &a, GEN_WAV16)) {
        goto fail;
    }
    /* Bass A1 (55 Hz): saws through a low-pass with a filter envelope. */
    sm__gen_rng_seed(&rng, seed, 4);
    sm__gen_timbre_random(&t, GEN_BASS, 0, &rng);
    if (sm__gen_audio_reserve(&a, (size_t)(2.0 * rate), 1, rate)) {
        goto fail;
    }
    sm__gen_note_render(a.ch[0], NULL, a.frames, rate, &t, 55.0f, 1.5f, 0.8f, &rng);
    sm__gen_audio_fade_out(&a, rate / 200);
    sm__gen_audio_normalize(&a, -1.0f);
    if (demo_write(dir, "bass_A1.wav", &a, GEN_WAV24)) {
        goto fail;
    }
    /* C major pad: C3 C4 E4 G4, slow attack, stereo, a touch of reverb. */
    sm__gen_rng_seed(&rng, seed, 5);
    sm__gen_timbre_random(&t, GEN_PAD, -1, &rng);
    t.attack = 0.6f;
    t.release = 0.4f;
    if (sm__gen_audio_reserve(&a, (size_t)(4.0 * rate), 2, rate)) {
        goto fail;
    }
    {
        static const int chord[4] = {48, 60, 64, 67};
        int k;
        for (k = 0; k < 4; k++) {
            sm__gen_note_render(a.ch[0], a.ch[1], a.frames, rate, &t,
                                sm__gen_midi_hz((float)chord[k]), 3.0f, 0.25f, &rng);
        }
    }
    if (sm__gen_audio_reverb(&a, 0.2f, 0.6f, 0.5f)) {
        goto fail;
    }
    sm__gen_audio_fade_out(&a, rate / 20);
    sm__gen_audio_normalize(&a, -1.0f);
    if (demo_write(dir, "pad_Cmaj.wav", &a, GEN_WAV24)) {
        goto fail;
    }
    /* Two bars of four-on-the-floor at 120 BPM: exactly 4.0 s. */
    sm__gen_rng_seed(&rng, seed, 6);
    if (sm__gen_audio_reserve(&a, sm__gen_bar_frames(120.0, 2, rate), 2, rate) ||
        sm__gen_drum_loop(&a, GEN_PAT_FOUR, 120.0, 2, &rng)) {
        goto fail;
    }
    sm__gen_audio_normalize(&a, -1.0f);
    if (demo_write(dir, "drum_loop_120bpm.wav", &a, GEN_WAV24)) {
        goto fail;
    }
    printf("demo: wrote 6 files to %s\n", dir);
    rc = GEN_EXIT_OK;
fail:
    if (rc != GEN_EXIT_OK) {
        fprintf(stderr, "sm-gen demo: failed\n");
    }
    sm__gen_audio_release(&a);
    return rc;
}

/* ---- labelled --------------------------------------------------------------- */

enum item_kind {
    ITEM_LOOP,
    ITEM_PROG,
    ITEM_MELODY,
    ITEM_NOTE,
    ITEM_ONESHOT
};

struct item {
    int kind;
    int cat;
    int midi;
    int tonic;
    int minor;
    int pattern;
    int bars;
    double bpm;
    char rel[64];
    char ext_rel[80];
};

struct labelled_ctx {
    const char *dir;
    uint64_t seed;
    struct item *items;
    size_t n;
};

static int pick_cat(struct gen_rng *rng, const int *cats, int n)
{
    return cats[gen_rng_int(rng, n)];
}

/* A category that can plausibly play midi. */
static int note_cat(int midi, struct gen_rng *rng)
{
    static const int low[] = {GEN_BASS};
    static const int lowmid[] = {GEN_BASS, GEN_KEYS, GEN_STRINGS, GEN_GUITAR, GEN_BRASS};
    static const int mid[] = {GEN_KEYS, GEN_GUITAR, GEN_STRINGS, GEN_BRASS, GEN_VOCAL, GEN_SYNTH};
    static const int high[] = {GEN_KEYS, GEN_SYNTH, GEN_STRINGS, GEN_VOCAL};
    static const int top[] = {GEN_SYNTH, GEN_KEYS};
    if (midi < 36) {
        return pick_cat(rng, low, 1);
    }
    if (midi < 48) {
        return pick_cat(rng, lowmid, midi < 40 ? 3 : 5);
    }
    if (midi < 72) {
        return pick_cat(rng, mid, 6);
    }
    if (midi <= 79) {
        return pick_cat(rng, high, 4);
    }
    return pick_cat(rng, top, 2);
}

/* MIDI range of pitched one-shots per category. */
static void cat_range(int cat, int *lo, int *hi)
{
    *lo = -1;
    *hi = -1;
    switch (cat) {
        case GEN_BASS:
            *lo = 16;
            *hi = 52;
            break;
        case GEN_SYNTH:
            *lo = 48;
            *hi = 96;
            break;
        case GEN_PAD:
            *lo = 48;
            *hi = 64;
            break;
        case GEN_KEYS:
            *lo = 36;
            *hi = 96;
            break;
        case GEN_GUITAR:
            *lo = 40;
            *hi = 84;
            break;
        case GEN_STRINGS:
            *lo = 36;
            *hi = 88;
            break;
        case GEN_BRASS:
            *lo = 40;
            *hi = 80;
            break;
        case GEN_VOCAL:
            *lo = 45;
            *hi = 79;
            break;
        default:
            break;
    }
}

static int choose_format(struct gen_rng *rng)
{
    float u = gen_rng_unit(rng);
    if (u < 0.45f) {
        return GEN_WAV16;
    }
    if (u < 0.75f) {
        return GEN_WAV24;
    }
    if (u < 0.85f) {
        return GEN_FLAC;
    }
    if (u < 0.93f) {
        return GEN_AIFF;
    }
    return GEN_OGG;
}

static int labelled_job(struct pool *p, size_t idx, struct gen_audio *a)
{
    struct labelled_ctx *ctx = p->ctx;
    struct item *it = &ctx->items[idx];
    struct gen_rng rng;
    struct finish fin;
    char path[GEN_PATH_MAX];
    int rate;
    int channels;
    int fmt;
    double seconds = 0.0;
    size_t frames;
    sm__gen_rng_seed(&rng, ctx->seed, 1000 + idx);
    rate = gen_rng_chance(&rng, 0.2f) ? 48000 : 44100;
    fmt = choose_format(&rng);
    if (it->kind == ITEM_ONESHOT && it->cat <= GEN_PERC) {
        channels = gen_rng_chance(&rng, 0.4f) ? 2 : 1;
    } else if (it->cat == GEN_BASS) {
        channels = gen_rng_chance(&rng, 0.5f) ? 2 : 1;
    } else {
        channels = gen_rng_chance(&rng, 0.85f) ? 2 : 1;
    }
    fin.level_db = gen_rng_range(&rng, -30.0f, fmt == GEN_OGG ? -1.0f : -0.1f);
    fin.noise_db = gen_rng_chance(&rng, 0.6f) ? fin.level_db - gen_rng_range(&rng, 50.0f, 70.0f)
                                              : -300.0f;
    fin.reverb = gen_rng_chance(&rng, 0.25f) ? gen_rng_range(&rng, 0.08f, 0.3f) : 0.0f;
    snprintf(it->ext_rel, sizeof(it->ext_rel), "%s.%s", it->rel, sm__gen_fmt_ext(fmt));
    if (join_path(path, sizeof(path), ctx->dir, it->ext_rel)) {
        return -1;
    }
    switch (it->kind) {
        case ITEM_LOOP:
        case ITEM_PROG:
        case ITEM_MELODY:
            frames = sm__gen_bar_frames(it->bpm, it->bars, rate);
            if (sm__gen_audio_reserve(a, frames, channels, rate)) {
                return -1;
            }
            if (it->kind == ITEM_LOOP) {
                if (sm__gen_drum_loop(a, it->pattern, it->bpm, it->bars, &rng)) {
                    return -1;
                }
            } else if (it->kind == ITEM_PROG) {
                if (sm__gen_progression(a, it->tonic, it->minor, it->cat, it->bpm, it->bars,
                                        &rng)) {
                    return -1;
                }
            } else if (sm__gen_melody(a, it->tonic, it->minor, it->cat, it->bpm, it->bars,
                                      &rng)) {
                return -1;
            }
            break;
        default:
            seconds = it->kind == ITEM_NOTE ? gen_rng_range(&rng, 1.5f, 3.0f)
                                            : sm__gen_oneshot_seconds(it->cat, &rng);
            if (fin.reverb > 0.0f) {
                seconds += 0.5;
            }
            frames = (size_t)(seconds * rate);
            if (sm__gen_audio_reserve(a, frames, channels, rate)) {
                return -1;
            }
            sm__gen_oneshot(a, it->cat, it->midi, it->minor, &rng);
            break;
    }
    if (finish_audio(a, &fin, &rng)) {
        return -1;
    }
    return sm__gen_write(path, a, fmt);
}

static void format_bpm(char *buf, size_t size, double bpm)
{
    if (!(bpm > 0.0)) {
        buf[0] = '\0';
    } else if (fabs(bpm - floor(bpm + 0.5)) < 1e-9) {
        snprintf(buf, size, "%.0f", bpm);
    } else {
        snprintf(buf, size, "%.2f", bpm);
    }
}

static int write_labels(const char *dir, const struct item *items, size_t n)
{
    char path[GEN_PATH_MAX];
    FILE *f;
    size_t i;
    if (join_path(path, sizeof(path), dir, "labels.tsv")) {
        return -1;
    }
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "sm-gen: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "path\tbpm\tkey\tcategory\tnote\n");
    for (i = 0; i < n; i++) {
        const struct item *it = &items[i];
        char bpm[32];
        char key[32] = "";
        char note[16] = "";
        const char *cat = "";
        format_bpm(bpm, sizeof(bpm), it->kind == ITEM_NOTE || it->kind == ITEM_ONESHOT ? 0.0
                                                                                       : it->bpm);
        if (it->kind == ITEM_PROG || it->kind == ITEM_MELODY ||
            (it->kind == ITEM_ONESHOT && it->cat == GEN_PAD)) {
            sm__gen_key_name(it->tonic, it->minor, key, sizeof(key));
        }
        /* A drum loop is percussion: the category names the instrument, the
         * loop flag the shape. */
        cat = it->kind == ITEM_LOOP ? "percussion" : sm__gen_cat_name(it->cat);
        if (it->midi >= 0 && it->cat != GEN_PAD) {
            sm__gen_note_name(it->midi, note, sizeof(note));
        }
        fprintf(f, "%s\t%s\t%s\t%s\t%s\n", it->ext_rel, bpm, key, cat, note);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "sm-gen: cannot finish %s\n", path);
        return -1;
    }
    return 0;
}

int sm__gen_cmd_labelled(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t seed = 1;
    int per_class = 30;
    int n_loops = 60;
    int n_prog = 48;
    int n_notes = 60;
    int threads = default_threads();
    struct opt opts[] = {{"seed", OPT_U64, &seed},          {"per-class", OPT_INT, &per_class},
                         {"loops", OPT_INT, &n_loops},      {"progressions", OPT_INT, &n_prog},
                         {"notes", OPT_INT, &n_notes},      {"threads", OPT_INT, &threads}};
    struct labelled_ctx ctx;
    struct gen_rng plan;
    struct item *items;
    size_t n;
    size_t k = 0;
    size_t n_os;
    int i;
    int c;
    double t0;
    double dt;
    char sub[GEN_PATH_MAX];
    static const char *const subdirs[4] = {"loops", "tonal", "notes", "oneshots"};
    static const int prog_cats[5] = {GEN_PAD, GEN_KEYS, GEN_SYNTH, GEN_STRINGS, GEN_GUITAR};
    static const int mel_cats[6] = {GEN_KEYS,    GEN_SYNTH, GEN_GUITAR,
                                    GEN_STRINGS, GEN_BRASS, GEN_VOCAL};
    if (parse_args("labelled", argc, argv, &dir, 1, opts, 6)) {
        return GEN_EXIT_USAGE;
    }
    if (per_class < 0 || per_class > 10000 || n_loops < 0 || n_loops > 10000 || n_prog < 0 ||
        n_prog > 10000 || n_notes < 0 || n_notes > 10000 || threads < 1 || threads > 16) {
        fprintf(stderr, "sm-gen labelled: counts must be within 0..10000, --threads 1..16\n");
        return GEN_EXIT_USAGE;
    }
    n_os = (size_t)per_class * GEN_NCAT;
    n = (size_t)n_loops + (size_t)n_prog + (size_t)n_notes + n_os;
    items = sm_calloc(n > 0 ? n : 1, sizeof(*items));
    if (!items) {
        fprintf(stderr, "sm-gen labelled: out of memory\n");
        return GEN_EXIT_IO;
    }
    for (i = 0; i < 4; i++) {
        if (join_path(sub, sizeof(sub), dir, subdirs[i]) || sm__gen_mkdirs(sub)) {
            sm_free(items);
            return GEN_EXIT_IO;
        }
    }
    sm__gen_rng_seed(&plan, seed, 0);
    /* Drum loops: BPMs stratified over 60..200, patterns interleaved. */
    for (i = 0; i < n_loops; i++) {
        struct item *it = &items[k++];
        float u = gen_rng_unit(&plan);
        float b = gen_rng_unit(&plan);
        it->kind = ITEM_LOOP;
        it->cat = -1;
        it->midi = -1;
        it->bpm = floor(60.0 + ((double)i + (double)u) * 140.0 / (double)n_loops + 0.5);
        it->pattern = (i + (int)(seed % GEN_NPAT)) % GEN_NPAT;
        it->bars = b < 0.25f ? 1 : (b < 0.75f ? 2 : 4);
        snprintf(it->rel, sizeof(it->rel), "loops/loop_%03d", i + 1);
    }
    /* Progressions and melodies: two per key, all 24 keys. */
    for (i = 0; i < n_prog; i++) {
        struct item *it = &items[k++];
        int key = (i / 2) % 24;
        it->kind = i % 2 == 0 ? ITEM_PROG : ITEM_MELODY;
        it->tonic = key % 12;
        it->minor = key >= 12;
        it->midi = -1;
        it->cat = it->kind == ITEM_PROG ? prog_cats[gen_rng_int(&plan, 5)]
                                        : mel_cats[gen_rng_int(&plan, 6)];
        it->bpm = floor(gen_rng_range(&plan, 70.0f, 140.0f));
        it->bars = 4;
        snprintf(it->rel, sizeof(it->rel), "tonal/%s_%03d", it->kind == ITEM_PROG ? "prog" : "mel",
                 i + 1);
    }
    /* Single notes from E0 to C7. */
    for (i = 0; i < n_notes; i++) {
        struct item *it = &items[k++];
        int midi = n_notes > 1 ? 16 + (int)floor(80.0 * i / (n_notes - 1) + 0.5) : 45;
        midi += gen_rng_int(&plan, 3) - 1;
        midi = midi < 16 ? 16 : (midi > 96 ? 96 : midi);
        it->kind = ITEM_NOTE;
        it->midi = midi;
        it->cat = note_cat(midi, &plan);
        snprintf(it->rel, sizeof(it->rel), "notes/note_%03d", i + 1);
    }
    /* One-shots of every category, in shuffled order so names carry no hint. */
    {
        size_t first = k;
        size_t j;
        for (c = 0; c < GEN_NCAT; c++) {
            for (i = 0; i < per_class; i++) {
                struct item *it = &items[k++];
                int lo;
                int hi;
                it->kind = ITEM_ONESHOT;
                it->cat = c;
                cat_range(c, &lo, &hi);
                it->midi = lo >= 0 ? lo + gen_rng_int(&plan, hi - lo + 1) : -1;
                it->minor = gen_rng_int(&plan, 2);
                it->tonic = it->midi >= 0 ? it->midi % 12 : 0;
            }
        }
        for (j = n_os; j > 1; j--) {
            size_t r = (size_t)(gen_rng_next(&plan) % j);
            struct item tmp = items[first + j - 1];
            items[first + j - 1] = items[first + r];
            items[first + r] = tmp;
        }
        for (j = 0; j < n_os; j++) {
            snprintf(items[first + j].rel, sizeof(items[first + j].rel), "oneshots/os_%04zu",
                     j + 1);
        }
    }
    ctx.dir = dir;
    ctx.seed = seed;
    ctx.items = items;
    ctx.n = n;
    t0 = now_seconds();
    if (pool_run(labelled_job, &ctx, n, threads) || write_labels(dir, items, n)) {
        fprintf(stderr, "sm-gen labelled: failed\n");
        sm_free(items);
        return GEN_EXIT_IO;
    }
    dt = now_seconds() - t0;
    printf("labelled: %zu files (%d loops, %d progressions, %d notes, %zu one-shots) in %.2f s "
           "-> %s/labels.tsv\n",
           n, n_loops, n_prog, n_notes, n_os, dt, dir);
    sm_free(items);
    return GEN_EXIT_OK;
}

/* ---- library ----------------------------------------------------------------- */

static const char *const lib_folder[GEN_NCAT] = {
    "Kicks",        "Snares",      "Claps", "HiHats/Closed", "HiHats/Open", "Cymbals",
    "Toms",         "Percussion",  "Bass",  "Synths",        "Pads",        "Keys",
    "Guitars",      "Strings",     "Brass", "Vocals",        "FX"};
static const char *const lib_prefix[GEN_NCAT] = {
    "Kick",  "Snare", "Clap", "HH_Closed", "HH_Open", "Cymbal", "Tom",     "Perc",  "Bass",
    "Synth", "Pad",   "Keys", "Guitar",    "Strings", "Brass",  "Vox",     "FX"};
/* Relative weights of the categories in a library (drums dominate packs). */
static const int lib_weight[GEN_NCAT] = {12, 10, 6, 10, 6, 4, 5, 9, 8, 7, 4, 5, 3, 3, 2, 3, 3};

/* The library is built like a producer builds one: a bank of synthesised
 * sounds per category is rendered once, then every file plays one or two
 * bank sounds through a sampler (transposed, detuned, layered, panned, at
 * its own level). That keeps thousands of files distinct but fast. */
#define GEN_BANK_N    24
#define GEN_BANK_RATE 44100

struct bank_entry {
    float *x;
    size_t active;
    int midi;
    int minor;
};

struct library_ctx {
    const char *dir;
    uint64_t seed;
    size_t n_os;
    size_t n_loops;
    int npacks;
    double seconds;
    struct bank_entry *bank;
    size_t bank_len;
};

static int bank_job(struct pool *p, size_t idx, struct gen_audio *a)
{
    struct library_ctx *ctx = p->ctx;
    struct bank_entry *e = &ctx->bank[idx];
    int cat = (int)(idx / GEN_BANK_N);
    struct gen_rng rng;
    int lo;
    int hi;
    size_t i;
    float floor_amp;
    sm__gen_rng_seed(&rng, ctx->seed, 0x200000000ULL + idx);
    cat_range(cat, &lo, &hi);
    e->midi = lo >= 0 ? lo + gen_rng_int(&rng, hi - lo + 1) : -1;
    e->minor = gen_rng_int(&rng, 2);
    if (sm__gen_audio_reserve(a, ctx->bank_len, 1, GEN_BANK_RATE)) {
        return -1;
    }
    sm__gen_oneshot(a, cat, e->midi, e->minor, &rng);
    sm__gen_audio_normalize(a, -1.0f);
    e->x = sm_malloc(ctx->bank_len * sizeof(float));
    if (!e->x) {
        return -1;
    }
    memcpy(e->x, a->ch[0], ctx->bank_len * sizeof(float));
    /* Everything after the last sample above -70 dBFS is silence to a sampler. */
    floor_amp = sm__gen_db(-70.0f);
    e->active = 0;
    for (i = ctx->bank_len; i > 0; i--) {
        if (fabsf(e->x[i - 1]) > floor_amp) {
            e->active = i;
            break;
        }
    }
    return 0;
}

/* Add gain * entry, resampled by step (source frames per output frame), into
 * out[0..n). Linear interpolation, 32.32 fixed-point position. */
static void sampler_add(float *out, size_t n, const struct bank_entry *e, double step,
                        float gain)
{
    uint64_t pos = 0;
    uint64_t inc = (uint64_t)(step * 4294967296.0);
    size_t j;
    for (j = 0; j < n; j++) {
        size_t i0 = (size_t)(pos >> 32);
        float frac;
        if (i0 + 1 >= e->active) {
            break;
        }
        frac = (float)(pos & 0xFFFFFFFFu) * (1.0f / 4294967296.0f);
        out[j] += gain * (e->x[i0] + frac * (e->x[i0 + 1] - e->x[i0]));
        pos += inc;
    }
}

static int lib_cat(struct gen_rng *rng)
{
    int total = 0;
    int c;
    int u;
    for (c = 0; c < GEN_NCAT; c++) {
        total += lib_weight[c];
    }
    u = gen_rng_int(rng, total);
    for (c = 0; c < GEN_NCAT; c++) {
        if (u < lib_weight[c]) {
            return c;
        }
        u -= lib_weight[c];
    }
    return GEN_PERC;
}

static int lib_format(struct gen_rng *rng)
{
    float u = gen_rng_unit(rng);
    if (u < 0.85f) {
        return GEN_WAV16;
    }
    if (u < 0.95f) {
        return GEN_WAV24;
    }
    if (u < 0.98f) {
        return GEN_AIFF;
    }
    return GEN_FLAC;
}

/* Loop plan for index j: drum loop or music loop, bpm and bars. */
struct lib_loop {
    int music;
    int cat;
    int tonic;
    int minor;
    int pattern;
    int bars;
    int bpm;
};

static void lib_loop_plan(struct lib_loop *lp, uint64_t seed, size_t j)
{
    /* Music loops use the cheaper instruments so the library stays fast. */
    static const int cats[2] = {GEN_SYNTH, GEN_GUITAR};
    struct gen_rng rng;
    sm__gen_rng_seed(&rng, seed, 0x100000000ULL + j);
    lp->music = gen_rng_chance(&rng, 0.1f);
    lp->cat = cats[gen_rng_int(&rng, 2)];
    lp->tonic = gen_rng_int(&rng, 12);
    lp->minor = gen_rng_int(&rng, 2);
    lp->pattern = gen_rng_int(&rng, GEN_NPAT);
    lp->bars = 1 + gen_rng_int(&rng, 2);
    lp->bpm = 70 + gen_rng_int(&rng, 111);
    if (lp->music) {
        lp->bars = 2;
    }
}

static int library_job(struct pool *p, size_t idx, struct gen_audio *a)
{
    struct library_ctx *ctx = p->ctx;
    struct gen_rng rng;
    char rel[GEN_PATH_MAX];
    char path[GEN_PATH_MAX];
    int rate;
    int fmt;
    int pack = (int)(idx % (size_t)ctx->npacks) + 1;
    float level;
    sm__gen_rng_seed(&rng, ctx->seed, idx);
    rate = gen_rng_chance(&rng, 0.15f) ? 48000 : 44100;
    fmt = lib_format(&rng);
    level = gen_rng_range(&rng, -12.0f, -0.3f);
    if (idx < ctx->n_os && ctx->bank) {
        int cat = lib_cat(&rng);
        int lo;
        int hi;
        int ia = gen_rng_int(&rng, GEN_BANK_N);
        int ib = (ia + 1 + gen_rng_int(&rng, GEN_BANK_N - 1)) % GEN_BANK_N;
        const struct bank_entry *ea = &ctx->bank[cat * GEN_BANK_N + ia];
        const struct bank_entry *eb = &ctx->bank[cat * GEN_BANK_N + ib];
        int channels = cat <= GEN_PERC ? (gen_rng_chance(&rng, 0.4f) ? 2 : 1) : 2;
        double sa;
        double sb;
        float gb = gen_rng_chance(&rng, 0.7f) ? sm__gen_db(gen_rng_range(&rng, -24.0f, -8.0f))
                                              : 0.0f;
        float pa = gen_rng_range(&rng, -0.3f, 0.3f);
        float pb = gen_rng_range(&rng, -0.7f, 0.7f);
        float sign = gen_rng_chance(&rng, 0.5f) ? 1.0f : -1.0f;
        char tag[16] = "";
        int c;
        cat_range(cat, &lo, &hi);
        if (lo >= 0) {
            /* Transpose to a new note; the layer is transposed to the same note. */
            int midi = ea->midi + gen_rng_int(&rng, 11) - 5;
            midi = midi < lo ? lo : (midi > hi ? hi : midi);
            sa = pow(2.0, (midi - ea->midi) / 12.0);
            sb = pow(2.0, (midi - eb->midi) / 12.0);
            if (midi - eb->midi > 12 || eb->midi - midi > 12 || eb->minor != ea->minor) {
                gb = 0.0f;
            }
            if (cat == GEN_PAD) {
                snprintf(tag, sizeof(tag), "_%s%s", sm__gen_pc_name(midi), ea->minor ? "m" : "");
            } else {
                tag[0] = '_';
                sm__gen_note_name(midi, tag + 1, sizeof(tag) - 1);
            }
        } else {
            /* Drums are tuned by up to two semitones either way. */
            sa = pow(2.0, (double)gen_rng_range(&rng, -2.0f, 2.0f) / 12.0);
            sb = pow(2.0, (double)gen_rng_range(&rng, -2.0f, 2.0f) / 12.0);
        }
        sa *= (double)GEN_BANK_RATE / rate;
        sb *= (double)GEN_BANK_RATE / rate;
        snprintf(rel, sizeof(rel), "Pack %02d/One Shots/%s/P%02d_%s_%05zu%s.%s", pack,
                 lib_folder[cat], pack, lib_prefix[cat], idx + 1, tag, sm__gen_fmt_ext(fmt));
        if (sm__gen_audio_reserve(a, (size_t)(ctx->seconds * rate), channels, rate)) {
            return -1;
        }
        for (c = 0; c < channels; c++) {
            float wa = channels == 1 ? 1.0f : (c == 0 ? 1.0f - pa : 1.0f + pa);
            float wb = channels == 1 ? 1.0f : (c == 0 ? 1.0f - pb : 1.0f + pb);
            sampler_add(a->ch[c], a->frames, ea, sa, sign * wa);
            if (gb > 0.0f) {
                sampler_add(a->ch[c], a->frames, eb, sb, gb * wb);
            }
        }
        sm__gen_audio_fade_out(a, (size_t)rate / 200);
    } else if (idx < ctx->n_os) {
        int cat = lib_cat(&rng);
        int lo;
        int hi;
        int midi = -1;
        int minor = gen_rng_int(&rng, 2);
        int channels = cat <= GEN_PERC ? (gen_rng_chance(&rng, 0.4f) ? 2 : 1) : 2;
        char tag[16] = "";
        cat_range(cat, &lo, &hi);
        if (lo >= 0) {
            midi = lo + gen_rng_int(&rng, hi - lo + 1);
            if (cat == GEN_PAD) {
                snprintf(tag, sizeof(tag), "_%s%s", sm__gen_pc_name(midi), minor ? "m" : "");
            } else {
                tag[0] = '_';
                sm__gen_note_name(midi, tag + 1, sizeof(tag) - 1);
            }
        }
        snprintf(rel, sizeof(rel), "Pack %02d/One Shots/%s/P%02d_%s_%05zu%s.%s", pack,
                 lib_folder[cat], pack, lib_prefix[cat], idx + 1, tag, sm__gen_fmt_ext(fmt));
        if (sm__gen_audio_reserve(a, (size_t)(ctx->seconds * rate), channels, rate)) {
            return -1;
        }
        sm__gen_oneshot(a, cat, midi, minor, &rng);
    } else {
        size_t j = idx - ctx->n_os;
        struct lib_loop lp;
        lib_loop_plan(&lp, ctx->seed, j);
        if (sm__gen_audio_reserve(a, sm__gen_bar_frames(lp.bpm, lp.bars, rate), 2, rate)) {
            return -1;
        }
        if (lp.music) {
            snprintf(rel, sizeof(rel), "Pack %02d/Loops/%dbpm/P%02d_%s_%s%s_%dbpm_%04zu.%s", pack,
                     lp.bpm, pack, lib_prefix[lp.cat], sm__gen_pc_name(lp.tonic),
                     lp.minor ? "m" : "", lp.bpm, j + 1, sm__gen_fmt_ext(fmt));
            if (sm__gen_progression(a, lp.tonic, lp.minor, lp.cat, lp.bpm, lp.bars, &rng)) {
                return -1;
            }
        } else {
            struct gen_kit kit;
            snprintf(rel, sizeof(rel), "Pack %02d/Loops/%dbpm/P%02d_DrumLoop_%s_%dbpm_%04zu.%s",
                     pack, lp.bpm, pack, sm__gen_pattern_name(lp.pattern), lp.bpm, j + 1,
                     sm__gen_fmt_ext(fmt));
            if (ctx->bank) {
                /* A sampler kit from the bank, played at the bank's rate. */
                static const int cats[KIT_N] = {GEN_KICK,     GEN_SNARE, GEN_CLAP, GEN_HAT_CLOSED,
                                                GEN_HAT_OPEN, GEN_PERC,  GEN_TOM};
                int part;
                for (part = 0; part < KIT_N; part++) {
                    const struct bank_entry *e =
                        &ctx->bank[cats[part] * GEN_BANK_N + gen_rng_int(&rng, GEN_BANK_N)];
                    kit.take[part] = e->x;
                    kit.len[part] = e->active;
                }
                if (sm__gen_audio_reserve(a, sm__gen_bar_frames(lp.bpm, lp.bars, GEN_BANK_RATE), 2,
                                          GEN_BANK_RATE)) {
                    return -1;
                }
            }
            if (sm__gen_drum_loop_kit(a, lp.pattern, lp.bpm, lp.bars, ctx->bank ? &kit : NULL,
                                      &rng)) {
                return -1;
            }
        }
    }
    sm__gen_audio_normalize(a, level);
    if (join_path(path, sizeof(path), ctx->dir, rel)) {
        return -1;
    }
    return sm__gen_write(path, a, fmt);
}

static void bank_free(struct library_ctx *ctx)
{
    size_t i;
    if (!ctx->bank) {
        return;
    }
    for (i = 0; i < (size_t)GEN_NCAT * GEN_BANK_N; i++) {
        sm_free(ctx->bank[i].x);
    }
    sm_free(ctx->bank);
    ctx->bank = NULL;
}

int sm__gen_cmd_library(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t seed = 1;
    int n_os = -1;
    int n_loops = -1;
    double seconds = 1.0;
    int threads = default_threads();
    struct opt opts[] = {{"oneshots", OPT_INT, &n_os}, {"loops", OPT_INT, &n_loops},
                         {"seed", OPT_U64, &seed},     {"seconds", OPT_DOUBLE, &seconds},
                         {"threads", OPT_INT, &threads}};
    struct library_ctx ctx;
    char sub[GEN_PATH_MAX];
    size_t n;
    size_t j;
    int pk;
    int c;
    double t0;
    double dt;
    if (parse_args("library", argc, argv, &dir, 1, opts, 5)) {
        return GEN_EXIT_USAGE;
    }
    if (n_os < 0 || n_loops < 0) {
        fprintf(stderr, "sm-gen library: --oneshots N and --loops M are required (N, M >= 0)\n");
        return GEN_EXIT_USAGE;
    }
    if (n_os > 10000000 || n_loops > 10000000 || threads < 1 || threads > 16 ||
        check_seconds("library", seconds, 60.0)) {
        fprintf(stderr, "sm-gen library: counts up to 10000000, --threads 1..16\n");
        return GEN_EXIT_USAGE;
    }
    n = (size_t)n_os + (size_t)n_loops;
    ctx.dir = dir;
    ctx.seed = seed;
    ctx.n_os = (size_t)n_os;
    ctx.n_loops = (size_t)n_loops;
    ctx.npacks = 1 + (int)(n / 2500);
    if (ctx.npacks > 99) {
        ctx.npacks = 99;
    }
    ctx.seconds = seconds;
    /* Create every folder first; the workers only write files. */
    for (pk = 1; pk <= ctx.npacks && n_os > 0; pk++) {
        for (c = 0; c < GEN_NCAT; c++) {
            char rel[256];
            snprintf(rel, sizeof(rel), "Pack %02d/One Shots/%s", pk, lib_folder[c]);
            if (join_path(sub, sizeof(sub), dir, rel) || sm__gen_mkdirs(sub)) {
                return GEN_EXIT_IO;
            }
        }
    }
    for (j = 0; j < (size_t)n_loops; j++) {
        struct lib_loop lp;
        char rel[256];
        int pack = (int)(((size_t)n_os + j) % (size_t)ctx.npacks) + 1;
        lib_loop_plan(&lp, seed, j);
        snprintf(rel, sizeof(rel), "Pack %02d/Loops/%dbpm", pack, lp.bpm);
        if (join_path(sub, sizeof(sub), dir, rel) || sm__gen_mkdirs(sub)) {
            return GEN_EXIT_IO;
        }
    }
    if (n == 0 && sm__gen_mkdirs(dir)) {
        return GEN_EXIT_IO;
    }
    t0 = now_seconds();
    ctx.bank = NULL;
    ctx.bank_len = (size_t)((seconds > 1.0 ? seconds : 1.0) * GEN_BANK_RATE);
    if (seconds <= 4.0 && n > 0) {
        ctx.bank = sm_calloc((size_t)GEN_NCAT * GEN_BANK_N, sizeof(*ctx.bank));
        if (!ctx.bank) {
            fprintf(stderr, "sm-gen library: out of memory\n");
            return GEN_EXIT_IO;
        }
        if (pool_run(bank_job, &ctx, (size_t)GEN_NCAT * GEN_BANK_N, threads)) {
            fprintf(stderr, "sm-gen library: out of memory\n");
            bank_free(&ctx);
            return GEN_EXIT_IO;
        }
    }
    if (pool_run(library_job, &ctx, n, threads)) {
        fprintf(stderr, "sm-gen library: failed\n");
        bank_free(&ctx);
        return GEN_EXIT_IO;
    }
    bank_free(&ctx);
    dt = now_seconds() - t0;
    printf("library: %zu files (%d one-shots, %d loops) in %.2f s, %.0f files/s, %d threads "
           "-> %s\n",
           n, n_os, n_loops, dt, dt > 0.0 ? (double)n / dt : 0.0, threads, dir);
    return GEN_EXIT_OK;
}

/* ---- long ---------------------------------------------------------------------- */

#define GEN_LONG_BLOCK 4096

int sm__gen_cmd_long(int argc, char **argv)
{
    const char *file = NULL;
    double seconds = -1.0;
    int rate = 44100;
    int channels = 2;
    uint64_t seed = 1;
    const char *format = "wav16";
    struct opt opts[] = {{"seconds", OPT_DOUBLE, &seconds}, {"rate", OPT_INT, &rate},
                         {"channels", OPT_INT, &channels},  {"seed", OPT_U64, &seed},
                         {"format", OPT_STR, &format}};
    struct gen_audio drums = GEN_AUDIO_INIT;
    struct gen_audio pad = GEN_AUDIO_INIT;
    struct gen_writer w;
    struct gen_rng rng;
    float *block = NULL;
    size_t total;
    size_t done = 0;
    int fmt;
    int rc = GEN_EXIT_IO;
    const double bpm = 124.0;
    if (parse_args("long", argc, argv, &file, 1, opts, 5)) {
        return GEN_EXIT_USAGE;
    }
    fmt = sm__gen_fmt_parse(format);
    if (seconds < 0.0) {
        fprintf(stderr, "sm-gen long: --seconds is required\n");
        return GEN_EXIT_USAGE;
    }
    if (check_seconds("long", seconds, 86400.0) || check_rate("long", rate)) {
        return GEN_EXIT_USAGE;
    }
    if (channels < 1 || channels > 8 || fmt < 0) {
        fprintf(stderr, "sm-gen long: --channels 1..8, --format wav16|wav24|f32|flac|aiff|ogg\n");
        return GEN_EXIT_USAGE;
    }
    total = (size_t)(seconds * rate + 0.5);
    sm__gen_rng_seed(&rng, seed, 77);
    block = sm_malloc((size_t)GEN_LONG_BLOCK * (size_t)channels * sizeof(float));
    if (!block || sm__gen_audio_reserve(&drums, sm__gen_bar_frames(bpm, 2, rate), 2, rate) ||
        sm__gen_audio_reserve(&pad, sm__gen_bar_frames(bpm, 4, rate), 2, rate) ||
        sm__gen_drum_loop(&drums, GEN_PAT_FOUR, bpm, 2, &rng) ||
        sm__gen_progression(&pad, 9, 1, GEN_PAD, bpm, 4, &rng)) {
        fprintf(stderr, "sm-gen long: out of memory\n");
        goto done;
    }
    sm__gen_audio_normalize(&drums, -7.0f);
    sm__gen_audio_normalize(&pad, -9.0f);
    if (sm__gen_writer_open(&w, file, rate, channels, fmt)) {
        goto done;
    }
    while (done < total) {
        size_t m = total - done < GEN_LONG_BLOCK ? total - done : GEN_LONG_BLOCK;
        size_t i;
        for (i = 0; i < m; i++) {
            size_t pos = done + i;
            /* Eight-loop sections; the drums drop out in the last two. */
            size_t section = (pos / drums.frames) % 8;
            float dg = section >= 6 ? 0.0f : 1.0f;
            size_t dp = pos % drums.frames;
            size_t pp = pos % pad.frames;
            float l = dg * drums.ch[0][dp] + pad.ch[0][pp];
            float r = dg * drums.ch[1][dp] + pad.ch[1][pp];
            int c;
            for (c = 0; c < channels; c++) {
                block[i * (size_t)channels + (size_t)c] =
                    channels == 1 ? 0.5f * (l + r) : (c % 2 == 0 ? l : r);
            }
        }
        if (sm__gen_writer_write(&w, block, m)) {
            sm__gen_writer_close(&w);
            goto done;
        }
        done += m;
    }
    if (sm__gen_writer_close(&w)) {
        goto done;
    }
    printf("long: %s, %.3f s, %d Hz, %d ch, %s\n", file, (double)total / rate, rate, channels,
           format);
    rc = GEN_EXIT_OK;
done:
    sm_free(block);
    sm__gen_audio_release(&drums);
    sm__gen_audio_release(&pad);
    return rc;
}

/* ---- tone and clicks ---------------------------------------------------------- */

int sm__gen_cmd_tone(int argc, char **argv)
{
    const char *file = NULL;
    double freq = -1.0;
    double seconds = -1.0;
    double dbfs = -6.0;
    int rate = 44100;
    int channels = 1;
    const char *format = "wav16";
    struct opt opts[] = {{"freq", OPT_DOUBLE, &freq},       {"seconds", OPT_DOUBLE, &seconds},
                         {"rate", OPT_INT, &rate},          {"channels", OPT_INT, &channels},
                         {"dbfs", OPT_DOUBLE, &dbfs},       {"format", OPT_STR, &format}};
    struct gen_writer w;
    float *block;
    size_t total;
    size_t done = 0;
    double amp;
    int fmt;
    if (parse_args("tone", argc, argv, &file, 1, opts, 6)) {
        return GEN_EXIT_USAGE;
    }
    fmt = sm__gen_fmt_parse(format);
    if (freq < 0.0 || seconds < 0.0) {
        fprintf(stderr, "sm-gen tone: --freq and --seconds are required\n");
        return GEN_EXIT_USAGE;
    }
    if (check_seconds("tone", seconds, 86400.0) || check_rate("tone", rate)) {
        return GEN_EXIT_USAGE;
    }
    if (!(freq > 0.0) || freq >= rate / 2.0 || channels < 1 || channels > 8 || fmt < 0 ||
        dbfs > 0.0 || dbfs < -200.0) {
        fprintf(stderr, "sm-gen tone: need 0 < --freq < rate/2, --channels 1..8, "
                        "--dbfs -200..0, --format wav16|wav24|f32|flac|aiff|ogg\n");
        return GEN_EXIT_USAGE;
    }
    total = (size_t)(seconds * rate + 0.5);
    amp = pow(10.0, dbfs / 20.0);
    block = sm_malloc((size_t)GEN_LONG_BLOCK * (size_t)channels * sizeof(float));
    if (!block) {
        return GEN_EXIT_IO;
    }
    if (sm__gen_writer_open(&w, file, rate, channels, fmt)) {
        sm_free(block);
        return GEN_EXIT_IO;
    }
    while (done < total) {
        size_t m = total - done < GEN_LONG_BLOCK ? total - done : GEN_LONG_BLOCK;
        size_t i;
        for (i = 0; i < m; i++) {
            double ph = fmod(freq * (double)(done + i) / rate, 1.0);
            float y = (float)(amp * sin(2.0 * M_PI * ph));
            int c;
            for (c = 0; c < channels; c++) {
                block[i * (size_t)channels + (size_t)c] = y;
            }
        }
        if (sm__gen_writer_write(&w, block, m)) {
            sm__gen_writer_close(&w);
            sm_free(block);
            return GEN_EXIT_IO;
        }
        done += m;
    }
    sm_free(block);
    if (sm__gen_writer_close(&w)) {
        return GEN_EXIT_IO;
    }
    printf("tone: %s, %g Hz, %.3f s, %d Hz, %d ch, %.1f dBFS peak, %s\n", file, freq,
           (double)total / rate, rate, channels, dbfs, format);
    return GEN_EXIT_OK;
}

int sm__gen_cmd_clicks(int argc, char **argv)
{
    const char *file = NULL;
    double bpm = -1.0;
    double seconds = -1.0;
    double dbfs = -3.0;
    int rate = 44100;
    int channels = 1;
    const char *format = "wav16";
    struct opt opts[] = {{"bpm", OPT_DOUBLE, &bpm},   {"seconds", OPT_DOUBLE, &seconds},
                         {"rate", OPT_INT, &rate},    {"channels", OPT_INT, &channels},
                         {"dbfs", OPT_DOUBLE, &dbfs}, {"format", OPT_STR, &format}};
    struct gen_audio a = GEN_AUDIO_INIT;
    size_t total;
    size_t clicks = 0;
    size_t click_len;
    double amp;
    int fmt;
    int rc;
    if (parse_args("clicks", argc, argv, &file, 1, opts, 6)) {
        return GEN_EXIT_USAGE;
    }
    fmt = sm__gen_fmt_parse(format);
    if (bpm < 0.0 || seconds < 0.0) {
        fprintf(stderr, "sm-gen clicks: --bpm and --seconds are required\n");
        return GEN_EXIT_USAGE;
    }
    if (check_seconds("clicks", seconds, 3600.0) || check_rate("clicks", rate)) {
        return GEN_EXIT_USAGE;
    }
    if (bpm < 10.0 || bpm > 1000.0 || channels < 1 || channels > 2 || fmt < 0 || dbfs > 0.0 ||
        dbfs < -200.0) {
        fprintf(stderr, "sm-gen clicks: need --bpm 10..1000, --channels 1..2, --dbfs -200..0, "
                        "--format wav16|wav24|f32|flac|aiff|ogg\n");
        return GEN_EXIT_USAGE;
    }
    total = (size_t)(seconds * rate + 0.5);
    if (sm__gen_audio_reserve(&a, total, channels, rate)) {
        fprintf(stderr, "sm-gen clicks: out of memory\n");
        return GEN_EXIT_IO;
    }
    amp = pow(10.0, dbfs / 20.0);
    click_len = (size_t)(0.01 * rate);
    for (;;) {
        /* Click k starts exactly at round(k * 60 / bpm * rate) with its peak on
         * the first sample: a 2 kHz cosine under a 2 ms exponential decay. */
        size_t at = (size_t)((double)clicks * 60.0 * rate / bpm + 0.5);
        size_t i;
        if (at >= total) {
            break;
        }
        for (i = 0; i < click_len && at + i < total; i++) {
            double t = (double)i / rate;
            float y = (float)(amp * exp(-t / 0.002) * cos(2.0 * M_PI * 2000.0 * t));
            a.ch[0][at + i] += y;
            if (channels == 2) {
                a.ch[1][at + i] += y;
            }
        }
        clicks++;
    }
    rc = sm__gen_write(file, &a, fmt) ? GEN_EXIT_IO : GEN_EXIT_OK;
    sm__gen_audio_release(&a);
    if (rc == GEN_EXIT_OK) {
        printf("clicks: %s, %zu clicks at %g BPM, %.3f s, %d Hz\n", file, clicks, bpm,
               (double)total / rate, rate);
    }
    return rc;
}

void sm__gen_usage(void *f)
{
    fputs("usage: sm-gen COMMAND ...\n"
          "  demo DIR [--seed S]\n"
          "      kick, snare, hihat, bass_A1, pad_Cmaj and drum_loop_120bpm (4.0 s) WAVs\n"
          "  labelled DIR [--seed S] [--per-class N] [--loops N] [--progressions N]\n"
          "           [--notes N] [--threads T]\n"
          "      a labelled evaluation set and DIR/labels.tsv (path bpm key category note)\n"
          "  library DIR --oneshots N --loops M [--seed S] [--seconds 1.0] [--threads T]\n"
          "      a large sample-pack-like library for scan benchmarks\n"
          "  long FILE --seconds S [--rate R] [--channels C] [--format F] [--seed S]\n"
          "      one long music-like file, written in constant memory\n"
          "  tone FILE --freq HZ --seconds S [--rate R] [--channels C] [--dbfs L] [--format F]\n"
          "  clicks FILE --bpm B --seconds S [--rate R] [--channels C] [--dbfs L] [--format F]\n"
          "formats: wav16 wav24 f32 flac aiff ogg\n"
          "exit status: 0 ok, 1 I/O error, 2 usage error\n",
          (FILE *)f);
}
