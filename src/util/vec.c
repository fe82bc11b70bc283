#include "util/vec.h"

#include <samplemind/alloc.h>

int sm__fvec_reserve(struct sm__fvec *vec, size_t cap)
{
    if (cap <= vec->cap)
        return 0;
    size_t ncap = vec->cap ? vec->cap : 64;
    while (ncap < cap)
        ncap *= 2;
    float *nv = sm_realloc(vec->v, ncap * sizeof(*nv));
    if (!nv)
        return -1;
    vec->v = nv;
    vec->cap = ncap;
    return 0;
}

int sm__fvec_push(struct sm__fvec *vec, float x)
{
    if (vec->n == vec->cap && sm__fvec_reserve(vec, vec->n + 1) != 0)
        return -1;
    vec->v[vec->n++] = x;
    return 0;
}

void sm__fvec_release(struct sm__fvec *vec)
{
    sm_free(vec->v);
    vec->v = NULL;
    vec->n = 0;
    vec->cap = 0;
}

void sm__fvec_clear(struct sm__fvec *vec)
{
    vec->n = 0;
}
