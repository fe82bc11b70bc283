/* A growable text buffer, JSON string escaping and UTF-8 checks. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "sbuf.h"

static bool grow(struct sm_sbuf *b, size_t need)
{
    if (b->oom)
        return false;
    if (b->n + need + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + need + 1)
        cap *= 2;
    char *p = sm_realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void sm__sbuf_add(struct sm_sbuf *b, const void *data, size_t len)
{
    if (!grow(b, len))
        return;
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
}

void sm__sbuf_addf(struct sm_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        sm__sbuf_add(b, tmp, (size_t)n);
    } else if (grow(b, (size_t)n)) {
        vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap2);
        b->n += (size_t)n;
    }
    va_end(ap2);
}

void sm__sbuf_release(struct sm_sbuf *b)
{
    sm_free(b->p);
    b->p = NULL;
    b->n = 0;
    b->cap = 0;
    b->oom = false;
}

/* Length of the valid UTF-8 sequence at \p s (at most \p n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool sm__sbuf_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0)
            return false;
        size_t l = utf8_seq(p + i, n - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

char *sm__sbuf_utf8_clean(const char *s)
{
    struct sm_sbuf b = SM_SBUF_INIT;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    size_t i = 0;
    sm__sbuf_add(&b, "", 0);
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i);
        if (l) {
            sm__sbuf_add(&b, p + i, l);
            i += l;
        } else {
            sm__sbuf_add(&b, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
    if (b.oom) {
        sm__sbuf_release(&b);
        return NULL;
    }
    return b.p;
}

void sm__sbuf_add_json_str(struct sm_sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    size_t i = 0;
    sm__sbuf_add(b, "\"", 1);
    while (i < n) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sm__sbuf_add(b, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sm__sbuf_add(b, e, 6);
            i++;
        } else if (c < 0x80) {
            sm__sbuf_add(b, p + i, 1);
            i++;
        } else {
            size_t l = utf8_seq(p + i, n - i);
            if (l) {
                sm__sbuf_add(b, p + i, l);
                i += l;
            } else {
                sm__sbuf_add(b, "\\ufffd", 6);
                i++;
            }
        }
    }
    sm__sbuf_add(b, "\"", 1);
}

void sm__sbuf_add_jstr(struct sm_sbuf *b, const char *s)
{
    sm__sbuf_add_jstrn(b, s, strlen(s));
}

void sm__sbuf_add_jstrn(struct sm_sbuf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    size_t run = 0; /* start of the bytes copied as they are */
    sm__sbuf_add(b, "\"", 1);
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        size_t l = c >= 0x80 ? utf8_seq(p + i, n - i) : 0;
        if (l) {
            i += l;
            continue;
        }
        sm__sbuf_add(b, p + run, i - run);
        char e[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t en = 2;
        switch (c) {
            case '"':
            case '\\':
                break;
            case '\b':
                e[1] = 'b';
                break;
            case '\f':
                e[1] = 'f';
                break;
            case '\n':
                e[1] = 'n';
                break;
            case '\r':
                e[1] = 'r';
                break;
            case '\t':
                e[1] = 't';
                break;
            default:
                if (c < 0x20) {
                    static const char hex[] = "0123456789ABCDEF";
                    memcpy(e, "\\u00", 4);
                    e[4] = hex[c >> 4];
                    e[5] = hex[c & 15];
                    en = 6;
                } else { /* not UTF-8: U+FFFD */
                    memcpy(e, "\xEF\xBF\xBD", 3);
                    en = 3;
                }
                break;
        }
        sm__sbuf_add(b, e, en);
        i++;
        run = i;
    }
    sm__sbuf_add(b, p + run, n - run);
    sm__sbuf_add(b, "\"", 1);
}

void sm__sbuf_add_jreal(struct sm_sbuf *b, double v, int prec)
{
    if (!isfinite(v)) {
        sm__sbuf_add(b, "null", 4);
        return;
    }
    char t[64];
    int r = snprintf(t, sizeof(t) - 3, "%.*g", prec, v);
    if (r < 0 || (size_t)r >= sizeof(t) - 3) {
        sm__sbuf_add(b, "null", 4);
        return;
    }
    size_t n = (size_t)r;
    char *e = memchr(t, 'e', n);
    if (!e && !memchr(t, '.', n)) {
        memcpy(t + n, ".0", 3);
        n += 2;
    }
    if (e) {
        /* "1e+05" -> "1e5", "1e-05" -> "1e-5" */
        char *d = e + 1;
        char *from = d;
        if (*from == '+' || *from == '-') {
            if (*from == '-')
                d++;
            from++;
        }
        while (*from == '0' && from[1])
            from++;
        size_t tail = n - (size_t)(from - t);
        memmove(d, from, tail + 1);
        n = (size_t)(d - t) + tail;
    }
    sm__sbuf_add(b, t, n);
}

size_t sm__fmt_milli(char *out, double v)
{
    uint64_t m = v > 0 && v < 1e15 ? (uint64_t)(v * 1e3 + 0.5) : 0;
    char t[24];
    char *p = t + sizeof(t);
    for (int i = 0; i < 3; i++, m /= 10)
        *--p = (char)('0' + m % 10);
    *--p = '.';
    do {
        *--p = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    size_t n = (size_t)(t + sizeof(t) - p);
    memcpy(out, p, n);
    return n;
}

void sm__sbuf_add_milli(struct sm_sbuf *b, double v)
{
    char t[24];
    sm__sbuf_add(b, t, sm__fmt_milli(t, v));
}

void sm__sbuf_add_int(struct sm_sbuf *b, long long v)
{
    char t[24];
    char *p = t + sizeof(t);
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    sm__sbuf_add(b, p, (size_t)(t + sizeof(t) - p));
}
