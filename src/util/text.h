/* Small text helpers (internal). */
#ifndef SM_UTIL_TEXT_H
#define SM_UTIL_TEXT_H

#include <stddef.h>

/* Levenshtein distance of a[0..la) and b[0..lb), ASCII letters compared without
 * case, for "did you mean"; 99 when either is longer than 31 bytes. */
size_t sm__edit_distance(const char *a, size_t la, const char *b, size_t lb);

#endif
