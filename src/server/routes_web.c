/* The web page: the files of web/, embedded into the binary at build time
 * (web_assets.h), served at "/" (index.html) and "/{asset}".
 *
 * Caching scheme. index.html refers to the other files as "/app.js?v={{/app.js}}";
 * at start the placeholder is replaced by the first 16 hex digits of that file's
 * SHA-256 (its ETag), so the page names a new URL whenever a file changes.
 * - index.html (and "/"): Cache-Control: no-cache, with its own strong ETag, so
 *   every load revalidates and usually gets 304.
 * - an asset requested with ?v= equal to its current version: public, one year,
 *   immutable (the URL changes when the content does).
 * - an asset without ?v= or with a stale one, and sw.js (browsers must see new
 *   service workers): no-cache with the ETag.
 * If-None-Match (a list, weak or strong validators, or "*") gets 304. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <samplemind/alloc.h>

#include "server_int.h"
#include "web_assets.h"

#define ETAG_HEX 16
#define MAX_AGE_IMMUTABLE "public, max-age=31536000, immutable"

struct web {
    char *index;      /* index.html with the version placeholders filled */
    size_t index_len;
    char index_etag[ETAG_HEX + 3];
    const struct sm_web_asset *index_asset;
};

static const char *const csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

static const struct sm_web_asset *asset_find(const char *path, size_t len)
{
    for (size_t i = 0; sm_web_assets[i].path; i++) {
        if (strlen(sm_web_assets[i].path) == len && !memcmp(sm_web_assets[i].path, path, len))
            return &sm_web_assets[i];
    }
    return NULL;
}

/* The version of an asset: its ETag without the quotes. */
static void asset_version(const struct sm_web_asset *a, char *out)
{
    size_t n = strlen(a->etag);
    if (n >= 2 && n - 2 <= ETAG_HEX) {
        memcpy(out, a->etag + 1, n - 2);
        out[n - 2] = '\0';
    } else {
        out[0] = '\0';
    }
}

/* Fill the "{{/path}}" placeholders of index.html. \return 0 or -1. */
static int render_index(struct web *w)
{
    const struct sm_web_asset *a = w->index_asset;
    struct sm_sbuf b = SM_SBUF_INIT;
    const char *p = (const char *)a->data;
    const char *end = p + a->size;
    while (p < end) {
        const char *open = NULL;
        for (const char *q = p; q + 1 < end; q++) {
            if (q[0] == '{' && q[1] == '{') {
                open = q;
                break;
            }
        }
        if (!open) {
            sm__sbuf_add(&b, p, (size_t)(end - p));
            break;
        }
        const char *close = NULL;
        for (const char *q = open + 2; q + 1 < end && q - open < 200; q++) {
            if (q[0] == '}' && q[1] == '}') {
                close = q;
                break;
            }
        }
        if (!close) {
            sm__sbuf_add(&b, p, (size_t)(end - p));
            break;
        }
        sm__sbuf_add(&b, p, (size_t)(open - p));
        const struct sm_web_asset *ref = asset_find(open + 2, (size_t)(close - open - 2));
        if (ref) {
            char v[ETAG_HEX + 1];
            asset_version(ref, v);
            sm__sbuf_add(&b, v, strlen(v));
        }
        p = close + 2;
    }
    if (b.oom || !b.p) {
        sm__sbuf_release(&b);
        return -1;
    }
    unsigned char h[8];
    crypto_generichash(h, sizeof(h), (const unsigned char *)b.p, b.n, NULL, 0);
    char hex[2 * sizeof(h) + 1];
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(w->index_etag, sizeof(w->index_etag), "\"%s\"", hex);
    w->index = b.p;
    w->index_len = b.n;
    return 0;
}

/* True when the If-None-Match header \p inm names \p etag (weak comparison). */
static bool etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *stop = p;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if ((size_t)(stop - start) == elen && !memcmp(start, etag, elen))
            return true;
    }
    return false;
}

/* Replace the server's default Cache-Control of the reply just set. */
static void set_cache_control(sm_req *req, const char *value)
{
    if (!req->resp)
        return;
    MHD_del_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CACHE_CONTROL, value);
}

static int send_bytes(sm_req *req, const char *type, const void *data, size_t len,
                      const char *etag, const char *cache_control, bool html)
{
    sm__req_header_add(req, MHD_HTTP_HEADER_ETAG, etag);
    sm__req_header_add(req, "X-Content-Type-Options", "nosniff");
    if (html) {
        sm__req_header_add(req, "Content-Security-Policy", csp);
        sm__req_header_add(req, "Referrer-Policy", "no-referrer");
    }
    const char *inm = sm__req_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && etag_matches(inm, etag))
        sm__req_reply_data(req, 304, type, "", 0);
    else
        sm__req_reply_data(req, 200, type, data, len);
    set_cache_control(req, cache_control);
    return SM_SRV_DONE;
}

static int send_index(sm_req *req, struct web *w)
{
    return send_bytes(req, w->index_asset->content_type, w->index, w->index_len, w->index_etag,
                      "no-cache", true);
}

static int get_root(sm_req *req, void *userdata)
{
    struct web *w = userdata;
    if (!w->index)
        return sm__req_error(req, 404, "not_found", "this build has no web page");
    return send_index(req, w);
}

static int get_asset(sm_req *req, void *userdata)
{
    struct web *w = userdata;
    const char *name = sm__req_param(req, "asset");
    char path[256];
    int n = snprintf(path, sizeof(path), "/%s", name ? name : "");
    const struct sm_web_asset *a =
        n > 0 && (size_t)n < sizeof(path) ? asset_find(path, (size_t)n) : NULL;
    if (!a)
        return sm__req_error(req, 404, "not_found", "no route for %s", sm__req_path(req));
    if (a == w->index_asset && w->index)
        return send_index(req, w);
    char v[ETAG_HEX + 1];
    asset_version(a, v);
    const char *want = sm__req_query(req, "v");
    bool versioned = want && v[0] && !strcmp(want, v) && strcmp(a->path, "/sw.js");
    return send_bytes(req, a->content_type, a->data, a->size, a->etag,
                      versioned ? MAX_AGE_IMMUTABLE : "no-cache",
                      !strncmp(a->content_type, "text/html", 9));
}

static void web_free(void *userdata)
{
    struct web *w = userdata;
    sm_free(w->index);
    sm_free(w);
}

int sm__routes_web(sm_srv *srv)
{
    struct web *w = sm_calloc(1, sizeof(*w));
    if (!w)
        return -1;
    w->index_asset = asset_find("/index.html", strlen("/index.html"));
    if (w->index_asset && render_index(w)) {
        sm_free(w);
        return -1;
    }
    if (sm__srv_on_stop(srv, web_free, w)) {
        web_free(w);
        return -1;
    }
    return sm__srv_route(srv, "GET", "/", SM_ROUTE_PUBLIC, get_root, w, "The web page") ||
           sm__srv_route(srv, "GET", "/{asset}", SM_ROUTE_PUBLIC, get_asset, w,
                         "A file of the web page (script, style, icon)");
}
