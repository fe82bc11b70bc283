/* Growable float array for per-frame envelopes (internal).
 *
 * Invariant: v is NULL or holds cap floats, of which the first n are set.
 * SM__FVEC_INIT is a valid empty vector; release frees the contents.
 */
#ifndef SM_UTIL_VEC_H
#define SM_UTIL_VEC_H

#include <stddef.h>

struct sm__fvec {
    float *v;
    size_t n;
    size_t cap;
};

#define SM__FVEC_INIT {NULL, 0, 0}

/* Append one value. Returns 0, or -1 when out of memory (the vector is unchanged). */
int sm__fvec_push(struct sm__fvec *vec, float x);
/* Make room for at least cap values. Returns 0 or -1. */
int sm__fvec_reserve(struct sm__fvec *vec, size_t cap);
/* Free the contents; the vector is empty and reusable afterwards. */
void sm__fvec_release(struct sm__fvec *vec);
/* Forget the values but keep the memory. */
void sm__fvec_clear(struct sm__fvec *vec);

#endif
