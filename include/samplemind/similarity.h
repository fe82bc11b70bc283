/** \file
 * Similarity between analysed sounds.
 *
 * sm_analysis.embedding is a fixed-length float vector (embedding_dim values,
 * version embedding_version) of standardised spectral, MFCC, chroma and
 * envelope statistics, L2-normalised to unit length. Vectors are comparable
 * only when their embedding_version and embedding_dim are equal.
 *
 *     float d = sm_embedding_distance(a.embedding, b.embedding, a.embedding_dim);
 *     if (d < 0.05f)
 *         puts("probably the same sound");
 */
#ifndef SAMPLEMIND_SIMILARITY_H
#define SAMPLEMIND_SIMILARITY_H

#include <stddef.h>

#include <samplemind/common.h>

/** Version of the embedding computed by this library: its layout and its
 * standardisation (retraining the scales changes every vector, so it bumps
 * the version too). Vectors of different versions are not comparable: the
 * catalog's similarity search only reads rows of this version. */
#define SM_EMBEDDING_VERSION 2

/**
 * Cosine distance between two vectors of \p dim floats: 1 - cos(angle), in
 * 0..2 (0 = same direction, 1 = orthogonal, 2 = opposite). For unit vectors,
 * as the embeddings are, this equals half the squared Euclidean distance.
 * Vectors need not be normalised; a zero vector is at distance 1 from
 * everything. NaN elements are treated as 0.
 * \return the distance, or NaN when \p a or \p b is NULL or \p dim is 0.
 */
SM_API float sm_embedding_distance(const float *a, const float *b, size_t dim);

#endif
