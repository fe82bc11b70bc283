/* Onset strength (SuperFlux on log mel powers) and onset picking.
 *
 * Strength of frame i: the mean over mel bands of max(0, L_i[b] - max(L_{i-1}[b-1..b+1])),
 * each band's rise capped at 30 dB, where L is the band power in dB with a floor
 * (SM__ONSET_FLOOR). The maximum over
 * neighbouring bands of the previous frame (Boeck & Widmer's SuperFlux) keeps vibrato
 * and slow glides from counting as onsets. Before the first frame the previous frame
 * is taken as silence, so a sound that starts at time 0 has an onset at 0; as that
 * exaggerates frame 0 when a file starts inside a sound, picking and tempo use
 * sm__onset_first() for it.
 *
 * Picking works on the whole envelope at the end: a frame is a candidate when it
 * is a local maximum that exceeds the mean of its +-0.12 s neighbourhood by a delta
 * (a fraction of the largest strength), and when the fine RMS envelope around it is
 * neither very quiet in absolute terms (-70 dBFS) nor relative to the loudest point
 * (-50 dB). Each candidate is then refined on the fine envelope: the strongest rise
 * in the region the frame can have seen (the 2048-sample window reaches 1024 samples
 * ahead of the frame centre), walked back to where that rise starts. Onsets closer
 * than 30 ms to the previous one are dropped.
 *
 * Band strengths: the capped rises of the same frame averaged over the low
 * (bands 0..2, up to ~150 Hz) and high (bands 49..63, from ~5 kHz) mel bands,
 * so a kick and a hat each show in their own envelope.
 *
 * SNARE DETECTOR. A snare or clap is a burst of noise whose loudest part lies
 * at 1-5 kHz; a kick puts its energy below 150 Hz, and its click, the
 * harmonics of a driven kick and an 808's pitch sweep reach well above that,
 * so a log-rise band over 150 Hz..5 kHz (the former mid band) rose as much
 * on a kick as on a snare: a rise in dB does not know how loud it is. The
 * detector works on amplitudes instead: ds, the rise of sqrt(sum of the mel
 * powers of bands 19..48, 1.0-4.7 kHz) over the previous frame's, and dl, the
 * same over bands 0..1 (below ~130 Hz: the kick, under a snare's body at
 * 150-260 Hz). The snare strength is ds * ds / (ds + dl): the 1-5 kHz rise
 * weighted by its share of the two. A snare (large ds, dl ~0) keeps its
 * rise, a kick (dl much larger than its click's ds) is scaled down by the
 * ratio, a hat's faint spill below 5 kHz stays faint in amplitude. On the
 * development drum loops (tempo.c, DRUM ROLES) the kick weighting took 171 ->
 * 157 wrong files of 60 seeds against the plain 1-5 kHz amplitude rise.
 *
 * Chroma novelty: the magnitudes of FFT bins 8..185 (86 Hz..2 kHz) are summed
 * into 12 pitch classes through a table built once (bin -> nearest equal-
 * tempered pitch class, A4 = 440 Hz). The novelty of frame i is
 * 1 - cos(old, new) between the summed chroma of frames i-W..i-1 (old) and
 * i..i+W-1 (new), W = SM__ONSET_NOV_W, with a small floor added to every class
 * so silence against silence gives 0 and a chord out of silence gives ~1. The
 * sums are taken afresh over a 2W-frame ring each frame (no drift on long
 * files). Amplitude beating and LFOs change the level of the classes, not their
 * proportions, so a held chord scores ~0 and a chord change scores high.
 */
#include "analysis/onset.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <samplemind/alloc.h>

/* Mel band power floor (-100 dB): digital silence gives zero strength. */
#define SM__ONSET_FLOOR 1e-10f
#define SM__ONSET_FLOOR_DB (-100.0f)
/* A band's rise counts up to 30 dB: a hit out of digital silence (or the first
 * frame of a file) must not outweigh the same hit in a running loop tenfold. */
#define SM__ONSET_MAX_RISE 30.0f

/* Picking parameters, in frames (23.2 ms) or fine bins (2.9 ms). */
#define PICK_AVG_FRAMES 5        /* +-116 ms moving mean */
#define PICK_DELTA_REL 0.06      /* of the largest strength */
#define PICK_DELTA_ABS 0.5       /* dB per band: above random flux of steady noise */
#define PICK_MIN_GAP_S 0.030
#define PICK_QUIET_ABS 3.1623e-4 /* -70 dBFS RMS */
#define PICK_QUIET_REL 3.1623e-3 /* -50 dB below the loudest fine bin */
/* Search region for the refinement, in samples relative to the frame centre. */
#define REFINE_BEFORE 640
#define REFINE_AFTER 1344
#define REFINE_BASE_BINS 8       /* fine bins looked back for the baseline */
#define REFINE_START_FRAC 0.1f   /* the rise starts where it leaves the baseline */

/* Chroma bins and their pitch classes (built once). */
#define CHROMA_BIN_LO 8
#define CHROMA_BIN_HI 186 /* exclusive */
#define CHROMA_FLOOR 1e-3f /* per class and frame, of a unit-length chroma */
/* Frames whose chroma is shorter than this (FFT magnitude units, about -70 dBFS
 * for a tone) are scaled as if they had this length. */
#define CHROMA_QUIET 0.2f
static unsigned char chroma_pc[CHROMA_BIN_HI];
static pthread_once_t chroma_once = PTHREAD_ONCE_INIT;

static void chroma_build(void)
{
    for (size_t k = CHROMA_BIN_LO; k < CHROMA_BIN_HI; k++) {
        double midi = 69.0 + 12.0 * log2(sm__bin_hz(k) / 440.0);
        long m = lround(midi);
        chroma_pc[k] = (unsigned char)(((m % 12) + 12) % 12);
    }
}

/* log2(x) for finite positive normal x, accurate to 1e-4 (0.0003 dB after
 * scaling). Written without branches or libm so the band loop vectorises. */
static inline float fast_log2(float x)
{
    union {
        float f;
        uint32_t u;
    } v = {.f = x};
    float e = (float)(int32_t)((v.u >> 23) & 255u) - 127.0f;
    v.u = (v.u & 0x007FFFFFu) | 0x3F800000u;
    float m = v.f;
    /* ln(m) on [1, 2), then to log2. */
    float p = -0.056570851f * m + 0.44717955f;
    p = p * m - 1.4699568f;
    p = p * m + 2.8212026f;
    p = p * m - 1.7417939f;
    return e + p * 1.44269504f;
}

/* x limited to [SM__ONSET_FLOOR, 1e30]; NaN and +inf give 1e30, negative values
 * and -inf the floor. Done on the bit patterns (which order like the values for
 * non-negative floats, with NaN above +inf) so the loop has no branch. */
static inline float clamp_power(float x)
{
    union {
        float f;
        int32_t i;
    } v = {.f = x}, lo = {.f = SM__ONSET_FLOOR}, hi = {.f = 1e30f};
    int32_t i = v.i > lo.i ? v.i : lo.i; /* negative floats are negative ints */
    i = i < hi.i ? i : hi.i;
    v.i = i;
    return v.f;
}

void sm__onset_init(struct sm__onset *o)
{
    struct sm__fvec empty = SM__FVEC_INIT;
    o->odf = empty;
    for (size_t i = 0; i < SM__ONSET_NBANDS; i++)
        o->band[i] = empty;
    o->chroma_nov = empty;
    o->note_nov = empty;
    memset(o->ring, 0, sizeof(o->ring));
    memset(o->head, 0, sizeof(o->head));
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        o->first_db[b] = SM__ONSET_FLOOR_DB;
    o->frames = 0;
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        o->prev[b] = SM__ONSET_FLOOR_DB;
    o->have_prev = 0;
}

void sm__onset_release(struct sm__onset *o)
{
    sm__fvec_release(&o->odf);
    for (size_t i = 0; i < SM__ONSET_NBANDS; i++)
        sm__fvec_release(&o->band[i]);
    sm__fvec_release(&o->chroma_nov);
    sm__fvec_release(&o->note_nov);
    sm__onset_init(o);
}

/* Sum of the chroma of w frames of the ring, starting back frames before the
 * newest one, plus the floor. */
static void window_sums(const struct sm__onset *o, size_t back, size_t w, float *out)
{
    const size_t w2 = 2 * SM__ONSET_NOV_W;
    for (size_t p = 0; p < 12; p++)
        out[p] = (float)w * CHROMA_FLOOR;
    for (size_t j = back; j < back + w && j < o->frames; j++) {
        const float *src = o->ring[(o->frames - 1 - j) % w2];
        for (size_t p = 0; p < 12; p++)
            out[p] += src[p];
    }
}

/* 1 - cos(a, b), in 0..1 for non-negative vectors. */
static float cos_distance(const float *a, const float *b)
{
    float dot = 0.0f;
    float na = 0.0f;
    float nb = 0.0f;
    for (size_t p = 0; p < 12; p++) {
        dot += a[p] * b[p];
        na += a[p] * a[p];
        nb += b[p] * b[p];
    }
    float den = sqrtf(na * nb);
    float d = den > 0.0f ? 1.0f - dot / den : 0.0f;
    return d > 0.0f ? d : 0.0f;
}

/* The rise of the profile of b over that of a (both scaled to unit length):
 * the sum of the positive differences, in 0..1 for non-negative vectors
 * (half the Manhattan distance bounds it by sqrt(12) / 2; capped at 1). */
static float rise(const float *a, const float *b)
{
    float na = 0.0f;
    float nb = 0.0f;
    for (size_t p = 0; p < 12; p++) {
        na += a[p] * a[p];
        nb += b[p] * b[p];
    }
    if (!(na > 0.0f) || !(nb > 0.0f))
        return 0.0f;
    float ia = 1.0f / sqrtf(na);
    float ib = 1.0f / sqrtf(nb);
    float r = 0.0f;
    for (size_t p = 0; p < 12; p++) {
        float d = b[p] * ib - a[p] * ia;
        r += d > 0.0f ? d : 0.0f;
    }
    return r < 1.0f ? r : 1.0f;
}

/* Adds frame f's chroma to the ring and appends the novelty of the frame
 * SM__ONSET_NOV_W - 1 frames back (room is reserved by the caller). */
static void chroma_step(struct sm__onset *o, const struct sm__frame *f)
{
    float c[12] = {0.0f};
    if (f->mag) {
        pthread_once(&chroma_once, chroma_build);
        for (size_t k = CHROMA_BIN_LO; k < CHROMA_BIN_HI; k++) {
            float m = f->mag[k];
            c[chroma_pc[k]] += m >= 0.0f && m < 1e30f ? m : 0.0f;
        }
    }
    /* Each frame's chroma counts by its shape, not its level: unit length, or
     * less for frames quieter than CHROMA_QUIET (they fade towards zero). */
    float e = 0.0f;
    for (size_t p = 0; p < 12; p++)
        e += c[p] * c[p];
    e = sqrtf(e);
    float inv = 1.0f / (e > CHROMA_QUIET ? e : CHROMA_QUIET);
    for (size_t p = 0; p < 12; p++)
        c[p] *= inv;
    const size_t w2 = 2 * SM__ONSET_NOV_W;
    memcpy(o->ring[o->frames % w2], c, sizeof(c));
    if (o->frames < SM__ONSET_NOV_W) {
        for (size_t p = 0; p < 12; p++)
            o->head[p] += c[p];
    }
    o->frames++;
    if (o->frames >= SM__ONSET_NOTE_W) {
        float no[12];
        float nn[12];
        window_sums(o, 0, SM__ONSET_NOTE_W, nn);
        window_sums(o, SM__ONSET_NOTE_W, SM__ONSET_NOTE_W, no);
        o->note_nov.v[o->note_nov.n++] = rise(no, nn);
    }
    if (o->frames < SM__ONSET_NOV_W)
        return;
    /* Newer half: the last W frames; older half: the W before them. */
    float so[12];
    float sn[12];
    window_sums(o, 0, SM__ONSET_NOV_W, sn);
    window_sums(o, SM__ONSET_NOV_W, SM__ONSET_NOV_W, so);
    o->chroma_nov.v[o->chroma_nov.n++] = cos_distance(so, sn);
}

float sm__onset_wrap_novelty(const struct sm__onset *o)
{
    if (o->frames < 2 * SM__ONSET_NOV_W)
        return 0.0f;
    float tail[12];
    float head[12];
    window_sums(o, 0, SM__ONSET_NOV_W, tail);
    for (size_t p = 0; p < 12; p++)
        head[p] = o->head[p] + SM__ONSET_NOV_W * CHROMA_FLOOR;
    return cos_distance(tail, head);
}

/* 10^(db / 10) for the dB values of onset_process. */
static inline float db_power(float db)
{
    return exp2f(db * 0.332192809f);
}

/* sqrt(sum of the powers of mel bands lo..hi-1) of log mel powers db. */
static float band_amp(const float *db, size_t lo, size_t hi)
{
    float s = 0.0f;
    for (size_t b = lo; b < hi; b++)
        s += db_power(db[b]);
    return sqrtf(s);
}

/* The strengths of cur (log mel powers) over p (the previous frame's): the
 * return value is the sum over all mel bands of the capped rises over the
 * maximum of p across neighbouring bands (SuperFlux); band[] gets the mean
 * rise of the low and high bands and the snare detector (top of this file). */
static float band_rises(const float *cur, const float *p, float *band)
{
    float ref[SM_AN_NMEL];
    ref[0] = p[0] > p[1] ? p[0] : p[1];
    for (size_t b = 1; b + 1 < SM_AN_NMEL; b++) {
        float r = p[b - 1] > p[b] ? p[b - 1] : p[b];
        ref[b] = r > p[b + 1] ? r : p[b + 1];
    }
    ref[SM_AN_NMEL - 1] = p[SM_AN_NMEL - 2] > p[SM_AN_NMEL - 1] ? p[SM_AN_NMEL - 2]
                                                                : p[SM_AN_NMEL - 1];
    float rise[SM_AN_NMEL];
    for (size_t b = 0; b < SM_AN_NMEL; b++) {
        float d = cur[b] - ref[b];
        d = d > 0.0f ? d : 0.0f;
        rise[b] = d < SM__ONSET_MAX_RISE ? d : SM__ONSET_MAX_RISE;
    }
    float lo = 0.0f;
    float mid = 0.0f;
    float hi = 0.0f;
    for (size_t b = 0; b < SM__ONSET_LOW_END; b++)
        lo += rise[b];
    for (size_t b = SM__ONSET_LOW_END; b < SM__ONSET_HIGH_FIRST; b++)
        mid += rise[b];
    for (size_t b = SM__ONSET_HIGH_FIRST; b < SM_AN_NMEL; b++)
        hi += rise[b];
    band[SM__ONSET_LOW] = lo * (1.0f / SM__ONSET_LOW_END);
    band[SM__ONSET_HIGH] = hi * (1.0f / (SM_AN_NMEL - SM__ONSET_HIGH_FIRST));
    float ds = band_amp(cur, SM__ONSET_SNARE_FIRST, SM__ONSET_HIGH_FIRST) -
               band_amp(p, SM__ONSET_SNARE_FIRST, SM__ONSET_HIGH_FIRST);
    float dl = band_amp(cur, 0, SM__ONSET_KICK_END) - band_amp(p, 0, SM__ONSET_KICK_END);
    ds = ds > 0.0f ? ds : 0.0f;
    dl = dl > 0.0f ? dl : 0.0f;
    band[SM__ONSET_SNARE] = ds > 0.0f ? ds * ds / (ds + dl) : 0.0f;
    return lo + mid + hi;
}

void sm__onset_wrap_rise(const struct sm__onset *o, float *odf, float *band)
{
    for (size_t i = 0; i < SM__ONSET_NBANDS; i++)
        band[i] = 0.0f;
    *odf = 0.0f;
    if (o->odf.n > 0)
        *odf = band_rises(o->first_db, o->prev, band) * (1.0f / SM_AN_NMEL);
}

int sm__onset_process(struct sm__onset *o, const struct sm__frame *f)
{
    float cur[SM_AN_NMEL];
    const float *mel = f->mel;
    /* 10 * log10(x) = 3.0103 * log2(x); NaN and tiny values go to the floor. */
    for (size_t b = 0; b < SM_AN_NMEL; b++)
        cur[b] = 3.01029996f * fast_log2(clamp_power(mel[b]));
    float sb[SM__ONSET_NBANDS];
    float s = band_rises(cur, o->prev, sb);
    /* Reserve first so that on failure the state is unchanged and the frame
     * can be offered again. */
    size_t want = o->odf.n + 1;
    for (size_t i = 0; i < SM__ONSET_NBANDS; i++) {
        if (sm__fvec_reserve(&o->band[i], want))
            return -1;
    }
    if (sm__fvec_reserve(&o->chroma_nov, want) || sm__fvec_reserve(&o->note_nov, want) ||
        sm__fvec_push(&o->odf, s * (1.0f / SM_AN_NMEL)))
        return -1;
    for (size_t i = 0; i < SM__ONSET_NBANDS; i++)
        o->band[i].v[o->band[i].n++] = sb[i];
    if (o->odf.n == 1)
        memcpy(o->first_db, cur, sizeof(cur));
    memcpy(o->prev, cur, sizeof(cur));
    o->have_prev = 1;
    chroma_step(o, f);
    return 0;
}

/* Fine bin index of sample position pos (clamped to 0 .. n_fine). */
static size_t fine_index(long pos, size_t n_fine)
{
    if (pos <= 0)
        return 0;
    size_t j = (size_t)pos / SM_AN_FINE_HOP;
    return j < n_fine ? j : n_fine;
}

/* The refined onset time in seconds of candidate frame i, or a negative value
 * when the fine envelope there is too quiet. */
static double refine(size_t i, const float *fine, size_t n_fine, float quiet)
{
    long centre = (long)i * SM_AN_HOP;
    size_t lo = fine_index(centre - REFINE_BEFORE, n_fine);
    size_t hi = fine_index(centre + REFINE_AFTER, n_fine);
    if (hi >= n_fine)
        hi = n_fine - 1;
    if (lo > hi)
        return -1.0;
    float peak = 0.0f;
    for (size_t j = lo; j <= hi; j++)
        peak = fine[j] > peak ? fine[j] : peak;
    if (!(peak >= quiet))
        return -1.0;
    /* The strongest rise; a rise out of bin lo - 1 counts (its value is known). */
    size_t jm = lo;
    float best = lo > 0 ? fine[lo] - fine[lo - 1] : fine[lo];
    for (size_t j = lo + 1; j <= hi; j++) {
        float d = fine[j] - fine[j - 1];
        if (d > best) {
            best = d;
            jm = j;
        }
    }
    if (!(best > 0.0f))
        return (double)centre / SM_AN_RATE;
    /* Baseline: the lowest value just before the rise. */
    size_t b0 = jm > REFINE_BASE_BINS ? jm - REFINE_BASE_BINS : 0;
    float base = fine[jm];
    for (size_t j = b0; j < jm; j++)
        base = fine[j] < base ? fine[j] : base;
    float start = base + REFINE_START_FRAC * (fine[jm] - base);
    size_t k = jm;
    while (k > b0 && fine[k - 1] < fine[k] && fine[k - 1] > start)
        k--;
    return (double)k * SM_AN_FINE_HOP / SM_AN_RATE;
}

float sm__onset_first(const float *odf, size_t n)
{
    if (n == 0)
        return 0.0f;
    float mx = SM__ONSET_FIRST_MIN;
    for (size_t i = 1; i < n; i++)
        mx = odf[i] > mx ? odf[i] : mx;
    float v = odf[0] > 0.0f ? odf[0] : 0.0f;
    return v < mx ? v : mx;
}

int sm__onset_pick(const struct sm__onset *o, const float *fine, size_t n_fine,
                   struct sm__fvec *times)
{
    size_t n = o->odf.n;
    const float *x = o->odf.v;
    if (n == 0)
        return 0;
    double mx = 0.0;
    for (size_t i = 1; i < n; i++)
        mx = (double)x[i] > mx ? (double)x[i] : mx;
    float first = sm__onset_first(x, n);
    mx = (double)first > mx ? (double)first : mx;
    if (!(mx > 0.0))
        return 0;
    float fine_max = 0.0f;
    for (size_t j = 0; j < n_fine; j++)
        fine_max = fine[j] > fine_max ? fine[j] : fine_max;
    if (n_fine > 0 && !(fine_max >= (float)PICK_QUIET_ABS))
        return 0;
    float quiet = (float)PICK_QUIET_REL * fine_max;
    quiet = quiet > (float)PICK_QUIET_ABS ? quiet : (float)PICK_QUIET_ABS;
    double delta = PICK_DELTA_REL * mx + PICK_DELTA_ABS;

    /* Running sum for the moving mean. */
    double win = 0.0;
    size_t wlo = 0;
    size_t whi = 0; /* window is [wlo, whi) */
    double last = -1.0;
    for (size_t i = 0; i < n; i++) {
        size_t want_lo = i > PICK_AVG_FRAMES ? i - PICK_AVG_FRAMES : 0;
        size_t want_hi = i + PICK_AVG_FRAMES + 1 < n ? i + PICK_AVG_FRAMES + 1 : n;
        while (whi < want_hi) {
            win += whi == 0 ? (double)first : (double)x[whi];
            whi++;
        }
        while (wlo < want_lo) {
            win -= wlo == 0 ? (double)first : (double)x[wlo];
            wlo++;
        }
        float v = i == 0 ? first : x[i];
        if (i > 0 && !(v > x[i - 1]))
            continue;
        if (i + 1 < n && v < x[i + 1])
            continue;
        /* The mean of the neighbourhood without the frame itself. */
        size_t cnt = whi - wlo - 1;
        double mean = cnt ? (win - (double)v) / (double)cnt : 0.0;
        if (!((double)v >= mean + delta))
            continue;
        double t = (double)i * SM_AN_HOP / SM_AN_RATE;
        if (n_fine > 0) {
            t = refine(i, fine, n_fine, quiet);
            if (t < 0.0)
                continue;
        }
        if (last >= 0.0 && t - last < PICK_MIN_GAP_S)
            continue;
        if (sm__fvec_push(times, (float)t))
            return -1;
        last = t;
    }
    return 0;
}
