/* Instrument category from the finished descriptors.
 *
 * The audio decides: a small trained model (generated weights in
 * category_model.c) maps SM__CAT_NFEAT standardised descriptors to class
 * probabilities. Words in the path ("Kick_01.wav", "/Snares/") then act as a
 * likelihood factor on the class they name: they confirm the audio, or decide
 * between close calls, but never overrule confident audio. */
#include "analysis/classify.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* How much a path word multiplies the odds of the class it names. */
#define PATH_LIKELIHOOD 8.0
/* Audio at least this confident is never overruled by a path word. */
#define AUDIO_STRONG 0.75

static const char *const feature_names[SM__CAT_NFEAT] = {
    "log_centroid", "centroid_cv", "log_bandwidth", "log_rolloff", "rolloff_cv",
    "flatness_mean", "flatness_std", "log_flux", "flux_cv", "zcr_mean", "zcr_std",
    "rms_cv",
    "contrast0", "contrast1", "contrast2", "contrast3", "contrast4", "contrast5",
    "contrast6",
    "mfcc1", "mfcc2", "mfcc3", "mfcc4", "mfcc5", "mfcc6", "mfcc7", "mfcc8", "mfcc9",
    "mfcc10", "mfcc11", "mfcc12",
    "mfcc_std0", "mfcc_std1", "mfcc_std2", "mfcc_std3", "mfcc_std4", "mfcc_std5",
    "mfcc_std6", "mfcc_std7", "mfcc_std8", "mfcc_std9", "mfcc_std10", "mfcc_std11",
    "mfcc_std12",
    "log_attack", "log_decay", "log_duration", "onset_rate", "loop", "note_conf",
    "note_oct", "chroma_peak", "env_46ms", "env_200ms", "env_800ms", "sustain_frac",
};

const char *sm__category_feature_name(size_t i)
{
    if (i >= SM__CAT_NFEAT)
        return "?";
    return feature_names[i];
}

static float log_pos(double x)
{
    if (!(x > 0.0))
        return NAN;
    return (float)log(x);
}

static float ratio(double num, double den)
{
    if (!(den > 0.0) || isnan(num))
        return NAN;
    return (float)(num / den);
}

/* Level in dB relative to the envelope peak, at frame i (-80 dB floor; past
 * the end counts as silence). */
static float env_db(const sm_analysis *a, size_t i, float peak)
{
    if (i >= a->n_rms_env)
        return -80.0f;
    float v = a->rms_env[i];
    if (!(v > peak * 1e-4f))
        return -80.0f;
    return 20.0f * log10f(v / peak);
}

void sm__category_features(const sm_analysis *a, float *out)
{
    const sm_stat *s = a->spectral;
    size_t k = 0;
    out[k++] = log_pos(s[SM_SPEC_CENTROID].mean);
    out[k++] = ratio(s[SM_SPEC_CENTROID].std, s[SM_SPEC_CENTROID].mean);
    out[k++] = log_pos(s[SM_SPEC_BANDWIDTH].mean);
    out[k++] = log_pos(s[SM_SPEC_ROLLOFF].mean);
    out[k++] = ratio(s[SM_SPEC_ROLLOFF].std, s[SM_SPEC_ROLLOFF].mean);
    out[k++] = (float)s[SM_SPEC_FLATNESS].mean;
    out[k++] = (float)s[SM_SPEC_FLATNESS].std;
    out[k++] = log_pos(s[SM_SPEC_FLUX].mean);
    out[k++] = ratio(s[SM_SPEC_FLUX].std, s[SM_SPEC_FLUX].mean);
    out[k++] = (float)s[SM_SPEC_ZCR].mean;
    out[k++] = (float)s[SM_SPEC_ZCR].std;
    out[k++] = ratio(s[SM_SPEC_RMS].std, s[SM_SPEC_RMS].mean);
    for (size_t i = 0; i < SM_CONTRAST_BANDS; i++)
        out[k++] = (float)a->contrast[i].mean;
    for (size_t i = 1; i < SM_MFCC_COUNT; i++)
        out[k++] = (float)a->mfcc_mean[i];
    for (size_t i = 0; i < SM_MFCC_COUNT; i++)
        out[k++] = (float)a->mfcc_std[i];
    out[k++] = isnan(a->attack_ms) ? NAN : (float)log1p(fmax(a->attack_ms, 0.0));
    /* A sound that never decays by 20 dB decays "at the end of the file". */
    double decay = a->decay_ms;
    if (isnan(decay) && a->duration > 0.0)
        decay = a->duration * 1000.0;
    out[k++] = isnan(decay) ? NAN : (float)log1p(fmax(decay, 0.0));
    out[k++] = log_pos(a->duration);
    out[k++] = a->duration > 0.0 ? (float)((double)a->n_onsets / a->duration) : NAN;
    out[k++] = a->loop ? 1.0f : 0.0f;
    out[k++] = a->has_note && !isnan(a->note_confidence) ? (float)a->note_confidence
                                                          : 0.0f;
    out[k++] = a->has_note && a->note_hz > 0.0 ? (float)log2(a->note_hz / 110.0) : NAN;

    double cmax = 0.0;
    double csum = 0.0;
    int cdef = 1;
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++) {
        if (isnan(a->chroma[i]))
            cdef = 0;
        else {
            csum += a->chroma[i];
            cmax = fmax(cmax, a->chroma[i]);
        }
    }
    out[k++] = cdef && csum > 0.0 ? (float)(cmax * SM_CHROMA_COUNT / csum) : NAN;

    /* The RMS envelope after its peak: how fast and how far the sound falls. */
    float peak = 0.0f;
    size_t ipeak = 0;
    for (size_t i = 0; i < a->n_rms_env; i++) {
        if (a->rms_env[i] > peak) {
            peak = a->rms_env[i];
            ipeak = i;
        }
    }
    if (peak > 1e-7f) {
        out[k++] = env_db(a, ipeak + 2, peak);
        out[k++] = env_db(a, ipeak + 9, peak);
        out[k++] = env_db(a, ipeak + 34, peak);
        size_t n_loud = 0;
        for (size_t i = 0; i < a->n_rms_env; i++)
            n_loud += a->rms_env[i] >= peak * 0.1f;
        out[k++] = (float)n_loud / (float)a->n_rms_env;
    } else {
        for (int i = 0; i < 4; i++)
            out[k++] = NAN;
    }
}

/* True when the analysis holds no usable signal (silence or no frames). */
static int no_signal(const sm_analysis *a)
{
    if (isnan(a->spectral[SM_SPEC_CENTROID].mean))
        return 1;
    float peak = 0.0f;
    for (size_t i = 0; i < a->n_rms_env; i++)
        peak = fmaxf(peak, a->rms_env[i]);
    return a->n_rms_env > 0 && !(peak > 1e-6f);
}

static void softmax(double *z, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, z[i]);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        z[i] = exp(z[i] - m);
        sum += z[i];
    }
    for (size_t i = 0; i < n; i++)
        z[i] /= sum;
}

static void model_probs(const struct sm__category_model *m, const float *raw, double *p)
{
    double x[SM__CAT_NFEAT];
    for (size_t i = 0; i < SM__CAT_NFEAT; i++) {
        double v = ((double)raw[i] - (double)m->feat_mean[i]) / (double)m->feat_scale[i];
        /* Undefined means "typical"; extreme values are clipped. */
        if (isnan(v))
            v = 0.0;
        x[i] = fmin(fmax(v, -8.0), 8.0);
    }
    double h[256];
    const double *in = x;
    size_t n_in = SM__CAT_NFEAT;
    if (m->n_hidden > 0) {
        size_t nh = (size_t)m->n_hidden;
        for (size_t j = 0; j < nh; j++) {
            double acc = (double)m->b1[j];
            const float *w = m->w1 + j * SM__CAT_NFEAT;
            for (size_t i = 0; i < SM__CAT_NFEAT; i++)
                acc += (double)w[i] * x[i];
            h[j] = tanh(acc);
        }
        in = h;
        n_in = nh;
    }
    for (size_t c = 0; c < SM_CAT_COUNT; c++) {
        double acc = (double)m->b2[c];
        const float *w = m->w2 + c * n_in;
        for (size_t i = 0; i < n_in; i++)
            acc += (double)w[i] * in[i];
        p[c] = acc;
    }
    softmax(p, SM_CAT_COUNT);
}

/* Hand-written scores, used only while no trained model is present. */
static void rule_probs(const sm_analysis *a, const float *f, double *p)
{
    double z[SM_CAT_COUNT];
    for (size_t c = 0; c < SM_CAT_COUNT; c++)
        z[c] = 0.0;
    double cent = isnan(f[0]) ? 1000.0 : exp((double)f[0]);
    double flat = isnan(f[5]) ? 0.1 : (double)f[5];
    double decay = isnan(f[45]) ? 500.0 : expm1((double)f[45]);
    int tonal = a->has_note;
    double lc = log2(cent / 1000.0);
    z[SM_CAT_KICK] = 1.0 - 0.5 * (lc + 3.5) * (lc + 3.5) - (decay > 800.0 ? 2.0 : 0.0)
                     - 4.0 * flat;
    z[SM_CAT_HIHAT_CLOSED] = -1.5 * (lc - 2.8) * (lc - 2.8) + 4.0 * flat
                             - (decay > 250.0 ? 2.0 : 0.0);
    z[SM_CAT_HIHAT_OPEN] = -1.5 * (lc - 2.8) * (lc - 2.8) + 4.0 * flat
                           - (decay < 250.0 || decay > 900.0 ? 2.0 : 0.0);
    z[SM_CAT_CYMBAL] = -1.5 * (lc - 2.5) * (lc - 2.5) + 4.0 * flat
                       - (decay < 800.0 ? 2.0 : 0.0);
    z[SM_CAT_SNARE] = -1.5 * (lc - 1.0) * (lc - 1.0) + 2.0 * flat
                      - (decay > 600.0 ? 2.0 : 0.0);
    z[SM_CAT_BASS] = tonal && a->note_hz < 150.0 && decay > 400.0 ? 2.0 : -3.0;
    z[SM_CAT_SYNTH] = tonal && a->note_hz >= 150.0 ? 1.0 : -2.0;
    z[SM_CAT_PAD] = tonal && decay > 1500.0 ? 1.2 : -2.5;
    z[SM_CAT_FX] = -1.0;
    z[SM_CAT_OTHER] = -1.5;
    for (size_t c = 0; c < SM_CAT_COUNT; c++) {
        if (z[c] > 0.0 || z[c] < 0.0)
            continue;
        z[c] = -3.0;
    }
    for (size_t c = 0; c < SM_CAT_COUNT; c++)
        p[c] = z[c];
    softmax(p, SM_CAT_COUNT);
}

int sm__category_audio_probs(const sm_analysis *a, double *p)
{
    if (no_signal(a)) {
        for (size_t c = 0; c < SM_CAT_COUNT; c++)
            p[c] = 1.0 / SM_CAT_COUNT;
        return -1;
    }
    float f[SM__CAT_NFEAT];
    sm__category_features(a, f);
    const struct sm__category_model *m = &sm__category_model;
    if (m->trained && m->feat_version == SM__CAT_FEAT_VERSION
        && m->n_feat == SM__CAT_NFEAT && m->n_hidden <= 256)
        model_probs(m, f, p);
    else
        rule_probs(a, f, p);
    for (size_t c = 0; c < SM_CAT_COUNT; c++) {
        if (isnan(p[c]))
            p[c] = 0.0;
    }
    return 0;
}

static const char *const cat_names[SM_CAT_COUNT] = {
#define SM__CAT_NAME(id, num, name) [num] = name,
    SM_CATEGORY_MAP(SM__CAT_NAME)
#undef SM__CAT_NAME
};

/* ---- Path words. ---- */

struct word {
    const char *w;
    int cat;
};

static const struct word words[] = {
    {"kick", SM_CAT_KICK}, {"kck", SM_CAT_KICK}, {"kik", SM_CAT_KICK},
    {"bd", SM_CAT_KICK}, {"bassdrum", SM_CAT_KICK}, {"kickdrum", SM_CAT_KICK},
    {"snare", SM_CAT_SNARE}, {"snr", SM_CAT_SNARE}, {"sd", SM_CAT_SNARE},
    {"rimshot", SM_CAT_SNARE}, {"rim", SM_CAT_SNARE},
    {"clap", SM_CAT_CLAP}, {"clp", SM_CAT_CLAP}, {"handclap", SM_CAT_CLAP},
    {"hat", SM_CAT_HIHAT_CLOSED}, {"hihat", SM_CAT_HIHAT_CLOSED},
    {"hh", SM_CAT_HIHAT_CLOSED}, {"chh", SM_CAT_HIHAT_CLOSED},
    {"closedhat", SM_CAT_HIHAT_CLOSED},
    {"oh", SM_CAT_HIHAT_OPEN}, {"ohh", SM_CAT_HIHAT_OPEN}, {"openhat", SM_CAT_HIHAT_OPEN},
    {"cymbal", SM_CAT_CYMBAL}, {"crash", SM_CAT_CYMBAL}, {"ride", SM_CAT_CYMBAL},
    {"china", SM_CAT_CYMBAL}, {"splash", SM_CAT_CYMBAL},
    {"tom", SM_CAT_TOM}, {"floortom", SM_CAT_TOM},
    {"perc", SM_CAT_PERCUSSION}, {"percussion", SM_CAT_PERCUSSION},
    {"shaker", SM_CAT_PERCUSSION}, {"conga", SM_CAT_PERCUSSION},
    {"bongo", SM_CAT_PERCUSSION}, {"cowbell", SM_CAT_PERCUSSION},
    {"tambourine", SM_CAT_PERCUSSION}, {"tamb", SM_CAT_PERCUSSION},
    {"clave", SM_CAT_PERCUSSION}, {"woodblock", SM_CAT_PERCUSSION},
    {"bass", SM_CAT_BASS}, {"808", SM_CAT_BASS}, {"sub", SM_CAT_BASS},
    {"subbass", SM_CAT_BASS}, {"reese", SM_CAT_BASS},
    {"lead", SM_CAT_SYNTH}, {"synth", SM_CAT_SYNTH}, {"arp", SM_CAT_SYNTH},
    {"pluck", SM_CAT_SYNTH},
    {"pad", SM_CAT_PAD}, {"atmosphere", SM_CAT_PAD}, {"drone", SM_CAT_PAD},
    {"keys", SM_CAT_KEYS}, {"piano", SM_CAT_KEYS},
    {"rhodes", SM_CAT_KEYS}, {"ep", SM_CAT_KEYS}, {"organ", SM_CAT_KEYS},
    {"wurli", SM_CAT_KEYS}, {"wurlitzer", SM_CAT_KEYS},
    {"guitar", SM_CAT_GUITAR}, {"gtr", SM_CAT_GUITAR},
    {"strings", SM_CAT_STRINGS}, {"string", SM_CAT_STRINGS},
    {"violin", SM_CAT_STRINGS}, {"viola", SM_CAT_STRINGS}, {"cello", SM_CAT_STRINGS},
    {"brass", SM_CAT_BRASS}, {"horn", SM_CAT_BRASS}, {"sax", SM_CAT_BRASS},
    {"saxophone", SM_CAT_BRASS}, {"trumpet", SM_CAT_BRASS},
    {"trombone", SM_CAT_BRASS}, {"flute", SM_CAT_BRASS}, {"woodwind", SM_CAT_BRASS},
    {"vox", SM_CAT_VOCAL}, {"vocal", SM_CAT_VOCAL}, {"voice", SM_CAT_VOCAL},
    {"chant", SM_CAT_VOCAL}, {"acapella", SM_CAT_VOCAL},
    {"fx", SM_CAT_FX}, {"sfx", SM_CAT_FX}, {"riser", SM_CAT_FX}, {"sweep", SM_CAT_FX},
    {"impact", SM_CAT_FX}, {"downlifter", SM_CAT_FX}, {"uplifter", SM_CAT_FX},
    {"whoosh", SM_CAT_FX},
};

/* Match one lower-case word, also as a plural ("snares", "boxes"). */
static int lookup(const char *w, size_t len)
{
    for (int pass = 0; pass < 3; pass++) {
        size_t n = len;
        if (pass == 1) {
            if (len < 4 || w[len - 1] != 's')
                continue;
            n = len - 1;
        } else if (pass == 2) {
            if (len < 5 || w[len - 1] != 's' || w[len - 2] != 'e')
                continue;
            n = len - 2;
        }
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
            if (strlen(words[i].w) == n && memcmp(words[i].w, w, n) == 0)
                return words[i].cat;
        }
    }
    return -1;
}

/* The category named by one path component [s, e): words split at
 * non-alphanumerics, letter/digit changes and lower-to-upper case changes
 * ("KickDrum01" is kick, drum, 01). "open" with a hat word means an open hat,
 * "bass drum" a kick. */
static int component_category(const char *s, const char *e)
{
    char w[64];
    int first = -1;
    int saw_open = 0;
    int saw_hat = 0;
    int prev_bass = 0;
    const char *p = s;
    while (p < e) {
        while (p < e && !isalnum((unsigned char)*p))
            p++;
        if (p >= e)
            break;
        size_t n = 0;
        const char *q = p;
        int digit = isdigit((unsigned char)*q) != 0;
        while (q < e && isalnum((unsigned char)*q)) {
            int d = isdigit((unsigned char)*q) != 0;
            if (q > p && d != digit)
                break;
            if (q > p && isupper((unsigned char)*q) && islower((unsigned char)q[-1]))
                break;
            if (n + 1 < sizeof(w))
                w[n++] = (char)tolower((unsigned char)*q);
            q++;
        }
        w[n] = '\0';
        p = q;
        int c = lookup(w, n);
        if (prev_bass && strcmp(w, "drum") == 0) {
            first = SM_CAT_KICK;
            prev_bass = 0;
            continue;
        }
        prev_bass = c == SM_CAT_BASS && strcmp(w, "bass") == 0;
        if (strcmp(w, "open") == 0)
            saw_open = 1;
        if (c == SM_CAT_HIHAT_CLOSED || c == SM_CAT_HIHAT_OPEN)
            saw_hat = 1;
        if (c >= 0 && first < 0)
            first = c;
    }
    if (saw_open && saw_hat)
        return SM_CAT_HIHAT_OPEN;
    return first;
}

/* The file name and its nearest folders speak for the sound ("Pack/Drums/Kicks/
 * Kick_01.wav"); folders further up name the user's disk, not the sample
 * ("/home/lead/..." says nothing about a kick). */
#define PATH_FOLDERS 3

int sm__category_from_path(const char *path)
{
    if (!path || !*path)
        return -1;
    const char *end = path + strlen(path);
    /* Drop the extension of the file name. */
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (dot && (!slash || dot > slash))
        end = dot;
    for (int k = 0; k <= PATH_FOLDERS && end > path; k++) {
        const char *s = end;
        while (s > path && s[-1] != '/')
            s--;
        int c = component_category(s, end);
        if (c >= 0)
            return c;
        end = s > path ? s - 1 : path;
    }
    return -1;
}

/* ---- The decision. ---- */

static void top2(const double *q, int *c1, int *c2)
{
    *c1 = 0;
    *c2 = 1;
    for (int c = 0; c < SM_CAT_COUNT; c++) {
        if (q[c] > q[*c1]) {
            *c2 = *c1;
            *c1 = c;
        } else if (c != *c1 && (q[c] > q[*c2] || *c2 == *c1)) {
            *c2 = c;
        }
    }
    if (*c2 == *c1)
        *c2 = *c1 == 0 ? 1 : 0;
}

void sm__category_analyze(sm_analysis *a)
{
    double p[SM_CAT_COUNT];
    int silent = sm__category_audio_probs(a, p) != 0;
    sm__category_decide(a, p, silent, sm__category_from_path(a->path));
}

void sm__category_decide(sm_analysis *a, const double *p, int silent, int cpath)
{
    if (cpath >= SM_CAT_COUNT)
        cpath = -1;
    int a1;
    int a2;
    top2(p, &a1, &a2);
    if (silent) {
        a1 = SM_CAT_OTHER;
        a2 = SM_CAT_OTHER;
    }

    if (cpath < 0) {
        a->category = a1;
        a->category_confidence = silent ? 0.0 : p[a1];
        a->category_runner_up = a2;
        a->category_runner_up_confidence = silent ? 0.0 : p[a2];
        snprintf(a->category_evidence, sizeof(a->category_evidence), "%s",
                 silent ? "audio (no signal)" : "audio");
        return;
    }

    /* The path word multiplies the odds of its class (Bayes with a fixed
     * likelihood ratio); confident audio is never overruled. */
    double q[SM_CAT_COUNT];
    double sum = 0.0;
    for (int c = 0; c < SM_CAT_COUNT; c++) {
        q[c] = p[c] * (c == cpath ? PATH_LIKELIHOOD : 1.0);
        sum += q[c];
    }
    for (int c = 0; c < SM_CAT_COUNT; c++)
        q[c] /= sum;
    int q1;
    int q2;
    top2(q, &q1, &q2);
    if (q1 != a1 && !silent && p[a1] >= AUDIO_STRONG) {
        q1 = a1;
        q2 = cpath;
    }

    a->category = q1;
    a->category_confidence = q[q1];
    a->category_runner_up = q2;
    a->category_runner_up_confidence = q[q2];
    if (q1 == cpath && (silent || q1 != a1)) {
        snprintf(a->category_evidence, sizeof(a->category_evidence),
                 "path overrode weak audio");
    } else if (q1 == cpath) {
        snprintf(a->category_evidence, sizeof(a->category_evidence), "audio+path");
    } else {
        /* The audio stood against the path word. */
        a->category_confidence = p[q1];
        a->category_runner_up_confidence = p[q2];
        snprintf(a->category_evidence, sizeof(a->category_evidence),
                 "audio (path says %s)", cat_names[cpath]);
    }
}
