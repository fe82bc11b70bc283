/* The HTTP server: libmicrohttpd glue, dispatch, replies, answer-later, access log.
 *
 * libmicrohttpd calls on_access several times per request: once when the headers
 * are in (we match the route and check the token), once per body chunk, and once
 * more at the end, where the handler runs. Replies are queued on that last call:
 * 0.9.75 closes a keep-alive connection when a response is queued on the first
 * call, which is only what we want for a refused body (401, 413...). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include <samplemind/catalog.h>
#include <samplemind/log.h>
#include <samplemind/version.h>

#include "config.h"
#include "jobs.h"
#include "server_int.h"

double sm__srv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void timestamp(char *buf, size_t size)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void log_line(const char *level, const char *msg)
{
    char ts[40];
    timestamp(ts, sizeof(ts));
    struct sm_sbuf b = SM_SBUF_INIT;
    sm__sbuf_addf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level);
    sm__sbuf_add_json_str(&b, msg);
    sm__sbuf_add(&b, "}\n", 2);
    if (!b.oom)
        write_all(STDERR_FILENO, b.p, b.n);
    sm__sbuf_release(&b);
}

void sm__srv_log(const char *level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_line(level, msg);
}

static void on_lib_log(sm_log_level level, const char *msg, void *ud)
{
    (void)ud;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    log_line(names[level], msg);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_line("debug", msg);
}

/* ------------------------------------------------------------ registry --- */

int sm__srv_route(sm_srv *srv, const char *method, const char *pattern, unsigned flags,
                  sm_srv_handler fn, void *userdata, const char *summary)
{
    sm_error err = SM_ERROR_INIT;
    if (srv->daemon) {
        sm__srv_log("error", "route %s %s added after start", method, pattern);
        return -1;
    }
    if (sm__router_add(&srv->router, method, pattern, flags, fn, userdata, summary, &err)) {
        sm__srv_log("error", "%s", err.msg);
        return -1;
    }
    return 0;
}

const struct sm_srv_config *sm__srv_config(const sm_srv *srv)
{
    return &srv->cfg;
}

int sm__srv_metrics_hook(sm_srv *srv, sm_srv_metrics_fn fn, void *userdata)
{
    if (srv->n_mhook >= SM_SRV_MAX_HOOKS || !fn)
        return -1;
    srv->mhook[srv->n_mhook].fn = fn;
    srv->mhook[srv->n_mhook].ud = userdata;
    srv->n_mhook++;
    return 0;
}

int sm__srv_on_stop(sm_srv *srv, void (*fn)(void *userdata), void *userdata)
{
    if (srv->n_stop >= SM_SRV_MAX_HOOKS)
        return -1;
    srv->stop[srv->n_stop].fn = fn;
    srv->stop[srv->n_stop].ud = userdata;
    srv->n_stop++;
    return 0;
}

int sm__srv_component(sm_srv *srv, const char *name, sm_srv_component_fn fn, void *userdata)
{
    if (srv->n_comp >= SM_SRV_MAX_HOOKS || !name || strlen(name) >= sizeof(srv->comp[0].name))
        return -1;
    snprintf(srv->comp[srv->n_comp].name, sizeof(srv->comp[0].name), "%s", name);
    srv->comp[srv->n_comp].fn = fn;
    srv->comp[srv->n_comp].ud = userdata;
    srv->n_comp++;
    return 0;
}

/* ------------------------------------------------------------ requests --- */

const char *sm__req_method(const sm_req *req)
{
    return req->method;
}

const char *sm__req_path(const sm_req *req)
{
    return req->path;
}

const char *sm__req_param(const sm_req *req, const char *name)
{
    return sm__router_param(&req->match, name);
}

const char *sm__req_query(const sm_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct each_ctx {
    int (*fn)(const char *key, const char *value, void *ud);
    void *ud;
    int n;
};

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    struct each_ctx *c = cls;
    c->n++;
    return c->fn(key, value, c->ud) ? MHD_NO : MHD_YES;
}

int sm__req_query_each(const sm_req *req, int (*fn)(const char *key, const char *value, void *ud),
                       void *ud)
{
    struct each_ctx c = {fn, ud, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_arg, &c);
    return c.n;
}

const char *sm__req_header(const sm_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *sm__req_body(const sm_req *req, size_t *len)
{
    if (len)
        *len = req->body.n;
    return req->body.p ? req->body.p : "";
}

const char *sm__req_upload_path(const sm_req *req, int64_t *size, const char **filename)
{
    if (size)
        *size = req->up_size;
    if (filename)
        *filename = req->up_filename;
    return req->up_path;
}

const char *sm__req_id(const sm_req *req)
{
    return req->id;
}

/* The client's address as text, formatted on first use: most requests (health,
 * search) never need it. */
const char *sm__req_client(sm_req *req)
{
    if (req->client[0])
        return req->client;
    snprintf(req->client, sizeof(req->client), "?");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return req->client;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  req->client, (socklen_t)sizeof(req->client));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  req->client, (socklen_t)sizeof(req->client));
    return req->client;
}

const char *sm__req_user(const sm_req *req)
{
    return req->authed ? req->ident.username : NULL;
}

bool sm__req_is_admin(const sm_req *req)
{
    return req->authed && req->ident.role == SM_ROLE_ADMIN;
}

sm_srv *sm__req_srv(const sm_req *req)
{
    return req->srv;
}

void sm__req_header_add(sm_req *req, const char *name, const char *value)
{
    struct sm_req_hdr *h = sm_calloc(1, sizeof(*h));
    if (!h)
        return;
    h->name = sm_strdup(name);
    h->value = sm_strdup(value);
    if (!h->name || !h->value) {
        sm_free(h->name);
        sm_free(h->value);
        sm_free(h);
        return;
    }
    h->next = req->hdrs;
    req->hdrs = h;
}

static void free_cb(void *p)
{
    sm_free(p);
}

/* Make the response object for \p data (taken: freed with sm_free). */
static struct MHD_Response *make_response(sm_req *req, const char *ctype, char *data, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(len, data, free_cb);
    if (!r) {
        sm_free(data);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, "X-Request-Id", req->id);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (struct sm_req_hdr *h = req->hdrs; h; h = h->next)
        MHD_add_response_header(r, h->name, h->value);
    return r;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    sm__sbuf_add(data, buffer, size);
    return 0;
}

/* JSON text of \p body (stolen) with a final newline, or NULL. */
static char *json_text(json_t *body, size_t *len)
{
    struct sm_sbuf b = SM_SBUF_INIT;
    int rc = json_dump_callback(body, dump_cb, &b, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(body);
    sm__sbuf_add(&b, "\n", 1);
    if (rc || b.oom) {
        sm__sbuf_release(&b);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

static char *error_text(const char *code, const char *msg, size_t *len)
{
    struct sm_sbuf b = SM_SBUF_INIT;
    sm__sbuf_add(&b, "{\"error\":{\"code\":", 17);
    sm__sbuf_add_json_str(&b, code);
    sm__sbuf_add(&b, ",\"message\":", 11);
    sm__sbuf_add_json_str(&b, msg);
    sm__sbuf_add(&b, "}}\n", 3);
    if (b.oom) {
        sm__sbuf_release(&b);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

/* Set the reply (replacing an earlier one). */
static void set_reply(sm_req *req, int status, struct MHD_Response *r, size_t len)
{
    if (req->resp)
        MHD_destroy_response(req->resp);
    req->resp = r;
    req->status = status;
    req->resp_len = len;
}

static struct MHD_Response *build_data(sm_req *req, const char *ctype, const void *data,
                                       size_t len)
{
    char *copy = sm_malloc(len ? len : 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, data, len);
    return make_response(req, ctype, copy, len);
}

static struct MHD_Response *build_error(sm_req *req, const char *code, const char *msg,
                                        size_t *len)
{
    char *t = error_text(code, msg, len);
    return t ? make_response(req, "application/json", t, *len) : NULL;
}

static struct MHD_Response *build_json(sm_req *req, int *status, json_t *body, size_t *len)
{
    if (!body) {
        *status = 500;
        return build_error(req, "out_of_memory", "could not build the reply", len);
    }
    char *t = json_text(body, len);
    if (!t) {
        *status = 500;
        return build_error(req, "internal_error", "could not encode the reply", len);
    }
    return make_response(req, "application/json", t, *len);
}

int sm__req_reply_json(sm_req *req, int status, json_t *body)
{
    size_t len = 0;
    struct MHD_Response *r = build_json(req, &status, body, &len);
    set_reply(req, status, r, len);
    return SM_SRV_DONE;
}

int sm__req_reply_data(sm_req *req, int status, const char *content_type, const void *data,
                       size_t len)
{
    set_reply(req, status, build_data(req, content_type, data, len), len);
    return SM_SRV_DONE;
}

int sm__req_reply_owned(sm_req *req, int status, const char *content_type, char *data,
                        size_t len)
{
    set_reply(req, status, make_response(req, content_type, data, len), len);
    return SM_SRV_DONE;
}

static int reply_errorv(sm_req *req, int status, const char *code, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t len = 0;
    struct MHD_Response *r = build_error(req, code, msg, &len);
    set_reply(req, status, r, len);
    return SM_SRV_DONE;
}

int sm__req_reply_fd(sm_req *req, int status, const char *content_type, int fd, int64_t offset,
                     int64_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_fd_at_offset64((uint64_t)len, fd, (uint64_t)offset);
    if (!r) {
        close(fd);
        return sm__req_error(req, 500, "internal_error", "cannot send the file");
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, "X-Request-Id", req->id);
    for (struct sm_req_hdr *h = req->hdrs; h; h = h->next)
        MHD_add_response_header(r, h->name, h->value);
    set_reply(req, status, r, (size_t)len);
    return SM_SRV_DONE;
}

int sm__parse_id(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 18)
        return -1;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < 1)
        return -1;
    *out = v;
    return 0;
}

int sm__req_error(sm_req *req, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_errorv(req, status, code, fmt, ap);
    va_end(ap);
    return SM_SRV_DONE;
}

int sm__req_error_status(sm_req *req, const sm_error *err)
{
    int status;
    switch (err->code) {
        case SM_EINVAL:
        case SM_EUSAGE:
            status = 400;
            break;
        case SM_ENOENT:
            status = 404;
            break;
        case SM_EACCES:
            status = 403;
            break;
        case SM_ETOOBIG:
            status = 413;
            break;
        case SM_EFORMAT:
        case SM_ECORRUPT:
        case SM_EEMPTY:
        case SM_EISDIR:
            status = 422;
            break;
        default:
            status = 500;
            break;
    }
    return sm__req_error(req, status, sm_status_name(err->code), "%s",
                         err->msg[0] ? err->msg : sm_status_str(err->code));
}

static void complete(sm_req *req, int status, struct MHD_Response *r, size_t len)
{
    sm_srv *srv = req->srv;
    pthread_mutex_lock(&req->lock);
    set_reply(req, status, r, len);
    req->completed = true;
    bool resume = req->state == SM_RS_SUSPENDED;
    if (resume)
        MHD_resume_connection(req->conn);
    pthread_mutex_unlock(&req->lock);
    /* req may be gone from here on. */
    if (resume)
        atomic_fetch_sub(&srv->pending, 1);
}

void sm__req_complete(sm_req *req, int status, json_t *body)
{
    size_t len = 0;
    struct MHD_Response *r = build_json(req, &status, body, &len);
    complete(req, status, r, len);
}

void sm__req_complete_error(sm_req *req, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t len = 0;
    struct MHD_Response *r = build_error(req, code, msg, &len);
    complete(req, status, r, len);
}

json_t *sm__req_json(sm_req *req)
{
    const char *ct = sm__req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && strncasecmp(ct, "application/json", 16)) {
        sm__req_error(req, 415, "unsupported_media_type",
                      "the body must be application/json, not '%.64s'", ct);
        return NULL;
    }
    if (!req->body.n) {
        sm__req_error(req, 400, "invalid_json", "a JSON body is required");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(req->body.p, req->body.n, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        sm__req_error(req, 400, "invalid_json", "invalid JSON at line %d column %d: %s",
                      jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        sm__req_error(req, 400, "invalid_json", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* ------------------------------------------------------------ dispatch --- */

static bool id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* "<prefix>-<n in hex>": the id of a request that brought none (no printf: this
 * runs for every request). */
static void new_id(char *out, const char *prefix, uint64_t n)
{
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    out[p++] = '-';
    char tmp[16];
    size_t k = 0;
    do {
        tmp[k++] = "0123456789abcdef"[n & 15];
        n >>= 4;
    } while (n);
    while (k)
        out[p++] = tmp[--k];
    out[p] = '\0';
}

static sm_req *req_new(sm_srv *srv, struct MHD_Connection *conn, const char *url,
                       const char *method)
{
    sm_req *req = sm_calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->srv = srv;
    req->conn = conn;
    req->t0 = sm__srv_now();
    req->route_idx = -1;
    req->up_fd = -1;
    size_t ml = strlen(method);
    if (ml >= sizeof(req->method))
        ml = sizeof(req->method) - 1;
    memcpy(req->method, method, ml);
    req->path = sm_strdup(url);
    if (!req->path) {
        sm_free(req);
        return NULL;
    }
    pthread_mutex_init(&req->lock, NULL);
    const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (id_ok(rid))
        memcpy(req->id, rid, strlen(rid) + 1);
    else
        new_id(req->id, srv->id_prefix, atomic_fetch_add(&srv->next_id, 1));
    atomic_fetch_add(&srv->inflight, 1);
    return req;
}

static void req_free(sm_req *req)
{
    /* Wait for a completing thread to let go of the lock. */
    pthread_mutex_lock(&req->lock);
    pthread_mutex_unlock(&req->lock);
    pthread_mutex_destroy(&req->lock);
    if (req->pp)
        MHD_destroy_post_processor(req->pp);
    if (req->up_fd >= 0)
        close(req->up_fd);
    if (req->up_path) {
        unlink(req->up_path);
        sm_free(req->up_path);
    }
    sm_free(req->up_filename);
    if (req->resp)
        MHD_destroy_response(req->resp);
    while (req->hdrs) {
        struct sm_req_hdr *h = req->hdrs;
        req->hdrs = h->next;
        sm_free(h->name);
        sm_free(h->value);
        sm_free(h);
    }
    sm__sbuf_release(&req->body);
    sm_free(req->path);
    sm_free(req);
}

static enum MHD_Result queue(sm_req *req)
{
    if (!req->resp) {
        size_t len = 0;
        req->status = 500;
        req->resp = build_error(req, "internal_error", "the handler gave no reply", &len);
        req->resp_len = len;
        if (!req->resp)
            return MHD_NO;
    }
    return MHD_queue_response(req->conn, (unsigned)req->status, req->resp);
}

static bool has_body(sm_req *req)
{
    const char *cl = sm__req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = sm__req_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return (cl && strcmp(cl, "0")) || te;
}

/* The bearer token of the request, or NULL. */
static const char *bearer(sm_req *req)
{
    const char *h = sm__req_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7))
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return h;
}

static enum MHD_Result on_post_data(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data,
                                    uint64_t off, size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    (void)off;
    sm_req *req = cls;
    if (!key || strcmp(key, "file"))
        return MHD_YES; /* other form fields are ignored */
    if (filename && !req->up_filename)
        req->up_filename = sm_strdup(filename);
    if (size && !req->up_failed) {
        if (req->up_size + (int64_t)size > req->srv->cfg.max_upload) {
            req->too_big = true;
            return MHD_YES;
        }
        ssize_t w = write(req->up_fd, data, size);
        if (w != (ssize_t)size)
            req->up_failed = true;
        req->up_size += (int64_t)size;
    }
    return MHD_YES;
}

static int open_upload(sm_req *req)
{
    sm_srv *srv = req->srv;
    size_t n = strlen(srv->cfg.data_dir) + 32;
    req->up_path = sm_malloc(n);
    if (!req->up_path)
        return -1;
    snprintf(req->up_path, n, "%s/tmp", srv->cfg.data_dir);
    mkdir(req->up_path, 0700);
    snprintf(req->up_path, n, "%s/tmp/upload-XXXXXX", srv->cfg.data_dir);
    req->up_fd = mkstemp(req->up_path);
    if (req->up_fd < 0) {
        sm_free(req->up_path);
        req->up_path = NULL;
        return -1;
    }
    const char *ct = sm__req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && !strncasecmp(ct, "multipart/form-data", 19)) {
        req->pp = MHD_create_post_processor(req->conn, 65536, on_post_data, req);
        if (!req->pp)
            return -2;
    }
    return 0;
}

/* First call: match, authenticate, check the declared size. May set a reply. */
static void prepare(sm_req *req)
{
    sm_srv *srv = req->srv;
    int m = sm__router_match(&srv->router, req->method, req->path, &req->match);
    if (m == SM_ROUTER_NOT_FOUND) {
        sm__req_error(req, 404, "not_found", "no route for %s", req->path);
        return;
    }
    if (m == SM_ROUTER_BAD_METHOD) {
        sm__req_header_add(req, MHD_HTTP_HEADER_ALLOW, req->match.allow);
        sm__req_error(req, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)",
                      req->method, req->match.allow);
        return;
    }
    req->route_idx = req->match.route;
    req->route = &srv->router.v[req->match.route];
    unsigned flags = req->route->flags;
    if (!(flags & SM_ROUTE_PUBLIC)) {
        const char *tok = bearer(req);
        sm_error err = SM_ERROR_INIT;
        if (!tok) {
            sm__req_header_add(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
            sm__req_error(req, 401, "unauthorized",
                          "this route needs 'Authorization: Bearer <token>'");
            return;
        }
        if (sm__auth_check(srv->auth, tok, &req->ident, &err) != SM_OK) {
            sm__req_header_add(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                               "Bearer error=\"invalid_token\"");
            sm__req_error(req, err.code == SM_EACCES ? 401 : 500,
                          err.code == SM_EACCES ? "unauthorized" : sm_status_name(err.code),
                          "%s", err.msg);
            return;
        }
        req->authed = true;
        double wait = sm__rl_take(srv->rl_api, req->ident.hash_hex, sm__srv_now());
        if (wait > 0) {
            char ra[32];
            snprintf(ra, sizeof(ra), "%d", (int)wait + 1);
            sm__req_header_add(req, MHD_HTTP_HEADER_RETRY_AFTER, ra);
            sm__req_error(req, 429, "rate_limited", "too many requests; retry in %s s", ra);
            return;
        }
        if ((flags & SM_ROUTE_ADMIN) && req->ident.role != SM_ROLE_ADMIN) {
            sm__req_error(req, 403, "forbidden", "this route needs the admin role");
            return;
        }
    }
    req->limit = (flags & SM_ROUTE_UPLOAD) ? srv->cfg.max_upload : srv->cfg.max_body;
    const char *cl = sm__req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(cl, &end, 10);
        if (end == cl || *end || errno || v < 0) {
            sm__req_error(req, 400, "bad_request", "bad Content-Length");
            return;
        }
        if (v > req->limit) {
            sm__req_error(req, 413, "too_big", "the body is %lld bytes; the limit is %lld", v,
                          (long long)req->limit);
            return;
        }
    }
    if ((flags & SM_ROUTE_UPLOAD) && has_body(req)) {
        int rc = open_upload(req);
        if (rc == -2)
            sm__req_error(req, 400, "bad_request", "unreadable multipart body");
        else if (rc)
            sm__req_error(req, 500, "io_error", "cannot store the upload");
    }
}

/* A body chunk. \return false to drop the connection. */
static bool consume(sm_req *req, const char *data, size_t size)
{
    req->received += (int64_t)size;
    if (req->resp || req->too_big) {
        /* Refused already: drain a little, then hang up on endless bodies. */
        return req->received <= 4 * req->limit + 65536;
    }
    if (req->received > req->limit) {
        req->too_big = true;
        return true;
    }
    if (req->up_fd >= 0) {
        if (req->pp) {
            if (MHD_post_process(req->pp, data, size) != MHD_YES)
                req->up_failed = true;
        } else {
            ssize_t w = write(req->up_fd, data, size);
            if (w != (ssize_t)size)
                req->up_failed = true;
            req->up_size += (int64_t)size;
        }
        return true;
    }
    sm__sbuf_add(&req->body, data, size);
    if (req->body.oom)
        req->too_big = true;
    return true;
}

struct arg_check {
    bool ok;
    const char *bad;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct arg_check *c = cls;
    if (!sm__sbuf_utf8_valid(key, key_size) || (value && !sm__sbuf_utf8_valid(value, value_size))) {
        c->ok = false;
        c->bad = key;
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result dispatch(sm_req *req)
{
    if (req->too_big) {
        sm__req_error(req, 413, "too_big", "the body is larger than the limit of %lld bytes",
                      (long long)req->limit);
        return queue(req);
    }
    if (req->up_failed) {
        sm__req_error(req, 500, "io_error", "cannot store the upload");
        return queue(req);
    }
    struct arg_check c = {true, NULL};
    MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, check_arg, &c);
    if (!c.ok || !sm__sbuf_utf8_valid(req->path, strlen(req->path))) {
        sm__req_error(req, 400, "invalid_utf8", "the path or query argument '%.40s' is not UTF-8",
                      c.ok ? "path" : "?");
        return queue(req);
    }
    if (req->up_fd >= 0) {
        close(req->up_fd);
        req->up_fd = -1;
    }
    int r = req->route->fn(req, req->route->userdata);
    if (r == SM_SRV_PENDING) {
        pthread_mutex_lock(&req->lock);
        if (req->completed) {
            pthread_mutex_unlock(&req->lock);
            return queue(req);
        }
        req->state = SM_RS_SUSPENDED;
        atomic_fetch_add(&req->srv->pending, 1);
        MHD_suspend_connection(req->conn);
        pthread_mutex_unlock(&req->lock);
        return MHD_YES;
    }
    return queue(req);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    (void)version;
    sm_srv *srv = cls;
    sm_req *req = *con_cls;
    if (!req) {
        req = req_new(srv, conn, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        prepare(req);
        if (req->resp && has_body(req))
            return queue(req); /* refuse the body; the connection closes */
        return MHD_YES;
    }
    if (req->state == SM_RS_SUSPENDED) {
        req->state = SM_RS_ACTIVE;
        return queue(req);
    }
    if (*upload_data_size) {
        bool keep = consume(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return keep ? MHD_YES : MHD_NO;
    }
    if (req->resp)
        return queue(req);
    return dispatch(req);
}

/* Access-log lines are written in batches, as nginx's `buffer=`/`flush=` do: a
 * write() a request cost a third of the throughput of GET /api/v1/health. A batch
 * goes out at LOG_BATCH bytes, or once its oldest line is LOG_DELAY old (on the
 * next line, or on the tick of sm__srv_wait), and at stop. */
#define LOG_BATCH 16384
#define LOG_DELAY 0.1

/* Write the batch out. Called with log_lock held. */
static void log_write_locked(sm_srv *srv)
{
    if (srv->log_buf.n)
        write_all(srv->log_fd, srv->log_buf.p, srv->log_buf.n);
    srv->log_buf.n = 0;
}

static void log_flush(sm_srv *srv, bool all)
{
    if (srv->log_fd < 0)
        return;
    pthread_mutex_lock(&srv->log_lock);
    if (all || sm__srv_now() - srv->log_since >= LOG_DELAY)
        log_write_locked(srv);
    pthread_mutex_unlock(&srv->log_lock);
}

/* "2026-11-23T02:28:19.209Z" into \p b; the text of the second is kept (under the
 * log lock) so most lines only write their milliseconds. */
static void log_timestamp(sm_srv *srv, struct sm_sbuf *b)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (tv.tv_sec != srv->log_sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        srv->log_sec_len = strftime(srv->log_sec_text, sizeof(srv->log_sec_text),
                                    "%Y-%m-%dT%H:%M:%S", &tm);
        srv->log_sec = tv.tv_sec;
    }
    char ms[5] = {'.', (char)('0' + tv.tv_usec / 100000), (char)('0' + tv.tv_usec / 10000 % 10),
                  (char)('0' + tv.tv_usec / 1000 % 10), 'Z'};
    sm__sbuf_add(b, srv->log_sec_text, srv->log_sec_len);
    sm__sbuf_add(b, ms, sizeof(ms));
}

/* One JSON line, written straight into the batch under the log lock (no printf,
 * no allocation once the batch has grown). */
static void access_log(sm_srv *srv, sm_req *req, double secs, bool aborted)
{
    const char *client = sm__req_client(req);
    pthread_mutex_lock(&srv->log_lock);
    struct sm_sbuf *b = &srv->log_buf;
    if (!b->n)
        srv->log_since = sm__srv_now();
    size_t start = b->n;
    sm__sbuf_lit(b, "{\"ts\":\"");
    log_timestamp(srv, b);
    sm__sbuf_lit(b, "\",\"level\":\"info\",\"msg\":\"request\",\"id\":");
    sm__sbuf_add_json_str(b, req->id);
    sm__sbuf_lit(b, ",\"method\":");
    sm__sbuf_add_json_str(b, req->method);
    sm__sbuf_lit(b, ",\"path\":");
    sm__sbuf_add_json_str(b, req->path);
    if (req->route) {
        sm__sbuf_lit(b, ",\"route\":");
        sm__sbuf_add_json_str(b, req->route->pattern);
    }
    sm__sbuf_lit(b, ",\"status\":");
    sm__sbuf_add_int(b, req->status);
    sm__sbuf_lit(b, ",\"bytes\":");
    sm__sbuf_add_int(b, (long long)req->resp_len);
    sm__sbuf_lit(b, ",\"ms\":");
    sm__sbuf_add_milli(b, secs * 1e3);
    sm__sbuf_lit(b, ",\"client\":");
    sm__sbuf_add_json_str(b, client);
    if (req->authed) {
        sm__sbuf_lit(b, ",\"user\":");
        sm__sbuf_add_json_str(b, req->ident.username);
    }
    if (aborted)
        sm__sbuf_lit(b, ",\"aborted\":true");
    sm__sbuf_lit(b, "}\n");
    if (b->oom) { /* no room to batch: write what was whole, drop this line */
        b->oom = false;
        b->n = start;
        log_write_locked(srv);
    } else if (b->n >= LOG_BATCH || sm__srv_now() - srv->log_since >= LOG_DELAY) {
        log_write_locked(srv);
    }
    pthread_mutex_unlock(&srv->log_lock);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    sm_srv *srv = cls;
    sm_req *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    double secs = sm__srv_now() - req->t0;
    sm__metrics_request(srv->metrics, req->route_idx, req->status, secs);
    if (srv->log_fd >= 0)
        access_log(srv, req, secs, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
    req_free(req);
    atomic_fetch_sub(&srv->inflight, 1);
}

/* ------------------------------------------------------------ lifecycle --- */

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) && errno != EEXIST)
        return -1;
    return 0;
}

static int first_admin(sm_srv *srv, char *password, sm_error *err)
{
    int64_t n = 0;
    password[0] = '\0';
    if (sm__auth_user_count(srv->auth, &n, err) != SM_OK)
        return -1;
    if (n > 0)
        return 0;
    char pw[25];
    sm__auth_random_password(pw);
    if (sm__auth_user_add(srv->auth, "admin", pw, SM_ROLE_ADMIN, err) != SM_OK)
        return -1;
    char path[4200];
    snprintf(path, sizeof(path), "%s/admin-password", srv->cfg.data_dir);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        char line[64];
        int len = snprintf(line, sizeof(line), "%s\n", pw);
        write_all(fd, line, (size_t)len);
        close(fd);
    } else {
        sm__srv_log("warning", "cannot write %s: %s", path, strerror(errno));
    }
    memcpy(password, pw, sizeof(pw));
    sodium_memzero(pw, sizeof(pw));
    return 0;
}

static int open_access_log(sm_srv *srv, sm_error *err)
{
    const char *a = srv->cfg.access_log;
    srv->log_fd = -1;
    if (!strcmp(a, "off"))
        return 0;
    if (!strcmp(a, "stderr") || !a[0]) {
        srv->log_fd = STDERR_FILENO;
        return 0;
    }
    if (!strcmp(a, "stdout")) {
        srv->log_fd = STDOUT_FILENO;
        return 0;
    }
    srv->log_fd = open(a, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (srv->log_fd < 0) {
        sm_error_set(err, SM_EIO, "access log %s: %s", a, strerror(errno));
        return -1;
    }
    srv->log_close = true;
    return 0;
}

static int resolve_roots(sm_srv *srv, sm_error *err)
{
    const char *s = srv->cfg.roots;
    while (s && *s) {
        const char *end = strchr(s, ':');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n) {
            char part[4096];
            if (n >= sizeof(part)) {
                sm_error_set(err, SM_EUSAGE, "roots: a root is too long");
                return -1;
            }
            memcpy(part, s, n);
            part[n] = '\0';
            char *real = realpath(part, NULL);
            if (!real) {
                sm_error_set(err, SM_EUSAGE, "roots: %s: %s", part, strerror(errno));
                return -1;
            }
            char **v = sm_realloc(srv->roots, (srv->n_roots + 1) * sizeof(*v));
            if (!v) {
                free(real);
                sm_error_set(err, SM_ENOMEM, "out of memory");
                return -1;
            }
            srv->roots = v;
            srv->roots[srv->n_roots] = sm_strdup(real);
            free(real);
            if (!srv->roots[srv->n_roots]) {
                sm_error_set(err, SM_ENOMEM, "out of memory");
                return -1;
            }
            srv->n_roots++;
        }
        s = end ? end + 1 : NULL;
    }
    return 0;
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

sm_srv *sm__srv_new(struct sm_srv_config *cfg, char *admin_password, sm_error *err)
{
    sm_srv *srv = sm_calloc(1, sizeof(*srv));
    if (!srv) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        sm__config_release(cfg);
        return NULL;
    }
    srv->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    srv->log_fd = -1;
    srv->t_start = sm__srv_now();
    srv->started_at = (int64_t)time(NULL);
    sm__router_init(&srv->router);
    pthread_mutex_init(&srv->cat_lock, NULL);
    pthread_cond_init(&srv->cat_cond, NULL);
    pthread_rwlock_init(&srv->vx_lock, NULL);
    pthread_rwlock_init(&srv->fx_lock, NULL);
    srv->fx_stale = true;
    pthread_mutex_init(&srv->misc_lock, NULL);
    pthread_mutex_init(&srv->log_lock, NULL);
    pthread_mutex_init(&srv->an_lock, NULL);
    pthread_mutex_init(&srv->job_lock, NULL);
    srv->vx_stale = true;
    admin_password[0] = '\0';
    if (sodium_init() < 0) {
        sm_error_set(err, SM_EINTERNAL, "libsodium failed to initialise");
        goto fail;
    }
    randombytes_buf(srv->secret, sizeof(srv->secret));
    unsigned char idr[4];
    randombytes_buf(idr, sizeof(idr));
    sodium_bin2hex(srv->id_prefix, sizeof(srv->id_prefix), idr, sizeof(idr));
    /* One request thread per core, like nginx's workers: no handler blocks a
     * request thread (jobs run on the workers, AI calls suspend), and a second
     * thread per core only added context switches (bench/http.sh: 0.09 against
     * 0.22 switches a request). */
    srv->threads = srv->cfg.threads ? srv->cfg.threads : cores();
    srv->workers = srv->cfg.workers ? srv->cfg.workers : cores();

    sm_log_set_handler(on_lib_log, NULL);
    if (mkdir_p(srv->cfg.data_dir)) {
        sm_error_set(err, SM_EIO, "data dir %s: %s", srv->cfg.data_dir, strerror(errno));
        goto fail;
    }
    if (open_access_log(srv, err) || resolve_roots(srv, err))
        goto fail;
    char path[4200];
    snprintf(path, sizeof(path), "%s/auth.db", srv->cfg.data_dir);
    srv->auth = sm__auth_open(path, err);
    if (!srv->auth)
        goto fail;
    if (first_admin(srv, admin_password, err))
        goto fail;
    srv->rl_login = sm__rl_new(srv->cfg.login_rate / 60.0, srv->cfg.login_burst, 65536);
    srv->rl_api = sm__rl_new(srv->cfg.api_rate, srv->cfg.api_burst, 65536);
    if (!srv->rl_login || !srv->rl_api) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        goto fail;
    }
    if (sm__catpool_init(srv) || sm__jobs_init(srv)) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        goto fail;
    }
    if (sm__routes_health(srv) || sm__routes_auth(srv) || sm__routes_audio(srv) ||
        sm__routes_jobs(srv) || sm__routes_openapi(srv) || sm__routes_web(srv)) {
        sm_error_set(err, SM_EINTERNAL, "could not register the routes");
        goto fail;
    }
    if (sm__ai_routes_register && sm__ai_routes_register(srv, err))
        goto fail;
    srv->metrics = sm__metrics_new(srv->router.n);
    if (!srv->metrics) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < srv->n_mhook; i++)
        sm__metrics_add_hook(srv->metrics, srv->mhook[i].fn, srv->mhook[i].ud);
    return srv;
fail:
    sm__srv_free(srv);
    return NULL;
}

static int listen_addr(sm_srv *srv, struct sockaddr_storage *ss, bool *v6, sm_error *err)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", srv->cfg.port);
    int rc = getaddrinfo(srv->cfg.host, port, &hints, &res);
    if (rc || !res) {
        sm_error_set(err, SM_EUSAGE, "host '%s': %s", srv->cfg.host, gai_strerror(rc));
        return -1;
    }
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

int sm__srv_start(sm_srv *srv, sm_error *err)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    if (listen_addr(srv, &ss, &v6, err))
        return -1;
    /* Signals go to the waiting thread only: block them before threads start. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)srv->cfg.port, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->threads,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)srv->cfg.max_header,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg.conn_timeout,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!srv->daemon) {
        sm_error_set(err, SM_EIO, "cannot listen on %s:%d: %s", srv->cfg.host, srv->cfg.port,
                     errno ? strerror(errno) : "libmicrohttpd failed");
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : srv->cfg.port;
    sm__srv_log("info", "listening on %s:%d with %d request threads and %d workers",
                srv->cfg.host, srv->port, srv->threads, srv->workers);
    return 0;
}

int sm__srv_port(const sm_srv *srv)
{
    return srv->port;
}

void sm__srv_wait(sm_srv *srv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = -1;
    const struct timespec tick = {0, (long)(LOG_DELAY * 1e9)};
    while (sig < 0) {
        sig = sigtimedwait(&set, NULL, &tick);
        log_flush(srv, false);
    }
    sm__srv_log("info", "signal %d: stopping (grace %d s)", sig, srv->cfg.grace);
    MHD_socket ls = MHD_quiesce_daemon(srv->daemon);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    double deadline = sm__srv_now() + srv->cfg.grace;
    while (atomic_load(&srv->inflight) > 0 && sm__srv_now() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int left = atomic_load(&srv->inflight);
    if (left > 0)
        sm__srv_log("warning", "%d requests still in flight after the grace time", left);
}

void sm__srv_free(sm_srv *srv)
{
    if (!srv)
        return;
    sm__scanjobs_stop(srv);
    sm__jobs_stop(srv);
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    for (int i = srv->n_stop - 1; i >= 0; i--)
        srv->stop[i].fn(srv->stop[i].ud);
    srv->n_stop = 0;
    sm__catpool_close(srv);
    for (size_t i = 0; i < srv->n_an_free; i++)
        sm_analyzer_free(srv->an_free[i]);
    sm_free(srv->an_free);
    sm_vindex_free(srv->vx);
    sm_findex_free(srv->fx);
    sm__auth_close(srv->auth);
    sm__rl_free(srv->rl_login);
    sm__rl_free(srv->rl_api);
    sm__metrics_free(srv->metrics);
    sm__router_release(&srv->router);
    for (size_t i = 0; i < srv->n_roots; i++)
        sm_free(srv->roots[i]);
    sm_free(srv->roots);
    log_flush(srv, true);
    sm__sbuf_release(&srv->log_buf);
    pthread_mutex_destroy(&srv->log_lock);
    if (srv->log_close)
        close(srv->log_fd);
    pthread_mutex_destroy(&srv->cat_lock);
    pthread_cond_destroy(&srv->cat_cond);
    pthread_rwlock_destroy(&srv->vx_lock);
    pthread_rwlock_destroy(&srv->fx_lock);
    pthread_mutex_destroy(&srv->misc_lock);
    pthread_mutex_destroy(&srv->an_lock);
    pthread_mutex_destroy(&srv->job_lock);
    sm__config_release(&srv->cfg);
    sm_log_set_handler(NULL, NULL);
    sm__srv_log("info", "stopped");
    sm_free(srv);
}

int sm__srv_print_routes(const struct sm_srv_config *cfg, FILE *out)
{
    sm_srv *srv = sm_calloc(1, sizeof(*srv));
    if (!srv)
        return -1;
    srv->cfg = *cfg;
    sm__router_init(&srv->router);
    sm_error err = SM_ERROR_INIT;
    int rc = 0;
    if (sm__routes_health(srv) || sm__routes_auth(srv) || sm__routes_audio(srv) ||
        sm__routes_jobs(srv) || sm__routes_openapi(srv) || sm__routes_web(srv) ||
        (sm__ai_routes_register && sm__ai_routes_register(srv, &err)))
        rc = -1;
    for (size_t i = 0; i < srv->router.n && !rc; i++) {
        const struct sm_route *r = &srv->router.v[i];
        struct sm_sbuf b = SM_SBUF_INIT;
        sm__sbuf_add(&b, "{\"method\":", 10);
        sm__sbuf_add_json_str(&b, r->method);
        sm__sbuf_add(&b, ",\"pattern\":", 11);
        sm__sbuf_add_json_str(&b, r->pattern);
        sm__sbuf_addf(&b, ",\"public\":%s,\"admin\":%s,\"summary\":",
                      (r->flags & SM_ROUTE_PUBLIC) ? "true" : "false",
                      (r->flags & SM_ROUTE_ADMIN) ? "true" : "false");
        sm__sbuf_add_json_str(&b, r->summary);
        sm__sbuf_add(&b, "}\n", 2);
        if (!b.oom)
            fputs(b.p, out);
        sm__sbuf_release(&b);
    }
    for (int i = srv->n_stop - 1; i >= 0; i--)
        srv->stop[i].fn(srv->stop[i].ud);
    sm__router_release(&srv->router);
    sm_free(srv);
    return rc;
}

sm_status sm__srv_analyze(sm_srv *srv, const char *path, sm_analysis *out, sm_error *err)
{
    sm_analyzer *an = NULL;
    pthread_mutex_lock(&srv->an_lock);
    if (srv->n_an_free)
        an = srv->an_free[--srv->n_an_free];
    pthread_mutex_unlock(&srv->an_lock);
    if (!an) {
        an = sm_analyzer_new(NULL, err);
        if (!an)
            return err ? err->code : SM_ENOMEM;
    }
    double t0 = sm__srv_now();
    sm_status rc = sm_analyzer_run(an, path, out, err);
    if (srv->metrics)
        sm__metrics_analysis(srv->metrics, rc == SM_OK, sm__srv_now() - t0);
    pthread_mutex_lock(&srv->an_lock);
    if (!srv->an_free)
        srv->an_free = sm_calloc((size_t)srv->workers + 1, sizeof(*srv->an_free));
    if (srv->an_free && srv->n_an_free < (size_t)srv->workers + 1) {
        srv->an_free[srv->n_an_free++] = an;
        an = NULL;
    }
    pthread_mutex_unlock(&srv->an_lock);
    sm_analyzer_free(an);
    return rc;
}

void sm__srv_indexes_stale(sm_srv *srv)
{
    pthread_rwlock_wrlock(&srv->vx_lock);
    srv->vx_stale = true;
    pthread_rwlock_unlock(&srv->vx_lock);
    pthread_rwlock_wrlock(&srv->fx_lock);
    srv->fx_stale = true;
    pthread_rwlock_unlock(&srv->fx_lock);
}
