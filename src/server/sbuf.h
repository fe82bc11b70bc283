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
void sm__sbuf_addf(struct sm_sbuf *b, const char *fmt, ...) SM_PRINTF(2, 3);
/* Append \p s as a JSON string (quoted); invalid UTF-8 becomes U+FFFD. */
void sm__sbuf_add_json_str(struct sm_sbuf *b, const char *s);
void sm__sbuf_release(struct sm_sbuf *b);

/* True when \p s (length \p n) is valid UTF-8 without NUL bytes. */
bool sm__sbuf_utf8_valid(const char *s, size_t n);
/* New copy of \p s with invalid UTF-8 replaced by U+FFFD (sm_free it). */
char *sm__sbuf_utf8_clean(const char *s);

#endif
