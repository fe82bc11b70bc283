/* A growable text buffer for responses and log lines. */
#ifndef SM_SERVER_SBUF_H
#define SM_SERVER_SBUF_H

#include <stdbool.h>
#include <stddef.h>

#include <samplemind/common.h>

struct sm_sbuf {
    char *p;
    size_t n;
    size_t cap;
    bool oom;
};

#define SM_SBUF_INIT {NULL, 0, 0, false}

void sm__sbuf_add(struct sm_sbuf *b, const void *data, size_t len);
/* Append a string literal (its length counted by the compiler). */
#define sm__sbuf_lit(b, lit) sm__sbuf_add((b), "" lit, sizeof(lit) - 1)
void sm__sbuf_addf(struct sm_sbuf *b, const char *fmt, ...) SM_PRINTF(2, 3);
/* Append \p s as a JSON string (quoted); invalid UTF-8 becomes U+FFFD. */
void sm__sbuf_add_json_str(struct sm_sbuf *b, const char *s);
void sm__sbuf_release(struct sm_sbuf *b);

/* The JSON writer of the hot replies (search pages): the same bytes jansson's
 * json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(10)) writes, without building a
 * tree. */
/* Append \p s as a JSON string as jansson writes the json_string of
 * sm__sbuf_utf8_clean(s): invalid UTF-8 becomes U+FFFD (raw bytes); `"`, `\`,
 * \b \f \n \r \t take their short escapes, other bytes below 0x20 \u00XX
 * (upper-case hex); everything else is copied as is. */
void sm__sbuf_add_jstr(struct sm_sbuf *b, const char *s);
/* The same for the \p n bytes at \p s (no NUL among them). */
void sm__sbuf_add_jstrn(struct sm_sbuf *b, const char *s, size_t n);
/* Append \p v as jansson writes a real with JSON_REAL_PRECISION(\p prec) ("%.*g",
 * ".0" after an integral value, the exponent without '+' and leading zeros), or
 * null when \p v is not finite (jansson has no such real). */
void sm__sbuf_add_jreal(struct sm_sbuf *b, double v, int prec);
/* Append a decimal integer. */
void sm__sbuf_add_int(struct sm_sbuf *b, long long v);
/* Write \p v with three decimals, rounded ("12.345", as "%.3f" but without
 * printf: the request path uses it) at \p out (no NUL, at most 20 bytes); negative,
 * non-finite and huge values as "0.000". \return the length. */
size_t sm__fmt_milli(char *out, double v);
void sm__sbuf_add_milli(struct sm_sbuf *b, double v);

/* True when \p s (length \p n) is valid UTF-8 without NUL bytes. */
bool sm__sbuf_utf8_valid(const char *s, size_t n);
/* New copy of \p s with invalid UTF-8 replaced by U+FFFD (sm_free it). */
char *sm__sbuf_utf8_clean(const char *s);

#endif
