/* The similarity embedding: SM__EMB_DIM standardised, group-weighted
 * statistics, L2-normalised (version SM__EMB_VERSION).
 *
 * Layout (raw statistic, then standardised with the means and scales emitted
 * by sm-train into category_model.c, or the built-in ones below):
 *    0..11  spectral shape: log centroid, centroid cv, log bandwidth,
 *           log roll-off, roll-off cv, flatness mean and std, log flux (of
 *           L1-normalised spectra),
 *           flux cv, zcr mean and std, rms cv
 *   12..18  spectral contrast means      19..25  contrast stds
 *   26..37  MFCC means 1..12             38..50  MFCC stds 0..12
 *   51..62  chroma (max-normalised)
 *   63..71  envelope: log attack, log decay, log duration, onset rate,
 *           level 46 / 200 / 800 ms after the peak (dB), share of loud
 *           frames, loop flag
 * Every statistic is independent of the playback level (MFCC 0 and the mean
 * RMS are left out), so a sound at -6 dB embeds where it does at 0 dB. */
#include "analysis/classify.h"

#include <math.h>
#include <string.h>

#include <samplemind/alloc.h>
#include <samplemind/similarity.h>

/* Group weights: each group's total weight, spread over its members. */
#define W_SPECTRAL 1.0f
#define W_CONTRAST 0.8f
#define W_MFCC_MEAN 1.0f
#define W_MFCC_STD 0.7f
#define W_CHROMA 0.6f
#define W_ENVELOPE 1.0f

/* Built-in standardisation, used until a trained model provides its own:
 * typical values and spreads of each statistic over short samples. */
static const float default_mean[SM__EMB_DIM] = {
    7.5f, 0.5f, 7.5f, 8.2f, 0.5f, 0.2f, 0.1f, -4.0f, 1.0f, 0.1f, 0.05f, 1.0f,
    20.0f, 20.0f, 20.0f, 20.0f, 20.0f, 20.0f, 20.0f,
    5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f,
    0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
    10.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f,
    0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f,
    2.5f, 5.5f, 0.0f, 2.0f, -6.0f, -20.0f, -40.0f, 0.5f, 0.5f,
};

static const float default_scale[SM__EMB_DIM] = {
    1.0f, 0.3f, 0.7f, 1.0f, 0.3f, 0.15f, 0.1f, 1.0f, 0.5f, 0.1f, 0.05f, 0.5f,
    6.0f, 6.0f, 6.0f, 6.0f, 6.0f, 6.0f, 6.0f,
    3.0f, 3.0f, 3.0f, 3.0f, 3.0f, 3.0f, 3.0f,
    20.0f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f,
    10.0f,
    10.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f,
    0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f,
    1.5f, 1.5f, 1.5f, 3.0f, 8.0f, 20.0f, 25.0f, 0.3f, 0.5f,
};

void sm__embedding_raw(const sm_analysis *a, float *out)
{
    float f[SM__CAT_NFEAT];
    sm__category_features(a, f);
    size_t k = 0;
    for (size_t i = 0; i < 12; i++)
        out[k++] = f[i];
    for (size_t i = 0; i < SM_CONTRAST_BANDS; i++)
        out[k++] = f[12 + i];
    for (size_t i = 0; i < SM_CONTRAST_BANDS; i++)
        out[k++] = (float)a->contrast[i].std;
    for (size_t i = 0; i < 25; i++)
        out[k++] = f[19 + i];
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++)
        out[k++] = (float)a->chroma[i];
    for (size_t i = 0; i < 4; i++)
        out[k++] = f[44 + i];
    for (size_t i = 0; i < 4; i++)
        out[k++] = f[52 + i];
    out[k++] = f[48];
}

/* The weight of dimension i: its group's weight over sqrt(group size). */
static float dim_weight(size_t i)
{
    if (i < 12)
        return W_SPECTRAL / sqrtf(12.0f);
    if (i < 26)
        return W_CONTRAST / sqrtf(14.0f);
    if (i < 38)
        return W_MFCC_MEAN / sqrtf(12.0f);
    if (i < 51)
        return W_MFCC_STD / sqrtf(13.0f);
    if (i < 63)
        return W_CHROMA / sqrtf(12.0f);
    return W_ENVELOPE / sqrtf(9.0f);
}

int sm__embedding_compute(sm_analysis *a)
{
    float raw[SM__EMB_DIM];
    sm__embedding_raw(a, raw);
    const struct sm__category_model *m = &sm__category_model;
    const float *mean = default_mean;
    const float *scale = default_scale;
    if (m->emb_mean && m->emb_scale && m->emb_version == SM__EMB_VERSION) {
        mean = m->emb_mean;
        scale = m->emb_scale;
    }

    float *e = a->embedding;
    if (!e || a->embedding_dim != SM__EMB_DIM) {
        sm_free(a->embedding);
        a->embedding = NULL;
        a->embedding_dim = 0;
        e = sm_malloc(SM__EMB_DIM * sizeof(*e));
        if (!e)
            return -1;
    }
    double norm = 0.0;
    for (size_t i = 0; i < SM__EMB_DIM; i++) {
        float z = (raw[i] - mean[i]) / scale[i];
        if (isnan(z))
            z = 0.0f;
        z = fminf(fmaxf(z, -5.0f), 5.0f);
        e[i] = z * dim_weight(i);
        norm += (double)e[i] * (double)e[i];
    }
    if (norm > 1e-20) {
        float inv = (float)(1.0 / sqrt(norm));
        for (size_t i = 0; i < SM__EMB_DIM; i++)
            e[i] *= inv;
    } else {
        /* Nothing distinguishes this sound from the average one: a fixed unit
         * vector, so the embedding is still unit length. */
        float v = 1.0f / sqrtf((float)SM__EMB_DIM);
        for (size_t i = 0; i < SM__EMB_DIM; i++)
            e[i] = v;
    }
    a->embedding = e;
    a->embedding_dim = SM__EMB_DIM;
    a->embedding_version = SM__EMB_VERSION;
    return 0;
}

float sm_embedding_distance(const float *a, const float *b, size_t dim)
{
    if (!a || !b || dim == 0)
        return NAN;
    double ab = 0.0;
    double aa = 0.0;
    double bb = 0.0;
    for (size_t i = 0; i < dim; i++) {
        double x = isnan(a[i]) ? 0.0 : (double)a[i];
        double y = isnan(b[i]) ? 0.0 : (double)b[i];
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if (!(aa > 0.0) || !(bb > 0.0) || isinf(aa) || isinf(bb))
        return 1.0f;
    double d = 1.0 - ab / sqrt(aa * bb);
    return (float)fmin(fmax(d, 0.0), 2.0);
}
