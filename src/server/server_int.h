/* Server internals shared by server.c and the route files (not for other modules:
 * they use server.h). */
#ifndef SM_SERVER_INT_H
#define SM_SERVER_INT_H

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <time.h>

#include <microhttpd.h>

#include "auth.h"
#include "metrics.h"
#include "ratelimit.h"
#include "router.h"
#include "sbuf.h"
#include "server.h"

struct sm_jobs;
struct sm_analysis;
struct sm_analyzer;
typedef struct sm_vindex sm_vindex;

#define SM_SRV_MAX_HOOKS 16

struct sm_srv {
    struct sm_srv_config cfg;
    struct sm_router router;
    struct MHD_Daemon *daemon;
    int port;
    struct sm_metrics *metrics;
    struct sm_auth *auth;
    struct sm_rl *rl_login;
    struct sm_rl *rl_api;
    int log_fd;             /* access log; -1 when off */
    bool log_close;
    pthread_mutex_t log_lock; /* guards log_buf and log_since */
    struct sm_sbuf log_buf;   /* access-log lines not written yet */
    double log_since;         /* when the oldest of them was added */
    time_t log_sec;           /* the second of log_sec_text */
    char log_sec_text[32];    /* "2026-11-23T02:28:19" */
    size_t log_sec_len;
    double t_start;         /* monotonic seconds */
    int64_t started_at;     /* unix seconds */
    atomic_int inflight;    /* requests between first call and completion */
    atomic_int pending;     /* suspended requests */
    atomic_uint_fast64_t next_id;
    char id_prefix[9];
    unsigned char secret[32]; /* signs pagination cursors */
    int threads;
    int workers;

    /* Catalog handles, one per concurrent user. */
    pthread_mutex_t cat_lock;
    pthread_cond_t cat_cond;
    sm_catalog **cat_free;
    size_t n_free;
    size_t n_open;
    size_t max_open;

    /* Library roots (real paths). */
    char **roots;
    size_t n_roots;

    struct sm_jobs *jobs;

    /* Similarity index, loaded lazily, replaced after scans. */
    pthread_rwlock_t vx_lock;
    sm_vindex *vx;
    bool vx_stale;

    /* In-memory filter index for search (same rows as the SQL path), loaded
     * lazily, replaced after scans, uploads and tag changes. */
    pthread_rwlock_t fx_lock;
    struct sm_findex *fx;
    bool fx_stale;

    /* Commits by other processes (a CLI scan) make both indexes stale: a handle of
     * its own asks sm_catalog_data_version before index use (catpool.c). */
    pthread_mutex_t watch_lock;
    sm_catalog *watch_cat;
    uint64_t watch_version;
    bool watch_pending;      /* a change not yet acted on (at most one reload in 2 s) */
    double watch_open_ms;    /* last attempt to open watch_cat */
    double watch_stale_ms;   /* when the indexes were last made stale for a change */

    /* Analyzers for uploads (one per worker at most). */
    pthread_mutex_t an_lock;
    struct sm_analyzer **an_free;
    size_t n_an_free;

    /* Scan jobs (routes_jobs.c). */
    pthread_mutex_t job_lock;
    struct sm_scan_job *jobs_list;
    int64_t next_job;

    pthread_mutex_t misc_lock;
    double cpu_last_t;
    double cpu_last_s;
    double stats_t;         /* catalog size cache */
    int64_t stats_samples;

    struct {
        void (*fn)(void *);
        void *ud;
    } stop[SM_SRV_MAX_HOOKS];
    int n_stop;
    struct {
        char name[32];
        sm_srv_component_fn fn;
        void *ud;
    } comp[SM_SRV_MAX_HOOKS];
    int n_comp;
    struct {
        sm_srv_metrics_fn fn;
        void *ud;
    } mhook[SM_SRV_MAX_HOOKS];
    int n_mhook;
};

struct sm_req_hdr {
    struct sm_req_hdr *next;
    char *name;
    char *value;
};

enum { SM_RS_ACTIVE = 0, SM_RS_SUSPENDED = 1 };

struct sm_req {
    sm_srv *srv;
    struct MHD_Connection *conn;
    char method[8];
    char *path;
    struct sm_route_match match;
    int route_idx;          /* -1 when unmatched */
    const struct sm_route *route;
    double t0;
    char id[72];
    char client[64];
    bool authed;
    struct sm_auth_ident ident;

    struct sm_sbuf body;
    int64_t limit;
    int64_t received;
    bool too_big;

    int up_fd;
    char *up_path;
    int64_t up_size;
    char *up_filename;
    struct MHD_PostProcessor *pp;
    bool up_failed;

    struct MHD_Response *resp;
    int status;
    size_t resp_len;
    struct sm_req_hdr *hdrs;

    pthread_mutex_t lock;
    int state;
    bool completed;
};

/* Lifecycle (cmd_serve.c). */
/* Steals \p cfg's strings. \p admin_password gets a new password (25 bytes) when
 * the first start created the admin user, else "". */
sm_srv *sm__srv_new(struct sm_srv_config *cfg, char *admin_password, sm_error *err);
int sm__srv_start(sm_srv *srv, sm_error *err);
int sm__srv_port(const sm_srv *srv);
/* Block until SIGINT/SIGTERM, then stop gracefully. */
void sm__srv_wait(sm_srv *srv);
void sm__srv_free(sm_srv *srv);
/* Print the routing table as JSON lines {"method","pattern","flags","summary"}
 * without opening anything (\p cfg is borrowed). \return 0 or -1. */
int sm__srv_print_routes(const struct sm_srv_config *cfg, FILE *out);

/* Monotonic seconds. */
double sm__srv_now(void);
/* Log a server event as a JSON line on stderr. */
void sm__srv_log(const char *level, const char *fmt, ...) SM_PRINTF(2, 3);
/* Map an sm_status to an HTTP status and reply with it. */
int sm__req_error_status(sm_req *req, const sm_error *err);

/* Reply with \p len bytes of file \p fd from \p offset (the fd is taken). */
int sm__req_reply_fd(sm_req *req, int status, const char *content_type, int fd, int64_t offset,
                     int64_t len);
/* Parse a strictly positive decimal id. \return 0 or -1. */
int sm__parse_id(const char *s, int64_t *out);
/* Analysis of one file on the current thread, with a pooled analyzer. */
sm_status sm__srv_analyze(sm_srv *srv, const char *path, struct sm_analysis *out,
                          sm_error *err);

/* Route registration per file. */
int sm__routes_health(sm_srv *srv);
int sm__routes_auth(sm_srv *srv);
int sm__routes_audio(sm_srv *srv);
int sm__routes_jobs(sm_srv *srv);
int sm__routes_openapi(sm_srv *srv);
int sm__routes_web(sm_srv *srv);
 /* routes_web.c: the web page */

/* Catalog pool set-up and teardown (catpool.c). */
int sm__catpool_init(sm_srv *srv);
void sm__catpool_close(sm_srv *srv);
/* Marks the indexes stale when another process committed to the catalog; call
 * before using them. */
void sm__srv_catalog_watch(sm_srv *srv);
/* Stop running scans and forget the jobs (routes_jobs.c). */
void sm__scanjobs_stop(sm_srv *srv);

/* The OpenAPI document as written (openapi.c). */
const char *sm__openapi_text(void);

#endif
