/* The HTTP server behind `samplemind serve` (internal to the binary).
 *
 * libmicrohttpd runs the sockets (epoll, one internal thread per core) and calls
 * the dispatcher, which matches the routing table, checks the bearer token and
 * the rate limits, and calls the route's handler with an sm_req. The handler
 * answers with one of the sm__req_reply_* functions and returns SM_SRV_DONE, or
 * returns SM_SRV_PENDING to answer later from any thread.
 *
 * HOW TO ADD A ROUTE
 *
 *     static int get_thing(sm_req *req, void *userdata)
 *     {
 *         const char *id = sm__req_param(req, "id");      // from "{id}" in the pattern
 *         const char *k = sm__req_query(req, "k");        // ?k=..., NULL when absent
 *         if (!k)
 *             return sm__req_error(req, 400, "invalid_argument", "k is required");
 *         return sm__req_reply_json(req, 200, json_pack("{s:s}", "id", id));
 *     }
 *
 *     sm__srv_route(srv, "GET", "/api/v1/things/{id}", 0, get_thing, NULL,
 *                   "One thing");
 *
 * Patterns are literal segments and "{name}" segments (one whole segment each).
 * A path that matches a pattern with another method gets 405 with Allow; a path
 * that matches nothing gets 404; both are JSON errors. Every route under /api/v1
 * needs a bearer token (session token or API key) unless it has SM_ROUTE_PUBLIC;
 * SM_ROUTE_ADMIN also needs the admin role (else 403). Bodies are read into
 * memory up to the configured limit (413 beyond it) before the handler runs;
 * query arguments, path parameters and JSON bodies are valid UTF-8 by then.
 *
 * HOW TO ANSWER LATER (slow upstream calls, work on another thread)
 *
 *     static int ask(sm_req *req, void *userdata)
 *     {
 *         json_t *body = sm__req_json(req);               // replies 400 itself on bad JSON
 *         if (!body)
 *             return SM_SRV_DONE;
 *         start_async_call(body, req);                    // keeps req
 *         json_decref(body);
 *         return SM_SRV_PENDING;                          // connection is suspended
 *     }
 *     // later, on any thread, exactly once per pending request:
 *     sm__req_complete(req, 200, answer_json);            // steals answer_json
 *     // or sm__req_complete_error(req, 502, "upstream_failed", "ollama: %s", msg);
 *
 * After SM_SRV_PENDING the request stays valid until sm__req_complete* is called
 * (and not after: do not touch req once completed). The request getters work
 * from the other thread until then. Graceful stop waits (up to the configured
 * grace time) for pending requests, so complete them even when the work fails.
 * Returning SM_SRV_DONE without a reply sends 500.
 *
 * REGISTERING ROUTES FROM ANOTHER MODULE (the AI layer)
 *
 * Define sm__ai_routes_register (declared weak below) in a file compiled into the
 * binary; the server calls it once at start, before it listens. Use
 * sm__srv_on_stop for cleanup and sm__srv_component for health/detailed.
 */
#ifndef SM_SERVER_H
#define SM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <samplemind/common.h>
#include <samplemind/error.h>

typedef struct sm_catalog sm_catalog; /* <samplemind/catalog.h> */
typedef struct sm_srv sm_srv;
typedef struct sm_req sm_req;

/* Handler results. */
enum { SM_SRV_DONE = 0, SM_SRV_PENDING = 1 };

/* Route flags. */
enum sm_route_flags {
    SM_ROUTE_PUBLIC = 1 << 0, /* no token needed */
    SM_ROUTE_ADMIN = 1 << 1,  /* needs role admin */
    SM_ROUTE_UPLOAD = 1 << 2, /* body streamed to a temp file (sm__req_upload_path) */
};

typedef int (*sm_srv_handler)(sm_req *req, void *userdata);

/* Server configuration after defaults < INI < environment < flags. */
struct sm_srv_config {
    char *host;              /* listen address, default 127.0.0.1 */
    int port;                /* default 8080; 0 picks a free port */
    char *data_dir;          /* auth.db, the admin password file, uploads */
    char *db;                /* catalog URL; default sqlite://DATA_DIR/catalog.db */
    char *cache;             /* AI answer cache URL (for the AI layer) */
    char *roots;             /* library roots, ':'-separated (scan and audio) */
    char *uploads_root;      /* where analyze?store=true keeps uploads */
    char *access_log;        /* "stderr" (default), "off" or a file path */
    int threads;             /* request threads; 0 = cores */
    int workers;             /* job/analysis threads; 0 = cores */
    int64_t max_body;        /* bytes of a JSON/plain body (413 beyond) */
    int64_t max_upload;      /* bytes of an upload */
    int64_t max_header;      /* bytes of memory per connection for headers */
    int max_connections;
    int conn_timeout;        /* seconds of inactivity before a connection closes */
    int grace;               /* seconds to wait for in-flight requests at stop */
    int token_ttl;           /* seconds a session token lives */
    double login_rate;       /* login attempts per minute per client address */
    double login_burst;
    double api_rate;         /* requests per second per token */
    double api_burst;
    char *config_path;       /* the INI file read (--config / SAMPLEMIND_CONFIG), or NULL */
};

/* Add a route. \p method is "GET", "POST", "DELETE"...; \p pattern as above.
 * \p summary is a one-line description (for the route listing).
 * \return 0, or -1 (bad pattern, duplicate, out of memory). Call before start. */
int sm__srv_route(sm_srv *srv, const char *method, const char *pattern, unsigned flags,
                  sm_srv_handler fn, void *userdata, const char *summary);

/* \return the configuration (borrowed, read-only, valid while the server lives). */
const struct sm_srv_config *sm__srv_config(const sm_srv *srv);

/* Called at graceful stop, after the last request, in reverse order of adding. */
int sm__srv_on_stop(sm_srv *srv, void (*fn)(void *userdata), void *userdata);

/* A component of health/detailed: \p fn fills \p out (an object) and returns
 * true when the component is healthy. Called on a request thread. */
typedef bool (*sm_srv_component_fn)(json_t *out, void *userdata);
int sm__srv_component(sm_srv *srv, const char *name, sm_srv_component_fn fn,
                      void *userdata);

/* A module's lines for /metrics: \p fn appends Prometheus text (with its own # HELP
 * and # TYPE lines) to \p out; called on a request thread at each scrape. */
struct sm_sbuf;
typedef void (*sm_srv_metrics_fn)(struct sm_sbuf *out, void *userdata);
int sm__srv_metrics_hook(sm_srv *srv, sm_srv_metrics_fn fn, void *userdata);

/* Borrow a catalog handle for this thread (NULL with \p err filled when the
 * catalog cannot open); give it back with sm__srv_catalog_release. */
sm_catalog *sm__srv_catalog_acquire(sm_srv *srv, sm_error *err);
void sm__srv_catalog_release(sm_srv *srv, sm_catalog *cat);

/* Optional hook for the AI layer: defined in another file when it exists. */
extern int sm__ai_routes_register(sm_srv *srv, sm_error *err) __attribute__((weak));

/* ------------------------------------------------------------- requests --- */

const char *sm__req_method(const sm_req *req);
/* The decoded path without the query string. */
const char *sm__req_path(const sm_req *req);
/* A "{name}" segment of the pattern (decoded), or NULL. */
const char *sm__req_param(const sm_req *req, const char *name);
/* A query-string argument (decoded), or NULL when absent. */
const char *sm__req_query(const sm_req *req, const char *name);
/* Call \p fn for every query-string argument (value NULL for "?flag"); a
 * non-zero return stops. \return the number of arguments visited. */
int sm__req_query_each(const sm_req *req, int (*fn)(const char *key, const char *value, void *ud),
                       void *ud);
/* A request header (case-insensitive name), or NULL. */
/* The catalog changed (scan, upload, tags): the similarity and filter indexes
 * are reloaded on their next use. Thread-safe. */
void sm__srv_indexes_stale(sm_srv *srv);
const char *sm__req_header(const sm_req *req, const char *name);
/* The body read into memory (NUL-terminated; "" when none). */
const char *sm__req_body(const sm_req *req, size_t *len);
/* Parse the body as a JSON object. On failure replies 400 (or 415 for a
 * non-JSON content type) and returns NULL: the handler then returns SM_SRV_DONE.
 * \return new reference (json_decref). */
json_t *sm__req_json(sm_req *req);
/* SM_ROUTE_UPLOAD routes: path of the temp file holding the upload (removed
 * after the request), its size, and the file name the client gave (or NULL). */
const char *sm__req_upload_path(const sm_req *req, int64_t *size, const char **filename);
/* The request id (X-Request-Id), the client address, the authenticated user
 * (NULL on public routes without a token) and whether it is an admin. */
const char *sm__req_id(const sm_req *req);
const char *sm__req_client(sm_req *req);
const char *sm__req_user(const sm_req *req);
bool sm__req_is_admin(const sm_req *req);
/* The server the request came to. */
sm_srv *sm__req_srv(const sm_req *req);

/* Add a header to the reply (before replying). Copies both. */
void sm__req_header_add(sm_req *req, const char *name, const char *value);

/* Reply with JSON (steals \p body; NULL body sends 500). \return SM_SRV_DONE. */
int sm__req_reply_json(sm_req *req, int status, json_t *body);
/* Reply with bytes (copied). \return SM_SRV_DONE. */
int sm__req_reply_data(sm_req *req, int status, const char *content_type, const void *data,
                       size_t len);
/* Like sm__req_reply_data, but sends \p data (from sm_malloc) without a copy and
 * frees it when sent. */
int sm__req_reply_owned(sm_req *req, int status, const char *content_type, char *data,
                        size_t len);
/* Reply {"error":{"code":code,"message":...}}. \return SM_SRV_DONE. */
int sm__req_error(sm_req *req, int status, const char *code, const char *fmt, ...)
    SM_PRINTF(4, 5);

/* Answer a pending request from any thread (thread-safe; steals \p body). */
void sm__req_complete(sm_req *req, int status, json_t *body);
void sm__req_complete_error(sm_req *req, int status, const char *code, const char *fmt, ...)
    SM_PRINTF(4, 5);

#endif
