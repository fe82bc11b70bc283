/* The last stage, over the finished descriptors: instrument category, timbre
 * scalars and the similarity embedding. Each reads only sm_analysis fields.
 *
 * The category model and the embedding's standardisation constants are
 * generated C (category_model.c, written by tools/train = sm-train from the
 * labelled set of `sm-gen labelled`). The feature functions below are the same
 * for training and inference, so the trainer calls them too. */
#ifndef SM_ANALYSIS_CLASSIFY_H
#define SM_ANALYSIS_CLASSIFY_H

#include <stddef.h>

#include <samplemind/analysis.h>
#include <samplemind/similarity.h>

/* Writes category, category_confidence, runner_up and evidence. Audio decides;
 * words in a->path may add evidence, and the evidence text says which did. */
void sm__category_analyze(sm_analysis *a);
/* Writes brightness, warmth, hardness, depth, roughness, boominess (0..100). */
void sm__timbre_analyze(sm_analysis *a);
/* Writes embedding (sm_malloc'd), embedding_dim, embedding_version.
 * Returns 0, or -1 when out of memory. */
int sm__embedding_compute(sm_analysis *a);

/* ---- Category internals (shared with the trainer and the tests). ---- */

/* Number of category features and the version of their definition; a model
 * trained on another version is ignored (the rule fallback is used). */
#define SM__CAT_NFEAT 56
#define SM__CAT_FEAT_VERSION 1

/* Raw (unstandardised) category features of a finished analysis into
 * out[SM__CAT_NFEAT]; NaN where a descriptor is undefined. Reads audio
 * descriptors only, never the path. */
void sm__category_features(const sm_analysis *a, float *out);
/* The feature's short name ("log_centroid"), for the trainer's report. */
const char *sm__category_feature_name(size_t i);
/* Audio-only class probabilities p[SM_CAT_COUNT] (sum 1). Returns 0, or -1
 * when the audio carries no usable signal (p is then uniform). */
int sm__category_audio_probs(const sm_analysis *a, double *p);
/* The decision from audio probabilities p[SM_CAT_COUNT] (silent: the audio
 * had no signal) and the path's category cpath (-1 for none): writes
 * category, confidence, runner-up and evidence. A path word multiplies the
 * odds of its class by 8; audio with p >= 0.75 is never overruled. Evidence
 * is "audio", "audio+path", "path overrode weak audio", or
 * "audio (path says <label>)" when confident audio stood against the path. */
void sm__category_decide(sm_analysis *a, const double *p, int silent, int cpath);
/* The category that the words of \p path name (whole words of the file name,
 * then of the folders, nearest first, case-insensitive, plurals included), or
 * -1 when none does. */
int sm__category_from_path(const char *path);

/* ---- Embedding internals. ---- */

#define SM__EMB_DIM 72
#define SM__EMB_VERSION SM_EMBEDDING_VERSION

/* Raw (unstandardised) embedding statistics into out[SM__EMB_DIM]; NaN where
 * undefined. Level-independent by construction. */
void sm__embedding_raw(const sm_analysis *a, float *out);

/* ---- The generated model (category_model.c). ---- */

struct sm__category_model {
    int trained;          /* 0: no weights; category uses its rule fallback */
    int feat_version;     /* SM__CAT_FEAT_VERSION it was trained with */
    int n_feat;           /* SM__CAT_NFEAT */
    int n_hidden;         /* 0: linear softmax; else one tanh hidden layer */
    const float *feat_mean;  /* n_feat */
    const float *feat_scale; /* n_feat; x' = (x - mean) / scale */
    const float *w1;      /* n_hidden x n_feat (row major), NULL if n_hidden 0 */
    const float *b1;      /* n_hidden */
    const float *w2;      /* SM_CAT_COUNT x (n_hidden ? n_hidden : n_feat) */
    const float *b2;      /* SM_CAT_COUNT */
    int emb_version;      /* SM__EMB_VERSION the embedding constants are for */
    const float *emb_mean;   /* SM__EMB_DIM, or NULL for the built-in scales */
    const float *emb_scale;  /* SM__EMB_DIM */
};

extern const struct sm__category_model sm__category_model;

#endif
