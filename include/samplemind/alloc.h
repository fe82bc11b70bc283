/** \file
 * Replaceable allocator. Every allocation in libsamplemind goes through these, so a
 * host can route memory to its own allocator and tests can inject out-of-memory.
 */
#ifndef SAMPLEMIND_ALLOC_H
#define SAMPLEMIND_ALLOC_H

#include <stddef.h>
#include <samplemind/common.h>

typedef void *(*sm_malloc_fn)(size_t size);
typedef void *(*sm_realloc_fn)(void *ptr, size_t size);
typedef void *(*sm_calloc_fn)(size_t count, size_t size);
typedef void (*sm_free_fn)(void *ptr);

/**
 * Replace the allocator. All four must be given, or all NULL to restore the C
 * library's. Call before any other libsamplemind function; not thread-safe.
 */
SM_API void sm_set_allocator(sm_malloc_fn m, sm_realloc_fn r, sm_calloc_fn c, sm_free_fn f);

SM_API void *sm_malloc(size_t size);
SM_API void *sm_calloc(size_t count, size_t size);
SM_API void *sm_realloc(void *ptr, size_t size);
SM_API void sm_free(void *ptr);
/** \return a new copy of \p s (free with sm_free), or NULL when out of memory. */
SM_API char *sm_strdup(const char *s);

#endif
