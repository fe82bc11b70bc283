#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>

static sm_malloc_fn fn_malloc = malloc;
static sm_realloc_fn fn_realloc = realloc;
static sm_calloc_fn fn_calloc = calloc;
static sm_free_fn fn_free = free;

void sm_set_allocator(sm_malloc_fn m, sm_realloc_fn r, sm_calloc_fn c, sm_free_fn f)
{
    if (m && r && c && f) {
        fn_malloc = m;
        fn_realloc = r;
        fn_calloc = c;
        fn_free = f;
    } else {
        fn_malloc = malloc;
        fn_realloc = realloc;
        fn_calloc = calloc;
        fn_free = free;
    }
}

void *sm_malloc(size_t size)
{
    return fn_malloc(size ? size : 1);
}

void *sm_calloc(size_t count, size_t size)
{
    if (!count || !size)
        return fn_calloc(1, 1);
    return fn_calloc(count, size);
}

void *sm_realloc(void *ptr, size_t size)
{
    return fn_realloc(ptr, size ? size : 1);
}

void sm_free(void *ptr)
{
    if (ptr)
        fn_free(ptr);
}

char *sm_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = sm_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}
