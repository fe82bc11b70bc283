/* UTF-8 validation (internal). File names on Linux are bytes; JSON and the
 * catalog's text need valid UTF-8. */
#ifndef SM_UTIL_UTF8_H
#define SM_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool sm__utf8_valid(const char *s, size_t n);

/* New copy of s with each invalid byte replaced by U+FFFD (free with sm_free),
 * or NULL when out of memory. */
char *sm__utf8_sanitize(const char *s);

#endif
