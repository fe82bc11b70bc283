/* Internal header of sm-gen, the test-audio generator (tools/gen/).
 *
 * Layout:
 *   dsp.c          buffers, filters, reverb, levels, noise, hashing
 *   drums.c        drum and percussion one-shots
 *   instruments.c  pitched instruments (one note at a time) and FX
 *   music.c        note and key names, drum loops, chord progressions, melodies
 *   writer.c       libsndfile output, formats, directories
 *   commands.c     the demo, labelled, library, long, tone and clicks commands
 *   main.c         argument parsing and dispatch
 *
 * Everything is deterministic: randomness comes only from struct gen_rng
 * (xorshift64*), seeded from the user's seed and a per-file stream number, so
 * the same seed gives the same bytes whatever the thread count.
 */
#ifndef SM_TOOLS_GEN_H
#define SM_TOOLS_GEN_H

#include <stddef.h>
#include <stdint.h>

/* Categories, in the order of the labels.tsv vocabulary. */
enum gen_cat {
    GEN_KICK,
    GEN_SNARE,
    GEN_CLAP,
    GEN_HAT_CLOSED,
    GEN_HAT_OPEN,
    GEN_CYMBAL,
    GEN_TOM,
    GEN_PERC,
    GEN_BASS,
    GEN_SYNTH,
    GEN_PAD,
    GEN_KEYS,
    GEN_GUITAR,
    GEN_STRINGS,
    GEN_BRASS,
    GEN_VOCAL,
    GEN_FX,
    GEN_NCAT
};

/* Output formats. */
enum gen_fmt {
    GEN_WAV16,
    GEN_WAV24,
    GEN_F32,
    GEN_FLAC,
    GEN_AIFF,
    GEN_OGG,
    GEN_NFMT
};

/* Exit codes of the tool. */
#define GEN_EXIT_OK    0
#define GEN_EXIT_IO    1
#define GEN_EXIT_USAGE 2

#define GEN_PI  3.14159265358979f
#define GEN_TAU 6.28318530717959f

/* ---- Random numbers ---------------------------------------------------- */

struct gen_rng {
    uint64_t s;
};

/* Mix two 64-bit values into one (splitmix64 finaliser). */
uint64_t sm__gen_hash(uint64_t a, uint64_t b);
/* Seed rng from a user seed and a stream number (one stream per file). */
void sm__gen_rng_seed(struct gen_rng *rng, uint64_t seed, uint64_t stream);

static inline uint64_t gen_rng_next(struct gen_rng *rng)
{
    uint64_t x = rng->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
static inline float gen_rng_unit(struct gen_rng *rng)
{
    return (float)(gen_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform in [lo, hi). */
static inline float gen_rng_range(struct gen_rng *rng, float lo, float hi)
{
    return lo + (hi - lo) * gen_rng_unit(rng);
}

/* Uniform integer in [0, n); n > 0. */
static inline int gen_rng_int(struct gen_rng *rng, int n)
{
    return (int)((gen_rng_next(rng) >> 33) % (uint64_t)n);
}

/* White noise in [-1, 1). */
static inline float gen_rng_noise(struct gen_rng *rng)
{
    return (float)((int32_t)(gen_rng_next(rng) >> 32)) * (1.0f / 2147483648.0f);
}

/* True with probability p. */
static inline int gen_rng_chance(struct gen_rng *rng, float p)
{
    return gen_rng_unit(rng) < p;
}

/* ---- Cheap oscillators ---------------------------------------------------- */

/* sin(2 pi ph) for ph in [0, 1); polynomial, error below 1e-5. */
static inline float gen_sin01(float ph)
{
    float x = ph - 0.5f;
    float x2;
    if (x > 0.25f) {
        x = 0.5f - x;
    } else if (x < -0.25f) {
        x = -0.5f - x;
    }
    x *= GEN_TAU;
    x2 = x * x;
    return -x * (1.0f + x2 * (-1.0f / 6.0f + x2 * (1.0f / 120.0f +
                 x2 * (-1.0f / 5040.0f + x2 * (1.0f / 362880.0f)))));
}

/* Wrap a phase into [0, 1). */
static inline float gen_wrap(float ph)
{
    while (ph >= 1.0f) {
        ph -= 1.0f;
    }
    while (ph < 0.0f) {
        ph += 1.0f;
    }
    return ph;
}

/* PolyBLEP residual for a discontinuity at phase 0, dt = f / rate. */
static inline float gen_blep(float t, float dt)
{
    if (t < dt) {
        t /= dt;
        return t + t - t * t - 1.0f;
    }
    if (t > 1.0f - dt) {
        t = (t - 1.0f) / dt;
        return t * t + t + t + 1.0f;
    }
    return 0.0f;
}

/* Band-limited saw in [-1, 1] at phase ph with increment dt. */
static inline float gen_saw(float ph, float dt)
{
    return 2.0f * ph - 1.0f - gen_blep(ph, dt);
}

/* Band-limited pulse with width pw (0..1). */
static inline float gen_pulse(float ph, float dt, float pw)
{
    float y = ph < pw ? 1.0f : -1.0f;
    y += gen_blep(ph, dt);
    y -= gen_blep(gen_wrap(ph + 1.0f - pw), dt);
    return y;
}

/* Soft clipper, close to tanh for |x| < 3, saturating at +-1. */
static inline float gen_softclip(float x)
{
    float x2;
    if (x > 3.0f) {
        return 1.0f;
    }
    if (x < -3.0f) {
        return -1.0f;
    }
    x2 = x * x;
    return x * (27.0f + x2) / (27.0f + 9.0f * x2);
}

/* ---- State-variable filter (TPT form) ------------------------------------ */

struct gen_svf {
    float g;
    float k;
    float a1;
    float a2;
    float a3;
    float ic1;
    float ic2;
    float lp;
    float bp;
    float hp;
};

/* Set the cutoff (Hz, clamped below Nyquist) and Q (> 0.1). */
void sm__gen_svf_set(struct gen_svf *f, float fc, float q, int rate);
/* Reset the state, keep the coefficients. */
void sm__gen_svf_reset(struct gen_svf *f);

/* Run one sample; the three outputs are left in f->lp, f->bp, f->hp. */
static inline void gen_svf_run(struct gen_svf *f, float x)
{
    float v3 = x - f->ic2;
    float v1 = f->a1 * f->ic1 + f->a2 * v3;
    float v2 = f->ic2 + f->a2 * f->ic1 + f->a3 * v3;
    f->ic1 = 2.0f * v1 - f->ic1;
    f->ic2 = 2.0f * v2 - f->ic2;
    f->lp = v2;
    f->bp = v1;
    f->hp = x - f->k * v1 - v2;
}

/* ---- Audio buffers --------------------------------------------------------- */

/* Planar audio, one or two channels; ch[1] is NULL for mono. Capacity is kept
 * so a worker can reuse one buffer for many files. */
struct gen_audio {
    float *ch[2];
    size_t frames;
    size_t cap;
    int channels;
    int rate;
};

#define GEN_AUDIO_INIT {{NULL, NULL}, 0, 0, 0, 0}

/* Make a zeroed buffer of frames x channels at rate, reusing memory. 0 or -1. */
int sm__gen_audio_reserve(struct gen_audio *a, size_t frames, int channels, int rate);
/* Free the memory; the buffer is GEN_AUDIO_INIT afterwards. */
void sm__gen_audio_release(struct gen_audio *a);
/* Largest absolute sample. */
float sm__gen_audio_peak(const struct gen_audio *a);
/* Scale so the peak is at peak_db dBFS (no-op on silence). */
void sm__gen_audio_normalize(struct gen_audio *a, float peak_db);
/* Add pinkish background noise with RMS at db dBFS. */
void sm__gen_audio_add_noise(struct gen_audio *a, float db, struct gen_rng *rng);
/* Stereo Schroeder reverb (4 combs + 2 allpasses per channel), wet mix 0..1,
 * size 0..1 (feedback), damp 0..1. Mono buffers get a mono reverb. 0 or -1. */
int sm__gen_audio_reverb(struct gen_audio *a, float mix, float size, float damp);
/* Linear fade over the last n frames. */
void sm__gen_audio_fade_out(struct gen_audio *a, size_t n);
/* Add gain * x[0..n) at frame at with a constant-power pan (-1..1); the last
 * fade frames are faded out (a choke). */
void sm__gen_audio_add_panned(struct gen_audio *a, size_t at, const float *x, size_t n,
                              float pan, float gain, size_t fade);

/* dB to linear. */
float sm__gen_db(float db);
/* MIDI note to Hz (A4 = 69 = 440 Hz). */
float sm__gen_midi_hz(float midi);

/* ---- Drums and FX (drums.c) ----------------------------------------------- */

/* Parameters of one percussive one-shot, drawn once and reusable for many
 * hits. pitch is the body frequency (Hz; the metallic scale factor for hats
 * and cymbals), ratio the start/end pitch ratio of a sweep or the second
 * partial's ratio, sweep the pitch time constant (s), decay and tone_decay the
 * amplitude time constants (s) of the noise and tonal parts, noise the noise
 * mix 0..1, tone the noise filter frequency (Hz), reso its Q, click the attack
 * transient level, drive the distortion 0..1, count the bursts of a clap or
 * hits of a shaker. */
struct gen_drum {
    int cat;
    int variant;
    int count;
    float pitch;
    float ratio;
    float sweep;
    float decay;
    float tone_decay;
    float noise;
    float tone;
    float reso;
    float click;
    float drive;
    float spacing;
};

/* Draw varied parameters for category cat (GEN_KICK .. GEN_PERC). */
void sm__gen_drum_random(struct gen_drum *d, int cat, struct gen_rng *rng);
/* Natural length of the sound in seconds (the tail below -60 dB is cut). */
float sm__gen_drum_length(const struct gen_drum *d);
/* Add one hit at amplitude amp into out[0..n). rng supplies the noise. */
void sm__gen_drum_render(float *out, size_t n, int rate, const struct gen_drum *d, float amp,
                         struct gen_rng *rng);

/* ---- Pitched instruments (instruments.c) --------------------------------- */

struct gen_timbre {
    int cat;
    int variant;
    int voices;
    float detune;
    float cutoff;
    float env_amt;
    float reso;
    float attack;
    float decay;
    float sustain;
    float release;
    float fdecay;
    float drive;
    float vib_rate;
    float vib_depth;
    float bright;
    float width;
    int vowel;
};

/* Draw a timbre for cat (GEN_BASS .. GEN_VOCAL); variant -1 picks one. */
void sm__gen_timbre_random(struct gen_timbre *t, int cat, int variant, struct gen_rng *rng);
/* Seconds a note keeps sounding after its gate ends. */
float sm__gen_timbre_tail(const struct gen_timbre *t);
/* Add one note of freq Hz, held gate seconds, into l[0..n) and r[0..n)
 * (r may be NULL for mono). */
void sm__gen_note_render(float *l, float *r, size_t n, int rate, const struct gen_timbre *t,
                         float freq, float gate, float amp, struct gen_rng *rng);
/* Add an FX sound (riser, downsweep, noise sweep, zap, impact) filling n frames. */
void sm__gen_fx_render(float *l, float *r, size_t n, int rate, int variant, float amp,
                       struct gen_rng *rng);

/* ---- Music (music.c) ----------------------------------------------------- */

enum gen_pattern {
    GEN_PAT_FOUR,
    GEN_PAT_BREAK,
    GEN_PAT_TRAP,
    GEN_PAT_HALF,
    GEN_PAT_SHUFFLE,
    GEN_NPAT
};

/* "C", "C#", ... for pitch class pc (0..11). */
const char *sm__gen_pc_name(int pc);
/* Note name such as "F#1" into buf. */
void sm__gen_note_name(int midi, char *buf, size_t size);
/* Key name such as "A minor" into buf. */
void sm__gen_key_name(int tonic, int minor, char *buf, size_t size);
/* Category name as used in labels.tsv. */
const char *sm__gen_cat_name(int cat);
/* Pattern name ("four", "break", ...). */
const char *sm__gen_pattern_name(int pattern);

/* Frames in bars of 4/4 at bpm, rounded to the nearest frame. */
size_t sm__gen_bar_frames(double bpm, int bars, int rate);
/* Parts of a drum kit. */
enum gen_kit_part {
    KIT_KICK,
    KIT_SNARE,
    KIT_CLAP,
    KIT_HAT,
    KIT_OPEN,
    KIT_PERC,
    KIT_TOM,
    KIT_N
};

/* A kit of pre-rendered mono hits at the loop's rate (borrowed pointers). */
struct gen_kit {
    const float *take[KIT_N];
    size_t len[KIT_N];
};

/* Render a drum loop into a (already reserved to exactly the loop length);
 * hits that ring past the end wrap around to the start. 0 or -1. */
int sm__gen_drum_loop(struct gen_audio *a, int pattern, double bpm, int bars,
                      struct gen_rng *rng);
/* The same, playing the hits of kit (a sampler) instead of synthesising a kit;
 * kit NULL synthesises. */
int sm__gen_drum_loop_kit(struct gen_audio *a, int pattern, double bpm, int bars,
                          const struct gen_kit *kit, struct gen_rng *rng);
/* Render a chord progression (one chord per bar) in the key, with instrument
 * category cat (GEN_PAD, GEN_KEYS, GEN_SYNTH pluck, GEN_STRINGS, GEN_GUITAR). 0 or -1. */
int sm__gen_progression(struct gen_audio *a, int tonic, int minor, int cat, double bpm,
                        int bars, struct gen_rng *rng);
/* Render a melody over soft chords on the same instrument. 0 or -1. */
int sm__gen_melody(struct gen_audio *a, int tonic, int minor, int cat, double bpm, int bars,
                   struct gen_rng *rng);
/* Render one pitched one-shot or FX or drum of category cat into a (whose
 * length is already set). midi < 0 for unpitched. For GEN_PAD, midi is the
 * chord root and minor selects the chord quality. */
void sm__gen_oneshot(struct gen_audio *a, int cat, int midi, int minor, struct gen_rng *rng);
/* Natural length in seconds of a one-shot of category cat at midi. */
float sm__gen_oneshot_seconds(int cat, struct gen_rng *rng);

/* ---- Output (writer.c) --------------------------------------------------- */

struct gen_writer {
    void *sf;
    int channels;
};

/* "wav16" etc. to enum gen_fmt, or -1. */
int sm__gen_fmt_parse(const char *s);
/* File extension without the dot. */
const char *sm__gen_fmt_ext(int fmt);
/* Write the whole buffer to path. Prints the reason to stderr and returns -1 on error. */
int sm__gen_write(const char *path, const struct gen_audio *a, int fmt);
/* Open a streaming writer. 0 or -1 (reason printed). */
int sm__gen_writer_open(struct gen_writer *w, const char *path, int rate, int channels, int fmt);
/* Write interleaved frames. 0 or -1. */
int sm__gen_writer_write(struct gen_writer *w, const float *x, size_t frames);
/* Close; 0 or -1. */
int sm__gen_writer_close(struct gen_writer *w);
/* mkdir -p. 0 or -1 (reason printed). */
int sm__gen_mkdirs(const char *path);

/* ---- Commands (commands.c) ----------------------------------------------- */

/* Flush denormals to zero on this thread: decaying envelopes and filter
 * states would otherwise crawl through the slow subnormal range. */
void sm__gen_flush_denormals(void);

int sm__gen_cmd_demo(int argc, char **argv);
int sm__gen_cmd_labelled(int argc, char **argv);
int sm__gen_cmd_library(int argc, char **argv);
int sm__gen_cmd_long(int argc, char **argv);
int sm__gen_cmd_tone(int argc, char **argv);
int sm__gen_cmd_clicks(int argc, char **argv);
/* Print the usage text to f. */
void sm__gen_usage(void *f);

#endif
